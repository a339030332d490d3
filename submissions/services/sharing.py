"""Sharing approved clips through revocable public links."""

from __future__ import annotations

import secrets

from django.db import transaction

import audit
from accounts.models import User
from core import clock
from submissions.errors import SubmissionNotApproved
from submissions.models import ShareLink, Submission, SubmissionStatus


def share_create(*, actor: User, submission: Submission) -> ShareLink:
    """The clip's live share link, created if it has none. Only approved clips are shared."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission.pk)
        if submission.status != SubmissionStatus.APPROVED:
            raise SubmissionNotApproved()
        link = submission.share_links.filter(revoked_at__isnull=True).first()
        if link is None:
            link = ShareLink.objects.create(submission=submission, created_by=actor,
                                            token=secrets.token_urlsafe(24),
                                            created_at=clock.now())
            audit.record("submission.shared", actor=actor, subject=submission,
                         data={"share_link_id": link.pk})
    return link


def share_revoke(*, actor: User, submission: Submission) -> int:
    """Revoke the clip's live links; returns how many were revoked."""
    with transaction.atomic():
        links = list(ShareLink.objects.select_for_update()
                     .filter(submission=submission, revoked_at__isnull=True))
        for link in links:
            link.revoked_at = clock.now()
            link.save(update_fields=["revoked_at"])
            audit.record("submission.share_revoked", actor=actor, subject=submission,
                         data={"share_link_id": link.pk})
    return len(links)
