"""Second opinions: a deterministic sample of first decisions queued again, blind, for another
moderator; recorded for agreement studies, never changing the clip's outcome."""

from datetime import timedelta
from uuid import UUID

import pytest

from accounts.models import Role
from review.models import Decision, SecondOpinion, Track
from review.selectors import effective_decision, sampled_for_second_opinion
from submissions.models import SubmissionStatus
from tests.factories import UserFactory
from tests.review.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("outcome", ["approve", "reject"])
def test_at_rate_one_every_first_decision_is_sampled(outcome, now, tester, ada, make_pending,
                                                     api, policy, event_mark, recorded):
    # given
    policy(second_opinion_rate=1.0)
    clip = make_pending(tester)
    claim = api(ada).claim().json()["id"]
    mark = event_mark()

    # when
    response = api(ada).decide(claim, outcome, reasons=["likeness"])

    # then
    decision_id = response.json()["id"]
    assert [event[0] for event in recorded(mark)] == ["review.decided",
                                                      "review.second_opinion_requested"]
    assert recorded(mark)[1] == ("review.second_opinion_requested", "sampler", str(clip.pk),
                                 {"first_decision_id": decision_id})
    request = SecondOpinion.objects.get()
    assert (request.submission, request.first_decision_id, request.created_at,
            request.decision) == (clip, UUID(decision_id), T0, None)


def test_escalations_and_their_decisions_are_not_sampled(now, tester, ada, make_pending, api,
                                                         policy, event_mark, recorded):
    # given
    policy(second_opinion_rate=1.0)
    pat = UserFactory(roles=[Role.PROGRAM_ADMIN])
    make_pending(tester)
    mark = event_mark()

    # when ada escalates and the admin approves
    api(ada).decide(api(ada).claim().json()["id"], "escalate")
    api(pat).decide(api(pat).claim().json()["id"], "approve")

    # then
    assert [event[0] for event in recorded(mark)] == [
        "review.claimed", "review.decided", "review.claimed", "review.decided"]
    assert SecondOpinion.objects.count() == 0


def test_at_rate_zero_nothing_is_sampled(now, tester, ada, make_pending, api, policy,
                                         event_mark, recorded):
    policy(second_opinion_rate=0.0)
    for _ in range(5):
        make_pending(tester)
    mark = event_mark()

    for _ in range(5):
        api(ada).decide(api(ada).claim().json()["id"], "approve")

    assert SecondOpinion.objects.count() == 0
    assert [event[0] for event in recorded(mark)] == ["review.claimed", "review.decided"] * 5


def test_the_sample_is_a_fixed_draw_per_clip(now, tester, ada, make_pending, api, policy):
    # given eight clips with known ids, at a rate of one half
    policy(second_opinion_rate=0.5)
    clips = [make_pending(tester, pk=UUID(int=n), entered_at=T0 + timedelta(seconds=n))
             for n in range(1, 9)]

    # when each gets a first decision
    for _ in clips:
        api(ada).decide(api(ada).claim().json()["id"], "approve")

    # then the same five are sampled as in every run, as the selector draws them
    sampled = sorted(SecondOpinion.objects.values_list("submission_id", flat=True))
    assert sampled == [UUID(int=n) for n in (3, 4, 5, 7, 8)]
    assert [clip.pk for clip in clips if sampled_for_second_opinion(clip, 0.5)] == sampled
    assert [sampled_for_second_opinion(clip, 0.05) for clip in clips] == [False] * 8
    assert [sampled_for_second_opinion(clip, 1.0) for clip in clips] == [True] * 8
    assert [sampled_for_second_opinion(clip, 0.0) for clip in clips] == [False] * 8


@pytest.fixture
def sampled_approval(now, tester, ada, make_pending, decided, policy):
    """The tester's clip approved by ada at T0 and sampled for a second opinion."""
    policy(second_opinion_rate=1.0)
    clip = make_pending(tester, entered_at=T0 - timedelta(hours=1))
    decided(ada, clip, "approve", reasons=())
    return clip


