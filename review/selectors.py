"""Reads with a rule in them: who may take which item, in what order; queue figures."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from django.db import connection
from django.db.models import (
    Choices,
    Count,
    Exists,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Program, Role, User
from accounts.permissions import has_role
from review import sql as review_sql
from review.models import (
    Appeal,
    Claim,
    Decision,
    Escalation,
    ReasonCode,
    SecondOpinion,
    Track,
)
from submissions.models import Submission, SubmissionStatus


def reasons_active() -> QuerySet[ReasonCode]:
    return ReasonCode.objects.filter(is_active=True)


def _live_claim(now: datetime):
    return Claim.objects.filter(submission=OuterRef("pk"), ended_at__isnull=True,
                                expires_at__gt=now)


def _open_escalation():
    return Escalation.objects.filter(submission=OuterRef("pk"), resolved_at__isnull=True)


def clip_queues_for(user: User) -> list[bool]:
    """Which clip queues ``user`` takes from, in order: True is the program admins' queue of
    escalations, False the moderators' queue."""
    return ([True] if has_role(user, Role.PROGRAM_ADMIN) else []) + (
        [False] if has_role(user, Role.MODERATOR) else [])


def clips_claimable_by(user: User, now: datetime, *, escalated: bool) -> QuerySet[Submission]:
    """Clips waiting in one queue that ``user`` may take, in order: appeals before first
    reviews, oldest first. Never the user's own clip, nor one they already decided, nor one
    under a live lease.

    Ordered by indexed columns only, so the database walks the queue index and stops at the
    first eligible clip instead of sorting the whole queue.
    """
    escalation = Exists(_open_escalation())
    return (
        Submission.objects.filter(status=SubmissionStatus.PENDING_REVIEW)
        .filter(escalation if escalated else ~escalation)
        .exclude(owner=user)
        .exclude(Exists(_live_claim(now)))
        .exclude(Exists(Decision.objects.filter(submission=OuterRef("pk"), moderator=user)))
        .order_by("-review_priority", "review_entered_at", "pk")
        .only("pk", "review_entered_at")
        .annotate(appeal_open=Exists(Appeal.objects.filter(submission=OuterRef("pk"),
                                                           decision__isnull=True)))
    )


class QueuedClip(NamedTuple):
    """The next clip for a moderator, as claim-next needs it."""

    pk: UUID
    review_entered_at: datetime | None
    appeal_open: bool  # it waits on an appeal
    lease_seconds: int  # the program's lease length, read in the same statement


