"""Celery tasks of the approval gate: thin and idempotent."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from review.models import Appeal, Decision
from review.services.claims import claims_expire


@shared_task
def leases_expire() -> int:
    return claims_expire()


@shared_task(autoretry_for=(OSError,), max_retries=5, retry_backoff=30)
def decision_notify(decision_id: str) -> None:
    """Tell the tester what the gate decided about their clip (once per decision)."""
    decision = (Decision.objects.select_related("submission__owner")
                .filter(pk=decision_id, is_effective=True).first())
    if decision is None or not decision.submission.owner.email:
        return
    context = {"decision": decision, "submission": decision.submission,
               "site": settings.SITE_URL.rstrip("/"),
               "can_appeal": not Appeal.objects.filter(submission=decision.submission).exists()}
    send_mail(
        subject=render_to_string("review/email_subject.txt", context).strip(),
        message=render_to_string("review/email_decision.txt", context),
        from_email=None, recipient_list=[decision.submission.owner.email])
