"""The approval gate's metrics on a small history built by hand, every figure checked exactly.

The history is recorded through ``audit.record`` with each action's registered data, at
chosen times, so every expected value below can be worked out on paper (the working is in
the comments). ``GateHistory`` and ``morning`` are also used by the dashboard tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

import audit
from accounts.models import Role
from audit.models import Event, Study
from audit.research import rollups
from audit.research.access import ResearchScope, pseudonym
from audit.research.metrics import metric_filters, metrics_overview
from core import clock
from tests.factories import CohortFactory, UserFactory

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
WORKER = audit.SystemActor("media-worker")
SAMPLER = audit.SystemActor("sampler")
PROGRAM = ("accounts.program", 1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class GateHistory:
    """Records the events a clip's way through the gate produces, at given minutes after T0."""

    def __init__(self) -> None:
        self.claims: dict[str, str] = {}

    def _record(self, minute: float, action: str, *, actor, subject=None, data=None) -> Event:
        moment = at(minute)
        with clock.use(lambda: moment), transaction.atomic():
            return audit.record(action, actor=actor, subject=subject, data=data or {})

    def clip(self, owner, minute: float, *, source: str = "upload") -> str:
        clip = str(uuid.uuid4())
        self._record(minute, "submission.created", actor=owner,
                     subject=("submissions.submission", clip),
                     data={"source": source,
                           "cohort": owner.cohort.slug if owner.cohort else None,
                           "size_bytes": 4096, "sha256": "0" * 64, "generation": None})
        self._record(minute, "submission.submitted", actor=owner,
                     subject=("submissions.submission", clip))
        return clip

    def processed(self, clip: str, minute: float) -> None:
        self._record(minute, "submission.processed", actor=WORKER,
                     subject=("submissions.submission", clip),
                     data={"attempt": 1, "media": {"container": "mp4"}, "processing_s": 1.5})

    def claimed(self, clip: str, moderator, minute: float, *, track: str = "primary") -> str:
        claim = str(uuid.uuid4())
        self.claims[clip] = claim
        self._record(minute, "review.claimed", actor=moderator,
                     subject=("submissions.submission", clip),
                     data={"claim_id": claim, "track": track,
                           "expires_at": at(minute + 10).isoformat(), "waited_s": None})
        return claim

    def released(self, clip: str, moderator, minute: float) -> None:
        self._record(minute, "review.released", actor=moderator,
                     subject=("submissions.submission", clip),
                     data={"claim_id": self.claims[clip], "held_s": 60.0})

    def decided(self, clip: str, moderator, minute: float, outcome: str, *,
                track: str = "primary", claimed_minute: float,
                appeal_result: str | None = None) -> str:
        decision = str(uuid.uuid4())
        effective = track != "second_opinion" and outcome != "escalate"
        self._record(minute, "review.decided", actor=moderator,
                     subject=("submissions.submission", clip),
                     data={"decision_id": decision, "claim_id": self.claims[clip],
                           "track": track, "outcome": outcome,
                           "reasons": ["quality"] if outcome == "reject" else [],
                           "taxonomy_version": 1, "effective": effective,
                           "appeal_result": appeal_result,
                           "held_s": (minute - claimed_minute) * 60.0})
        return decision

    def second_opinion(self, clip: str, minute: float, first_decision: str) -> None:
        self._record(minute, "review.second_opinion_requested", actor=SAMPLER,
                     subject=("submissions.submission", clip),
                     data={"first_decision_id": first_decision})

    def appealed(self, clip: str, owner, minute: float, rejection: str) -> None:
        self._record(minute, "submission.appealed", actor=owner,
                     subject=("submissions.submission", clip),
                     data={"rejection_id": rejection, "message_chars": 42})

    def withdrawn(self, clip: str, owner, minute: float) -> None:
        self._record(minute, "submission.withdrawn", actor=owner,
                     subject=("submissions.submission", clip),
                     data={"from_status": "pending_review"})

    def program(self, verb: str, admin, minute: float, reason: str, from_status: str) -> None:
        self._record(minute, f"program.{verb}", actor=admin, subject=PROGRAM,
                     data={"from_status": from_status, "reason": reason})

    def token_anomaly(self, owner, minute: float) -> None:
        self._record(minute, "security.token_anomaly", actor=audit.SystemActor("token-watch"),
                     subject=owner, data={
                         "token_fingerprint": "ab" * 8, "reason": "distinct_addresses",
                         "observed": 25, "threshold": 20, "usual_per_hour": 3,
                         "window_start": at(minute).replace(minute=0).isoformat(),
                         "window_s": 3600, "action": "alerted"})


