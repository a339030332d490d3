"""Users and their roles, cohorts, invitations, terms acceptances and the program itself."""

from __future__ import annotations

import hashlib
import uuid
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    TESTER = "tester", "Tester"
    MODERATOR = "moderator", "Moderator"
    RESEARCHER = "researcher", "Researcher"
    PROGRAM_ADMIN = "program_admin", "Program admin"


# Everyone but testers works for the program and keeps access while it is suspended.
STAFF_ROLES = frozenset({Role.MODERATOR, Role.RESEARCHER, Role.PROGRAM_ADMIN})


class Cohort(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person in the program. Roles are Django groups named after ``Role`` values."""

    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="accounts_user_email_unique"
            ),
        ]

    @cached_property
    def roles(self) -> frozenset[str]:
        """The user's roles; a superuser holds every role."""
        if self.is_superuser:
            return frozenset(Role.values)
        names = set(self.groups.values_list("name", flat=True))
        return frozenset(name for name in Role.values if name in names)

    def has_role(self, role: str) -> bool:
        return self.is_active and role in self.roles

    @property
    def is_program_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def audit_role(self) -> str:
        """The role recorded on the user's audit events: the most privileged one held."""
        for role in (Role.PROGRAM_ADMIN, Role.MODERATOR, Role.RESEARCHER, Role.TESTER):
            if role in self.roles:
                return role
        return ""


class ProgramStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAUSED = "paused", "Paused"
    SUSPENDED = "suspended", "Suspended"


def default_allowed_codecs() -> list[str]:
    return ["h264", "hevc", "vp9", "av1"]


class TokenAnomalyAction(models.TextChoices):
    """What the token watch does when a token is used like a leaked one."""

    ALERT = "alert", "Alert the program admins"
    REVOKE = "revoke", "Revoke the token"


class Program(models.Model):
    """The program's single row: its switch and the policy other parts of the platform read."""

    SINGLETON_ID = 1

    status = models.CharField(max_length=16, choices=ProgramStatus.choices,
                              default=ProgramStatus.OPEN)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    terms_version = models.CharField(max_length=32, default="2024-02")
    terms_text = models.TextField(default=(
        "Clips and prompts made in the program are confidential until approved. Do not share "
        "your access or any unapproved clip. Access may be paused or suspended at any time."
    ))
    max_duration_s = models.PositiveIntegerField(default=20)
    max_width = models.PositiveIntegerField(default=1920)
    max_height = models.PositiveIntegerField(default=1080)
    max_upload_bytes = models.PositiveBigIntegerField(default=200 * 1024 * 1024)
    allowed_video_codecs = models.JSONField(default=default_allowed_codecs)
    lease_seconds = models.PositiveIntegerField(default=600)
    second_opinion_rate = models.FloatField(default=0.05)
    # The token watch (accounts.services.token_watch): when an API token looks shared.
    token_max_addresses = models.PositiveIntegerField(
        default=5, help_text="Distinct client addresses a token may use within one hour.")
    token_rate_factor = models.FloatField(
        default=10.0, help_text="Requests in one hour above this many times the owner's usual "
                                "hourly rate flag the token.")
    token_rate_floor = models.PositiveIntegerField(
        default=120, help_text="The rate threshold never drops below this many requests in one "
                               "hour, so a new tester's first burst is not flagged.")
    token_anomaly_action = models.CharField(
        max_length=16, choices=TokenAnomalyAction.choices, default=TokenAnomalyAction.ALERT)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="accounts_program_singleton"),
            models.CheckConstraint(
                condition=models.Q(second_opinion_rate__gte=0, second_opinion_rate__lte=1),
                name="accounts_program_second_opinion_rate_range",
            ),
            models.CheckConstraint(condition=models.Q(token_max_addresses__gte=1),
                                   name="accounts_program_token_max_addresses_positive"),
            models.CheckConstraint(condition=models.Q(token_rate_factor__gte=1),
                                   name="accounts_program_token_rate_factor_at_least_one"),
            models.CheckConstraint(condition=models.Q(token_rate_floor__gte=1),
                                   name="accounts_program_token_rate_floor_positive"),
        ]

    def __str__(self) -> str:
        return f"Program ({self.status})"

    @property
    def policy(self) -> dict[str, object]:
        return {
            "max_duration_s": self.max_duration_s,
            "max_width": self.max_width,
            "max_height": self.max_height,
            "max_upload_bytes": self.max_upload_bytes,
            "allowed_video_codecs": list(self.allowed_video_codecs),
            "lease_seconds": self.lease_seconds,
            "second_opinion_rate": self.second_opinion_rate,
        }

    @property
    def token_watch_policy(self) -> dict[str, object]:
        """The token watch's thresholds and action. Shown to program admins only: someone
        holding a leaked token could otherwise pace themselves just under them."""
        return {
            "token_max_addresses": self.token_max_addresses,
            "token_rate_factor": self.token_rate_factor,
            "token_rate_floor": self.token_rate_floor,
            "token_anomaly_action": self.token_anomaly_action,
        }


class TermsAcceptance(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="terms_acceptances")
    version = models.CharField(max_length=32)
    accepted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="accounts_terms_once"),
        ]
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.user_id} accepted terms {self.version}"


class InvitationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    USED_UP = "used_up", "Used up"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """An invitation to join with one role and cohort. The code itself is never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code_hash = models.CharField(max_length=64, unique=True)
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="invitations")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.TESTER)
    email = models.EmailField(blank=True, help_text="If set, only this address may redeem it.")
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="invitations_created")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(uses__lte=models.F("max_uses")),
                                   name="accounts_invitation_uses_within_max"),
            models.CheckConstraint(condition=models.Q(max_uses__gte=1),
                                   name="accounts_invitation_max_uses_positive"),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.id} ({self.role}, {self.cohort_id})"

    def status_at(self, moment) -> InvitationStatus:
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.uses >= self.max_uses:
            return InvitationStatus.USED_UP
        if self.expires_at <= moment:
            return InvitationStatus.EXPIRED
        return InvitationStatus.ACTIVE


class Redemption(models.Model):
    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT,
                                   related_name="redemptions")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="redemption")
    redeemed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} redeemed {self.invitation_id}"


def token_fingerprint(key: str) -> str:
    """A short, stable name for an API token that cannot be turned back into its key (the key
    itself carries 160 random bits). Audit events and pages show this, never the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class TokenUsage(models.Model):
    """How a user's API token is usually used, and the watch's bookkeeping for it.

    One row per user, written at most once per hour in which the token is used (when that
    hour's window opens) and when an anomaly is recorded; never per request. Requests are
    counted in the cache (see ``accounts.services.token_watch``).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True,
                                on_delete=models.CASCADE, related_name="token_usage")
    usual_per_hour = models.FloatField(
        default=0, help_text="Moving average of requests per hour, over hours of use.")
    hours_learned = models.PositiveIntegerField(
        default=0, help_text="How many hours of use the average has learnt from.")
    current_window = models.DateTimeField(
        null=True, blank=True, help_text="Start of the latest hour the token was used in.")
    last_anomaly_window = models.DateTimeField(
        null=True, blank=True, help_text="Start of the latest hour that raised an anomaly.")

    class Meta:
        verbose_name_plural = "token usage"

    def __str__(self) -> str:
        return f"token usage of {self.user_id}: {self.usual_per_hour:.1f}/h"
