"""Telling testers what the gate decided."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from review.models import Appeal, Decision


def decision_notify(decision_id: UUID | str) -> bool:
    """E-mail the clip's owner about an effective decision; False if there is nothing to send.

    Sent at least once: a retry after a mail server accepted the message but the worker
    died before acknowledging it sends it again.
    """
    decision = (Decision.objects.select_related("submission__owner")
                .filter(pk=decision_id, is_effective=True).first())
    if decision is None or not decision.submission.owner.email:
        return False
    context = {"decision": decision, "submission": decision.submission,
               "site": settings.SITE_URL.rstrip("/"),
               "can_appeal": not Appeal.objects.filter(submission=decision.submission).exists()}
    send_mail(
        subject=render_to_string("review/email_subject.txt", context).strip(),
        message=render_to_string("review/email_decision.txt", context),
        from_email=None, recipient_list=[decision.submission.owner.email])
    return True
