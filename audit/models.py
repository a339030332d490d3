"""The event table. Rows are written once and never changed or removed.

Sealing (sequence numbers and the hash chain) is kept in its own table keyed by event id,
so event rows stay strictly insert-only and the sealer never needs UPDATE on them.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AppendOnlyError("audit events are append-only")


class EventQuerySet(models.QuerySet):
    update = _refuse
    delete = _refuse
    bulk_update = _refuse


class ActorType(models.TextChoices):
    USER = "user", "User"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class Event(models.Model):
    occurred_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    # A plain id, not a foreign key: the log outlives accounts and must never cascade.
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=64, blank=True, help_text="System actors only.")
    actor_role = models.CharField(max_length=32, blank=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Client facts (IP, user agent): personal data, kept out of research views.
    context = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_event_subject")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.subject_type}:{self.subject_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class Seal(models.Model):
    """An event's place in the hash chain.

    ``leaf_hash`` is SHA-256 of the event's canonical JSON; ``hash`` chains it to the previous
    seal. Keeping the leaf apart lets an outside party check a pseudonymous export's order and
    completeness against a signed checkpoint without seeing the identities hashed in the leaf.

    Written only by the sealer, in consecutive ``seq`` order; never changed (triggers in
    PostgreSQL, as for events). ``event_id`` is a plain column, not a foreign key, so that a
    deleted event is something ``audit_verify`` reports rather than something the database
    hides by cascading.
    """

    seq = models.BigIntegerField(primary_key=True)
    event_id = models.BigIntegerField(unique=True)
    leaf_hash = models.CharField(max_length=64,
                                 help_text="Hex SHA-256 of the event's canonical JSON.")
    hash = models.CharField(max_length=64, help_text="Hex SHA-256 of the chain up to this event.")

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"seq {self.seq} → event #{self.event_id}"


class Checkpoint(models.Model):
    """A signed statement of the chain's head: anyone holding one can later prove that the log
    was not cut short or re-hashed from an earlier point."""

    seq = models.BigIntegerField(primary_key=True, help_text="The last sequence number covered.")
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    signature = models.CharField(max_length=128, help_text="Hex Ed25519 signature.")
    key_id = models.CharField(max_length=16, help_text="Fingerprint of the signing key.")

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint at seq {self.seq}"


class Study(models.Model):
    """A research study: its researchers see the log through pseudonyms of their own.

    Pseudonyms are ``HMAC(key, study, user id)``, so two studies cannot link the same person.
    The grants widen what its researchers may read; all are off by default.
    """

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    researchers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="studies",
                                         blank=True)
    grant_identities = models.BooleanField(
        default=False, help_text="Usernames beside pseudonyms.")
    grant_free_text = models.BooleanField(
        default=False, help_text="Free-text notes (decision notes, appeal messages, reasons).")
    grant_client_context = models.BooleanField(
        default=False, help_text="Client facts kept with events (IP address, user agent).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.name
