"""The media pipeline's services and tasks, called directly: idempotence, the attempt fence
against a stale worker, the retry budget, the database-driven sweep, and transient faults."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import DatabaseError, OperationalError

from audit.models import Event
from core import clock
from submissions import tasks
from submissions.models import Submission, SubmissionStatus
from submissions.services import processing
from submissions.services.processing import (
    processing_finish,
    processing_run,
    processing_start,
    submissions_sweep,
)
from submissions.storage import media_storage
from tests.clocks import ManualClock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

S = SubmissionStatus
T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
TINY_FACTS = {"container": "mp4", "video_codec": "h264", "width": 320, "height": 180,
              "fps": 24.0, "duration_s": 1.0, "has_audio": False, "audio_codec": None}
GAVE_UP = ("We could not process this clip after several tries. Upload it again, or contact "
           "the program team if it keeps happening.")


@pytest.fixture
def now():
    moving = ManualClock(T0)
    with clock.use(moving):
        yield moving


def _renditions(clip, attempt: int) -> list[str]:
    return [f"renditions/{clip.pk}/{attempt}/{name}"
            for name in ("poster.jpg", "sheet.jpg", "watermarked.mp4")]


def _event_rows(since: int = 0) -> list[tuple[str, str, dict]]:
    return [(action, name, data) for action, name, data in Event.objects.filter(id__gt=since)
            .values_list("action", "actor_name", "data")]


def _without_timing(rows):
    """The rows with ``processing_s`` (wall time) dropped from ``submission.processed``."""
    return [(action, name, {k: v for k, v in data.items() if k != "processing_s"})
            for action, name, data in rows]


def _stale(clip) -> None:
    """Move the live attempt's start back just past the point where another may take over."""
    stale_since = clock.now() - timedelta(seconds=settings.SUBMISSION_STALE_AFTER_S + 1)
    Submission.objects.filter(pk=clip.pk).update(processing_started_at=stale_since)


@pytest.fixture
def received(tester, make_clip, tiny_clip):
    return make_clip(tester, S.RECEIVED, original=tiny_clip)


# --- One attempt ----------------------------------------------------------------------------


def test_the_task_turns_a_received_clip_into_pending_review_with_its_renditions(
        received, now, media_dirs):
    # when
    tasks.submission_process(str(received.pk))

    # then
    received.refresh_from_db()
    assert (received.status, received.processing_attempts) == (S.PENDING_REVIEW, 1)
    assert (received.processing_started_at, received.processed_at) == (T0, T0)
    assert received.media_facts == TINY_FACTS
    assert [received.thumbnail, received.contact_sheet, received.watermarked] == _renditions(
        received, 1)
    assert media_dirs.stored() == sorted([received.original, *_renditions(received, 1)])
    assert media_dirs.leftovers() == []
    rows = _event_rows()
    assert _without_timing(rows) == [
        ("submission.processing_started", "media-worker", {"attempt": 1}),
        ("submission.processed", "media-worker", {"attempt": 1, "media": TINY_FACTS}),
    ]
    assert isinstance(rows[1][2]["processing_s"], float)


def test_running_the_task_twice_changes_nothing_the_second_time(
        received, now, submissions_state):
    # given
    tasks.submission_process(str(received.pk))
    before = submissions_state()

    # when
    tasks.submission_process(str(received.pk))

    # then
    assert submissions_state() == before
    assert [action for action, _, _ in _event_rows()] == ["submission.processing_started",
                                                          "submission.processed"]


def test_a_clip_breaking_the_policy_fails_with_its_code_and_no_renditions(
        tester, make_clip, long_clip, set_program, now, media_dirs):
    # given: a 3 s clip under a 2 s policy
    set_program(max_duration_s=2)
    clip = make_clip(tester, S.RECEIVED, original=long_clip)

    # when
    tasks.submission_process(str(clip.pk))

    # then
    clip.refresh_from_db()
    assert (clip.status, clip.failure_code) == (S.FAILED, "media.too_long")
    assert clip.failure_message == "The clip is 3.0 s long; clips may be at most 2 s."
    assert media_dirs.stored() == [clip.original]
    assert media_dirs.leftovers() == []
    assert _event_rows() == [
        ("submission.processing_started", "media-worker", {"attempt": 1}),
        ("submission.failed", "media-worker",
         {"code": "media.too_long", "stage": "processing", "attempt": 1}),
    ]


