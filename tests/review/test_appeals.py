"""Appeals (``POST submissions/{id}/appeal/``): the owner, once, after a rejection, with a
message; the clip goes back ahead of first reviews to a different moderator, and the appeal
decision is recorded as upheld or overturned."""

from datetime import timedelta
from uuid import UUID

import pytest

from accounts.models import ProgramStatus, Role
from review.models import Appeal, AppealResult, Decision, Track
from submissions.models import SubmissionStatus
from tests.factories import UserFactory
from tests.review.conftest import T0, iso

pytestmark = pytest.mark.django_db

APPEALED = {"detail": "Appealed: the clip is back in the queue for another moderator.",
            "status": "pending_review"}
ONCE = {"code": "submission.invalid_transition",
        "message": "This clip was already appealed; an appeal is allowed once."}
NOT_REJECTED = {"code": "submission.invalid_transition",
                "message": "Only a rejected clip can be appealed."}


@pytest.fixture
def rejected(now, tester, ada, make_pending, decided):
    """The tester's clip, rejected by ada at T0 for likeness; the rejection decision."""
    clip = make_pending(tester, entered_at=T0 - timedelta(hours=1))
    return decided(ada, clip, "reject", reasons=("likeness",))


def test_the_owner_appeals_a_rejection(now, rejected, api, tester, event_mark, recorded):
    # given, an hour after the rejection
    clip = rejected.submission
    now.advance(hours=1)
    mark = event_mark()

    # when
    response = api(tester).appeal(clip.pk, "  It is a fox, not a person.  ")

    # then
    assert response.status_code == 200
    assert response.json() == APPEALED
    clip.refresh_from_db()
    moment = T0 + timedelta(hours=1)
    assert (clip.status, clip.review_entered_at, clip.review_priority) == (
        SubmissionStatus.PENDING_REVIEW, moment, 10)
    appeal = Appeal.objects.get()
    assert (appeal.submission, appeal.message, appeal.created_at, appeal.rejection,
            appeal.decision, appeal.result) == (
        clip, "It is a fox, not a person.", moment, rejected, None, "")
    assert recorded(mark) == [("submission.appealed", tester.pk, str(clip.pk), {
        "rejection_id": str(rejected.pk), "message_chars": 26})]
    detail = api(tester).detail(clip.pk).json()
    assert (detail["status"], detail["appealed"]) == ("pending_review", True)


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"message": ["This field is required."]}),
    ({"message": ""}, {"message": ["This field may not be blank."]}),
    ({"message": "   "}, {"message": ["This field may not be blank."]}),
    ({"message": "x" * 2001}, {"message": ["Ensure this field has no more than 2000 "
                                           "characters."]}),
])
def test_an_appeal_needs_a_message(body, fields, rejected, api, tester, review_state):
    before = review_state()

    response = api(tester).client.post(f"/api/v1/submissions/{rejected.submission_id}/appeal/",
                                       body, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": fields}
    assert review_state() == before


def test_only_once(rejected, api, tester, review_state):
    # given the tester appealed
    assert api(tester).appeal(rejected.submission_id).status_code == 200
    before = review_state()

    # when again, while the appeal waits
    response = api(tester).appeal(rejected.submission_id)

    # then
    assert (response.status_code, response.json()) == (409, ONCE)
    assert review_state() == before


def test_not_again_after_the_appeal_was_upheld(rejected, api, tester, bo, review_state):
    # given the appeal was heard and the rejection upheld
    api(tester).appeal(rejected.submission_id)
    claim = api(bo).claim().json()["id"]
    assert api(bo).decide(claim, "reject", reasons=["likeness"]).status_code == 201
    before = review_state()

    # when the tester appeals again
    response = api(tester).appeal(rejected.submission_id)

    # then
    assert (response.status_code, response.json()) == (409, ONCE)
    assert review_state() == before


@pytest.mark.parametrize("status", ["draft", "received", "processing", "failed",
                                    "pending_review", "approved", "withdrawn"])
def test_only_after_a_rejection(status, now, tester, make_pending, api, review_state):
    clip = make_pending(tester, status=status)
    before = review_state()

    response = api(tester).appeal(clip.pk)

    assert (response.status_code, response.json()) == (409, NOT_REJECTED)
    assert review_state() == before


def test_an_approval_cannot_be_appealed(now, tester, ada, make_pending, decided, api,
                                        review_state):
    clip = make_pending(tester)
    decided(ada, clip, "approve", reasons=())
    before = review_state()

    response = api(tester).appeal(clip.pk)

    assert (response.status_code, response.json()) == (409, NOT_REJECTED)
    assert review_state() == before


def test_another_tester_gets_404_and_changes_nothing(rejected, api, review_state):
    other = UserFactory(roles=[Role.TESTER])
    before = review_state()

    response = api(other).appeal(rejected.submission_id)

    assert (response.status_code, response.json()) == (404, {"code": "not_found",
                                                             "message": "Not found."})
    assert review_state() == before


def test_an_unknown_clip_is_404(now, api, tester):
    response = api(tester).appeal("3f1c5a4e-8a1e-4b5e-9c62-3a9f0c1b2d4e")

    assert (response.status_code, response.json()) == (404, {"code": "not_found",
                                                             "message": "Not found."})


def test_a_suspended_program_refuses_the_appeal(rejected, api, tester, policy, review_state):
    policy(status=ProgramStatus.SUSPENDED, reason="Leak under investigation")
    before = review_state()

    response = api(tester).appeal(rejected.submission_id)

    assert response.status_code == 403
    assert response.json() == {"code": "program.suspended",
                               "message": "The program is suspended: Leak under investigation"}
    assert review_state() == before


def test_the_appeal_goes_ahead_of_first_reviews_to_another_moderator(
        now, rejected, api, tester, ada, bo, make_pending, event_mark, recorded):
    # given first reviews that waited longer than the appeal
    make_pending(tester, entered_at=T0 - timedelta(days=3))
    make_pending(tester, entered_at=T0 - timedelta(days=2))
    now.advance(minutes=5)
    api(tester).appeal(rejected.submission_id, "It is a fox.")
    now.advance(minutes=1)
    mark = event_mark()

    # when ada (who rejected it) and bo claim
    hers = api(ada).claim().json()
    his = api(bo).claim().json()

    # then ada gets a first review, bo the appeal with its message
    assert (hers["track"], hers["appeal_message"]) == ("primary", None)
    assert (his["track"], his["submission"]["id"], his["appeal_message"]) == (
        "appeal", str(rejected.submission_id), "It is a fox.")
    assert his["submission"]["appealed"] is True
    assert his["submission"]["decision"] == {"outcome": "reject", "reasons": ["likeness"],
                                             "note_to_tester": rejected.note_to_tester,
                                             "decided_at": iso(T0)}
    assert recorded(mark)[1] == ("review.claimed", bo.pk, str(rejected.submission_id), {
        "claim_id": his["id"], "track": "appeal",
        "expires_at": iso(T0 + timedelta(minutes=16)), "waited_s": 60.0})


def test_the_rejecting_moderator_never_gets_the_appeal_even_when_alone(rejected, api, tester,
                                                                      ada):
    api(tester).appeal(rejected.submission_id)

    assert api(ada).claim().status_code == 204


@pytest.mark.parametrize(("outcome", "result", "status"), [
    ("approve", AppealResult.OVERTURNED, SubmissionStatus.APPROVED),
    ("reject", AppealResult.UPHELD, SubmissionStatus.REJECTED),
])
def test_the_appeal_decision_records_its_result(outcome, result, status, now, rejected, api,
                                                tester, bo, event_mark, recorded):
    # given the tester appealed and bo claimed it
    clip = rejected.submission
    now.advance(minutes=5)
    api(tester).appeal(clip.pk, "It is a fox.")
    claim = api(bo).claim().json()["id"]
    now.advance(seconds=20)
    mark = event_mark()

    # when
    response = api(bo).decide(claim, outcome, reasons=["copyright"])

    # then
    moment = T0 + timedelta(minutes=5, seconds=20)
    assert response.status_code == 201
    decision = Decision.objects.get(pk=response.json()["id"])
    reasons = ["copyright"]
    assert recorded(mark) == [("review.decided", bo.pk, str(clip.pk), {
        "decision_id": str(decision.pk), "claim_id": claim, "track": "appeal",
        "outcome": outcome, "reasons": reasons, "taxonomy_version": 1, "effective": True,
        "appeal_result": result.value, "held_s": 20.0})]
    appeal = Appeal.objects.get()
    assert (appeal.decision, appeal.result) == (decision, result)
    assert (decision.track, decision.is_effective) == (Track.APPEAL, True)
    rejected.refresh_from_db()
    assert rejected.is_effective is False
    clip.refresh_from_db()
    assert (clip.status, clip.decided_at) == (status, moment)
    detail = api(tester).detail(clip.pk).json()
    assert (detail["status"], detail["appealed"], detail["decided_at"]) == (
        status, True, iso(moment))
    assert detail["decision"] == {"outcome": outcome, "reasons": reasons,
                                  "note_to_tester": decision.note_to_tester,
                                  "decided_at": iso(moment)}


def test_an_appeal_decision_is_not_sampled_for_a_second_opinion(now, rejected, api, tester, bo,
                                                                policy, event_mark, recorded):
    policy(second_opinion_rate=1.0)
    api(tester).appeal(rejected.submission_id)
    claim = api(bo).claim().json()["id"]
    mark = event_mark()

    api(bo).decide(claim, "approve")

    assert [event[0] for event in recorded(mark)] == ["review.decided"]


def test_the_appeal_answer_names_the_new_decision(now, rejected, api, tester, bo):
    now.advance(minutes=1)
    api(tester).appeal(rejected.submission_id)
    claim = api(bo).claim().json()["id"]

    decision_id = api(bo).decide(claim, "approve").json()["id"]

    assert Appeal.objects.get().decision_id == UUID(decision_id)
    assert list(Decision.objects.order_by("decided_at", "track").values_list(
        "moderator__username", "track", "outcome", "is_effective")) == [
        ("ada", "primary", "reject", False), ("bo", "appeal", "approve", True)]
