"""The queue's hot path (claim-next, then approve) as written SQL: how many statements each
step runs, that prepared and unprepared statements write the same rows and events, and
the policy defaults the statements read when the program has no row yet."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Program
from review.models import Claim, ClaimEnd, Decision, SecondOpinion, Track
from review.selectors import sampled_for_second_opinion
from review.services.claims import claim_next
from review.services.decisions import decision_record
from submissions.models import SubmissionStatus
from tests.review.conftest import T0

pytestmark = pytest.mark.django_db

# The statements of each step, as (first word, table written or read first): PostgreSQL
# takes the clip and opens the claim in one statement, then writes its audit event; and takes
# the claim, inserts the decision, moves the clip and inserts the event in another. SQLite
# runs each part on its own, the event last.
STATEMENTS = {
    "postgresql": {
        "claim": [("WITH", "submissions_submission"), ("INSERT", "audit_event")],
        "decide": [("SELECT", "review_claim"), ("WITH", "review_claim")]},
    "sqlite": {
        "claim": [("SELECT", "submissions_submission"), ("INSERT", "review_claim"),
                  ("INSERT", "audit_event")],
        "decide": [("SELECT", "review_claim"), ("UPDATE", "review_claim"),
                   ("INSERT", "review_decision"), ("UPDATE", "submissions_submission"),
                   ("INSERT", "audit_event")]},
}
TABLES = ("submissions_submission", "review_claim", "review_decision", "audit_event")


def _shape(sql: str) -> tuple[str, str]:
    """A statement's first word and the first of the hot path's tables it names."""
    named = {sql.find(f'"{table}"'): table for table in TABLES if f'"{table}"' in sql}
    return sql.split()[0], named[min(named)]


def _claim_and_approve(moderator):
    claim = claim_next(actor=moderator)
    decision = decision_record(actor=moderator, claim_id=claim.pk, outcome="approve")
    return claim, decision


def test_claim_and_approve_run_a_fixed_number_of_statements(now, tester, ada, make_pending):
    # given a clip waiting and a warm connection
    make_pending(tester)
    make_pending(tester)
    _claim_and_approve(ada)

    # when ada claims and approves the next one
    with CaptureQueriesContext(connection) as claiming:
        claim = claim_next(actor=ada)
    with CaptureQueriesContext(connection) as deciding:
        decision_record(actor=ada, claim_id=claim.pk, outcome="approve")

    # then each step ran its statements and nothing else (the SAVEPOINTs aside: inside the
    # test's own transaction, the services' transactions are savepoints)
    ran = {step: [_shape(query["sql"]) for query in captured.captured_queries
                  if "SAVEPOINT" not in query["sql"]]
           for step, captured in (("claim", claiming), ("decide", deciding))}
    assert ran == STATEMENTS[connection.vendor]


def test_prepared_and_ordinary_statements_write_the_same(postgres, now, tester, ada,
                                                         make_pending, settings, recorded,
                                                         event_mark):
    # given two clips entered a minute apart
    first = make_pending(tester, entered_at=T0 - timedelta(minutes=2))
    second = make_pending(tester, entered_at=T0 - timedelta(minutes=1))
    mark = event_mark()

    # when ada claims and approves one with prepared statements, the other without
    prepared = _claim_and_approve(ada)
    settings.DB_PREPARED_STATEMENTS = False
    ordinary = _claim_and_approve(ada)

    # then both wrote the same shape of rows and events, in queue order
    for clip, (claim, decision) in ((first, prepared), (second, ordinary)):
        clip.refresh_from_db()
        assert (clip.status, clip.decided_at) == (SubmissionStatus.APPROVED, T0)
        stored = Claim.objects.get(pk=claim.pk)
        assert (stored.submission_id, stored.moderator_id, stored.track, stored.claimed_at,
                stored.expires_at, stored.ended_at, stored.end_reason) == (
            clip.pk, ada.pk, Track.PRIMARY, T0, T0 + timedelta(seconds=600), T0,
            ClaimEnd.DECIDED)
        assert Decision.objects.filter(pk=decision.pk, claim=claim.pk, submission=clip,
                                       is_effective=True, outcome="approve").exists()
    assert [(action, actor, subject) for action, actor, subject, _ in recorded(mark)] == [
        ("review.claimed", ada.pk, str(first.pk)), ("review.decided", ada.pk, str(first.pk)),
        ("review.claimed", ada.pk, str(second.pk)), ("review.decided", ada.pk, str(second.pk))]


def test_without_a_program_row_the_default_lease_and_sampling_apply(now, tester, ada,
                                                                    make_pending):
    # given no program row at all (a fresh database before anyone read the policy)
    clip = make_pending(tester)
    Program.objects.all().delete()

    # when ada claims and approves
    claim, decision = _claim_and_approve(ada)

    # then the lease is the default ten minutes, and the decision was sampled for a second
    # opinion at the default rate (by the clip's fixed draw)
    assert claim.expires_at == T0 + timedelta(seconds=600)
    assert Claim.objects.get(pk=claim.pk).expires_at == T0 + timedelta(seconds=600)
    assert Decision.objects.get(pk=decision.pk).submission_id == clip.pk
    assert SecondOpinion.objects.filter(first_decision=decision).exists() == (
        sampled_for_second_opinion(clip, 0.05))
    assert not Program.objects.exists()  # the hot path reads the policy, never creates it