# The next-clip query is the gate's hottest statement, and building it through the ORM costs
# more than running it. It is compiled once per database and queue with stand-in values,
# which are then swapped for the real user and time on every call.
_STAND_IN_USER = -7_020_411
_STAND_IN_NOW = datetime(2000, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
_QUEUED_FIELDS = (Submission._meta.pk, Submission._meta.get_field("review_entered_at"),
                  None, Program._meta.get_field("lease_seconds"))


@cache
def _next_clip_sql(vendor: str, escalated: bool) -> tuple[str, tuple[object, ...]]:
    stand_in = User(pk=_STAND_IN_USER)
    lease = Program.objects.filter(pk=Program.SINGLETON_ID).values("lease_seconds")[:1]
    default_lease = Program._meta.get_field("lease_seconds").get_default()
    queryset = (clips_claimable_by(stand_in, _STAND_IN_NOW, escalated=escalated)
                # No program row yet means the default policy.
                .annotate(lease_seconds=Coalesce(Subquery(lease), Value(default_lease)))
                .values_list(*QueuedClip._fields))
    sql, params = queryset.select_for_update(skip_locked=True, of=("self",))[:1].query \
        .sql_with_params()
    now = connection.ops.adapt_datetimefield_value(_STAND_IN_NOW)
    # Choices are plain strings to the database driver.
    roles = tuple("user" if param == _STAND_IN_USER else "now" if param == now
                  else str(param) if isinstance(param, Choices) else param for param in params)
    if "user" not in roles or "now" not in roles:
        raise RuntimeError("the next-clip query no longer takes the user and the time")
    return sql, roles


def next_clip_query(user: User, now: datetime, *, escalated: bool) -> tuple[str, list]:
    """The SQL and parameters of ``next_claimable_clip``: the first of ``clips_claimable_by``,
    locked (``SKIP LOCKED`` where the database has it), as the columns of ``QueuedClip``."""
    sql, roles = _next_clip_sql(connection.vendor, escalated)
    values = {"user": user.pk, "now": connection.ops.adapt_datetimefield_value(now)}
    return sql, [values.get(role, role) if isinstance(role, str) else role for role in roles]


def next_claimable_clip(user: User, now: datetime, *, escalated: bool) -> QueuedClip | None:
    """The first of ``clips_claimable_by``, locked (``SKIP LOCKED`` where the database has
    it); to be called inside a transaction."""
    row = review_sql.fetchone(*next_clip_query(user, now, escalated=escalated), _QUEUED_FIELDS)
    if row is None:
        return None
    pk, entered_at, appeal_open, lease_seconds = row
    return QueuedClip(pk, entered_at, bool(appeal_open), lease_seconds)


def queued_tracks(*, escalated: bool) -> tuple[Track, Track]:
    """The track a clip from one queue is claimed on: (if it waits on an appeal, if not)."""
    if escalated:
        return Track.ESCALATION, Track.ESCALATION
    return Track.APPEAL, Track.PRIMARY


def queued_track(clip: QueuedClip, *, escalated: bool) -> Track:
    """The track of a clip from ``next_claimable_clip``, which already knows the answer."""
    appeal, otherwise = queued_tracks(escalated=escalated)
    return appeal if clip.appeal_open else otherwise


def second_opinions_claimable_by(user: User, now: datetime) -> QuerySet[SecondOpinion]:
    if not has_role(user, Role.MODERATOR):
        return SecondOpinion.objects.none()
    live = Claim.objects.filter(submission=OuterRef("submission"), ended_at__isnull=True,
                                expires_at__gt=now)
    mine = Decision.objects.filter(submission=OuterRef("submission"), moderator=user)
    return (SecondOpinion.objects.filter(decision__isnull=True)
            .exclude(submission__owner=user).exclude(Exists(live)).exclude(Exists(mine))
            .order_by("created_at", "pk"))


def effective_decision(submission: Submission) -> Decision | None:
    return submission.decisions.filter(is_effective=True).first()


def sampled_for_second_opinion(submission: Submission | UUID, rate: float) -> bool:
    """A deterministic draw per clip (given as the clip or its id), so a simulation with the
    same seed samples the same."""
    if rate <= 0:
        return False
    submission_id = submission.pk if isinstance(submission, Submission) else submission
    digest = hashlib.sha256(f"{submission_id}:second-opinion".encode()).hexdigest()
    return int(digest[:8], 16) / 0x100000000 < rate


def owner_history(submission: Submission) -> dict[str, int]:
    """How many other clips the clip's owner made, and how they were decided."""
    return (Submission.objects.filter(owner_id=submission.owner_id).exclude(pk=submission.pk)
            .aggregate(submissions=Count("pk"),
                       approved=Count("pk", filter=Q(status=SubmissionStatus.APPROVED)),
                       rejected=Count("pk", filter=Q(status=SubmissionStatus.REJECTED))))


def queue_summary(now: datetime) -> dict[str, Any]:
    waiting = (Submission.objects.filter(status=SubmissionStatus.PENDING_REVIEW)
               .exclude(Exists(_live_claim(now))))
    live_second = Claim.objects.filter(second_opinion=OuterRef("pk"), ended_at__isnull=True,
                                       expires_at__gt=now)
    second = SecondOpinion.objects.filter(decision__isnull=True).exclude(Exists(live_second))
    oldest = waiting.aggregate(oldest=Min("review_entered_at"))["oldest"]
    second_waiting = second.count()
    return {
        "pending": waiting.count() + second_waiting,
        "claimed": Claim.objects.filter(ended_at__isnull=True, expires_at__gt=now).count(),
        "oldest_wait_s": round((now - oldest).total_seconds()) if oldest else None,
        # A withdrawn clip leaves the queue, escalated or not.
        "escalated": Escalation.objects.filter(
            resolved_at__isnull=True,
            submission__status=SubmissionStatus.PENDING_REVIEW).count(),
        "second_opinions": second_waiting,
    }
