"""Who may work the approval gate."""

from __future__ import annotations

from accounts.models import Role
from accounts.permissions import roles_required

REVIEWER_ROLES = (Role.MODERATOR, Role.PROGRAM_ADMIN)


# The review API's DRF permission classes; pages use ``page_for(*REVIEWER_ROLES, ...)``.
REVIEWERS = roles_required(*REVIEWER_ROLES)
