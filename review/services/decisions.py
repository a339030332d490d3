"""Decisions under a claim, and appeals against them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db import connection, transaction

import audit
from accounts.models import User
from core import clock
from core.errors import InvalidInput, NotFound
from review import sql as review_sql
from review.errors import AppealNotAllowed, LeaseLost, ReasonRequired, TaxonomyMissing
from review.models import (
    Appeal,
    AppealResult,
    Claim,
    Decision,
    Escalation,
    Outcome,
    ReasonCode,
    SecondOpinion,
    Track,
)
from review.selectors import effective_decision, sampled_for_second_opinion
from submissions.errors import SubmissionInvalidTransition
from submissions.models import Submission, SubmissionStatus
from submissions.services.review_outcomes import submission_reopen_for_appeal
from submissions.transitions import target_of

MAX_NOTE = 4000
MAX_APPEAL = 2000
# What each track may decide: escalations are the program admins' last word, and second
# opinions are compared with the first decision, so neither may escalate.
OUTCOMES = {
    Track.PRIMARY: {Outcome.APPROVE, Outcome.REJECT, Outcome.ESCALATE},
    Track.APPEAL: {Outcome.APPROVE, Outcome.REJECT, Outcome.ESCALATE},
    Track.ESCALATION: {Outcome.APPROVE, Outcome.REJECT},
    Track.SECOND_OPINION: {Outcome.APPROVE, Outcome.REJECT},
}


def _checked_reasons(outcome: str, reasons: list[str]) -> list[ReasonCode]:
    codes = list(dict.fromkeys(reasons))
    if outcome == Outcome.REJECT and not codes:
        raise ReasonRequired(fields={"reasons": ["Give at least one reason when rejecting."]})
    if not codes:
        return []
    known = {reason.code: reason for reason in ReasonCode.objects.filter(code__in=codes,
                                                                        is_active=True)}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidInput(fields={"reasons": [f"Unknown reason code: {code}."
                                               for code in unknown]})
    return [known[code] for code in codes]


def decision_record(
    *, actor: User, claim_id: UUID, outcome: str, reasons: list[str] | None = None,
    note_to_tester: str = "", internal_note: str = "",
) -> Decision:
    """Decide the item held under ``claim_id``.

    Written only while the claim is still live, by a conditional update on the claim: a
    second decision on the same claim, or one after the lease ran out (even if it started
    before), raises ``LeaseLost`` and changes nothing.
    """
    claim_id = Claim._meta.pk.to_python(claim_id)
    with transaction.atomic():
        # One read locks the clip and brings the claim, the taxonomy version in force, the
        # sampling rate and any waiting appeal; a refusal below rolls it back with nothing
        # written.
        held = review_sql.claim_for_decision(claim_id, actor.pk)
        if held is None:
            raise NotFound("No such claim of yours.")
        track = Track(held.track)
        if outcome not in OUTCOMES[track]:
            raise InvalidInput(fields={"outcome": [
                f"{track.label} items take one of {', '.join(sorted(OUTCOMES[track]))}."]})
        codes = _checked_reasons(outcome, reasons or [])
        if held.taxonomy_version is None:
            raise TaxonomyMissing()
        too_long = {name: [f"At most {MAX_NOTE} characters."]
                    for name, text in (("note_to_tester", note_to_tester),
                                       ("internal_note", internal_note)) if len(text) > MAX_NOTE}
        if too_long:
            raise InvalidInput(fields=too_long)
        if outcome == Outcome.REJECT and not note_to_tester.strip():
            note_to_tester = "\n\n".join(reason.canned_response for reason in codes)

        now = clock.now()
        if track != Track.SECOND_OPINION and held.status != SubmissionStatus.PENDING_REVIEW:
            if not review_sql.claim_take(claim_id, now):
                raise LeaseLost()
            raise LeaseLost("This clip is no longer waiting for review (it was withdrawn).")
        effective = track != Track.SECOND_OPINION and outcome != Outcome.ESCALATE
        if effective and track != Track.PRIMARY:
            # A first review never has an effective decision before it; the others do.
            # (Undone with the rest if the claim turns out to be lost.)
            Decision.objects.filter(submission_id=held.submission_id, is_effective=True).update(
                is_effective=False)
        decision = Decision(
            submission_id=held.submission_id, claim_id=claim_id, moderator=actor, track=track,
            outcome=outcome, reasons=[reason.code for reason in codes],
            taxonomy_version=held.taxonomy_version,
            note_to_tester=note_to_tester.strip(), internal_note=internal_note.strip(),
            sha256=held.sha256, is_effective=effective, decided_at=now)
        appeal_result = _appeal_result(held, track, outcome) if effective else None
        event = audit.prepare("review.decided", actor=actor,
                              subject=("submissions.submission", held.submission_id), data={
                                  "decision_id": decision.pk, "claim_id": decision.claim_id,
                                  "track": track, "outcome": outcome,
                                  "reasons": decision.reasons,
                                  "taxonomy_version": decision.taxonomy_version,
                                  "effective": effective, "appeal_result": appeal_result,
                                  "held_s": round((now - held.claimed_at).total_seconds(), 3)})
        # An effective decision approves or rejects the clip: the state machine's table
        # decides the move (and refuses an illegal one), and the write checks it again. The
        # write carries the event, so the decision and its record arrive together.
        target = target_of(outcome, held.status) if effective else None
        taken, moved = review_sql.decision_write(
            decision, event, move=outcome if effective else None, target=target)
        if not taken:
            raise LeaseLost()
        if effective and not moved:
            raise SubmissionInvalidTransition("The clip changed while it was being decided.")
        decision._state.adding, decision._state.db = False, connection.alias
        _apply(decision, held, track, now, appeal_result)
        if effective and track == Track.PRIMARY:
            _maybe_second_opinion(decision, held.second_opinion_rate, now)
        if effective:
            from review.tasks import decision_notify

            decision_id = str(decision.pk)
            transaction.on_commit(lambda: decision_notify.delay(decision_id))
    return decision


def _appeal_result(held: review_sql.HeldClaim, track: Track, outcome: str) -> str | None:
    """What an effective decision makes of the appeal it settles, if one waits: read with the
    clip locked, so no other decision can settle it meanwhile."""
    if track == Track.PRIMARY or not held.appeal_open:
        return None  # a first review never has an appeal before it
    return (AppealResult.OVERTURNED if outcome == Outcome.APPROVE else AppealResult.UPHELD).value


def _apply(decision: Decision, held: review_sql.HeldClaim, track: Track, now: datetime,
           appeal_result: str | None) -> None:
    """Carry the decision's consequences beyond the clip's status (which ``decision_write``
    moved): the second opinion answered, the escalation opened or closed, the appeal
    settled."""
    submission_id = decision.submission_id
    if track == Track.SECOND_OPINION:
        SecondOpinion.objects.filter(pk=held.second_opinion_id).update(decision=decision)
        return
    if decision.outcome == Outcome.ESCALATE:
        Escalation.objects.create(submission_id=submission_id, decision=decision,
                                  created_at=now)
        return
    if track == Track.PRIMARY:
        return  # nothing was escalated or appealed yet
    Escalation.objects.filter(submission_id=submission_id, resolved_at__isnull=True).update(
        resolved_at=now)
    if appeal_result is not None:
        Appeal.objects.filter(submission_id=submission_id, decision__isnull=True).update(
            decision=decision, result=appeal_result)


def _maybe_second_opinion(decision: Decision, rate: float, now: datetime) -> None:
    if sampled_for_second_opinion(decision.submission_id, rate):
        SecondOpinion.objects.create(submission_id=decision.submission_id,
                                     first_decision=decision, created_at=now)
        audit.record("review.second_opinion_requested", actor=audit.SystemActor("sampler"),
                     subject=("submissions.submission", decision.submission_id),
                     data={"first_decision_id": decision.pk})


def appeal_create(*, actor: User, submission: Submission, message: str) -> Appeal:
    """Appeal a rejection: once per clip; the clip goes back to the queue, ahead of first
    reviews, for a moderator who has not decided it."""
    message = (message or "").strip()
    if not message:
        raise InvalidInput(fields={"message": ["Tell the moderators why: a message is needed."]})
    if len(message) > MAX_APPEAL:
        raise InvalidInput(fields={"message": [f"At most {MAX_APPEAL} characters."]})
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission.pk)
        if submission.owner_id != actor.pk:
            raise NotFound()
        if Appeal.objects.filter(submission=submission).exists():
            raise AppealNotAllowed("This clip was already appealed; an appeal is allowed once.")
        if submission.status != SubmissionStatus.REJECTED:
            raise AppealNotAllowed("Only a rejected clip can be appealed.")
        now = clock.now()
        rejection = effective_decision(submission)
        appeal = Appeal.objects.create(submission=submission, message=message, created_at=now,
                                       rejection=rejection)
        submission_reopen_for_appeal(submission=submission, at=now)
        audit.record("submission.appealed", actor=actor, subject=submission, data={
            "rejection_id": rejection.pk, "message_chars": len(message)})
    return appeal