class People:
    def __init__(self) -> None:
        cp = CohortFactory(slug="creative-partners")
        rt = CohortFactory(slug="red-team")
        self.tess = UserFactory(username="tess", cohort=cp)
        self.rosa = UserFactory(username="rosa", cohort=rt)
        self.ada = UserFactory(username="ada", roles=[Role.MODERATOR], cohort=None)
        self.bo = UserFactory(username="bo", roles=[Role.MODERATOR], cohort=None)
        self.admin = UserFactory(username="admin", roles=[Role.PROGRAM_ADMIN], cohort=None)


def record_morning(people: People) -> dict[str, str]:
    """Six clips through the gate one morning, a suspension, and a token anomaly before it.

    ======  ==========================================================================
    A tess  in 09:01, claimed ada 09:03, approved 09:05; second opinion: bo rejects
    B tess  in 09:04, claimed ada 09:10, rejected 09:20; appealed 09:30, claimed bo
            09:40, approved 09:45 (overturned)
    C rosa  in 09:06, claimed bo 09:08, released 09:09, claimed ada 09:12, escalated
            09:15; claimed admin 10:15, approved 10:20
    D rosa  in 09:21, claimed bo 09:30, rejected 09:31; second opinion: ada rejects
    E tess  in 09:41, withdrawn 09:50, never claimed
    F rosa  in 10:01, still waiting
    ======  ==========================================================================
    """
    h, p = GateHistory(), people
    clips = {}
    clips["A"] = a = h.clip(p.tess, 0)
    h.processed(a, 1)
    h.claimed(a, p.ada, 3)
    first_a = h.decided(a, p.ada, 5, "approve", claimed_minute=3)
    h.second_opinion(a, 5, first_a)

    clips["B"] = b = h.clip(p.tess, 2)
    h.processed(b, 4)

    clips["C"] = c = h.clip(p.rosa, 5)
    h.processed(c, 6)
    h.claimed(c, p.bo, 8)
    h.released(c, p.bo, 9)
    h.claimed(b, p.ada, 10)
    h.claimed(c, p.ada, 12)
    h.decided(c, p.ada, 15, "escalate", claimed_minute=12)
    rejection_b = h.decided(b, p.ada, 20, "reject", claimed_minute=10)

    clips["D"] = d = h.clip(p.rosa, 20)
    h.processed(d, 21)
    h.appealed(b, p.tess, 30, rejection_b)
    h.claimed(d, p.bo, 30)
    first_d = h.decided(d, p.bo, 31, "reject", claimed_minute=30)
    h.second_opinion(d, 31, first_d)
    h.claimed(a, p.bo, 35, track="second_opinion")
    h.decided(a, p.bo, 36, "reject", track="second_opinion", claimed_minute=35)
    h.claimed(b, p.bo, 40, track="appeal")

    clips["E"] = e = h.clip(p.tess, 40)
    h.processed(e, 41)
    h.decided(b, p.bo, 45, "approve", track="appeal", claimed_minute=40,
              appeal_result="overturned")
    h.withdrawn(e, p.tess, 50)
    h.claimed(d, p.ada, 50, track="second_opinion")
    h.decided(d, p.ada, 52, "reject", track="second_opinion", claimed_minute=50)

    clips["F"] = f = h.clip(p.rosa, 60)
    h.processed(f, 61)
    h.claimed(c, p.admin, 75, track="escalation")
    h.decided(c, p.admin, 80, "approve", track="escalation", claimed_minute=75)
    h.token_anomaly(p.tess, 85)
    h.program("suspended", p.admin, 90, "Leak under investigation", "open")
    h.program("resumed", p.admin, 150, "Leak contained", "suspended")
    return clips