def test_a_clip_over_a_limit_lowered_after_its_upload_fails_as_too_large(
        received, set_program, now, media_dirs):
    # given: the program lowered its size limit after the clip was stored
    set_program(max_upload_bytes=received.size_bytes - 1)

    # when
    tasks.submission_process(str(received.pk))

    # then
    received.refresh_from_db()
    assert (received.status, received.failure_code) == (S.FAILED, "media.too_large")
    assert media_dirs.stored() == [received.original]
    assert media_dirs.leftovers() == []
    assert _event_rows()[-1] == ("submission.failed", "media-worker",
                                 {"code": "media.too_large", "stage": "processing",
                                  "attempt": 1})


@pytest.mark.parametrize("status", [S.DRAFT, S.GENERATING, S.WITHDRAWN, S.FAILED,
                                    S.PENDING_REVIEW, S.APPROVED, S.REJECTED])
def test_the_task_leaves_a_clip_alone_unless_it_is_received_or_processing(
        tester, make_clip, tiny_clip, submissions_state, status):
    # given
    clip = make_clip(tester, status, original=tiny_clip)
    before = submissions_state()

    # when
    tasks.submission_process(str(clip.pk))

    # then
    assert submissions_state() == before


def test_a_clip_withdrawn_while_it_is_processed_keeps_no_renditions(
        received, client_of, tester, now, media_dirs):
    # given: a worker started, then the owner withdrew the clip
    attempt = processing_start(received.pk)
    assert client_of(tester).post(f"/api/v1/submissions/{received.pk}/withdraw/").json()[
        "status"] == "withdrawn"
    mark = Event.objects.last().pk

    # when
    processing_run(attempt)

    # then
    received.refresh_from_db()
    assert (received.status, received.watermarked, received.media_facts) == (S.WITHDRAWN, "",
                                                                              {})
    assert media_dirs.stored() == [received.original]
    assert media_dirs.leftovers() == []
    assert _event_rows(since=mark) == []


# --- The attempt fence ------------------------------------------------------------------------


def test_a_live_attempt_is_not_taken_over(received, now):
    # given
    first = processing_start(received.pk)
    now.advance(seconds=settings.SUBMISSION_STALE_AFTER_S - 1)

    # when
    second = processing_start(received.pk)

    # then
    assert first.number == 1
    assert second is None
    received.refresh_from_db()
    assert (received.status, received.processing_attempts, received.processing_started_at) == (
        S.PROCESSING, 1, T0)
    assert [action for action, _, _ in _event_rows()] == ["submission.processing_started"]


def test_a_stale_attempt_that_finishes_late_changes_nothing_and_its_files_are_deleted(
        received, now, media_dirs, submissions_state):
    # given: attempt 1 went stale, attempt 2 took over and finished
    stale = processing_start(received.pk)
    _stale(received)
    live = processing_start(received.pk)
    processing_run(live)
    before = submissions_state()

    # when: the stale worker comes back and runs to the end
    processing_run(stale)

    # then
    assert (stale.number, live.number) == (1, 2)
    assert submissions_state() == before
    received.refresh_from_db()
    assert (received.status, received.processing_attempts) == (S.PENDING_REVIEW, 2)
    assert media_dirs.stored() == sorted([received.original, *_renditions(received, 2)])
    assert _without_timing(_event_rows()) == [
        ("submission.processing_started", "media-worker", {"attempt": 1}),
        ("submission.processing_started", "media-worker", {"attempt": 2}),
        ("submission.processed", "media-worker", {"attempt": 2, "media": TINY_FACTS}),
    ]


def test_finishing_a_superseded_attempt_returns_false(received, now, submissions_state):
    # given
    stale = processing_start(received.pk)
    _stale(received)
    processing_start(received.pk)
    before = submissions_state()

    # when
    applied = processing_finish(stale, TINY_FACTS, {"watermarked": "renditions/x/1/w.mp4"})

    # then
    assert applied is False
    assert submissions_state() == before


def test_after_the_last_allowed_attempt_goes_stale_the_clip_fails_for_good(received, now):
    # given: every allowed attempt started and went stale
    for _ in range(settings.SUBMISSION_MAX_ATTEMPTS):
        assert processing_start(received.pk) is not None
        _stale(received)

    # when
    attempt = processing_start(received.pk)

    # then
    assert attempt is None
    received.refresh_from_db()
    assert (received.status, received.failure_code, received.failure_message) == (
        S.FAILED, "media.processing_failed", GAVE_UP)
    assert _event_rows() == [
        *[("submission.processing_started", "media-worker", {"attempt": number})
          for number in range(1, settings.SUBMISSION_MAX_ATTEMPTS + 1)],
        ("submission.failed", "media-worker", {"code": "media.processing_failed",
                                               "stage": "processing",
                                               "attempt": settings.SUBMISSION_MAX_ATTEMPTS}),
    ]


