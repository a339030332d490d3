"""The database a run writes to: it must hold no program yet, or be replaced first.

A simulated program is written into an empty database, so that its log, its datasets and its
ids are the run's alone (and the same on a rerun). The audit log is append-only, in PostgreSQL
enforced by triggers that refuse DELETE and TRUNCATE, so an existing program cannot be
emptied in place: ``database_replace`` drops the database and creates it again (a SQLite file
is deleted), then migrates it. Only a database that lives in this process or belongs to the
test runner is emptied where it stands.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone


def program_data() -> dict[str, int]:
    """What the database holds of a program (all zero in an empty one)."""
    from accounts.models import User
    from audit.models import Event
    from submissions.models import Submission

    return {"accounts": User.objects.count(), "clips": Submission.objects.count(),
            "audit events": Event.objects.count()}


def _emptied_in_place(name: str) -> bool:
    """An in-memory SQLite database lives only in this process, and a test database (Django's
    ``test_`` prefix) belongs to the test runner: both are emptied where they stand."""
    return name == ":memory:" or "mode=memory" in name or Path(name).name.startswith("test_")


def database_replace() -> str:
    """Replace the configured database with a new, migrated one; returns what was done.

    The checkpoint log kept outside the database describes the database being dropped: it is
    renamed aside (never deleted), or the new log's checkpoints would never be appended to it
    and checking the new log against it would fail.
    """
    name = str(connection.settings_dict["NAME"])
    if _emptied_in_place(name):
        call_command("flush", interactive=False, verbosity=0)
        return f"emptied {name}"
    connection.close()
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)
        done = f"deleted {name}"
    elif connection.vendor == "postgresql":
        quoted = connection.ops.quote_name(name)
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
            cursor.execute(f"CREATE DATABASE {quoted}")
        done = f"dropped and created the database {name}"
    else:
        raise NotImplementedError(f"cannot replace a {connection.vendor} database")
    call_command("migrate", interactive=False, verbosity=0)
    return done + _checkpoint_log_set_aside()


def _checkpoint_log_set_aside() -> str:
    log = Path(settings.AUDIT_CHECKPOINT_LOG)
    if not log.exists():
        return ""
    aside = log.with_name(f"{log.name}.replaced-{timezone.now():%Y%m%dT%H%M%SZ}")
    log.rename(aside)
    return f"; the old checkpoint log is now {aside}"
