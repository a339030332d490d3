"""Input and output shapes of the submissions API (no logic: services decide)."""

from django.urls import reverse
from rest_framework import serializers

from submissions.models import MediaKind, Source, SubmissionStatus
from submissions.services.lifecycle import (
    GENERATION_RESOLUTIONS,
    MAX_GENERATION_S,
    MAX_PROMPT,
    MAX_TITLE,
)


class UploadInput(serializers.Serializer):
    # Empty files pass here so the service refuses them as media.unsupported_type.
    file = serializers.FileField(help_text="The clip (MP4, MOV, MKV or WebM).",
                                 allow_empty_file=True)
    prompt = serializers.CharField(max_length=MAX_PROMPT)
    title = serializers.CharField(max_length=MAX_TITLE, required=False, allow_blank=True,
                                  default="")
    submit = serializers.BooleanField(required=False, default=True)


class GenerationInput(serializers.Serializer):
    prompt = serializers.CharField(max_length=MAX_PROMPT)
    title = serializers.CharField(max_length=MAX_TITLE, required=False, allow_blank=True,
                                  default="")
    duration_s = serializers.FloatField(min_value=0.5, max_value=MAX_GENERATION_S, default=4)
    resolution = serializers.ChoiceField(choices=GENERATION_RESOLUTIONS, default="720p")
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False,
                                    allow_null=True, default=None)


class CreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)


class DetailMessage(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)


class FailureOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class MediaFactsOutput(serializers.Serializer):
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField(allow_null=True)
    container = serializers.CharField(allow_null=True)
    video_codec = serializers.CharField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    fps = serializers.FloatField(allow_null=True)
    duration_s = serializers.FloatField(allow_null=True)
    has_audio = serializers.BooleanField(allow_null=True)


class UrlsOutput(serializers.Serializer):
    original = serializers.URLField(allow_null=True)
    thumbnail = serializers.URLField(allow_null=True)
    contact_sheet = serializers.URLField(allow_null=True)
    watermarked = serializers.URLField(allow_null=True)


class EffectiveDecisionOutput(serializers.Serializer):
    outcome = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    note_to_tester = serializers.CharField()
    decided_at = serializers.DateTimeField()


class SubmissionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    owner = serializers.CharField(source="owner.username")
    cohort = serializers.CharField(source="cohort.slug", allow_null=True)
    title = serializers.CharField()
    prompt = serializers.CharField()
    source = serializers.ChoiceField(choices=Source.choices)
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)
    failure = serializers.SerializerMethodField()
    media = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    appealed = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, submission):
        data = super().to_representation(submission)
        if self.context.get("blind"):
            # A blind second opinion sees the clip as its first reviewer did: waiting.
            data.update(status="pending_review", decided_at=None, appealed=False)
        return data

    def get_failure(self, submission) -> FailureOutput(allow_null=True):
        if not submission.failure_code:
            return None
        return {"code": submission.failure_code, "message": submission.failure_message}

    def get_media(self, submission) -> MediaFactsOutput:
        facts = submission.media_facts or {}
        keys = ("container", "video_codec", "width", "height", "fps", "duration_s", "has_audio")
        return {"sha256": submission.sha256, "size_bytes": submission.size_bytes,
                **{key: facts.get(key) for key in keys}}

    def get_urls(self, submission) -> UrlsOutput:
        request = self.context["request"]
        return {
            kind.value: (request.build_absolute_uri(
                reverse("submission-media", args=[submission.pk, kind.value]))
                if submission.media_name(kind) else None)
            for kind in MediaKind
        }

    # Decisions and appeals are the review app's rows, read through their relations to the
    # clip. A blind second opinion must not see the first decision.
    def get_decision(self, submission) -> EffectiveDecisionOutput(allow_null=True):
        if self.context.get("blind"):
            return None
        loaded = getattr(submission, "effective_decisions", None)  # see with_verdicts
        decision = (loaded[0] if loaded else None) if loaded is not None else (
            submission.decisions.filter(is_effective=True).first())
        if decision is None:
            return None
        return {"outcome": decision.outcome, "reasons": decision.reasons,
                "note_to_tester": decision.note_to_tester, "decided_at": decision.decided_at}

    def get_appealed(self, submission) -> bool:
        return hasattr(submission, "appeal")


class ShareOutput(serializers.Serializer):
    url = serializers.URLField()
    token = serializers.CharField()