# --- Transient faults -----------------------------------------------------------------------


def test_the_processing_task_retries_transient_faults_a_bounded_number_of_times():
    assert tasks.submission_process.autoretry_for == (OSError, DatabaseError)
    assert tasks.submission_process.max_retries == 3


def _unreachable(name, destination):
    raise OSError("storage unreachable")


def test_a_storage_error_hands_the_clip_back_and_propagates_for_the_retry(
        received, now, monkeypatch, media_dirs):
    # given: the store cannot be read (processing imported fetch_to by name, so patch it there)
    monkeypatch.setattr(processing, "fetch_to", _unreachable)

    # when
    with pytest.raises(OSError, match="storage unreachable"):
        tasks.submission_process(str(received.pk))

    # then the clip waits for the retry, with the attempt counted
    received.refresh_from_db()
    assert (received.status, received.processing_attempts) == (S.RECEIVED, 1)
    assert media_dirs.stored() == [received.original]
    assert media_dirs.leftovers() == []
    assert _event_rows() == [
        ("submission.processing_started", "media-worker", {"attempt": 1}),
        ("submission.processing_interrupted", "media-worker",
         {"attempt": 1, "error": "OSError"})]


def test_the_retry_after_a_storage_error_processes_the_clip(received, now, monkeypatch):
    # given: attempt 1 died on a storage error
    with monkeypatch.context() as patch:
        patch.setattr(processing, "fetch_to", _unreachable)
        with pytest.raises(OSError, match="storage unreachable"):
            tasks.submission_process(str(received.pk))

    # when Celery retries the task
    tasks.submission_process(str(received.pk))

    # then the second attempt finishes the job
    received.refresh_from_db()
    assert (received.status, received.processing_attempts) == (S.PENDING_REVIEW, 2)


def _database_down(attempt, error):
    raise OperationalError("database unreachable")


def test_when_even_the_hand_back_fails_the_sweep_recovers_the_clip(
        received, now, monkeypatch, eager_tasks, django_capture_on_commit_callbacks):
    # given: attempt 1 died on a storage error and the database was gone too, so the clip
    # could not be handed back; an immediate retry finds the attempt still live
    with monkeypatch.context() as patch:
        patch.setattr(processing, "fetch_to", _unreachable)
        patch.setattr(processing, "processing_interrupt", _database_down)
        with pytest.raises(OSError, match="storage unreachable"):
            tasks.submission_process(str(received.pk))
    tasks.submission_process(str(received.pk))
    assert Submission.objects.get(pk=received.pk).status == S.PROCESSING
    now.advance(seconds=settings.SUBMISSION_STALE_AFTER_S + 1)
    mark = Event.objects.last().pk

    # when
    with django_capture_on_commit_callbacks(execute=True):
        swept = submissions_sweep()

    # then
    assert swept == 1
    received.refresh_from_db()
    assert (received.status, received.processing_attempts) == (S.PENDING_REVIEW, 2)
    assert _without_timing(_event_rows(since=mark)) == [
        ("submission.requeued", "media-sweeper",
         {"status": "processing", "waited_s": settings.SUBMISSION_STALE_AFTER_S + 1}),
        ("submission.processing_started", "media-worker", {"attempt": 2}),
        ("submission.processed", "media-worker", {"attempt": 2, "media": TINY_FACTS}),
    ]


# --- The sweep ------------------------------------------------------------------------------