@pytest.fixture
def people(db):
    return People()


@pytest.fixture
def morning(people):
    clips = record_morning(people)
    rollups.refresh()
    return clips


PROGRAM_SCOPE = ResearchScope(None)


def overview(**filters):
    return metrics_overview(metric_filters(**filters), PROGRAM_SCOPE)


def test_counts_rates_and_percentiles_of_the_morning(morning):
    # when
    metrics = overview()

    # then: clips by status now
    assert metrics["submissions"] == {"total": 6, "by_status": {
        "approved": 3, "pending_review": 1, "rejected": 1, "withdrawn": 1}}
    # first verdicts: A approve, B reject, C approve (after escalation), D reject
    assert metrics["decisions"] == {"approved": 2, "rejected": 2}
    assert metrics["approval_rate"] == 0.5
    # time to decision, s: A 240, D 600, B 960, C 4440 (09:06 to 10:20)
    # p50 at rank 1.5: 600 + .5 * 360; p90 at 2.7: 960 + .7 * 3480; p99 at 2.97
    assert metrics["time_to_decision_s"] == {"n": 4, "p50": 780.0, "p90": 3396.0,
                                             "p99": 4335.6}
    # first claims of gate entries, s: A 120, C 120, B 360, D 540, B's appeal 600,
    # C's escalation 3600 (E and F never claimed): p50 at rank 2.5, p90 at 4.5, p99 at 4.95
    assert metrics["queue_wait_s"] == {"n": 6, "p50": 450.0, "p90": 2100.0, "p99": 3450.0}


def test_the_morning_by_cohort(morning):
    # when
    by_cohort = overview()["by_cohort"]

    # then: creative partners A, B, E; red team C, D, F
    assert by_cohort == {
        "creative-partners": {
            "submissions": 3, "approved": 1, "rejected": 1, "approval_rate": 0.5,
            # 240, 960 | waits 120, 360, 600
            "time_to_decision_s": {"p50": 600.0, "p90": 888.0},
            "queue_wait_s": {"p50": 360.0, "p90": 552.0}},
        "red-team": {
            "submissions": 3, "approved": 1, "rejected": 1, "approval_rate": 0.5,
            # 600, 4440 | waits 120, 540, 3600
            "time_to_decision_s": {"p50": 2520.0, "p90": 4056.0},
            "queue_wait_s": {"p50": 540.0, "p90": 2988.0}},
    }


def test_the_morning_by_pseudonymous_moderator(morning, people):
    # given: a researcher's study
    study = Study.objects.create(slug="gate", name="The gate")
    scope = ResearchScope(study)

    # when
    by_moderator = metrics_overview(metric_filters(), scope)["by_moderator"]

    # then: ada decided A, B, C (escalate) and D's second opinion; bo B's appeal, D, and A's
    # second opinion; the admin C's escalation. Review times (claim to decision): ada 120,
    # 600, 180 and 120 s; bo 300, 60 and 60 s; the admin 300 s.
    assert by_moderator == {
        pseudonym(str(study.pk), people.ada.pk): {
            "decisions": 4, "approved": 1, "rejected": 2, "escalated": 1,
            "second_opinions": 1, "approval_rate": 0.3333, "review_s": {"mean": 255.0}},
        pseudonym(str(study.pk), people.bo.pk): {
            "decisions": 3, "approved": 1, "rejected": 2, "escalated": 0,
            "second_opinions": 1, "approval_rate": 0.3333, "review_s": {"mean": 140.0}},
        pseudonym(str(study.pk), people.admin.pk): {
            "decisions": 1, "approved": 1, "rejected": 0, "escalated": 0,
            "second_opinions": 0, "approval_rate": 1.0, "review_s": {"mean": 300.0}},
    }


