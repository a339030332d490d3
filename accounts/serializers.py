"""Input and output shapes of the accounts API (no logic: services decide)."""

from rest_framework import serializers

from accounts.models import Role


class TokenObtainInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=512, trim_whitespace=False)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    cohort = serializers.CharField(allow_null=True)
    terms_version_accepted = serializers.CharField(allow_null=True)


class PolicyOutput(serializers.Serializer):
    max_duration_s = serializers.IntegerField()
    max_width = serializers.IntegerField()
    max_height = serializers.IntegerField()
    max_upload_bytes = serializers.IntegerField()
    allowed_video_codecs = serializers.ListField(child=serializers.CharField())
    lease_seconds = serializers.IntegerField()
    second_opinion_rate = serializers.FloatField()


class ProgramOutput(serializers.Serializer):
    status = serializers.CharField()
    reason = serializers.CharField()
    changed_at = serializers.DateTimeField(allow_null=True)
    terms_version = serializers.CharField()
    policy = PolicyOutput()


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class RequiredReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class InvitationCreateInput(serializers.Serializer):
    cohort = serializers.SlugField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.TESTER)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    expires_in_days = serializers.IntegerField(default=14, min_value=1, max_value=90)
    max_uses = serializers.IntegerField(default=1, min_value=1, max_value=1000)


class InvitationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    cohort = serializers.CharField(source="cohort.slug")
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_uses = serializers.IntegerField()
    uses = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)

    def get_status(self, invitation) -> str:
        return invitation.status_at(self.context["now"]).value


class InvitationCreatedOutput(InvitationOutput):
    code = serializers.CharField(help_text="Shown only in this response; store it now.")
    url = serializers.URLField()


class RedeemInput(serializers.Serializer):
    code = serializers.CharField(max_length=128)
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    accept_terms = serializers.BooleanField()


class RedeemOutput(serializers.Serializer):
    user = MeOutput()
    token = serializers.CharField()


class CohortOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    size = serializers.IntegerField()
