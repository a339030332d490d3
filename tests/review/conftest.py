"""Given-state for the review tests: clips waiting in the queue (written directly, without
media processing or events), a clock the tests move, API helpers per user, and snapshots of
everything the review app may change."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import Program, Role
from audit import SystemActor
from audit.models import Event
from core import clock
from review.models import Appeal, Claim, Decision, Escalation, SecondOpinion, Track
from review.services.taxonomy import taxonomy_install_defaults
from submissions.models import Source, Submission, SubmissionStatus
from tests.clocks import ManualClock
from tests.factories import UserFactory

T0 = datetime(2025, 3, 4, 9, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """A time as the API and the audit log write it (UTC, ``Z``)."""
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def now(db):
    """The test's clock, starting at ``T0``; ``now.advance(seconds=...)`` moves it."""
    moving = ManualClock(T0)
    with clock.use(moving):
        yield moving


@pytest.fixture
def policy(db):
    """``policy(**fields)``: write the program's policy (lease length, sampling) directly."""
    from accounts.selectors import program_get

    def update(**fields) -> None:
        program_get()
        Program.objects.filter(pk=Program.SINGLETON_ID).update(**fields)

    return update


@pytest.fixture(autouse=True)
def _review_defaults(request):
    """For tests that use the database: the default reason codes (taxonomy v1, also after a
    transactional test flushed the rows its data migration wrote), and second-opinion
    sampling off so each test's events are exactly its own (the sampling tests turn it on)."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("db")
    taxonomy_install_defaults(actor=SystemActor("test-setup"))
    request.getfixturevalue("policy")(second_opinion_rate=0.0)


@pytest.fixture
def make_pending(db):
    """``make_pending(owner, entered_at=None, **fields)``: a clip waiting for review, written
    directly (no media, no events), with its own sha256."""

    def make(owner, *, entered_at: datetime | None = None, **fields) -> Submission:
        moment = clock.now()
        values = {
            "prompt": "a red fox at dawn", "title": "", "source": Source.UPLOAD,
            "status": SubmissionStatus.PENDING_REVIEW, "cohort": owner.cohort,
            "sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "size_bytes": 4096,
            "created_at": moment, "submitted_at": moment, "processed_at": moment,
            "review_entered_at": entered_at or moment,
        }
        values.update(fields)
        return Submission.objects.create(owner=owner, **values)

    return make


class ReviewApi:
    """One user's calls to the review API, as the documented paths."""

    def __init__(self, user) -> None:
        self.user = user
        self.client = APIClient()
        if user is not None:
            self.client.force_authenticate(user)

    def claim(self):
        return self.client.post("/api/v1/review/claims/")

    def renew(self, claim_id):
        return self.client.post(f"/api/v1/review/claims/{claim_id}/renew/")

    def release(self, claim_id):
        return self.client.post(f"/api/v1/review/claims/{claim_id}/release/")

    def decide(self, claim_id, outcome="approve", **body):
        return self.client.post(f"/api/v1/review/claims/{claim_id}/decide/",
                                {"outcome": outcome, **body}, format="json")

    def queue(self):
        return self.client.get("/api/v1/review/queue/")

    def reasons(self):
        return self.client.get("/api/v1/review/reasons/")

    def appeal(self, submission_id, message="Please look again."):
        return self.client.post(f"/api/v1/submissions/{submission_id}/appeal/",
                                {"message": message}, format="json")

    def detail(self, submission_id):
        return self.client.get(f"/api/v1/submissions/{submission_id}/")


@pytest.fixture
def api():
    """``api(user)``: the review API as ``user`` (``None`` for an anonymous client)."""
    return ReviewApi


@pytest.fixture
def recorded(db):
    """``recorded(since)``: the events after the mark, as (action, actor, subject id, data);
    the actor is the user's id, or the system actor's name."""

    def after(mark: int) -> list[tuple]:
        return [(event.action, event.actor_id if event.actor_id is not None
                 else event.actor_name, event.subject_id, event.data)
                for event in Event.objects.filter(id__gt=mark).order_by("id")]

    return after


@pytest.fixture
def review_state(db):
    """``review_state()``: every row the review app (and a decision or appeal) may change,
    to compare before and after a refused request."""

    def snapshot() -> dict:
        return {
            "submissions": list(Submission.objects.order_by("pk").values(
                "pk", "status", "decided_at", "review_entered_at", "review_priority")),
            "claims": list(Claim.objects.order_by("pk").values()),
            "decisions": list(Decision.objects.order_by("pk").values()),
            "escalations": list(Escalation.objects.order_by("pk").values()),
            "appeals": list(Appeal.objects.order_by("pk").values()),
            "second_opinions": list(SecondOpinion.objects.order_by("pk").values()),
            "events": list(Event.objects.order_by("id").values_list("id", "action")),
        }

    return snapshot


@pytest.fixture
def review_api_routes():
    """``{(url name, METHOD)}`` for every route of ``review.urls_api`` as the resolver serves
    it, so a new route or method shows up in the authorization matrix."""
    from django.urls import URLResolver, get_resolver

    found = set()

    def walk(patterns, inside):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                module = getattr(entry.urlconf_name, "__name__", entry.urlconf_name)
                walk(entry.url_patterns, inside or module == "review.urls_api")
            elif inside:
                view = entry.callback.view_class
                found.update((entry.name, method.upper())
                             for method in ("get", "post", "put", "patch", "delete")
                             if hasattr(view, method))

    walk(get_resolver().url_patterns, inside=False)
    return found


@pytest.fixture
def hold(db):
    """``hold(moderator, clip, track=...)``: a live claim written directly, as claim-next
    would have opened it now (no event)."""
    from review.models import Track

    def make(moderator, clip, *, track=Track.PRIMARY, second_opinion=None,
             lease_s: int = 600) -> Claim:
        moment = clock.now()
        return Claim.objects.create(submission=clip, moderator=moderator, track=track,
                                    second_opinion=second_opinion, claimed_at=moment,
                                    expires_at=moment + timedelta(seconds=lease_s))

    return make


@pytest.fixture
def decided(hold):
    """``decided(moderator, clip, outcome, reasons=())``: the clip decided through the
    decision service under a claim written directly; answers the decision."""
    from review.services.decisions import decision_record

    def make(moderator, clip, outcome="reject", reasons=("likeness",), **body) -> Decision:
        claim = hold(moderator, clip, track=track_of(clip))
        return decision_record(actor=moderator, claim_id=claim.pk, outcome=outcome,
                               reasons=list(reasons), **body)

    return make


LEASE_LOST = {"code": "review.lease_lost",
              "message": "Your claim on this item expired or the item was decided; "
                         "nothing was changed."}


@pytest.fixture
def tester():
    return UserFactory(username="tess", roles=[Role.TESTER])


@pytest.fixture
def ada():
    return UserFactory(username="ada", roles=[Role.MODERATOR])


@pytest.fixture
def bo():
    return UserFactory(username="bo", roles=[Role.MODERATOR])


@pytest.fixture
def pat():
    return UserFactory(username="pat", roles=[Role.PROGRAM_ADMIN])


def track_of(submission) -> Track:
    """The track a clip is on, from its open escalation or appeal (for building given-state)."""
    if Escalation.objects.filter(submission=submission, resolved_at__isnull=True).exists():
        return Track.ESCALATION
    if Appeal.objects.filter(submission=submission, decision__isnull=True).exists():
        return Track.APPEAL
    return Track.PRIMARY
