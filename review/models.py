"""The approval gate: reason codes, claims (leases), decisions, escalations, appeals and
second opinions. The queue itself is the set of clips in ``pending_review`` (plus open
second-opinion requests); being in review is holding a live claim, not a status."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ReasonCode(models.Model):
    """One reason a clip may be refused; edited only through the taxonomy services, which
    publish a new taxonomy version on every change."""

    code = models.SlugField(max_length=48, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField()
    canned_response = models.TextField(help_text="The default note to the tester.")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.code


class TaxonomyVersion(models.Model):
    """A published state of the reason codes; every decision records the version it used."""

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    codes = models.JSONField(help_text="The active codes and labels at publication.")

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Taxonomy v{self.number}"


class Track(models.TextChoices):
    """Why a clip is in the queue, which decides who may take it and what a decision does."""

    PRIMARY = "primary", "First review"
    APPEAL = "appeal", "Appeal"
    ESCALATION = "escalation", "Escalation"
    SECOND_OPINION = "second_opinion", "Second opinion"


class ClaimEnd(models.TextChoices):
    DECIDED = "decided", "Decided"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Claim(models.Model):
    """A moderator's lease on one queue item. Its id is the fencing token: a decision is
    written only by a conditional update that still finds this claim live."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey("submissions.Submission", on_delete=models.CASCADE,
                                   related_name="claims")
    second_opinion = models.ForeignKey("SecondOpinion", null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="claims")
    track = models.CharField(max_length=16, choices=Track.choices)
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="claims")
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    renewals = models.PositiveIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=ClaimEnd.choices, blank=True)

    class Meta:
        constraints = [
            # One open claim per clip: two moderators can never hold the same item.
            models.UniqueConstraint(fields=["submission"], condition=models.Q(ended_at=None),
                                    name="review_one_open_claim_per_clip"),
        ]
        indexes = [models.Index(fields=["ended_at", "expires_at"], name="review_claim_open")]

    def __str__(self) -> str:
        return f"Claim {self.id} on {self.submission_id}"


class Outcome(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    ESCALATE = "escalate", "Escalate"


class Decision(models.Model):
    """One decision on a clip, in the shape of a statement of reasons. A clip has at most one
    effective decision at a time; appeals, escalations and second opinions add rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT,
                                   related_name="decisions")
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="decision")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="decisions")
    track = models.CharField(max_length=16, choices=Track.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reasons = models.JSONField(default=list)
    taxonomy_version = models.PositiveIntegerField()
    note_to_tester = models.TextField(blank=True)
    internal_note = models.TextField(blank=True)
    # The decision is bound to the exact bytes that were reviewed.
    sha256 = models.CharField(max_length=64)
    is_effective = models.BooleanField(default=False)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["submission"], condition=models.Q(is_effective=True),
                                    name="review_one_effective_decision"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on {self.submission_id}"


class Escalation(models.Model):
    """A clip a moderator sent to the program admins' own queue."""

    submission = models.ForeignKey("submissions.Submission", on_delete=models.CASCADE,
                                   related_name="escalations")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT,
                                    related_name="escalation")
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission"],
                                    condition=models.Q(resolved_at=None),
                                    name="review_one_open_escalation"),
        ]

    def __str__(self) -> str:
        return f"Escalation of {self.submission_id}"


class AppealResult(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    OVERTURNED = "overturned", "Overturned"


class Appeal(models.Model):
    """A tester's one appeal against a rejection."""

    submission = models.OneToOneField("submissions.Submission", on_delete=models.CASCADE,
                                      related_name="appeal")
    message = models.TextField()
    created_at = models.DateTimeField()
    rejection = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    decision = models.OneToOneField(Decision, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="appeal_decided")
    result = models.CharField(max_length=16, choices=AppealResult.choices, blank=True)

    def __str__(self) -> str:
        return f"Appeal of {self.submission_id}"


class SecondOpinion(models.Model):
    """A blind second review of a decided clip, for agreement studies; never changes the
    clip's outcome."""

    submission = models.ForeignKey("submissions.Submission", on_delete=models.CASCADE,
                                   related_name="second_opinions")
    first_decision = models.OneToOneField(Decision, on_delete=models.PROTECT,
                                          related_name="second_opinion_request")
    created_at = models.DateTimeField()
    decision = models.OneToOneField(Decision, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="second_opinion_answer")

    class Meta:
        indexes = [models.Index(fields=["decision", "created_at"], name="review_second_open")]

    def __str__(self) -> str:
        return f"Second opinion on {self.submission_id}"