def test_the_sweep_requeues_lost_and_stale_clips_and_nothing_else(
        tester, make_clip, now, django_capture_on_commit_callbacks):
    # given
    requeue_after = settings.SUBMISSION_REQUEUE_AFTER_S
    stale_after = settings.SUBMISSION_STALE_AFTER_S
    long_ago = T0 - timedelta(days=1)
    lost = make_clip(tester, S.RECEIVED, queued_at=T0 - timedelta(seconds=requeue_after + 1))
    never_sent = make_clip(tester, S.RECEIVED, queued_at=None,
                           submitted_at=T0 - timedelta(seconds=42))
    stuck = make_clip(tester, S.PROCESSING, queued_at=long_ago, processing_attempts=1,
                      processing_started_at=T0 - timedelta(seconds=stale_after + 1))
    fresh = [
        make_clip(tester, S.RECEIVED, queued_at=T0 - timedelta(seconds=requeue_after - 1)),
        make_clip(tester, S.PROCESSING, queued_at=long_ago, processing_attempts=1,
                  processing_started_at=T0 - timedelta(seconds=stale_after - 1)),
        *[make_clip(tester, status, queued_at=long_ago, processing_started_at=long_ago)
          for status in S if status not in (S.RECEIVED, S.PROCESSING)],
    ]
    untouched = {clip.pk: clip.queued_at for clip in fresh}

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        swept = submissions_sweep()

    # then
    assert swept == 3
    assert len(callbacks) == 3
    rows = Event.objects.values_list("action", "actor_name", "subject_id", "data")
    assert sorted(rows, key=lambda row: row[3]["waited_s"]) == [
        ("submission.requeued", "media-sweeper", str(never_sent.pk),
         {"status": "received", "waited_s": 42}),
        ("submission.requeued", "media-sweeper", str(lost.pk),
         {"status": "received", "waited_s": requeue_after + 1}),
        ("submission.requeued", "media-sweeper", str(stuck.pk),
         {"status": "processing", "waited_s": stale_after + 1}),
    ]
    for clip in (lost, never_sent, stuck):
        assert Submission.objects.get(pk=clip.pk).queued_at == T0
    assert {clip.pk: clip.queued_at for clip in Submission.objects.filter(pk__in=untouched)} == (
        untouched)


@pytest.mark.parametrize("status", [S.RECEIVED, S.PROCESSING])
def test_a_requeued_clip_reaches_pending_review(
        tester, make_clip, tiny_clip, now, eager_tasks, status,
        django_capture_on_commit_callbacks):
    # given
    waited = settings.SUBMISSION_STALE_AFTER_S + 5
    clip = make_clip(tester, status, original=tiny_clip,
                     queued_at=T0 - timedelta(seconds=waited),
                     processing_attempts=int(status == S.PROCESSING),
                     processing_started_at=T0 - timedelta(seconds=waited))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        swept = submissions_sweep()

    # then
    assert swept == 1
    clip.refresh_from_db()
    attempt = 2 if status == S.PROCESSING else 1
    assert (clip.status, clip.processing_attempts) == (S.PENDING_REVIEW, attempt)
    assert _without_timing(_event_rows()) == [
        ("submission.requeued", "media-sweeper", {"status": status, "waited_s": waited}),
        ("submission.processing_started", "media-worker", {"attempt": attempt}),
        ("submission.processed", "media-worker", {"attempt": attempt, "media": TINY_FACTS}),
    ]


def test_a_requeued_clip_out_of_attempts_fails(
        tester, make_clip, tiny_clip, now, eager_tasks, django_capture_on_commit_callbacks):
    # given
    waited = settings.SUBMISSION_STALE_AFTER_S + 5
    clip = make_clip(tester, S.PROCESSING, original=tiny_clip,
                     queued_at=T0 - timedelta(seconds=waited),
                     processing_attempts=settings.SUBMISSION_MAX_ATTEMPTS,
                     processing_started_at=T0 - timedelta(seconds=waited))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        submissions_sweep()

    # then
    clip.refresh_from_db()
    assert (clip.status, clip.failure_code) == (S.FAILED, "media.processing_failed")
    assert _event_rows() == [
        ("submission.requeued", "media-sweeper", {"status": "processing", "waited_s": waited}),
        ("submission.failed", "media-worker", {"code": "media.processing_failed",
                                               "stage": "processing",
                                               "attempt": settings.SUBMISSION_MAX_ATTEMPTS}),
    ]


def test_the_sweep_task_returns_how_many_it_requeued(
        tester, make_clip, now, django_capture_on_commit_callbacks):
    # given
    make_clip(tester, S.RECEIVED, queued_at=T0 - timedelta(days=1))

    # when
    with django_capture_on_commit_callbacks():
        first = tasks.submissions_sweep()
        second = tasks.submissions_sweep()

    # then: the first sweep re-sent it just now, so the second leaves it be
    assert (first, second) == (1, 0)


def test_the_stored_original_is_only_read_not_changed_by_processing(received, now):
    # given
    with media_storage().open(received.original, "rb") as handle:
        original = handle.read()

    # when
    tasks.submission_process(str(received.pk))

    # then
    with media_storage().open(received.original, "rb") as handle:
        assert handle.read() == original
