"""Given-state for the sealing, verification and checkpoint tests: a checkpoint log of each
test's own, a wall clock the test moves, logs built from events with chosen ids, and tampering
the way a database superuser would do it (triggers disabled, then enabled ALWAYS again)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

import audit
from audit import sealing, signing
from audit.models import Event
from tests.clocks import ManualClock

T0 = datetime(2025, 3, 4, 9, 0, 0, 123456, tzinfo=UTC)
TABLES = ("audit_event", "audit_seal", "audit_checkpoint")


@pytest.fixture(autouse=True)
def checkpoint_log(settings, tmp_path):
    """Every test appends checkpoints to a file of its own."""
    settings.AUDIT_CHECKPOINT_LOG = tmp_path / "checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_LOG


@pytest.fixture
def public_key(settings) -> bytes:
    """The raw public key of the configured signing key."""
    return signing.raw_public_key(signing.private_key())


@pytest.fixture
def public_key_b64(public_key) -> str:
    return base64.b64encode(public_key).decode()


@pytest.fixture
def wall_clock(monkeypatch) -> ManualClock:
    """The sealer's clock, moved by the test."""
    clock = ManualClock(T0)
    monkeypatch.setattr(sealing, "_wall_clock", clock)
    return clock


def record(reason: str = "Leak") -> Event:
    """One event through the real write path, in its own transaction."""
    with transaction.atomic():
        return audit.record("program.suspended", actor=audit.SystemActor("test"),
                            subject=("accounts.program", "1"),
                            data={"from_status": "open", "reason": reason})


def event_with_id(event_id: int, reason: str = "Leak") -> Event:
    """An event with a chosen id, as a transaction that drew it earlier commits it now."""
    return Event.objects.create(
        id=event_id, occurred_at=T0 + timedelta(seconds=event_id), action="program.suspended",
        actor_type="system", actor_name="test", subject_type="accounts.program", subject_id="1",
        data={"from_status": "open", "reason": reason})


def seal(**options) -> int:
    """A sealing run, with the checkpoint log appended as after a real commit."""
    run = sealing.seal_run(**options)
    if run.sealed:
        sealing.append_checkpoint_log()
    return run.sealed


@contextmanager
def triggers_disabled() -> Iterator[None]:
    """What a superuser can do: switch the append-only triggers off, and back on (ALWAYS)."""
    if connection.vendor != "postgresql":
        yield  # SQLite has no triggers: raw SQL already reaches the rows
        return
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in TABLES:
                for trigger in ("append_only", "no_truncate"):
                    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_{trigger}")


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def tamper(*statements: str | tuple[str, list]) -> None:
    """Run ``statements`` with the triggers off, as an insider with superuser rights."""
    with triggers_disabled():
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, None)
            execute(sql, params)
