"""Claims: who gets which item in what order, leases that run out, renew and release, the
sweep, and the waiting and holding times the events record."""

from datetime import timedelta
from uuid import UUID

import pytest

from accounts.models import Role
from review.models import Claim, ClaimEnd, Escalation, SecondOpinion, Track
from review.services.decisions import appeal_create
from review.tasks import leases_expire
from submissions.models import Submission, SubmissionStatus
from tests.factories import UserFactory
from tests.review.conftest import LEASE_LOST, T0, iso

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=600)
NOT_YOURS = {"code": "not_found", "message": "No such claim of yours."}


def claimed(api, user) -> list[tuple[str, str]]:
    """Claim until nothing is left; answers (track, submission id) in the order given."""
    answers = []
    for _ in range(20):
        response = api(user).claim()
        if response.status_code == 204:
            return answers
        assert response.status_code == 201, response.content
        answers.append((response.json()["track"], response.json()["submission"]["id"]))
    raise AssertionError("the queue never emptied")


@pytest.fixture
def every_track(now, tester, bo, make_pending, decided, hold):
    """One clip on each track, decided or escalated by bo where needed:
    an open escalation (oldest), an appeal (newest), two first reviews, a second opinion."""
    escalated = make_pending(tester, entered_at=T0 - timedelta(hours=5))
    decided(bo, escalated, "escalate", reasons=())
    appealed = make_pending(tester, entered_at=T0 - timedelta(hours=4))
    decided(bo, appealed, "reject")
    second = make_pending(tester, entered_at=T0 - timedelta(hours=3))
    first_decision = decided(bo, second, "approve", reasons=())
    SecondOpinion.objects.create(submission=second, first_decision=first_decision,
                                 created_at=T0 - timedelta(hours=3))
    newer = make_pending(tester, entered_at=T0 - timedelta(minutes=10))
    older = make_pending(tester, entered_at=T0 - timedelta(minutes=20))
    now.advance(minutes=1)
    appeal_create(actor=tester, submission=appealed, message="It is a fox.")
    return {"escalated": str(escalated.pk), "appealed": str(appealed.pk),
            "second": str(second.pk), "newer": str(newer.pk), "older": str(older.pk)}


def test_a_moderator_gets_appeals_then_first_reviews_oldest_first_then_second_opinions(
        every_track, api, ada):
    # when ada claims until nothing is left (without deciding)
    order = claimed(api, ada)

    # then the escalation never comes to her
    assert order == [("appeal", every_track["appealed"]), ("primary", every_track["older"]),
                     ("primary", every_track["newer"]),
                     ("second_opinion", every_track["second"])]


def test_a_program_admin_gets_only_escalations(every_track, api, pat):
    assert claimed(api, pat) == [("escalation", every_track["escalated"])]


def test_a_moderator_who_is_also_program_admin_gets_escalations_first(every_track, api):
    # given someone holding both roles
    both = UserFactory(roles=[Role.MODERATOR, Role.PROGRAM_ADMIN])

    # then
    assert claimed(api, both) == [
        ("escalation", every_track["escalated"]), ("appeal", every_track["appealed"]),
        ("primary", every_track["older"]), ("primary", every_track["newer"]),
        ("second_opinion", every_track["second"])]


def test_first_reviews_entered_at_the_same_moment_come_in_a_stable_order(
        now, api, ada, tester, make_pending):
    # given three clips entered at the same instant
    clips = sorted(str(make_pending(tester, entered_at=T0).pk) for _ in range(3))

    # then they come by id, the tie-breaker
    assert claimed(api, ada) == [("primary", clip) for clip in clips]


def test_the_claim_answer_is_the_lease_and_the_clip(now, api, ada, tester, make_pending,
                                                     recorded, event_mark):
    # given a clip that entered the queue five minutes ago
    clip = make_pending(tester, title="Fox study", entered_at=T0 - timedelta(minutes=5))
    mark = event_mark()

    # when
    response = api(ada).claim()

    # then
    assert response.status_code == 201
    body = response.json()
    claim = Claim.objects.get()
    assert body == {
        "id": str(claim.pk), "track": "primary", "expires_at": iso(T0 + LEASE),
        "submission": {
            "id": str(clip.pk), "owner": "tess", "cohort": "creative-partners",
            "title": "Fox study", "prompt": "a red fox at dawn", "source": "upload",
            "status": "pending_review", "failure": None,
            "media": {"sha256": clip.sha256, "size_bytes": 4096, "container": None,
                      "video_codec": None, "width": None, "height": None, "fps": None,
                      "duration_s": None, "has_audio": None},
            "urls": {"original": None, "thumbnail": None, "contact_sheet": None,
                     "watermarked": None},
            "decision": None, "appealed": False, "created_at": iso(T0),
            "submitted_at": iso(T0), "decided_at": None},
        "owner_history": {"submissions": 0, "approved": 0, "rejected": 0},
        "appeal_message": None,
    }
    assert (claim.submission_id, claim.moderator, claim.track, claim.claimed_at,
            claim.expires_at, claim.renewals, claim.ended_at, claim.end_reason) == (
        clip.pk, ada, Track.PRIMARY, T0, T0 + LEASE, 0, None, "")
    assert recorded(mark) == [("review.claimed", ada.pk, str(clip.pk), {
        "claim_id": str(claim.pk), "track": "primary", "expires_at": iso(T0 + LEASE),
        "waited_s": 300.0})]


