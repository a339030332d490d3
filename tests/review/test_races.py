"""Races in the review queue, on PostgreSQL (row locks, SKIP LOCKED and the partial unique
index as in production): moderators draining the queue at once, two decisions on one claim,
decisions, renewals and the sweep racing a lease's expiry. Real threads, each with its own
connection and its own API client.

Not on SQLite: the test database there is in-memory with a shared cache, where a second
writer fails at once with "database table is locked" instead of waiting, so concurrent
moderators would measure the test setup, not the queue."""

import itertools
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.signals import got_request_exception
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import Event
from core import clock
from review.models import Claim, ClaimEnd, Decision
from review.services.claims import claims_expire
from submissions.models import Submission, SubmissionStatus
from tests.factories import UserFactory
from tests.review.conftest import LEASE_LOST, T0

# Decisions mail the tester on commit: the tests that decide use ``eager_tasks`` so that runs
# in the deciding thread and no task is left on a configured broker.
pytestmark = pytest.mark.django_db(transaction=True)

CLAIMS = "/api/v1/review/claims/"
ROUNDS = 50



@pytest.fixture
def server_errors():
    """The exceptions requests raised (the 500s), as the handler reported them."""
    raised = []

    def keep(sender, request, **kwargs):
        import sys

        raised.append(sys.exc_info()[1])

    got_request_exception.connect(keep, weak=False)
    yield raised
    got_request_exception.disconnect(keep)


def at_once(*jobs):
    """Run every job in its own thread, all released together; answers each job's result,
    or the exception it raised. Each thread closes its database connection when done."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as error:  # reported to the test as the job's result
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, job), name=f"job-{index}")
               for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def client_of(user) -> APIClient:
    """A client that answers a server error as a 500 instead of raising it: the test client
    re-raises through a global signal, so one failing request would otherwise surface in
    every thread with a request in flight."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def assert_never_two_open_claims_at_once():
    """For every clip, each claim ended before the next began."""
    by_clip = {}
    for claim in Claim.objects.order_by("claimed_at", "pk"):
        by_clip.setdefault(claim.submission_id, []).append(claim)
    for claims in by_clip.values():
        for earlier, later in itertools.pairwise(claims):
            assert earlier.ended_at is not None
            assert earlier.ended_at <= later.claimed_at


def moderator_draining(user):
    """A job: claim and approve until nothing is left; answers (clips decided, Counter of
    (step, status))."""

    def job():
        client, decided, answers = client_of(user), [], Counter()
        while True:
            claim = client.post(CLAIMS)
            answers["claim", claim.status_code] += 1
            if claim.status_code != 201:
                return decided, answers
            body = claim.json()
            decision = client.post(f"{CLAIMS}{body['id']}/decide/", {"outcome": "approve"},
                                   format="json")
            answers["decide", decision.status_code] += 1
            if decision.status_code == 201:
                decided.append(body["submission"]["id"])

    return job


def test_eight_moderators_drain_two_hundred_items_each_decided_once(
        postgres, make_pending, eager_tasks, mailoutbox, server_errors):
    # given 200 clips waiting and eight moderators
    tester = UserFactory(roles=[Role.TESTER])
    moderators = [UserFactory(roles=[Role.MODERATOR]) for _ in range(8)]
    start = clock.now()
    clips = {str(make_pending(tester, entered_at=start - timedelta(seconds=n)).pk)
             for n in range(200)}
    mark = last_event_id()

    # when they all claim and approve until the queue is empty
    results = at_once(*(moderator_draining(moderator) for moderator in moderators))

    # then every clip was claimed once and decided exactly once, never held twice at a time
    assert [result for result in results if isinstance(result, Exception)] == []
    decided = [clip for clip_ids, _ in results for clip in clip_ids]
    assert len(decided) == 200
    assert set(decided) == clips
    assert Decision.objects.count() == 200
    assert Decision.objects.values("submission").distinct().count() == 200
    assert Decision.objects.filter(is_effective=True, outcome="approve").count() == 200
    assert Claim.objects.count() == 200
    assert set(Claim.objects.values_list("end_reason", flat=True)) == {ClaimEnd.DECIDED}
    assert_never_two_open_claims_at_once()
    assert set(Submission.objects.values_list("status", flat=True)) == {
        SubmissionStatus.APPROVED}
    assert Counter(Event.objects.filter(id__gt=mark).values_list("action", flat=True)) == {
        "review.claimed": 200, "review.decided": 200}
    assert len(mailoutbox) == 200
    # and zero errors: every claim and decision answered 201, and each moderator stopped at
    # a 204 (this once deadlocked: a decision and a concurrent claim-next took the clip's
    # and the claim's locks in opposite orders)
    assert server_errors == []
    answers = sum((counts for _, counts in results), Counter())
    assert answers == {("claim", 201): 200, ("decide", 201): 200, ("claim", 204): 8}
    # and the work was shared (SKIP LOCKED: nobody waited on anyone else's item)
    assert sum(1 for clip_ids, _ in results if clip_ids) > 1


