"""Decisions under a claim, and appeals against them."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

import audit
from accounts.models import User
from accounts.selectors import program_setting
from core import clock
from core.errors import InvalidInput, NotFound
from review.errors import AppealNotAllowed, LeaseLost, ReasonRequired, TaxonomyMissing
from review.models import (
    Appeal,
    AppealResult,
    Claim,
    ClaimEnd,
    Decision,
    Escalation,
    Outcome,
    ReasonCode,
    SecondOpinion,
    Track,
)
from review.selectors import effective_decision, sampled_for_second_opinion, taxonomy_current
from submissions.models import Submission, SubmissionStatus
from submissions.services.review_outcomes import (
    submission_apply_decision,
    submission_reopen_for_appeal,
)

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
    known = {reason.code: reason for reason in ReasonCode.objects.filter(code__in=codes,
                                                                        is_active=True)}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidInput(fields={"reasons": [f"Unknown reason code: {code}."
                                               for code in unknown]})
    if outcome == Outcome.REJECT and not codes:
        raise ReasonRequired(fields={"reasons": ["Give at least one reason when rejecting."]})
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
    claim = Claim.objects.filter(pk=claim_id, moderator=actor).first()
    if claim is None:
        raise NotFound("No such claim of yours.")
    if outcome not in OUTCOMES[Track(claim.track)]:
        raise InvalidInput(fields={"outcome": [
            f"{Track(claim.track).label} items take one of "
            f"{', '.join(sorted(OUTCOMES[Track(claim.track)]))}."]})
    codes = _checked_reasons(outcome, reasons or [])
    taxonomy = taxonomy_current()
    if taxonomy is None:
        raise TaxonomyMissing()
    too_long = {name: [f"At most {MAX_NOTE} characters."]
                for name, text in (("note_to_tester", note_to_tester),
                                   ("internal_note", internal_note)) if len(text) > MAX_NOTE}
    if too_long:
        raise InvalidInput(fields=too_long)
    if outcome == Outcome.REJECT and not note_to_tester.strip():
        note_to_tester = "\n\n".join(reason.canned_response for reason in codes)

    with transaction.atomic():
        # The clip first, the claim second: the same order claim_next takes its locks in, so
        # a decision and a concurrent claim can never wait on each other in a cycle.
        submission = Submission.objects.select_for_update().get(pk=claim.submission_id)
        now = clock.now()
        taken = Claim.objects.filter(pk=claim.pk, ended_at__isnull=True,
                                     expires_at__gt=now).update(ended_at=now,
                                                                end_reason=ClaimEnd.DECIDED)
        if not taken:
            raise LeaseLost()
        track = Track(claim.track)
        if track != Track.SECOND_OPINION and submission.status != SubmissionStatus.PENDING_REVIEW:
            raise LeaseLost("This clip is no longer waiting for review (it was withdrawn).")
        effective = track != Track.SECOND_OPINION and outcome != Outcome.ESCALATE
        if effective and track != Track.PRIMARY:
            # A first review never has an effective decision before it; the others do.
            Decision.objects.filter(submission=submission, is_effective=True).update(
                is_effective=False)
        decision = Decision.objects.create(
            submission=submission, claim=claim, moderator=actor, track=track, outcome=outcome,
            reasons=[reason.code for reason in codes],
            taxonomy_version=taxonomy.number,
            note_to_tester=note_to_tester.strip(), internal_note=internal_note.strip(),
            sha256=submission.sha256, is_effective=effective, decided_at=now)
        appeal_result = _apply(decision, submission, track, now)
        audit.record("review.decided", actor=actor, subject=submission, data={
            "decision_id": decision.pk, "claim_id": claim.pk, "track": track,
            "outcome": outcome, "reasons": decision.reasons,
            "taxonomy_version": decision.taxonomy_version, "effective": effective,
            "appeal_result": appeal_result,
            "held_s": round((now - claim.claimed_at).total_seconds(), 3)})
        if effective and track == Track.PRIMARY:
            _maybe_second_opinion(decision, submission, now)
        if effective:
            from review.tasks import decision_notify

            decision_id = str(decision.pk)
            transaction.on_commit(lambda: decision_notify.delay(decision_id))
    return decision


def _apply(decision: Decision, submission: Submission, track: Track, now) -> str | None:
    """Carry the decision's consequences; returns the appeal result if it settled one."""
    if track == Track.SECOND_OPINION:
        SecondOpinion.objects.filter(pk=decision.claim.second_opinion_id).update(
            decision=decision)
        return None
    if decision.outcome == Outcome.ESCALATE:
        Escalation.objects.create(submission=submission, decision=decision, created_at=now)
        return None
    submission_apply_decision(submission=submission, outcome=decision.outcome, decided_at=now)
    if track == Track.PRIMARY:
        return None  # nothing was escalated or appealed yet
    Escalation.objects.filter(submission=submission, resolved_at__isnull=True).update(
        resolved_at=now)
    result = (AppealResult.OVERTURNED if decision.outcome == Outcome.APPROVE
              else AppealResult.UPHELD)
    settled = Appeal.objects.filter(submission=submission, decision__isnull=True).update(
        decision=decision, result=result)
    return result.value if settled else None


def _maybe_second_opinion(decision: Decision, submission: Submission, now) -> None:
    if sampled_for_second_opinion(submission, program_setting("second_opinion_rate")):
        SecondOpinion.objects.create(submission=submission, first_decision=decision,
                                     created_at=now)
        audit.record("review.second_opinion_requested", actor=audit.SystemActor("sampler"),
                     subject=submission, data={"first_decision_id": decision.pk})


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