def test_appeals_and_agreement_of_the_morning(morning):
    # when
    metrics = overview()

    # then: B's appeal was overturned; second opinions: A approve→reject, D reject→reject,
    # so observed agreement 1/2, chance (1·0 + 1·2)/4 = 1/2, kappa 0
    assert metrics["appeals"] == {"count": 1, "overturned": 1, "upheld": 0,
                                  "overturn_rate": 1.0}
    assert metrics["agreement"] == {
        "pairs": 2, "observed": 0.5, "expected": 0.5, "kappa": 0.0,
        "table": [{"first": "approve", "second": "reject", "n": 1},
                  {"first": "reject", "second": "reject", "n": 1}]}


def test_queue_depth_and_approval_rate_over_time(morning):
    # when
    metrics = overview()

    # then: hour 09 — 7 gate entries (A B C D E, B's appeal, C's escalation), 6 exits (all
    # but the escalation); hour 10 — F enters, the escalation leaves; hour 11 — nothing, up
    # to the log's last event (the resumption at 11:30)
    assert metrics["bucket"] == "hour"
    assert [(p["at"], p["entered"], p["exited"], p["depth"]) for p in metrics["queue_depth"]] == [
        (T0, 7, 6, 1), (at(60), 1, 1, 1), (at(120), 0, 0, 1)]
    assert metrics["approval_rate_over_time"] == [
        {"at": T0, "approved": 1, "rejected": 2, "rate": 0.3333},
        {"at": at(60), "approved": 1, "rejected": 0, "rate": 1.0},
        {"at": at(120), "approved": 0, "rejected": 0, "rate": None}]
    assert metrics["submissions_over_time"] == [
        {"at": T0, "n": 5}, {"at": at(60), "n": 1}, {"at": at(120), "n": 0}]


def test_daily_series_come_from_the_daily_rollup(morning):
    # when
    metrics = overview(bucket="day")

    # then: the whole morning in one day: 8 gate entries, 7 exits, F still waiting
    assert metrics["bucket"] == "day"
    assert metrics["queue_depth"] == [{"at": T0.replace(hour=0), "depth": 1, "entered": 8,
                                       "exited": 7}]
    assert metrics["approval_rate_over_time"] == [
        {"at": T0.replace(hour=0), "approved": 2, "rejected": 2, "rate": 0.5}]
    assert metrics["submissions_over_time"] == [{"at": T0.replace(hour=0), "n": 6}]


def test_series_keep_the_depth_from_before_the_window(morning):
    # when: only the hour after 10:00, in whole hours up to noon
    metrics = overview(since=at(60), until=at(180), bucket="hour")

    # then: one clip was still queued at 10:00 (C's escalation)
    assert [(p["at"], p["depth"]) for p in metrics["queue_depth"]] == [
        (at(60), 1), (at(120), 1)]
    assert [p["n"] for p in metrics["submissions_over_time"]] == [1, 0]


def test_time_to_decision_histogram(morning):
    # when
    bins = {row["label"]: row["n"] for row in overview()["time_to_decision_histogram"]}

    # then: 240 s and 600 s in the 1 to 5 and 5 to 15 min bins, 960 s in 15 to 60 min,
    # 4440 s in 1 to 4 h
    assert bins == {"< 1 min": 0, "1–5 min": 1, "5–15 min": 1, "15–60 min": 1,  # noqa: RUF001
                    "1–4 h": 1, "4–12 h": 0, "12–24 h": 0, "1–3 d": 0, "≥ 3 d": 0}  # noqa: RUF001


