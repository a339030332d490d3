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


# --- Research rollups ---------------------------------------------------------------------
# Derived from the events by ``audit.research.rollups.refresh()`` and rebuilt from them at
# will: unlike the rows above they are not evidence, only a faster way to read it.


class RollupState(models.Model):
    """How far the rollups have read the log (a single row).

    Every event with an id up to ``folded_through`` is folded in or is known never to have
    committed; events above it that are already folded are listed in ``RollupFoldedEvent``.
    On PostgreSQL, ``horizon_event_id`` is the highest id folded by the last refresh and
    ``horizon_xids`` the transactions that were writing to the database then: once they
    have all ended, no event up to the horizon can still appear.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    folded_through = models.BigIntegerField(default=0)
    batch = models.BigIntegerField(default=0, help_text="The last refresh batch's number.")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    horizon_event_id = models.BigIntegerField(default=0)
    horizon_xids = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "audit_rollup_state"

    def __str__(self) -> str:
        return f"rollups folded through event #{self.folded_through}"


class RollupFoldedEvent(models.Model):
    """An event above the watermark that is already folded in. An id missing below a folded
    one may belong to a transaction that has not committed yet, so the watermark waits for
    it (for a grace period) rather than skip it."""

    event_id = models.BigIntegerField(primary_key=True)
    batch = models.BigIntegerField(db_index=True)
    folded_at = models.DateTimeField()

    class Meta:
        db_table = "audit_rollup_folded"

    def __str__(self) -> str:
        return f"event #{self.event_id} folded in batch {self.batch}"


class RollupDirtySubmission(models.Model):
    """Scratch rows of one refresh: the clips whose facts it rebuilds. Empty between
    refreshes (filled and emptied inside the refresh's transaction)."""

    submission_id = models.CharField(max_length=64, primary_key=True)

    class Meta:
        db_table = "audit_rollup_dirty_submission"

    def __str__(self) -> str:
        return self.submission_id


class RollupDirtyHour(models.Model):
    """Scratch rows of one refresh: the hours whose counts it rebuilds."""

    hour = models.DateTimeField(primary_key=True)
    hour_end = models.DateTimeField()

    class Meta:
        db_table = "audit_rollup_dirty_hour"

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00}"


class SubmissionRollup(models.Model):
    """One row per clip: the time of every stage, its status now and its first verdict."""

    submission_id = models.CharField(max_length=64, primary_key=True)
    cohort = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(null=True, db_index=True)
    submitted_at = models.DateTimeField(null=True)
    entered_queue_at = models.DateTimeField(null=True)
    first_claimed_at = models.DateTimeField(null=True)
    decided_at = models.DateTimeField(null=True, db_index=True,
                                      help_text="The first effective decision.")
    outcome = models.CharField(max_length=16, blank=True,
                               help_text="The first effective decision's outcome.")
    appealed_at = models.DateTimeField(null=True)
    withdrawn_at = models.DateTimeField(null=True)
    failed_at = models.DateTimeField(null=True)
    shared_at = models.DateTimeField(null=True)
    time_to_decision_s = models.FloatField(
        null=True, help_text="From entering the queue to the first effective decision.")
    time_to_decision_bin = models.SmallIntegerField(
        null=True, help_text="Its histogram bin (see HistogramRollup).")
    last_event_id = models.BigIntegerField()

    class Meta:
        db_table = "audit_rollup_submission"
        indexes = [models.Index(fields=["cohort", "created_at"],
                                name="audit_rollup_sub_cohort"),
                   # Ranking one bin's values reads only this index (PostgreSQL).
                   models.Index(fields=["time_to_decision_bin", "time_to_decision_s"],
                                include=["cohort", "decided_at"],
                                name="audit_rollup_sub_ttd_bin")]

    def __str__(self) -> str:
        return f"{self.submission_id} ({self.status})"


