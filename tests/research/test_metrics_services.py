"""The metrics read the events the real review services write: two clips through claims,
a rejection, an appeal, second opinions, a withdrawal and a suspension, on a moving clock."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

import audit
from accounts.models import Program, Role
from accounts.services.program import program_resume, program_suspend
from audit.research import rollups
from audit.research.access import ResearchScope, pseudonym
from audit.research.metrics import metric_filters, metrics_overview
from core import clock
from review.services.claims import claim_next, claim_release
from review.services.decisions import appeal_create, decision_record
from review.services.taxonomy import taxonomy_install_defaults
from submissions.models import Source, Submission, SubmissionStatus
from submissions.services.lifecycle import submission_withdraw
from tests.clocks import ManualClock
from tests.factories import CohortFactory, UserFactory

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
WORKER = audit.SystemActor("media-worker")


def queued(owner, moving: ManualClock, minute: float) -> Submission:
    """A clip that the media worker has just put in the queue: its row as processing leaves
    it, and the events upload and processing record."""
    moving.at(minutes=minute)
    with transaction.atomic():
        submission = Submission.objects.create(
            owner=owner, cohort=owner.cohort, prompt="a red fox at dawn", source=Source.UPLOAD,
            status=SubmissionStatus.PENDING_REVIEW,
            sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), size_bytes=4096,
            created_at=moving.now, submitted_at=moving.now, processed_at=moving.now,
            review_entered_at=moving.now)
        audit.record("submission.created", actor=owner, subject=submission, data={
            "source": "upload", "cohort": owner.cohort.slug, "size_bytes": 4096,
            "sha256": submission.sha256, "generation": None})
        audit.record("submission.submitted", actor=owner, subject=submission)
        audit.record("submission.processed", actor=WORKER, subject=submission,
                     data={"attempt": 1, "media": {}, "processing_s": 1.0})
    return submission


@pytest.fixture
def moving(db):
    clock_ = ManualClock(T0)
    with clock.use(clock_):
        taxonomy_install_defaults(actor=audit.SystemActor("test-setup"))
        from accounts.selectors import program_get

        program_get()
        # Every first review is sampled for a second opinion.
        Program.objects.filter(pk=Program.SINGLETON_ID).update(second_opinion_rate=1.0)
        yield clock_


def test_metrics_of_a_morning_run_by_the_review_services(moving):
    # given
    tess = UserFactory(username="tess", cohort=CohortFactory(slug="creative-partners"))
    rosa = UserFactory(username="rosa", cohort=CohortFactory(slug="red-team"))
    ada = UserFactory(username="ada", roles=[Role.MODERATOR], cohort=None)
    bo = UserFactory(username="bo", roles=[Role.MODERATOR], cohort=None)
    admin = UserFactory(username="admin", roles=[Role.PROGRAM_ADMIN], cohort=None)
    x = queued(tess, moving, 0)
    queued(rosa, moving, 1)  # Y

    # when: ada takes X (the oldest) and rejects it; bo takes Y, gives it back, takes it
    # again and approves it; tess appeals X and bo overturns the rejection; ada gives the
    # blind second opinion on Y (she may not on X, which she decided); a third clip is
    # withdrawn; the program is suspended for half an hour
    moving.at(minutes=2)
    claim = claim_next(actor=ada)
    moving.at(minutes=5)
    decision_record(actor=ada, claim_id=claim.pk, outcome="reject", reasons=["quality"])
    moving.at(minutes=6)
    claim = claim_next(actor=bo)
    moving.at(minutes=7)
    claim_release(actor=bo, claim_id=claim.pk)
    claim = claim_next(actor=bo)
    moving.at(minutes=8)
    decision_record(actor=bo, claim_id=claim.pk, outcome="approve")
    moving.at(minutes=10)
    appeal_create(actor=tess, submission=x, message="Please look again.")
    moving.at(minutes=12)
    claim = claim_next(actor=bo)
    moving.at(minutes=15)
    decision_record(actor=bo, claim_id=claim.pk, outcome="approve")
    moving.at(minutes=20)
    claim = claim_next(actor=ada)
    moving.at(minutes=22)
    decision_record(actor=ada, claim_id=claim.pk, outcome="reject", reasons=["likeness"])
    z = queued(tess, moving, 30)
    moving.at(minutes=35)
    submission_withdraw(actor=tess, submission=z)
    moving.at(minutes=40)
    program_suspend(actor=admin, reason="Leak under investigation")
    moving.at(minutes=70)
    program_resume(actor=admin, reason="")
    rollups.refresh()
    metrics = metrics_overview(metric_filters(), ResearchScope(None))

    # then: first verdicts X reject (5 min after entering), Y approve (7 min)
    assert metrics["submissions"] == {"total": 3, "by_status": {"approved": 2, "withdrawn": 1}}
    assert (metrics["decisions"], metrics["approval_rate"]) == (
        {"approved": 1, "rejected": 1}, 0.5)
    assert metrics["time_to_decision_s"] == {"n": 2, "p50": 360.0, "p90": 408.0,
                                             "p99": 418.8}
    # first claims: X 120 s, Y 300 s (the release does not restart it), X's appeal 120 s;
    # Z was never claimed
    assert metrics["queue_wait_s"] == {"n": 3, "p50": 120.0, "p90": 264.0, "p99": 296.4}
    assert metrics["appeals"] == {"count": 1, "overturned": 1, "upheld": 0,
                                  "overturn_rate": 1.0}
    assert metrics["agreement"]["table"] == [{"first": "approve", "second": "reject", "n": 1}]
    program = "program"
    assert metrics["by_moderator"] == {
        pseudonym(program, bo.pk): {"decisions": 2, "approved": 2, "rejected": 0,
                                    "escalated": 0, "second_opinions": 0,
                                    "approval_rate": 1.0, "review_s": {"mean": 120.0}},
        pseudonym(program, ada.pk): {"decisions": 2, "approved": 0, "rejected": 2,
                                     "escalated": 0, "second_opinions": 1,
                                     "approval_rate": 0.0, "review_s": {"mean": 150.0}},
    }
    # the gate: X, Y, X's appeal and Z entered in hour 09, all left (Z by withdrawal); the
    # series runs on to the resumption at 10:10
    assert [(p["entered"], p["exited"], p["depth"]) for p in metrics["queue_depth"]] == [
        (4, 4, 0), (0, 0, 0)]
    [suspension] = metrics["suspensions"]
    assert (suspension["started_at"], suspension["ended_at"], suspension["duration_s"]) == (
        T0 + timedelta(minutes=40), T0 + timedelta(minutes=70), 1800.0)
    # before (09:10 to 09:40): the appeal and Z entered; Z was created
    assert (suspension["before"]["entered_queue"], suspension["before"]["submissions"]) == (2, 1)
