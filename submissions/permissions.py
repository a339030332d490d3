"""Who may do what with a clip."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from accounts.permissions import has_role
from submissions.models import MediaKind, Submission


def is_owner(user: Any, submission: Submission) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and submission.owner_id == user.pk


def can_download_original(user: Any, submission: Submission) -> bool:
    """The original bytes go only to their owner and to staff who review clips."""
    return (is_owner(user, submission) or has_role(user, Role.MODERATOR)
            or has_role(user, Role.PROGRAM_ADMIN))


def can_fetch_media(user: Any, submission: Submission, kind: str) -> bool:
    if kind == MediaKind.ORIGINAL:
        return can_download_original(user, submission)
    return True  # the caller already found the clip visible to this user