def test_a_suspension_window_before_during_and_after(morning):
    # when
    suspensions = overview()["suspensions"]

    # then: suspended 10:30 to 11:30, so before is 09:30 to 10:30 and after 11:30 to 12:30.
    # Before: E and F created; D rejected (09:31) and C approved (10:20) first; B's appeal,
    # E and F entered the gate; tess's token anomaly at 10:25.
    assert suspensions == [{
        "started_at": at(90), "ended_at": at(150), "duration_s": 3600.0,
        "reason": "Leak under investigation",
        "before": {"from": at(30), "to": at(90), "submissions": 2, "entered_queue": 3,
                   "approved": 1, "rejected": 1, "approval_rate": 0.5, "token_anomalies": 1},
        "during": {"from": at(90), "to": at(150), "submissions": 0, "entered_queue": 0,
                   "approved": 0, "rejected": 0, "approval_rate": None, "token_anomalies": 0},
        "after": {"from": at(150), "to": at(210), "submissions": 0, "entered_queue": 0,
                  "approved": 0, "rejected": 0, "approval_rate": None, "token_anomalies": 0},
    }]


def test_a_suspension_still_in_force_lasts_until_now(people):
    # given: suspended at 09:30; a clip at 10:00; it is now 10:00
    h = GateHistory()
    h.program("suspended", people.admin, 30, "Leak", "open")
    h.clip(people.tess, 60)
    rollups.refresh()

    # when
    with clock.use(lambda: at(60)):
        [suspension] = overview()["suspensions"]

    # then
    assert (suspension["ended_at"], suspension["duration_s"]) == (None, 1800.0)
    assert (suspension["during"]["to"], suspension["during"]["submissions"]) == (at(60), 0)
    assert (suspension["after"]["from"], suspension["after"]["submissions"]) == (at(60), 1)


def test_events_of_other_kinds_do_not_stretch_the_series(morning, people):
    # given: a researcher signs in a year after the morning
    later = at(365 * 24 * 60)
    with clock.use(lambda: later), transaction.atomic():
        audit.record("auth.sign_in_succeeded", actor=people.ada, subject=people.ada,
                     data={"method": "session"})

    # when
    metrics = overview()

    # then: the series still end with the hour of the resumption
    assert [point["at"] for point in metrics["queue_depth"]] == [T0, at(60), at(120)]


def test_suspension_periods_count_whole_hours_and_their_edges(people):
    # given: suspended 10:20 to 13:40 (3 h 20), so before is 07:00 to 10:20 and after 13:40
    # to 17:00; clips created (and entering the queue) at these minutes, each decided an
    # hour and a half later, approved when its minute is even
    h = GateHistory()
    minutes = [-130, -100, -61, -10, 35, 79, 80, 125, 190, 199, 215, 260, 400, 459, 470]
    for minute in minutes:
        clip = h.clip(people.tess, minute)
        h.processed(clip, minute)
        h.claimed(clip, people.ada, minute + 30)
        h.decided(clip, people.ada, minute + 90, "approve" if minute % 2 == 0 else "reject",
                  claimed_minute=minute + 30)
    h.program("suspended", people.admin, 80, "Leak", "open")
    h.program("resumed", people.admin, 280, "", "suspended")
    rollups.refresh()

    # when
    [suspension] = overview()["suspensions"]

    # then: what a direct count over the same periods finds
    for period, (start, end) in {"before": (-120, 80), "during": (80, 280),
                                 "after": (280, 480)}.items():
        created = [m for m in minutes if start <= m < end]
        decided = [m for m in minutes if start <= m + 90 < end]
        approved = sum(m % 2 == 0 for m in decided)
        found = suspension[period]
        assert (found["from"], found["to"]) == (at(start), at(end))
        assert (found["submissions"], found["entered_queue"], found["approved"],
                found["rejected"]) == (len(created), len(created), approved,
                                       len(decided) - approved), period


def test_researchers_read_no_suspension_reason_unless_granted(morning):
    # given
    plain = ResearchScope(Study.objects.create(slug="plain", name="Plain"))
    granted = ResearchScope(Study.objects.create(slug="text", name="Text",
                                                 grant_free_text=True))

    # then
    assert metrics_overview(metric_filters(), plain)["suspensions"][0]["reason"] is None
    assert (metrics_overview(metric_filters(), granted)["suspensions"][0]["reason"]
            == "Leak under investigation")


