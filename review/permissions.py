"""Who may work the approval gate."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from accounts.permissions import has_role, roles_required

REVIEWER_ROLES = (Role.MODERATOR, Role.PROGRAM_ADMIN)


def can_review(user: Any) -> bool:
    return any(has_role(user, role) for role in REVIEWER_ROLES)


# The DRF permission classes for the review API: the same rule.
REVIEWERS = roles_required(*REVIEWER_ROLES)
