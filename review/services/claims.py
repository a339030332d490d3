"""Claims: take the next item under a lease, renew it, give it back; expire stale leases.

On PostgreSQL the next item is locked with ``FOR UPDATE SKIP LOCKED``, so moderators
claiming at once never wait on each other and never get the same item. Elsewhere (SQLite)
the partial unique index "one open claim per clip" is the compare-and-set: a losing insert
moves on to the next candidate. Either way two moderators never hold the same item.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F

import audit
from accounts.models import User
from accounts.selectors import program_setting
from core import clock
from core.errors import NotFound
from review.errors import LeaseLost
from review.models import Claim, ClaimEnd, SecondOpinion, Track
from review.selectors import (
    clip_queues_for,
    next_claimable_clip,
    queued_track,
    second_opinions_claimable_by,
)
from submissions.models import Submission
from submissions.selectors import with_verdicts

SWEEPER = audit.SystemActor("lease-sweeper")
ATTEMPTS = 5  # a moderator who keeps losing races gets "nothing" rather than a long wait


def _held_s(claim: Claim, until: datetime) -> float:
    return round((until - claim.claimed_at).total_seconds(), 3)


def _expire(claim: Claim, now: datetime) -> bool:
    """Close a lease that ran out, once: a conditional update, so the sweep and a claim
    racing to close the same lease record it once, and a renewal that landed first wins."""
    closed = Claim.objects.filter(pk=claim.pk, ended_at__isnull=True,
                                  expires_at__lte=now).update(ended_at=now,
                                                              end_reason=ClaimEnd.EXPIRED)
    if closed:
        audit.record("review.lease_expired", actor=SWEEPER,
                     subject=("submissions.submission", claim.submission_id),
                     data={"claim_id": claim.pk, "held_s": _held_s(claim, claim.expires_at)})
    return bool(closed)


def _open(*, actor: User, submission_id: UUID, track: Track, entered_at: datetime | None,
          now: datetime, lease: timedelta,
          second_opinion: SecondOpinion | None = None) -> Claim | None:
    """Open a claim on a clip (the caller has locked the clip's row, or the second-opinion
    request's; the "one open claim per clip" index guards either way). None if a live claim
    that our snapshot could not see yet already holds it. A lease that ran out without the
    sweep noticing yet is closed here first."""
    for held in Claim.objects.filter(submission_id=submission_id, ended_at__isnull=True):
        if held.expires_at > now or not (_expire(held, now) or _ended(held)):
            return None  # live, or renewed just now
    claim = Claim.objects.create(submission_id=submission_id, second_opinion=second_opinion,
                                 track=track, moderator=actor, claimed_at=now,
                                 expires_at=now + lease)
    audit.record("review.claimed", actor=actor, subject=("submissions.submission", submission_id),
                 data={"claim_id": claim.pk, "track": track, "expires_at": claim.expires_at,
                       "waited_s": round((now - entered_at).total_seconds(), 3)
                       if entered_at else None})
    return claim


def _ended(claim: Claim) -> bool:
    return Claim.objects.filter(pk=claim.pk, ended_at__isnull=False).exists()


def claim_next(*, actor: User) -> Claim | None:
    """Give ``actor`` the next item they may review, under a new lease; None if there is none."""
    now = clock.now()
    lease = timedelta(seconds=program_setting("lease_seconds"))
    for escalated in clip_queues_for(actor):
        for _ in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    submission = next_claimable_clip(actor, now, escalated=escalated)
                    if submission is None:
                        break
                    track = queued_track(submission, escalated=escalated)
                    claim = _open(actor=actor, submission_id=submission.pk, track=track,
                                  entered_at=submission.review_entered_at, now=now, lease=lease)
                    if claim is not None:
                        return claim
            except IntegrityError:
                continue  # another moderator's claim landed between our read and our insert
    requests = second_opinions_claimable_by(actor, now).select_for_update(skip_locked=True,
                                                                          of=("self",))
    for _ in range(ATTEMPTS):
        try:
            with transaction.atomic():
                request = requests.first()
                if request is None:
                    return None
                claim = _open(actor=actor, submission_id=request.submission_id,
                              track=Track.SECOND_OPINION, entered_at=request.created_at,
                              now=now, lease=lease, second_opinion=request)
                if claim is not None:
                    return claim
        except IntegrityError:
            continue
    return None


def _mine(actor: User, claim_id: UUID) -> Claim:
    claim = Claim.objects.filter(pk=claim_id, moderator=actor).first()
    if claim is None:
        raise NotFound("No such claim of yours.")
    return claim


def claim_renew(*, actor: User, claim_id: UUID) -> Claim:
    """Extend a live lease by the program's lease length; 409 once it is gone."""
    claim = _mine(actor, claim_id)
    now = clock.now()
    expires_at = now + timedelta(seconds=program_setting("lease_seconds"))
    with transaction.atomic():
        renewed = Claim.objects.filter(pk=claim.pk, ended_at__isnull=True,
                                       expires_at__gt=now).update(
            expires_at=expires_at, renewals=F("renewals") + 1)
        if not renewed:
            raise LeaseLost()
        audit.record("review.renewed", actor=actor, subject=("submissions.submission",
                                                              claim.submission_id),
                     data={"claim_id": claim.pk, "expires_at": expires_at})
    claim.expires_at = expires_at
    return claim


def claim_release(*, actor: User, claim_id: UUID) -> None:
    """Give an item back to the queue undecided."""
    claim = _mine(actor, claim_id)
    now = clock.now()
    with transaction.atomic():
        released = Claim.objects.filter(pk=claim.pk, ended_at__isnull=True,
                                        expires_at__gt=now).update(
            ended_at=now, end_reason=ClaimEnd.RELEASED)
        if not released:
            raise LeaseLost()
        audit.record("review.released", actor=actor, subject=("submissions.submission",
                                                               claim.submission_id),
                     data={"claim_id": claim.pk, "held_s": _held_s(claim, now)})


def claims_expire() -> int:
    """Close every lease that ran out and record it (the periodic sweep); returns how many."""
    now = clock.now()
    expired = 0
    for claim in Claim.objects.filter(ended_at__isnull=True, expires_at__lte=now)[:1000]:
        with transaction.atomic():
            expired += _expire(claim, now)
    return expired


def claim_submission(claim: Claim) -> Submission:
    return with_verdicts(Submission.objects.select_related("owner", "cohort")).get(
        pk=claim.submission_id)
