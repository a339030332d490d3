"""Periodic work on the log (Celery beat): sealing new events, keeping research rollups current.

Thin wrappers: the work and its concurrency guarantees live in the modules they call.
"""

from celery import shared_task


@shared_task
def audit_seal() -> int:
    """Seal committed events that are not sealed yet; returns how many were sealed."""
    from audit.sealing import seal_pending

    return seal_pending()


@shared_task
def research_rollups() -> None:
    """Bring the metrics rollups up to date with the log."""
    from audit.research.rollups import refresh

    refresh()
