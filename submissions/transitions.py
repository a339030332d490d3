"""The submission state machine: one table of every legal move (DESIGN.md §4)."""

from __future__ import annotations

from submissions.errors import SubmissionInvalidTransition
from submissions.models import SubmissionStatus as S

# move → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[S], S]] = {
    "finish_generation": (frozenset({S.GENERATING}), S.DRAFT),
    "fail_generation": (frozenset({S.GENERATING}), S.FAILED),
    "submit": (frozenset({S.DRAFT}), S.RECEIVED),
    # PROCESSING → PROCESSING: a worker takes over an attempt whose worker died.
    "start_processing": (frozenset({S.RECEIVED, S.PROCESSING}), S.PROCESSING),
    "finish_processing": (frozenset({S.PROCESSING}), S.PENDING_REVIEW),
    # A transient fault (storage, database) hands the clip back for the task's retry.
    "interrupt_processing": (frozenset({S.PROCESSING}), S.RECEIVED),
    "fail_processing": (frozenset({S.RECEIVED, S.PROCESSING}), S.FAILED),
    "withdraw": (frozenset({S.GENERATING, S.DRAFT, S.RECEIVED, S.PROCESSING, S.PENDING_REVIEW,
                            S.FAILED}), S.WITHDRAWN),
    "approve": (frozenset({S.PENDING_REVIEW}), S.APPROVED),
    "reject": (frozenset({S.PENDING_REVIEW}), S.REJECTED),
    "appeal": (frozenset({S.REJECTED}), S.PENDING_REVIEW),
}

_VERBS = {"submit": "submitted", "withdraw": "withdrawn", "appeal": "appealed",
          "approve": "approved", "reject": "rejected"}


def can_move(move: str, status: str) -> bool:
    return status in TRANSITIONS[move][0]


def target_of(move: str, status: str) -> S:
    """The status ``move`` leads to from ``status``; raises if the table forbids it."""
    sources, target = TRANSITIONS[move]
    if status not in sources:
        verb = _VERBS.get(move, move.replace("_", " "))
        raise SubmissionInvalidTransition(f"A clip that is {S(status).label.lower()} "
                                          f"cannot be {verb}.")
    return target
