"""The media pipeline's writes: start an attempt, finish or fail it, and the sweep.

An attempt runs in three steps so no transaction is held while media is decoded:
``processing_start`` (locks, moves to ``processing``, numbers the attempt), the work on local
files, then ``processing_finish`` or ``processing_fail`` (locks again, and applies the result
only if the attempt is still the live one). The attempt number fences a worker that was
presumed dead but comes back late: its files are deleted and nothing changes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q

import audit
from core import clock
from submissions import media
from submissions.errors import too_large_message
from submissions.models import Submission, SubmissionStatus
from submissions.selectors import media_policy
from submissions.storage import delete_quietly, fetch_to, local_workdir, rendition_name, store
from submissions.transitions import can_move, target_of

logger = logging.getLogger(__name__)

SWEEPER = audit.SystemActor("media-sweeper")
WORKER = audit.SystemActor("media-worker")

PROCESSING_FAILED = "media.processing_failed"
_GAVE_UP = ("We could not process this clip after several tries. Upload it again, or contact "
            "the program team if it keeps happening.")


def stale_after() -> timedelta:
    """How long an attempt may run before another worker may take over (> the hard limit)."""
    return timedelta(seconds=settings.SUBMISSION_STALE_AFTER_S)


@dataclass(frozen=True)
class Attempt:
    submission_id: UUID
    number: int
    original: str
    size_bytes: int | None
    started: float


def processing_start(submission_id: UUID) -> Attempt | None:
    """Open an attempt, or return None when there is nothing to do (already done, withdrawn,
    or a live worker is on it). Safe to call any number of times."""
    now = clock.now()
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or not can_move("start_processing", submission.status):
            return None
        if (submission.status == SubmissionStatus.PROCESSING
                and submission.processing_started_at > now - stale_after()):
            return None  # another worker holds a live attempt
        if submission.processing_attempts >= settings.SUBMISSION_MAX_ATTEMPTS:
            submission_fail_locked(submission, PROCESSING_FAILED, _GAVE_UP)
            return None
        submission.status = target_of("start_processing", submission.status)
        submission.processing_attempts += 1
        submission.processing_started_at = now
        submission.save(update_fields=["status", "processing_attempts", "processing_started_at"])
        audit.record("submission.processing_started", actor=WORKER, subject=submission,
                     data={"attempt": submission.processing_attempts})
    return Attempt(submission.pk, submission.processing_attempts, submission.original,
                   submission.size_bytes, time.monotonic())


def processing_run(attempt: Attempt) -> None:
    """Probe, check the policy, render poster, contact sheet and the watermarked rendition,
    then record the outcome. Media problems fail the clip; anything else propagates so the
    task can retry it."""
    policy = media_policy()
    with local_workdir() as folder:
        source = fetch_to(attempt.original, folder / "original")
        outputs = {"thumbnail": folder / "poster.jpg", "contact_sheet": folder / "sheet.jpg",
                   "watermarked": folder / "watermarked.mp4"}
        try:
            if attempt.size_bytes and attempt.size_bytes > policy.max_upload_bytes:
                raise media.MediaError("media.too_large",
                                       too_large_message(policy.max_upload_bytes))
            facts = media.probe(source, policy)
            media.check_policy(facts, policy)
            media.make_poster(source, outputs["thumbnail"], policy)
            media.make_contact_sheet(source, outputs["contact_sheet"], policy)
            media.make_watermarked(source, outputs["watermarked"], policy,
                                   mark_text=f"EARLY ACCESS · {str(attempt.submission_id)[:8]}")
        except media.MediaError as error:
            processing_fail(attempt, error.code, error.message)
            return
        names = _store_outputs(attempt, outputs)
    try:
        applied = processing_finish(attempt, facts.to_dict(), names)
    except BaseException:
        delete_quietly(*names.values())
        raise
    if not applied:
        delete_quietly(*names.values())


def _store_outputs(attempt: Attempt, outputs: dict[str, Path]) -> dict[str, str]:
    names: dict[str, str] = {}
    try:
        for field, path in outputs.items():
            names[field] = store(rendition_name(attempt.submission_id, attempt.number, path.name),
                                 path)
    except BaseException:
        delete_quietly(*names.values())
        raise
    return names


def _live(attempt: Attempt) -> Submission | None:
    submission = Submission.objects.select_for_update().filter(pk=attempt.submission_id).first()
    if (submission is None or submission.status != SubmissionStatus.PROCESSING
            or submission.processing_attempts != attempt.number):
        return None
    return submission


def processing_finish(attempt: Attempt, facts: dict, names: dict[str, str]) -> bool:
    """Apply a successful attempt; False (and nothing changed) if it is no longer live."""
    with transaction.atomic():
        submission = _live(attempt)
        if submission is None:
            return False
        submission.status = target_of("finish_processing", submission.status)
        submission.processed_at = submission.review_entered_at = clock.now()
        submission.media_facts = facts
        for field, name in names.items():
            setattr(submission, field, name)
        submission.save(update_fields=["status", "processed_at", "review_entered_at",
                                       "media_facts", *names])
        audit.record("submission.processed", actor=WORKER, subject=submission, data={
            "attempt": attempt.number, "media": facts,
            "processing_s": round(time.monotonic() - attempt.started, 3)})
    return True


def processing_interrupt(attempt: Attempt, error: str) -> bool:
    """Hand a live attempt back (``received``) after a transient fault, so the task's retry
    can start the next attempt at once instead of waiting for the attempt to go stale."""
    with transaction.atomic():
        submission = _live(attempt)
        if submission is None:
            return False
        submission.status = target_of("interrupt_processing", submission.status)
        submission.save(update_fields=["status"])
        audit.record("submission.processing_interrupted", actor=WORKER, subject=submission,
                     data={"attempt": attempt.number, "error": error})
    return True


def processing_fail(attempt: Attempt, code: str, message: str) -> bool:
    with transaction.atomic():
        submission = _live(attempt)
        if submission is None:
            return False
        submission_fail_locked(submission, code, message)
    return True


def submission_fail_locked(submission: Submission, code: str, message: str, *,
                           stage: str = "processing") -> None:
    """Fail a clip whose row the caller holds locked, inside the caller's transaction."""
    move = "fail_generation" if stage == "generation" else "fail_processing"
    submission.status = target_of(move, submission.status)
    submission.failure_code, submission.failure_message = code, message
    submission.save(update_fields=["status", "failure_code", "failure_message"])
    audit.record("submission.failed", actor=WORKER, subject=submission, data={
        "code": code, "stage": stage, "attempt": submission.processing_attempts})