def test_the_lease_length_comes_from_the_program_policy(now, api, ada, tester, make_pending,
                                                         policy):
    # given a 90 s lease
    policy(lease_seconds=90)
    make_pending(tester)

    # when
    response = api(ada).claim()

    # then
    assert response.json()["expires_at"] == iso(T0 + timedelta(seconds=90))


def test_the_owner_history_counts_the_testers_other_clips(now, api, ada, tester, make_pending):
    # given the tester's clip, with two approved, one rejected and one draft clip beside it
    clip = make_pending(tester, entered_at=T0 - timedelta(days=1))
    for status in ("approved", "approved", "rejected", "draft"):
        make_pending(tester, status=status)

    # when
    body = api(ada).claim().json()

    # then
    assert body["submission"]["id"] == str(clip.pk)
    assert body["owner_history"] == {"submissions": 4, "approved": 2, "rejected": 1}


def test_nothing_eligible_answers_204_and_records_nothing(now, api, ada, tester, make_pending,
                                                           review_state):
    # given clips in every status but pending_review
    for status in ("draft", "received", "processing", "failed", "approved", "rejected",
                   "withdrawn"):
        make_pending(tester, status=status)
    before = review_state()

    # when
    response = api(ada).claim()

    # then
    assert response.status_code == 204
    assert response.content == b""
    assert review_state() == before


def test_a_moderator_never_receives_their_own_clip(now, api, make_pending, recorded,
                                                   event_mark):
    # given a moderator who also tests, and their clip, the only one waiting
    cara = UserFactory(username="cara", roles=[Role.TESTER, Role.MODERATOR])
    dan = UserFactory(username="dan", roles=[Role.MODERATOR])
    clip = make_pending(cara)
    mark = event_mark()

    # when
    own = api(cara).claim()
    other = api(dan).claim()

    # then
    assert own.status_code == 204
    assert other.status_code == 201
    assert other.json()["submission"]["id"] == str(clip.pk)
    assert [event[:3] for event in recorded(mark)] == [("review.claimed", dan.pk, str(clip.pk))]


def test_the_rejecting_moderator_never_receives_the_appeal(now, api, ada, bo, tester,
                                                           make_pending, decided):
    # given ada rejected the clip and the tester appealed
    clip = make_pending(tester)
    decided(ada, clip, "reject")
    appeal_create(actor=tester, submission=clip, message="Look again.")

    # when
    hers, his = api(ada).claim(), api(bo).claim()

    # then
    assert hers.status_code == 204
    assert (his.status_code, his.json()["track"]) == (201, "appeal")


def test_the_first_decider_never_receives_the_second_opinion(now, api, ada, bo, tester,
                                                             make_pending, decided):
    # given ada approved a clip that was then sampled for a second opinion
    clip = make_pending(tester)
    first = decided(ada, clip, "approve", reasons=())
    SecondOpinion.objects.create(submission=clip, first_decision=first, created_at=T0)

    # when
    hers, his = api(ada).claim(), api(bo).claim()

    # then
    assert hers.status_code == 204
    assert (his.status_code, his.json()["track"]) == (201, "second_opinion")


def test_the_escalating_moderator_who_is_also_admin_never_receives_the_escalation(
        now, api, tester, make_pending, decided):
    # given an admin-moderator escalated the clip to the program admins
    both = UserFactory(roles=[Role.MODERATOR, Role.PROGRAM_ADMIN])
    other_admin = UserFactory(roles=[Role.PROGRAM_ADMIN])
    clip = make_pending(tester)
    decided(both, clip, "escalate", reasons=())

    # then it goes to another program admin
    assert api(both).claim().status_code == 204
    assert api(other_admin).claim().json()["track"] == "escalation"
    assert Escalation.objects.get().submission == clip


def test_a_live_lease_keeps_the_item_from_everyone_else(now, api, ada, bo, tester,
                                                        make_pending, event_mark, recorded):
    # given ada holds the only clip, one second before her lease runs out
    clip = make_pending(tester)
    api(ada).claim()
    now.advance(seconds=599)
    mark = event_mark()

    # when
    response = api(bo).claim()

    # then
    assert response.status_code == 204
    assert recorded(mark) == []
    assert Claim.objects.get().moderator == ada
    assert Claim.objects.get().submission == clip


