"""Celery tasks of the approval gate: thin, taking ids, calling services."""

from __future__ import annotations

from celery import shared_task

from review.services import notifications
from review.services.claims import claims_expire


@shared_task
def leases_expire() -> int:
    return claims_expire()


@shared_task(autoretry_for=(OSError,), max_retries=5, retry_backoff=30)
def decision_notify(decision_id: str) -> None:
    notifications.decision_notify(decision_id)
