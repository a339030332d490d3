"""The rollups fold the log incrementally and idempotently: folding again changes nothing,
folding event by event gives what folding all at once gives, an event that commits late is
folded when it shows up, and two refreshes at once take turns."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction

import audit
from audit.models import (
    CountRollup,
    Event,
    HistogramRollup,
    QueueEntryRollup,
    RollupDirtyHour,
    RollupDirtySubmission,
    RollupFoldedEvent,
    RollupState,
    SubmissionRollup,
)
from audit.research import rollups
from audit.research.rollups import fold
from audit.tasks import research_rollups
from core import clock
from tests.research.test_metrics import GateHistory, People, at, record_morning


def facts() -> dict[str, list]:
    """Everything the rollups derived, in a fixed order."""
    return {
        "submissions": list(SubmissionRollup.objects.order_by("submission_id").values()),
        "entries": list(QueueEntryRollup.objects.order_by("entry_event_id").values()),
        "counts": list(CountRollup.objects.order_by("period", "start", "cohort", "measure",
                                                    "key", "moderator_id")
                       .values_list("period", "start", "cohort", "measure", "key",
                                    "moderator_id", "n", "total")),
        "bins": list(HistogramRollup.objects.order_by("period", "start", "cohort", "metric",
                                                      "bin")
                     .values_list("period", "start", "cohort", "metric", "bin", "n")),
    }


def forget_rollups() -> None:
    for model in (SubmissionRollup, QueueEntryRollup, CountRollup, HistogramRollup,
                  RollupFoldedEvent, RollupState):
        model.objects.all().delete()


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first()


@pytest.fixture
def people(db):
    return People()


def test_a_refresh_folds_every_event_once_and_then_nothing(people):
    # given
    record_morning(people)
    events = Event.objects.count()

    # when
    first = rollups.refresh()
    folded = facts()
    second = rollups.refresh()

    # then
    assert (first, second) == (events, 0)
    assert facts() == folded
    assert (len(folded["submissions"]), len(folded["entries"])) == (6, 10)
    # four decision times and six waits, counted per hour and per day
    assert sum(n for *_, n in folded["bins"]) == 2 * (4 + 6)
    assert not RollupDirtySubmission.objects.exists()
    assert not RollupDirtyHour.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_watermark_catches_up_with_the_log():
    # given: on PostgreSQL, ids of earlier rolled-back transactions leave gaps below these
    record_morning(People())

    # when: a refresh, and the next one (after which no transaction of the first is running)
    rollups.refresh()
    rollups.refresh()

    # then: everything is below the watermark; nothing is listed above it
    assert RollupState.objects.get().folded_through == last_event_id()
    assert not RollupFoldedEvent.objects.exists()


def test_folding_event_by_event_equals_folding_all_at_once(people, monkeypatch):
    # given: a refresh after every single event
    record = GateHistory._record

    def record_and_fold(self, *args, **kwargs):
        event = record(self, *args, **kwargs)
        rollups.refresh()
        return event

    monkeypatch.setattr(GateHistory, "_record", record_and_fold)
    record_morning(people)
    incremental = facts()

    # when: everything again from an empty rollup
    forget_rollups()
    rollups.refresh()

    # then
    assert facts() == incremental


def test_small_batches_fold_the_same_facts(people, monkeypatch):
    # given
    record_morning(people)
    rollups.refresh()
    in_one = facts()
    forget_rollups()
    monkeypatch.setattr(fold, "BATCH", 4)

    # when
    folded = rollups.refresh()

    # then
    assert folded == Event.objects.count()
    assert facts() == in_one


def test_a_clip_folded_again_loses_its_old_hours(people):
    # given: a clip created at 09:00 is counted in hour 09 and on its day
    history = GateHistory()
    clip = history.clip(people.tess, 0)
    rollups.refresh()

    def hourly() -> list:
        return sorted(CountRollup.objects.filter(period="hour").exclude(measure="clips")
                      .values_list("start", "measure", "key", "n"))

    assert list(CountRollup.objects.values_list("period", "start", "measure", "key", "n")
                .order_by("period")) == [("day", at(-540), "clips", "received", 1),
                                         ("hour", at(0), "clips", "received", 1)]

    # when: it enters the queue at 10:05 and is approved at 11:00
    history.processed(clip, 65)
    history.claimed(clip, people.ada, 70)
    history.decided(clip, people.ada, 120, "approve", claimed_minute=70)
    rollups.refresh()

    # then: hour 09 still counts the clip, now approved; the queue's moves are in 10 and 11
    assert sorted(CountRollup.objects.filter(period="hour", measure="clips")
                  .values_list("start", "key", "n")) == [(at(0), "approved", 1)]
    assert hourly() == [
        (at(60), "gate_entered", "primary", 1),
        (at(120), "decisions", "primary|approve", 1),
        (at(120), "first_decisions", "approve", 1),
        (at(120), "gate_exited", "primary", 1),
        (at(120), "ttd_bands", "3", 1)]
    assert SubmissionRollup.objects.get().time_to_decision_s == 3300.0


def test_the_tail_is_folded_only_when_it_is_short(people, monkeypatch):
    # given: three new events (a clip, its submission, its processing)
    history = GateHistory()
    clip = history.clip(people.tess, 0)
    history.processed(clip, 1)
    monkeypatch.setattr(fold, "TAIL", 2)

    # when
    skipped = rollups.refresh_tail()

    # then: too long for a request; the periodic task will fold it
    assert skipped == 0
    assert not SubmissionRollup.objects.exists()

    # when
    monkeypatch.setattr(fold, "TAIL", 3)
    folded = rollups.refresh_tail()

    # then
    assert folded == 3
    assert SubmissionRollup.objects.get().status == "pending_review"


def test_the_periodic_task_refreshes_the_rollups(people):
    # given
    record_morning(people)

    # when
    research_rollups()

    # then
    assert SubmissionRollup.objects.count() == 6
    assert rollups.refresh() == 0


def test_every_clip_status_follows_its_last_event(people):
    # given: one clip per path the state machine allows before review
    history = GateHistory()
    draft = str(uuid.uuid4())
    generating = str(uuid.uuid4())
    with clock.use(lambda: at(0)), transaction.atomic():
        audit.record("submission.created", actor=people.tess,
                     subject=("submissions.submission", draft),
                     data={"source": "upload", "cohort": "creative-partners", "size_bytes": 1,
                           "sha256": "", "generation": None})
        audit.record("submission.created", actor=people.tess,
                     subject=("submissions.submission", generating),
                     data={"source": "generated", "cohort": "creative-partners",
                           "size_bytes": None, "sha256": "", "generation": {"seed": 1}})
    failed = history.clip(people.tess, 1)
    with clock.use(lambda: at(2)), transaction.atomic():
        audit.record("submission.processing_started", actor=audit.SystemActor("media-worker"),
                     subject=("submissions.submission", failed), data={"attempt": 1})
        audit.record("submission.failed", actor=audit.SystemActor("media-worker"),
                     subject=("submissions.submission", failed),
                     data={"code": "media.too_long", "stage": "processing", "attempt": 1})

    # when
    rollups.refresh()

    # then
    assert dict(SubmissionRollup.objects.values_list("submission_id", "status")) == {
        draft: "draft", generating: "generating", failed: "failed"}
    assert SubmissionRollup.objects.get(submission_id=failed).failed_at == at(2)


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_take_turns(postgres):
    # given
    record_morning(People())
    events = Event.objects.count()
    barrier, folded, failures = threading.Barrier(2), [], []

    def refresh() -> None:
        try:
            barrier.wait()
            folded.append(rollups.refresh())
        except Exception as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: one folded everything, the other found nothing left
    assert failures == []
    assert sorted(folded) == [0, events]
    assert SubmissionRollup.objects.count() == 6
    assert QueueEntryRollup.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_an_event_still_in_flight_is_folded_after_it_commits(postgres):
    # given: a transaction holds an event (a lower id) while a later one commits
    people = People()
    history = GateHistory()
    in_flight_clip = str(uuid.uuid4())
    recorded, release = threading.Event(), threading.Event()

    slow = _hold_a_transaction(people.rosa, in_flight_clip, recorded, release)
    committed_clip = history.clip(people.tess, 1)

    # when: a refresh runs while the slow transaction is open
    rollups.refresh()

    # then: the committed clip is folded; the watermark waits below the open transaction
    assert list(SubmissionRollup.objects.values_list("submission_id", flat=True)) == [
        committed_clip]
    waiting_at = RollupState.objects.get().folded_through
    assert waiting_at < Event.objects.get(subject_id=committed_clip,
                                          action="submission.created").pk

    # when: it commits, and the next refresh runs
    release.set()
    slow.join()
    rollups.refresh()

    # then
    assert SubmissionRollup.objects.get(submission_id=in_flight_clip).cohort == "red-team"
    assert RollupState.objects.get().folded_through == last_event_id() > waiting_at


def _hold_a_transaction(owner, clip: str, recorded: threading.Event,
                        release: threading.Event) -> threading.Thread:
    """A transaction that records a clip's creation and stays open until ``release``."""

    def run() -> None:
        try:
            with clock.use(lambda: at(0)), transaction.atomic():
                audit.record("submission.created", actor=owner,
                             subject=("submissions.submission", clip),
                             data={"source": "upload", "cohort": "red-team", "size_bytes": 1,
                                   "sha256": "", "generation": None})
                recorded.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert recorded.wait(timeout=30)
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_transaction_open_past_the_grace_period_no_longer_holds_the_watermark(
        postgres, monkeypatch):
    # given: a transaction holds an event while later ones commit and are folded
    people = People()
    recorded, release = threading.Event(), threading.Event()
    held = _hold_a_transaction(people.rosa, str(uuid.uuid4()), recorded, release)
    try:
        GateHistory().clip(people.tess, 1)
        rollups.refresh()
        assert RollupState.objects.get().folded_through < last_event_id()

        # when: the grace period has passed and it is still open
        monkeypatch.setattr(fold, "GRACE", timedelta(0))
        rollups.refresh()

        # then: the watermark no longer waits for it
        assert RollupState.objects.get().folded_through == last_event_id()
        assert not RollupFoldedEvent.objects.exists()
    finally:
        release.set()
        held.join()