def test_token_anomalies_are_listed_pseudonymously(morning, people):
    # when
    anomalies = overview()["token_anomalies"]

    # then: the owner's pseudonym and the event's numbers and enumerations, no fingerprint
    assert anomalies == [{"at": at(85), "token_owner": pseudonym("program", people.tess.pk),
                          "facts": {"reason": "distinct_addresses", "observed": 25,
                                    "threshold": 20, "usual_per_hour": 3, "window_s": 3600,
                                    "action": "alerted"}}]


def test_filters_by_time_and_cohort(morning):
    # when: red team only, decisions and clips from 09:30 on
    metrics = overview(since=at(30), cohort="red-team")

    # then: F created; first verdicts D (09:31 reject) and C (10:20 approve); gate entries
    # D (09:21) are before the window, F entered at 10:01 but was never claimed, C's
    # escalation (09:15) too: no waits
    assert metrics["submissions"] == {"total": 1, "by_status": {"pending_review": 1}}
    assert (metrics["decisions"], metrics["approval_rate"]) == (
        {"approved": 1, "rejected": 1}, 0.5)
    assert metrics["time_to_decision_s"] == {"n": 2, "p50": 2520.0, "p90": 4056.0,
                                             "p99": 4401.6}
    assert metrics["queue_wait_s"] == {"n": 0, "p50": None, "p90": None, "p99": None}
    assert list(metrics["by_cohort"]) == ["red-team"]


def test_kappa_against_a_hand_computed_table(people):
    # given: ten first decisions with blind second opinions:
    #   first approve → second approve 4, reject 1; first reject → approve 2, reject 3
    # observed 7/10; chance (5·6 + 5·4)/100 = 0.5; kappa (0.7 - 0.5)/(1 - 0.5) = 0.4
    h = GateHistory()
    pairs = [("approve", "approve")] * 4 + [("approve", "reject")] + \
        [("reject", "approve")] * 2 + [("reject", "reject")] * 3
    for index, (first, second) in enumerate(pairs):
        clip = h.clip(people.tess, index)
        h.processed(clip, index)
        h.claimed(clip, people.ada, index + 1)
        decision = h.decided(clip, people.ada, index + 2, first, claimed_minute=index + 1)
        h.second_opinion(clip, index + 2, decision)
        h.claimed(clip, people.bo, index + 3, track="second_opinion")
        h.decided(clip, people.bo, index + 4, second, track="second_opinion",
                  claimed_minute=index + 3)
    rollups.refresh()

    # when
    agreement = overview()["agreement"]

    # then
    assert (agreement["pairs"], agreement["observed"], agreement["expected"],
            agreement["kappa"]) == (10, 0.7, 0.5, 0.4)


def test_kappa_is_null_when_chance_agreement_is_certain(people):
    # given: both always approve (chance agreement 1, kappa undefined)
    h = GateHistory()
    clip = h.clip(people.tess, 0)
    h.processed(clip, 0)
    h.claimed(clip, people.ada, 1)
    decision = h.decided(clip, people.ada, 2, "approve", claimed_minute=1)
    h.second_opinion(clip, 2, decision)
    h.claimed(clip, people.bo, 3, track="second_opinion")
    h.decided(clip, people.bo, 4, "approve", track="second_opinion", claimed_minute=3)
    rollups.refresh()

    # then
    assert overview()["agreement"]["kappa"] is None


def test_an_empty_log_has_empty_metrics(db):
    # when
    metrics = overview()

    # then
    assert metrics["submissions"] == {"total": 0, "by_status": {}}
    assert metrics["approval_rate"] is None
    assert metrics["time_to_decision_s"] == {"n": 0, "p50": None, "p90": None, "p99": None}
    assert (metrics["queue_depth"], metrics["suspensions"], metrics["by_cohort"]) == ([], [], {})
    assert metrics["agreement"] == {"pairs": 0, "observed": None, "expected": None,
                                    "kappa": None, "table": []}