def test_a_claim_next_that_read_the_queue_before_a_claim_does_not_deadlock_its_decision(
        postgres, make_pending, eager_tasks, server_errors):
    # given one clip waiting; bo's claim-next reads the queue (its snapshot) and is slow to
    # lock the row it found, as under load; meanwhile ada claims the clip and decides it.
    # (This deadlocked when a decision updated the claim before locking the clip: bo's insert
    # waited on ada's claim update, ada on bo's lock of the clip.)
    tester = UserFactory(roles=[Role.TESTER])
    ada, bo = UserFactory(roles=[Role.MODERATOR]), UserFactory(roles=[Role.MODERATOR])
    clip = make_pending(tester)
    bo_reading, bo_locked = threading.Event(), threading.Event()

    def slow_to_lock(execute, sql, params, many, context):
        if "SKIP LOCKED" in sql and '"submissions_submission"' in sql and \
                not bo_reading.is_set():
            bo_reading.set()
            # The same query, one second slower between its snapshot and its row lock.
            assert " ORDER BY " in sql
            sql = sql.replace(" ORDER BY ", " AND pg_sleep(1)::text = '' ORDER BY ", 1)
            result = execute(sql, params, many, context)
            bo_locked.set()
            return result
        return execute(sql, params, many, context)

    def ada_waits_after_taking_the_claim(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        # The fenced update of the claim (on PostgreSQL, one statement with the decision).
        if 'UPDATE "review_claim"' in sql:
            bo_locked.wait(timeout=5)
        return result

    def bo_claims():
        with connection.execute_wrapper(slow_to_lock):
            return client_of(bo).post(CLAIMS)

    def ada_claims_and_decides():
        assert bo_reading.wait(timeout=10)
        time.sleep(0.2)  # bo's statement has begun
        client = client_of(ada)
        claim = client.post(CLAIMS)
        assert claim.status_code == 201
        with connection.execute_wrapper(ada_waits_after_taking_the_claim):
            return client.post(f"{CLAIMS}{claim.json()['id']}/decide/", {"outcome": "approve"},
                               format="json")

    # when
    taken, decided = at_once(bo_claims, ada_claims_and_decides)

    # then ada's decision stands and bo found nothing; no request failed
    assert server_errors == []
    assert (decided.status_code, taken.status_code) == (201, 204)
    assert list(Claim.objects.values_list("moderator", "end_reason")) == [
        (ada.pk, ClaimEnd.DECIDED)]
    clip.refresh_from_db()
    assert clip.status == SubmissionStatus.APPROVED


def test_two_decisions_racing_on_one_claim_one_wins(postgres, make_pending, hold, eager_tasks,
                                                    server_errors):
    tester = UserFactory(roles=[Role.TESTER])
    ada = UserFactory(roles=[Role.MODERATOR])
    first, second = client_of(ada), client_of(ada)  # two tabs of hers
    for _ in range(ROUNDS):
        # given ada holds a clip
        clip = make_pending(tester)
        claim = hold(ada, clip)
        path = f"{CLAIMS}{claim.pk}/decide/"
        mark = last_event_id()

        # when her approval and a rejection (a double submit) arrive at once
        approve, reject = at_once(
            lambda path=path: first.post(path, {"outcome": "approve"}, format="json"),
            lambda path=path: second.post(path, {"outcome": "reject", "reasons": ["other"]},
                                          format="json"))

        # then exactly one wins; the other is told and changes nothing
        assert server_errors == []
        assert sorted([approve.status_code, reject.status_code]) == [201, 409]
        winner, loser = (approve, reject) if approve.status_code == 201 else (reject, approve)
        assert loser.json() == LEASE_LOST
        decision = Decision.objects.get(submission=clip)
        assert str(decision.pk) == winner.json()["id"]
        clip.refresh_from_db()
        assert clip.status == {"approve": "approved", "reject": "rejected"}[decision.outcome]
        assert list(Event.objects.filter(id__gt=mark).values_list("action", "subject_id")) == [
            ("review.decided", str(clip.pk))]
        claim.refresh_from_db()
        assert claim.end_reason == ClaimEnd.DECIDED


def per_thread_clock(times: dict[str, object]):
    """A clock that tells each racing thread its own time (by thread name), the main thread
    the first one."""
    default = next(iter(times.values()))
    return lambda: times.get(threading.current_thread().name, default)


def test_a_decision_racing_the_sweep_either_decides_or_expires_never_both(
        postgres, make_pending, hold, eager_tasks, server_errors):
    # given leases claimed at T0; the decider's clock reads one second before the expiry,
    # the sweep's one second after
    tester = UserFactory(roles=[Role.TESTER])
    ada = UserFactory(roles=[Role.MODERATOR])
    client = client_of(ada)
    outcomes = Counter()
    with clock.use(per_thread_clock({"job-0": T0 + timedelta(seconds=599),
                                     "job-1": T0 + timedelta(seconds=601)})):
        for _ in range(ROUNDS):
            with clock.use(lambda: T0):
                clip = make_pending(tester)
                claim = hold(ada, clip)
            mark = last_event_id()

            # when ada decides as the sweep runs
            path = f"{CLAIMS}{claim.pk}/decide/"
            decided, swept = at_once(
                lambda path=path: client.post(path, {"outcome": "approve"}, format="json"),
                claims_expire)

            # then exactly one of them took the claim
            assert server_errors == []
            assert not isinstance(swept, Exception), repr(swept)
            claim.refresh_from_db()
            clip.refresh_from_db()
            actions = list(Event.objects.filter(id__gt=mark).values_list("action", flat=True))
            if decided.status_code == 201:
                assert (swept, claim.end_reason, clip.status, actions) == (
                    0, ClaimEnd.DECIDED, SubmissionStatus.APPROVED, ["review.decided"])
            else:
                assert (decided.status_code, decided.json()) == (409, LEASE_LOST)
                assert (swept, claim.end_reason, clip.status, actions) == (
                    1, ClaimEnd.EXPIRED, SubmissionStatus.PENDING_REVIEW,
                    ["review.lease_expired"])
                assert not Decision.objects.filter(submission=clip).exists()
            outcomes[decided.status_code] += 1
    assert sum(outcomes.values()) == ROUNDS


def test_a_decision_racing_the_next_claim_at_expiry_either_decides_or_hands_over(
        postgres, make_pending, hold, eager_tasks, server_errors):
    # given ada's leases claimed at T0; her clock reads one second before the expiry, bo's
    # one second after
    tester = UserFactory(roles=[Role.TESTER])
    ada, bo = UserFactory(roles=[Role.MODERATOR]), UserFactory(roles=[Role.MODERATOR])
    ada_client, bo_client = client_of(ada), client_of(bo)
    with clock.use(per_thread_clock({"job-0": T0 + timedelta(seconds=599),
                                     "job-1": T0 + timedelta(seconds=601)})):
        for _ in range(ROUNDS):
            with clock.use(lambda: T0):
                clip = make_pending(tester)
                claim = hold(ada, clip)
            mark = last_event_id()

            # when ada decides as bo claims the next item
            path = f"{CLAIMS}{claim.pk}/decide/"
            decided, taken = at_once(
                lambda path=path: ada_client.post(path, {"outcome": "approve"}, format="json"),
                lambda: bo_client.post(CLAIMS))

            # then either ada decided and bo found nothing, or the lease went to bo and ada
            # was told; neither failed
            assert server_errors == []
            claim.refresh_from_db()
            clip.refresh_from_db()
            actions = list(Event.objects.filter(id__gt=mark).values_list("action", flat=True))
            if decided.status_code == 201:
                assert (taken.status_code, claim.end_reason, clip.status, actions) == (
                    204, ClaimEnd.DECIDED, SubmissionStatus.APPROVED, ["review.decided"])
            else:
                assert (decided.status_code, decided.json()) == (409, LEASE_LOST)
                assert (taken.status_code, claim.end_reason, clip.status, actions) == (
                    201, ClaimEnd.EXPIRED, SubmissionStatus.PENDING_REVIEW,
                    ["review.lease_expired", "review.claimed"])
                # bo lets it go and the clip leaves the queue, so the next round's is alone
                Claim.objects.filter(pk=taken.json()["id"]).update(
                    ended_at=T0 + timedelta(seconds=601), end_reason=ClaimEnd.RELEASED)
                Submission.objects.filter(pk=clip.pk).update(status=SubmissionStatus.WITHDRAWN)
            assert not Decision.objects.filter(submission=clip).exclude(
                claim=claim).exists()
            assert_never_two_open_claims_at_once()


def test_a_decision_and_the_next_claim_interleaved_at_expiry_do_not_deadlock(
        postgres, make_pending, hold, eager_tasks, server_errors):
    # given ada's lease claimed at T0; her clock reads one second before the expiry, bo's
    # one second after
    tester = UserFactory(roles=[Role.TESTER])
    ada, bo = UserFactory(roles=[Role.MODERATOR]), UserFactory(roles=[Role.MODERATOR])
    with clock.use(lambda: T0):
        clip = make_pending(tester)
        claim = hold(ada, clip)
    locked = threading.Event()

    def pause_after_locking_the_clip(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "FOR UPDATE" in sql and '"submissions_submission"' in sql and not locked.is_set():
            locked.set()
            time.sleep(0.5)  # bo's request is slow here: ada's decision arrives meanwhile
        return result

    def bo_claims():
        with connection.execute_wrapper(pause_after_locking_the_clip):
            return client_of(bo).post(CLAIMS)

    def ada_decides():
        assert locked.wait(timeout=10)
        return client_of(ada).post(f"{CLAIMS}{claim.pk}/decide/",
                                   {"outcome": "approve"}, format="json")

    # when bo's claim-next has locked the clip and ada's decision then arrives
    with clock.use(per_thread_clock({"job-0": T0 + timedelta(seconds=599),
                                     "job-1": T0 + timedelta(seconds=601)})):
        decided, taken = at_once(ada_decides, bo_claims)

    # then one of them has the clip, and neither request failed
    assert server_errors == []
    assert sorted([decided.status_code, taken.status_code]) in ([201, 204], [201, 409])
    assert_never_two_open_claims_at_once()


def test_the_sweep_and_the_next_claim_closing_one_stale_lease_record_it_once(
        postgres, make_pending, hold, server_errors):
    # given ada's lease ran out; the sweep runs at 601 s, bo claims at 602 s
    tester = UserFactory(roles=[Role.TESTER])
    ada, bo = UserFactory(roles=[Role.MODERATOR]), UserFactory(roles=[Role.MODERATOR])
    with clock.use(lambda: T0):
        clip = make_pending(tester)
        claim = hold(ada, clip)
    locked = threading.Event()

    def pause_after_locking_the_claim(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        # The sweep closes a lease with a conditional UPDATE, which holds the row until commit.
        if sql.startswith('UPDATE "review_claim"') and not locked.is_set():
            locked.set()
            time.sleep(0.3)  # the sweep is slow here: bo's claim-next arrives meanwhile
        return result

    def sweep():
        with connection.execute_wrapper(pause_after_locking_the_claim):
            return claims_expire()

    def bo_claims():
        assert locked.wait(timeout=10)
        return client_of(bo).post(CLAIMS)

    # when the sweep has locked the stale claim and bo's claim-next then arrives
    with clock.use(per_thread_clock({"job-0": T0 + timedelta(seconds=601),
                                     "job-1": T0 + timedelta(seconds=602)})):
        swept, taken = at_once(sweep, bo_claims)

    # then bo has the clip, and the old lease closed once, by the sweep
    assert server_errors == []
    assert (swept, taken.status_code) == (1, 201)
    assert list(Event.objects.filter(subject_id=str(clip.pk)).values_list(
        "action", "data__claim_id")) == [("review.lease_expired", str(claim.pk)),
                                         ("review.claimed", taken.json()["id"])]
    claim.refresh_from_db()
    assert (claim.ended_at, claim.end_reason) == (T0 + timedelta(seconds=601),
                                                  ClaimEnd.EXPIRED)


def test_a_renewal_racing_the_next_claim_either_keeps_the_lease_or_is_refused(
        postgres, make_pending, hold, server_errors):
    # given ada's lease claimed at T0; her clock reads one second before the expiry, bo's
    # one second after
    tester = UserFactory(roles=[Role.TESTER])
    ada, bo = UserFactory(roles=[Role.MODERATOR]), UserFactory(roles=[Role.MODERATOR])
    with clock.use(lambda: T0):
        clip = make_pending(tester)
        claim = hold(ada, clip)
    clip_locked, stale_read = threading.Event(), threading.Event()

    def pause_after_reading_the_stale_claim(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "FOR UPDATE" in sql and '"submissions_submission"' in sql:
            clip_locked.set()
        elif clip_locked.is_set() and not stale_read.is_set() and '"review_claim"' in sql:
            stale_read.set()
            time.sleep(0.3)  # bo's request is slow here: ada's renewal arrives meanwhile
        return result

    def bo_claims():
        with connection.execute_wrapper(pause_after_reading_the_stale_claim):
            return client_of(bo).post(CLAIMS)

    def ada_renews():
        assert stale_read.wait(timeout=10)
        return client_of(ada).post(f"{CLAIMS}{claim.pk}/renew/")

    # when bo's claim-next has read ada's lease as stale and her renewal then commits
    with clock.use(per_thread_clock({"job-0": T0 + timedelta(seconds=599),
                                     "job-1": T0 + timedelta(seconds=601)})):
        renewed, taken = at_once(ada_renews, bo_claims)

    # then a renewal that was answered 200 kept the lease
    assert server_errors == []
    claim.refresh_from_db()
    if renewed.status_code == 200:
        assert (taken.status_code, claim.ended_at, claim.expires_at) == (
            204, None, T0 + timedelta(seconds=599 + 600))
    else:
        assert (renewed.status_code, taken.status_code) == (409, 201)
    assert_never_two_open_claims_at_once()