def test_the_second_opinion_is_blind_and_goes_to_another_moderator(sampled_approval, api, ada,
                                                                   bo):
    # when
    hers, his = api(ada).claim(), api(bo).claim()

    # then
    assert hers.status_code == 204
    assert his.status_code == 201
    body = his.json()
    assert (body["track"], body["submission"]["id"], body["submission"]["decision"],
            body["appeal_message"]) == ("second_opinion", str(sampled_approval.pk), None, None)


def test_the_second_opinion_does_not_reveal_the_first_outcome_through_the_status(
        now, tester, ada, bo, make_pending, decided, policy, api):
    # given one clip approved and one rejected, both sampled
    policy(second_opinion_rate=1.0)
    decided(ada, make_pending(tester, entered_at=T0), "approve", reasons=())
    decided(ada, make_pending(tester, entered_at=T0), "reject", reasons=("likeness",))

    # when bo claims both second opinions
    first, second = api(bo).claim().json(), api(bo).claim().json()

    # then nothing in what he sees tells the two first outcomes apart
    assert (first["track"], second["track"]) == ("second_opinion", "second_opinion")
    seen = [{key: claim["submission"][key] for key in ("status", "decision", "decided_at")}
            for claim in (first, second)]
    assert seen == [{"status": "pending_review", "decision": None, "decided_at": None}] * 2


@pytest.mark.parametrize("outcome", ["approve", "reject"])
def test_the_second_opinion_is_recorded_but_never_changes_the_outcome(
        outcome, sampled_approval, api, ada, bo, now, event_mark, recorded, review_state):
    # given bo holds the second opinion for 15 s
    first = effective_decision(sampled_approval)
    claim = api(bo).claim().json()["id"]
    now.advance(seconds=15)
    mark = event_mark()

    # when he agrees or disagrees
    response = api(bo).decide(claim, outcome, reasons=["violence"])

    # then
    assert response.status_code == 201
    decision = Decision.objects.get(pk=response.json()["id"])
    reasons = ["violence"]
    assert (decision.track, decision.outcome, decision.reasons, decision.is_effective,
            decision.moderator) == (Track.SECOND_OPINION, outcome, reasons, False, bo)
    assert recorded(mark) == [("review.decided", bo.pk, str(sampled_approval.pk), {
        "decision_id": str(decision.pk), "claim_id": claim, "track": "second_opinion",
        "outcome": outcome, "reasons": reasons, "taxonomy_version": 1, "effective": False,
        "appeal_result": None, "held_s": 15.0})]
    assert SecondOpinion.objects.get().decision == decision
    sampled_approval.refresh_from_db()
    assert (sampled_approval.status, sampled_approval.decided_at) == (
        SubmissionStatus.APPROVED, T0)
    assert effective_decision(sampled_approval) == first
    detail = api(ada).detail(sampled_approval.pk).json()
    assert detail["decision"]["outcome"] == "approve"
    # and the request has left the queue
    assert api(UserFactory(roles=[Role.MODERATOR])).claim().status_code == 204


def test_a_second_opinion_needs_reasons_to_reject(sampled_approval, api, bo, review_state):
    claim = api(bo).claim().json()["id"]
    before = review_state()

    response = api(bo).decide(claim, "reject")

    assert (response.status_code, response.json()["code"]) == (400, "review.reason_required")
    assert review_state() == before


def test_second_opinions_come_after_every_first_review(sampled_approval, api, bo, tester,
                                                       make_pending):
    # given a first review that entered the queue later than the second-opinion request
    later = make_pending(tester, entered_at=T0 + timedelta(days=1))

    # then
    tracks = [api(bo).claim().json() for _ in range(2)]
    assert [(claim["track"], claim["submission"]["id"]) for claim in tracks] == [
        ("primary", str(later.pk)), ("second_opinion", str(sampled_approval.pk))]
