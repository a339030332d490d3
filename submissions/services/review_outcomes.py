"""The status changes the approval gate makes to a clip. Called by the review app inside its
own transaction (which records the decision's audit event), never on their own."""

from __future__ import annotations

from datetime import datetime

from submissions.models import Submission
from submissions.transitions import target_of

APPEAL_PRIORITY = 10  # appeals go before first reviews


def submission_apply_decision(*, submission: Submission, outcome: str,
                              decided_at: datetime) -> Submission:
    """Approve or reject a locked, ``pending_review`` clip."""
    submission.status = target_of(outcome, submission.status)
    submission.decided_at = decided_at
    submission.save(update_fields=["status", "decided_at"])
    return submission


def submission_reopen_for_appeal(*, submission: Submission, at: datetime) -> Submission:
    """Send a locked, rejected clip back to the queue, ahead of first reviews."""
    submission.status = target_of("appeal", submission.status)
    submission.review_entered_at = at
    submission.review_priority = APPEAL_PRIORITY
    submission.save(update_fields=["status", "review_entered_at", "review_priority"])
    return submission
