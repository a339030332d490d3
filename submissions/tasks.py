"""Celery tasks: thin, idempotent, retried a bounded number of times for transient faults."""

from __future__ import annotations

import logging
from uuid import UUID

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError

from submissions.services import generation, processing

logger = logging.getLogger(__name__)

# Storage and database hiccups are worth retrying; media problems are not (they fail the clip).
TRANSIENT = (OSError, DatabaseError)
RETRY = {"autoretry_for": TRANSIENT, "max_retries": 3, "retry_backoff": 5,
         "retry_backoff_max": 120, "retry_jitter": True}


@shared_task(**RETRY)
def submission_process(submission_id: str) -> None:
    attempt = processing.processing_start(UUID(submission_id))
    if attempt is None:
        return
    try:
        processing.processing_run(attempt)
    except TRANSIENT as fault:
        try:
            processing.processing_interrupt(attempt, type(fault).__name__)
        except TRANSIENT:
            logger.warning("could not hand back %s; the sweep will", submission_id)
        raise  # Celery retries it, with backoff, a bounded number of times
    except SoftTimeLimitExceeded:
        processing.processing_fail(attempt, "media.processing_timeout",
                                   "Processing this clip took too long. Try a shorter or "
                                   "simpler clip.")


@shared_task(bind=True, **RETRY)
def submission_render(self, submission_id: str) -> None:
    try:
        generation.submission_render(UUID(submission_id))
    except TRANSIENT:
        if self.request.retries >= self.max_retries:
            generation.submission_render_failed(UUID(submission_id))
        raise
    except Exception:
        logger.exception("rendering submission %s failed", submission_id)
        generation.submission_render_failed(UUID(submission_id))


@shared_task
def submissions_sweep() -> int:
    return processing.submissions_sweep()
