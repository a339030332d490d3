"""Clips and the state machine they move through, and the links that share approved ones."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class SubmissionStatus(models.TextChoices):
    GENERATING = "generating", "Generating"
    DRAFT = "draft", "Draft"
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    FAILED = "failed", "Failed"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Source(models.TextChoices):
    UPLOAD = "upload", "Upload"
    GENERATED = "generated", "Generated"


class MediaKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    THUMBNAIL = "thumbnail", "Thumbnail"
    CONTACT_SHEET = "contact_sheet", "Contact sheet"
    WATERMARKED = "watermarked", "Watermarked rendition"


class Submission(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="submissions")
    # The owner's cohort when the clip was made: research compares cohorts as they were.
    cohort = models.ForeignKey("accounts.Cohort", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="submissions")
    title = models.CharField(max_length=200, blank=True)
    prompt = models.TextField()
    source = models.CharField(max_length=16, choices=Source.choices)
    generation_params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=SubmissionStatus.choices, db_index=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.TextField(blank=True)

    # Storage names (never the client's filename). Set by services only.
    original = models.CharField(max_length=255, blank=True)
    thumbnail = models.CharField(max_length=255, blank=True)
    contact_sheet = models.CharField(max_length=255, blank=True)
    watermarked = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    media_facts = models.JSONField(default=dict, blank=True)

    # Processing bookkeeping: the attempt number fences a stale worker's late results.
    processing_attempts = models.PositiveSmallIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # When the processing task was last sent; the sweep re-sends it if it was lost.
    queued_at = models.DateTimeField(null=True, blank=True)
    # The clip's place in the review queue: when it (re-)entered, and how urgent it is.
    review_entered_at = models.DateTimeField(null=True, blank=True)
    review_priority = models.SmallIntegerField(default=0)

    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="submission_owner_recent"),
            models.Index(fields=["status", "queued_at"], name="submission_sweep"),
            models.Index(fields=["status", "-review_priority", "review_entered_at"],
                         name="submission_review_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.prompt[:40]} ({self.status})"

    def media_name(self, kind: str) -> str:
        return getattr(self, MediaKind(kind).value)


class ShareLink(models.Model):
    """A revocable public link to an approved clip's watermarked rendition."""

    token = models.CharField(max_length=64, unique=True)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE,
                                   related_name="share_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission"], condition=models.Q(revoked_at=None),
                                    name="submissions_one_live_share_link"),
        ]

    def __str__(self) -> str:
        return f"Share link for {self.submission_id}"
