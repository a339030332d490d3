"""Input and output shapes of the review API (no logic: services decide)."""

from rest_framework import serializers

from review.models import Outcome, Track
from review.services.decisions import MAX_NOTE
from submissions.serializers import SubmissionOutput


class ReasonOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    canned_response = serializers.CharField()


class QueueOutput(serializers.Serializer):
    pending = serializers.IntegerField()
    claimed = serializers.IntegerField()
    oldest_wait_s = serializers.IntegerField(allow_null=True)
    escalated = serializers.IntegerField()
    second_opinions = serializers.IntegerField()


class HistoryOutput(serializers.Serializer):
    submissions = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()


class ClaimOutput(serializers.Serializer):
    id = serializers.UUIDField()
    track = serializers.ChoiceField(choices=Track.choices)
    expires_at = serializers.DateTimeField()
    submission = SubmissionOutput()
    owner_history = HistoryOutput()
    appeal_message = serializers.CharField(allow_null=True)


class RenewOutput(serializers.Serializer):
    expires_at = serializers.DateTimeField()


class DecideInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reasons = serializers.ListField(child=serializers.SlugField(max_length=48), required=False,
                                    default=list, max_length=20)
    note_to_tester = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True,
                                           default="")
    internal_note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True,
                                          default="")


class DecisionMadeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    decided_at = serializers.DateTimeField()


class AppealInput(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
