"""Status changes the approval gate makes to a clip outside the decision itself. Called by the
review app inside its own transaction (which records the audit event), never on their own.

A decision's own move (approve, reject) is written by review.sql in the same statement as the
fenced claim update, from the statuses ``submissions.transitions`` allows."""

from __future__ import annotations

from datetime import datetime

from submissions.models import Submission
from submissions.transitions import target_of

APPEAL_PRIORITY = 10  # appeals go before first reviews


def submission_reopen_for_appeal(*, submission: Submission, at: datetime) -> Submission:
    """Send a locked, rejected clip back to the queue, ahead of first reviews."""
    submission.status = target_of("appeal", submission.status)
    submission.review_entered_at = at
    submission.review_priority = APPEAL_PRIORITY
    submission.save(update_fields=["status", "review_entered_at", "review_priority"])
    return submission
