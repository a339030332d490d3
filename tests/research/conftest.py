"""Given-state for the research tests: a short program history made through the real services
on a clock the fixture moves (sign-ins from known addresses, a rejection with notes, an
appeal, a second opinion, a share, a suspension with a reason), two studies, and helpers that
fetch exports and read them back."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from rest_framework.test import APIClient

import audit
from accounts.models import Program, Role
from accounts.services.auth import auth_authenticate
from accounts.services.invitations import invitation_redeem
from accounts.services.program import program_resume, program_suspend
from audit.models import Event, Seal, Study
from core import clock
from review.services.claims import claim_next
from review.services.decisions import appeal_create, decision_record
from review.services.taxonomy import taxonomy_install_defaults
from submissions.models import Source, Submission, SubmissionStatus
from submissions.services.sharing import share_create
from tests.clocks import ManualClock
from tests.factories import CohortFactory, InvitationFactory, UserFactory

T0 = datetime(2025, 3, 4, 9, 0, 0, tzinfo=UTC)

# Text that breaks naive CSV, JSON or COPY handling: quotes, commas, backslashes (and one
# that reads like a COPY escape), line breaks, a tab, COPY's end marker, non-ASCII.
TRICKY_NOTE = 'He said "no", twice\\n; C:\\temp\\x01 \\\\ end\nsecond line\r\n\tünïcødé ✓ \\.'
TRICKY_MESSAGE = 'Please look again: "it\'s my own face", see C:\\clips\\me.mp4\n— thanks 🙏'
TRICKY_REASON = 'Leak of "unreleased" clips,\nsee \\\\server\\share ünïcode'
IPS = {"tess": "203.0.113.7", "rosa": "198.51.100.23", "mia": "192.0.2.99"}


def _pending(owner, at: datetime) -> Submission:
    """A processed clip entering the queue at ``at`` (written directly: no media)."""
    return Submission.objects.create(
        owner=owner, cohort=owner.cohort, prompt="a red fox at dawn", title="fox",
        source=Source.UPLOAD, status=SubmissionStatus.PENDING_REVIEW,
        sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), size_bytes=4096,
        created_at=at - timedelta(minutes=1), submitted_at=at - timedelta(minutes=1),
        processed_at=at, review_entered_at=at)


def _second_opinion_rate(rate: float) -> None:
    from accounts.selectors import program_get

    program_get()
    Program.objects.filter(pk=Program.SINGLETON_ID).update(second_opinion_rate=rate)


@pytest.fixture
def history(db):
    """The program history every research test reads (see the module docstring). Usernames
    hold a letter beyond a-f, so that no hex id or pseudonym can contain one by chance."""
    moving = ManualClock(T0)
    with clock.use(moving):
        taxonomy_install_defaults(actor=audit.SystemActor("test-setup"))
        _second_opinion_rate(0.0)
        partners = CohortFactory(slug="creative-partners")
        red_team = CohortFactory(slug="red-team")
        invitation = InvitationFactory(code="join-us-0001", cohort=partners)
        tess, _ = invitation_redeem(
            code="join-us-0001", username="tess", email="tess@example.org",
            password="correct horse battery staple", accept_terms=True,
            context={"ip": IPS["tess"], "user_agent": "curl/8.5"})
        rosa = UserFactory(username="rosa", email="rosa@example.org", cohort=red_team)
        mia = UserFactory(username="mia", email="mia@example.org", roles=[Role.MODERATOR])
        bo = UserFactory(username="bo", email="bo@example.org", roles=[Role.MODERATOR])
        pat = UserFactory(username="pat", email="pat@example.org", roles=[Role.PROGRAM_ADMIN])
        rita = UserFactory(username="rita", email="rita@example.org", roles=[Role.RESEARCHER])
        remy = UserFactory(username="remy", email="remy@example.org", roles=[Role.RESEARCHER])

        moving.at(minutes=1)
        auth_authenticate(username="rosa", password="correct horse battery staple",
                          method="token", context={"ip": IPS["rosa"], "user_agent": "httpie"})
        with pytest.raises(Exception):  # noqa: B017, PT011  (the refusal itself is not tested here)
            auth_authenticate(username="mia", password="wrong", method="session",
                              context={"ip": IPS["mia"], "user_agent": "Firefox"})

        clip_a = _pending(tess, moving.at(minutes=2))
        clip_b = _pending(rosa, moving.at(minutes=3))

        moving.at(minutes=10)
        claim = claim_next(actor=mia)
        moving.at(minutes=11)
        rejection = decision_record(actor=mia, claim_id=claim.pk, outcome="reject",
                                    reasons=["likeness", "other"], note_to_tester=TRICKY_NOTE,
                                    internal_note="internal, \"quoted\"")
        moving.at(minutes=12)
        claim = claim_next(actor=mia)
        _second_opinion_rate(1.0)
        moving.at(minutes=13, seconds=30)
        approval = decision_record(actor=mia, claim_id=claim.pk, outcome="approve")
        _second_opinion_rate(0.0)
        moving.at(minutes=15)
        claim = claim_next(actor=bo)
        moving.at(minutes=16, seconds=15)
        second = decision_record(actor=bo, claim_id=claim.pk, outcome="reject",
                                 reasons=["quality"])
        moving.at(minutes=20)
        appeal = appeal_create(actor=tess, submission=clip_a, message=TRICKY_MESSAGE)
        moving.at(minutes=30)
        claim = claim_next(actor=bo)
        moving.at(minutes=31)
        overturn = decision_record(actor=bo, claim_id=claim.pk, outcome="approve")
        moving.at(minutes=40)
        share_create(actor=tess, submission=clip_a)
        clip_c = _pending(tess, moving.at(minutes=45))
        moving.at(minutes=50)
        program_suspend(actor=pat, reason=TRICKY_REASON)
        moving.at(minutes=55)
        program_resume(actor=pat, reason="Contained.")

        study = Study.objects.create(slug="gate-study", name="The approval gate")
        study.researchers.add(rita)
        other = Study.objects.create(slug="other-study", name="Another study")
        other.researchers.add(remy)
        moving.at(minutes=56)
        with transaction.atomic():
            audit.record("research.study_saved", actor=pat, subject=study, data={
                "created": True, "researchers": [rita.pk],
                "grants": {"identities": False, "free_text": False, "client_context": False}})

    # The first few events sealed (the sealer's work, written directly here).
    for seq, event_id in enumerate(Event.objects.order_by("id").values_list("id", flat=True)[:5],
                                   start=1):
        Seal.objects.create(seq=seq, event_id=event_id, leaf_hash=f"{seq:064x}",
                            hash=f"{seq + 100:064x}")

    return SimpleNamespace(
        partners=partners, red_team=red_team, invitation=invitation,
        tess=tess, rosa=rosa, mia=mia, bo=bo, pat=pat, rita=rita, remy=remy,
        clip_a=clip_a, clip_b=clip_b, clip_c=clip_c, appeal=appeal,
        rejection=rejection, approval=approval, second=second, overturn=overturn,
        study=study, other=other,
        people=[tess, rosa, mia, bo, pat, rita, remy])


@pytest.fixture
def as_user():
    """``as_user(user)``: an API client signed in as ``user``."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def researcher_client(history, as_user):
    """The API as rita, the only researcher of ``gate-study``."""
    return as_user(history.rita)
