"""Claims: take the next item under a lease, renew it, give it back; expire stale leases.

On PostgreSQL the next item is locked with ``FOR UPDATE SKIP LOCKED``, so moderators
claiming at once never wait on each other and never get the same item; the lock and the
claim's insert are one statement. Elsewhere (SQLite) the partial unique index "one open
claim per clip" is the compare-and-set: an insert that finds the clip already held writes
nothing, and claim-next moves on to the next candidate. Either way two moderators never
hold the same item.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import F

import audit
from accounts.models import User
from accounts.selectors import program_setting
from core import clock
from core.errors import NotFound
from review import sql as review_sql
from review.errors import LeaseLost
from review.models import Claim, ClaimEnd, SecondOpinion, Track
from review.selectors import (
    clip_queues_for,
    next_claimable_clip,
    next_clip_query,
    queued_track,
    queued_tracks,
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
    claim = Claim(submission_id=submission_id, second_opinion=second_opinion, track=track,
                  moderator=actor, claimed_at=now, expires_at=now + lease)
    if not review_sql.claim_insert(claim):
        # An open claim holds the clip: a live one (ours to leave), or one that ran out.
        for held in Claim.objects.filter(submission_id=submission_id, ended_at__isnull=True):
            if held.expires_at > now or not (_expire(held, now) or _ended(held)):
                return None  # live, or renewed just now
        if not review_sql.claim_insert(claim):
            return None  # another moderator's claim landed meanwhile
    _opened(claim, entered_at=entered_at)
    return claim


def _opened(claim: Claim, *, entered_at: datetime | None) -> None:
    """Record a claim just inserted."""
    claim._state.adding, claim._state.db = False, connection.alias
    audit.record("review.claimed", actor=claim.moderator,
                 subject=("submissions.submission", claim.submission_id),
                 data={"claim_id": claim.pk, "track": claim.track,
                       "expires_at": claim.expires_at,
                       "waited_s": round((claim.claimed_at - entered_at).total_seconds(), 3)
                       if entered_at else None})


def _ended(claim: Claim) -> bool:
    return Claim.objects.filter(pk=claim.pk, ended_at__isnull=False).exists()


def _open_next(*, actor: User, now: datetime, escalated: bool) -> Claim | None:
    """Where the database can, take the next clip of a queue and open the claim on it in one
    statement (the same query, the same insert as ``next_claimable_clip`` and ``_open``);
    None if that found no clip free to claim, which the caller then looks into the usual
    way (the queue is empty, or a lease on the clip must be closed first)."""
    if not review_sql.picks_and_claims_at_once():
        return None
    claim = Claim(second_opinion=None, moderator=actor, claimed_at=now)
    opened = review_sql.claim_insert_next(
        claim, next_clip_query(actor, now, escalated=escalated),
        queued_tracks(escalated=escalated))
    if opened is None:
        return None
    claim.submission_id, claim.track, claim.expires_at = (
        opened.submission_id, Track(opened.track), opened.expires_at)
    _opened(claim, entered_at=opened.review_entered_at)
    return claim


def claim_next(*, actor: User) -> Claim | None:
    """Give ``actor`` the next item they may review, under a new lease; None if there is none."""
    now = clock.now()
    for escalated in clip_queues_for(actor):
        for _ in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    claim = _open_next(actor=actor, now=now, escalated=escalated)
                    if claim is not None:
                        return claim
                    clip = next_claimable_clip(actor, now, escalated=escalated)
                    if clip is None:
                        break
                    claim = _open(actor=actor, submission_id=clip.pk,
                                  track=queued_track(clip, escalated=escalated),
                                  entered_at=clip.review_entered_at, now=now,
                                  lease=timedelta(seconds=clip.lease_seconds))
                    if claim is not None:
                        return claim
            except IntegrityError:
                continue  # another moderator's claim landed between our read and our insert
    lease = timedelta(seconds=program_setting("lease_seconds"))
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
