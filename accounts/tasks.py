"""Celery tasks of accounts: thin, taking ids, calling services."""

from __future__ import annotations

from celery import shared_task

from accounts.services import token_watch


@shared_task(autoretry_for=(OSError,), max_retries=5, retry_backoff=30)
def token_anomaly_alert(event_id: int) -> None:
    token_watch.token_anomaly_notify(event_id)