def submission_enqueue(submission: Submission) -> None:
    """Send the processing task once the current transaction commits; note when."""
    from submissions.tasks import submission_process

    submission.queued_at = clock.now()
    submission.save(update_fields=["queued_at"])
    submission_id = str(submission.pk)
    transaction.on_commit(lambda: submission_process.delay(submission_id))


def submissions_sweep(*, limit: int = 500) -> int:
    """Queue again every clip a lost message or a dead worker left behind; returns how many.

    Driven by the database, not the broker: a ``received`` clip whose task was sent more than
    ``SUBMISSION_REQUEUE_AFTER_S`` ago, or a ``processing`` one whose attempt went stale.
    """
    now = clock.now()
    lost_since = now - timedelta(seconds=settings.SUBMISSION_REQUEUE_AFTER_S)
    stale_since = now - stale_after()
    waiting = Q(status=SubmissionStatus.RECEIVED) & (Q(queued_at__lt=lost_since)
                                                     | Q(queued_at__isnull=True))
    stuck = Q(status=SubmissionStatus.PROCESSING, processing_started_at__lt=stale_since)
    requeued = 0
    for submission_id in (Submission.objects.filter(waiting | stuck)
                          .order_by("queued_at").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            submission = (Submission.objects.select_for_update()
                          .filter(waiting | stuck, pk=submission_id).first())
            if submission is None:
                continue  # moved on since we looked
            since = submission.queued_at or submission.submitted_at or submission.created_at
            if submission.status == SubmissionStatus.PROCESSING:
                since = submission.processing_started_at
            audit.record("submission.requeued", actor=SWEEPER, subject=submission, data={
                "status": submission.status, "waited_s": round((now - since).total_seconds())})
            submission_enqueue(submission)
            requeued += 1
    return requeued