def test_an_expired_lease_makes_the_item_claimable_and_is_recorded_first(
        now, api, ada, bo, tester, make_pending, event_mark, recorded):
    # given ada claimed a clip that waited a minute, and her lease ran out exactly now
    clip = make_pending(tester, entered_at=T0 - timedelta(minutes=1))
    first = api(ada).claim().json()["id"]
    now.advance(seconds=600)
    mark = event_mark()

    # when
    response = api(bo).claim()

    # then bo gets it; the old lease is closed and recorded before the new claim
    assert response.status_code == 201
    second = response.json()["id"]
    assert response.json()["submission"]["id"] == str(clip.pk)
    assert list(Claim.objects.order_by("claimed_at").values_list(
        "pk", "moderator__username", "claimed_at", "expires_at", "ended_at", "end_reason")) == [
        (UUID(first), "ada", T0, T0 + LEASE, T0 + LEASE, ClaimEnd.EXPIRED),
        (UUID(second), "bo", T0 + LEASE, T0 + 2 * LEASE, None, "")]
    assert recorded(mark) == [
        ("review.lease_expired", "lease-sweeper", str(clip.pk),
         {"claim_id": first, "held_s": 600.0}),
        ("review.claimed", bo.pk, str(clip.pk),
         {"claim_id": second, "track": "primary", "expires_at": iso(T0 + 2 * LEASE),
          "waited_s": 660.0})]


def test_the_same_moderator_may_claim_again_after_their_lease_ran_out(
        now, api, ada, tester, make_pending):
    # given ada let her lease on the only clip run out
    clip = make_pending(tester)
    api(ada).claim()
    now.advance(minutes=11)

    # when
    response = api(ada).claim()

    # then
    assert (response.status_code, response.json()["submission"]["id"]) == (201, str(clip.pk))
    assert list(Claim.objects.values_list("end_reason", flat=True).order_by("claimed_at")) == [
        ClaimEnd.EXPIRED, ""]


def test_renew_extends_the_lease_from_now(now, api, ada, tester, make_pending, event_mark,
                                          recorded):
    # given ada claimed five minutes ago
    clip = make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    now.advance(minutes=5)
    mark = event_mark()

    # when
    response = api(ada).renew(claim_id)

    # then
    new_expiry = T0 + timedelta(minutes=5) + LEASE
    assert response.status_code == 200
    assert response.json() == {"expires_at": iso(new_expiry)}
    claim = Claim.objects.get()
    assert (claim.expires_at, claim.renewals, claim.ended_at) == (new_expiry, 1, None)
    assert recorded(mark) == [("review.renewed", ada.pk, str(clip.pk),
                               {"claim_id": claim_id, "expires_at": iso(new_expiry)})]


def test_a_renewed_lease_keeps_the_item_past_the_first_expiry(now, api, ada, bo, tester,
                                                              make_pending):
    # given ada renewed after nine minutes
    make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    now.advance(minutes=9)
    api(ada).renew(claim_id)

    # when bo asks at minute 15 (past the first expiry, before the renewed one)
    now.advance(minutes=6)
    response = api(bo).claim()

    # then
    assert response.status_code == 204


@pytest.mark.parametrize("late_by_s", [0, 1, 3600])
def test_renew_after_expiry_is_409_lease_lost_and_changes_nothing(
        late_by_s, now, api, ada, tester, make_pending, review_state):
    # given ada's lease ran out (exactly at the expiry instant, or later)
    make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    now.advance(seconds=600 + late_by_s)
    before = review_state()

    # when
    response = api(ada).renew(claim_id)

    # then
    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before


@pytest.mark.parametrize("action", ["renew", "release"])
def test_renew_or_release_of_another_moderators_claim_is_404_and_changes_nothing(
        action, now, api, ada, bo, tester, make_pending, review_state):
    # given ada holds a claim
    make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    before = review_state()

    # when bo tries to renew or release it
    response = getattr(api(bo), action)(claim_id)

    # then
    assert response.status_code == 404
    assert response.json() == NOT_YOURS
    assert review_state() == before


@pytest.mark.parametrize("action", ["renew", "release", "decide"])
def test_an_unknown_claim_id_is_404(action, now, api, ada):
    response = getattr(api(ada), action)("3f1c5a4e-8a1e-4b5e-9c62-3a9f0c1b2d4e")

    assert response.status_code == 404
    assert response.json() == NOT_YOURS


