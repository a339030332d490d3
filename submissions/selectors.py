"""Reads with a rule in them: who sees which clips, the media policy, a clip's timeline."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from accounts.models import Role, User
from accounts.permissions import has_role
from accounts.selectors import program_get
from audit.models import Event
from submissions.media import MediaPolicy
from submissions.models import ShareLink, Submission


def with_verdicts(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """Load each clip's effective decision and appeal with it (two queries for a whole page).

    These rows belong to the review app, which builds on this one; they are read through
    their relations to the clip, so nothing here imports it.
    """
    decisions = Submission._meta.get_field("decisions").related_model.objects.filter(
        is_effective=True)
    return queryset.select_related("appeal").prefetch_related(
        Prefetch("decisions", queryset=decisions, to_attr="effective_decisions"))


def submissions_visible_to(user: User) -> QuerySet[Submission]:
    """Testers see their own clips; moderators and program admins see every clip."""
    queryset = with_verdicts(Submission.objects.select_related("owner", "cohort"))
    if has_role(user, Role.MODERATOR) or has_role(user, Role.PROGRAM_ADMIN):
        return queryset
    if has_role(user, Role.TESTER):
        return queryset.filter(owner=user)
    return queryset.none()


def submission_visible_to(user: User, submission_id: UUID | str) -> Submission | None:
    """The clip if ``user`` may see it; None both when it is missing and when it is not
    theirs, so callers answer 404 either way and ids cannot be probed."""
    try:
        return submissions_visible_to(user).filter(pk=submission_id).first()
    except (ValueError, TypeError):
        return None


def media_policy() -> MediaPolicy:
    program = program_get()
    return MediaPolicy(
        max_duration_s=program.max_duration_s,
        max_width=program.max_width,
        max_height=program.max_height,
        max_upload_bytes=program.max_upload_bytes,
        allowed_video_codecs=tuple(program.allowed_video_codecs),
    )


def share_link_live(token: str) -> ShareLink | None:
    return (ShareLink.objects.select_related("submission")
            .filter(token=token, revoked_at__isnull=True).first())


def share_link_of(submission: Submission) -> ShareLink | None:
    return submission.share_links.filter(revoked_at__isnull=True).first()


def submission_timeline(submission: Submission) -> list[dict[str, Any]]:
    """The clip's history from the audit log, oldest first, for its owner's detail page."""
    events = (Event.objects
              .filter(subject_type="submissions.submission", subject_id=str(submission.pk))
              .order_by("id").values("action", "occurred_at", "data"))
    return [{**event, "label": event["action"].split(".", 1)[1].replace("_", " ").capitalize()}
            for event in events]
