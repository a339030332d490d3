"""Hot statements run prepared on PostgreSQL.

The platform leaves psycopg's automatic preparation off (Django's default, for connection
poolers). The few statements every request of a hot path runs (the audit insert, the review
queue's claim and decision) ask for it here: with server-side binding, the server parses and
plans each once per connection, and the client skips quoting parameters into the text.
``DB_PREPARED_STATEMENTS=false`` turns it off behind a transaction-mode pooler that cannot
keep prepared statements.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

# psycopg prepares a statement after this many runs unless told to at once; the platform
# leaves automatic preparation off (Django's default, for connection poolers), so only the
# statements below, which ask for it, are prepared.
_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


class _PreparingCursor(CursorWrapper):
    """Django's cursor wrapper (error translation, execute wrappers) over a psycopg cursor
    with server-side binding that prepares each statement the first time it runs."""

    def _execute(self, sql: str, params: Sequence[Any] | None, *ignored_wrapper_args: Any):
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(sql, params, prepare=True)


# Each thread's preparing cursor, kept with the connection it belongs to (a cursor is cheap
# to keep and costs a little to make on every statement).
_kept = threading.local()


def db_of_default() -> BaseDatabaseWrapper:
    """The default database's connection object itself: every attribute read through
    ``django.db.connection`` looks the connection up again, which adds up on a hot path."""
    return connections[DEFAULT_DB_ALIAS]


def prepares(db: BaseDatabaseWrapper) -> bool:
    """Whether ``db`` runs the hot statements prepared: on PostgreSQL, unless
    ``DB_PREPARED_STATEMENTS`` is off (a transaction-mode pooler that cannot keep
    prepared statements) or queries are being logged (DEBUG, query-counting tests), which
    only the ordinary cursor does."""
    return (db.vendor == "postgresql" and not db.queries_logged
            and settings.DB_PREPARED_STATEMENTS)


def run(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any], *,
         row: bool = False) -> Any:
    """Run one statement on ``db``; answers its first row if ``row``, else how many rows it
    changed."""
    if not prepares(db):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if row else cursor.rowcount
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    cursor = getattr(_kept, "cursor", None)
    if cursor is None or cursor.db is not db or cursor.cursor.connection is not raw:
        import psycopg

        if raw.prepare_threshold is None:
            raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
        cursor = _kept.cursor = _PreparingCursor(psycopg.Cursor(raw), db)
    db.validate_thread_sharing()
    cursor.execute(sql, params)
    return cursor.fetchone() if row else cursor.rowcount