def test_release_gives_the_item_back(now, api, ada, bo, tester, make_pending, event_mark,
                                     recorded):
    # given ada has held a clip for 42 s
    clip = make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    now.advance(seconds=42)
    mark = event_mark()

    # when
    response = api(ada).release(claim_id)

    # then
    assert response.status_code == 204
    assert response.content == b""
    claim = Claim.objects.get()
    assert (claim.ended_at, claim.end_reason) == (T0 + timedelta(seconds=42),
                                                  ClaimEnd.RELEASED)
    assert recorded(mark) == [("review.released", ada.pk, str(clip.pk),
                               {"claim_id": claim_id, "held_s": 42.0})]
    # and the item is claimable again at once
    again = api(bo).claim()
    assert (again.status_code, again.json()["submission"]["id"]) == (201, str(clip.pk))


def test_release_twice_is_409_and_changes_nothing(now, api, ada, tester, make_pending,
                                                  review_state):
    # given ada released her claim
    make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    api(ada).release(claim_id)
    before = review_state()

    # when
    response = api(ada).release(claim_id)

    # then
    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before


def test_release_after_expiry_is_409_and_changes_nothing(now, api, ada, tester, make_pending,
                                                         review_state):
    make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    now.advance(minutes=10)
    before = review_state()

    response = api(ada).release(claim_id)

    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before


def test_renew_after_release_is_409(now, api, ada, tester, make_pending):
    make_pending(tester)
    claim_id = api(ada).claim().json()["id"]
    api(ada).release(claim_id)

    response = api(ada).renew(claim_id)

    assert (response.status_code, response.json()) == (409, LEASE_LOST)


def test_the_sweep_closes_every_expired_lease_with_one_event_each_and_nothing_else(
        now, ada, bo, tester, make_pending, hold, eager_tasks, event_mark, recorded):
    # given two leases that ran out (one long ago), one still live, one released earlier
    stale_a, stale_b, live, released = (make_pending(tester) for _ in range(4))
    old = hold(ada, stale_a)
    now.advance(minutes=5)
    recent = hold(bo, stale_b)
    gone = hold(ada, released)
    Claim.objects.filter(pk=gone.pk).update(ended_at=now.now, end_reason=ClaimEnd.RELEASED)
    now.advance(minutes=9)
    alive = hold(bo, live)
    now.advance(minutes=2)  # ada's ran out at 10 min, bo's first at 15 min; now is 16 min
    untouched = list(Claim.objects.filter(pk__in=[alive.pk, gone.pk]).order_by("pk").values())
    mark = event_mark()

    # when the periodic task runs
    expired = leases_expire.delay().get()

    # then
    moment = T0 + timedelta(minutes=16)
    assert expired == 2
    assert sorted(recorded(mark), key=lambda event: event[2]) == sorted([
        ("review.lease_expired", "lease-sweeper", str(stale_a.pk),
         {"claim_id": str(old.pk), "held_s": 600.0}),
        ("review.lease_expired", "lease-sweeper", str(stale_b.pk),
         {"claim_id": str(recent.pk), "held_s": 600.0})], key=lambda event: event[2])
    assert list(Claim.objects.filter(pk__in=[old.pk, recent.pk]).values_list(
        "ended_at", "end_reason")) == [(moment, ClaimEnd.EXPIRED)] * 2
    assert list(Claim.objects.filter(pk__in=[alive.pk, gone.pk]).order_by("pk")
                .values()) == untouched
    assert set(Submission.objects.values_list("status", flat=True)) == {
        SubmissionStatus.PENDING_REVIEW}

    # and a second run finds nothing
    mark = event_mark()
    assert leases_expire.delay().get() == 0
    assert recorded(mark) == []


def test_waited_s_counts_from_when_the_clip_entered_the_queue(now, api, ada, tester,
                                                              make_pending, event_mark,
                                                              recorded):
    # given a clip that entered 1 h 2 min 3.5 s ago
    make_pending(tester, entered_at=T0 - timedelta(hours=1, minutes=2, seconds=3.5))
    mark = event_mark()

    # when
    api(ada).claim()

    # then
    assert recorded(mark)[0][3]["waited_s"] == 3723.5


def test_waited_s_of_a_second_opinion_counts_from_its_request(now, api, ada, bo, tester,
                                                              make_pending, decided,
                                                              event_mark, recorded):
    # given bo approved a clip, sampled for a second opinion 30 s after
    clip = make_pending(tester, entered_at=T0 - timedelta(days=2))
    first = decided(bo, clip, "approve", reasons=())
    SecondOpinion.objects.create(submission=clip, first_decision=first,
                                 created_at=T0 + timedelta(seconds=30))
    now.advance(seconds=95)
    mark = event_mark()

    # when
    api(ada).claim()

    # then
    assert recorded(mark)[0][3]["track"] == "second_opinion"
    assert recorded(mark)[0][3]["waited_s"] == 65.0