class QueueEntryRollup(models.Model):
    """One row per entry of a clip into the review queue, keyed by the event that entered it
    (processed, appealed, escalated, sampled for a second opinion), with how it left."""

    entry_event_id = models.BigIntegerField(primary_key=True)
    submission_id = models.CharField(max_length=64, db_index=True)
    cohort = models.CharField(max_length=64, blank=True)
    track = models.CharField(max_length=16)
    entered_at = models.DateTimeField(db_index=True)
    first_claimed_at = models.DateTimeField(null=True)
    claims = models.PositiveIntegerField(default=0)
    exited_at = models.DateTimeField(null=True, db_index=True)
    exit_reason = models.CharField(max_length=16, blank=True, help_text="decided or withdrawn.")
    decision_event_id = models.BigIntegerField(null=True)
    moderator_id = models.BigIntegerField(null=True, db_index=True)
    outcome = models.CharField(max_length=16, blank=True)
    effective = models.BooleanField(null=True)
    appeal_result = models.CharField(max_length=16, blank=True)
    compared_outcome = models.CharField(
        max_length=16, blank=True, help_text="Second opinions: the first decision's outcome.")
    wait_s = models.FloatField(null=True, help_text="From entry to the first claim.")
    wait_bin = models.SmallIntegerField(null=True,
                                        help_text="Its histogram bin (see HistogramRollup).")
    decision_s = models.FloatField(null=True, help_text="From entry to the decision.")
    held_s = models.FloatField(null=True, help_text="From the deciding claim to the decision.")

    class Meta:
        db_table = "audit_rollup_queue_entry"
        indexes = [models.Index(fields=["wait_bin", "wait_s"],
                                include=["cohort", "track", "entered_at"],
                                name="audit_rollup_entry_wait_bin")]

    def __str__(self) -> str:
        return f"{self.track} entry of {self.submission_id}"


class RollupPeriod(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"


class CountRollup(models.Model):
    """Counts and sums per hour and per day (``period``) and cohort. A window of time is
    read from the days it covers whole, then the hours, and only its first and last minutes
    from the facts. ``measure`` names what is counted (``audit.research.rollups.MEASURES``),
    ``key`` splits it; ``moderator_id`` is 0 where the measure has no moderator."""

    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    start = models.DateTimeField()
    cohort = models.CharField(max_length=64, blank=True)
    measure = models.CharField(max_length=32)
    key = models.CharField(max_length=64, blank=True)
    moderator_id = models.BigIntegerField(default=0)
    n = models.PositiveIntegerField()
    total = models.FloatField(null=True, help_text="The sum of the measure's value, if any.")

    class Meta:
        db_table = "audit_rollup_count"
        constraints = [models.UniqueConstraint(
            fields=["period", "start", "cohort", "measure", "key", "moderator_id"],
            name="audit_rollup_count_unique")]
        indexes = [models.Index(fields=["period", "measure", "start"],
                                name="audit_rollup_count_measure")]

    def __str__(self) -> str:
        return f"{self.period} {self.start:%Y-%m-%d %H:00} {self.measure}/{self.key}: {self.n}"


class HistogramRollup(models.Model):
    """How many durations fell in each bin, per hour and per day (``period``) and cohort.
    Bin ``b`` holds the values ``v`` with ``floor(8 * log2(v + 1)) = b`` (each about 9 %
    wide), so a percentile is found by counting bins here and ranking only the values of
    one bin among the facts."""

    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    start = models.DateTimeField()
    cohort = models.CharField(max_length=64, blank=True)
    metric = models.CharField(max_length=32)
    bin = models.SmallIntegerField()
    n = models.PositiveIntegerField()

    class Meta:
        db_table = "audit_rollup_histogram"
        constraints = [models.UniqueConstraint(
            fields=["period", "start", "cohort", "metric", "bin"],
            name="audit_rollup_histogram_unique")]
        indexes = [models.Index(fields=["period", "metric", "start"],
                                name="audit_rollup_hist_metric")]

    def __str__(self) -> str:
        return f"{self.period} {self.start:%Y-%m-%d %H:00} {self.metric} bin {self.bin}: {self.n}"
