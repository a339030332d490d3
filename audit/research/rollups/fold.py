"""Folding new events into the rollups: which events are new, the batches, the watermark,
and the lock that makes two refreshes take turns (see the package's docstring)."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from audit.models import RollupState
from audit.research.rollups.statements import statements

# Events per transaction: bounded, so a first fold of a long log commits as it goes.
BATCH = 50_000
# PostgreSQL: the longest a missing event id may hold the watermark back. The events of an
# audited transaction open for longer than this are lost to the rollups (not to the log).
# Wall time, not the program's clock: it waits for a database transaction, whatever time
# the program thinks it is.
GRACE = timedelta(minutes=10)
# The metrics endpoint folds the tail itself only when it is this short; a longer one is the
# periodic task's work (it runs every 30 s), so a request never waits on a big fold.
TAIL = 5_000


def _state(*, nowait: bool) -> RollupState | None:
    """The state row, locked for this transaction; None if ``nowait`` and it is taken."""
    for _attempt in range(2):
        try:
            with transaction.atomic():  # a savepoint: a refused lock leaves the caller usable
                return RollupState.objects.select_for_update(nowait=nowait).get(pk=1)
        except OperationalError:
            if nowait:
                return None
            raise
        except RollupState.DoesNotExist:
            try:
                with transaction.atomic():
                    RollupState.objects.create(pk=1)
            except IntegrityError:
                pass  # another refresh created it first
    raise RuntimeError("the rollup state row could not be read")


def _fold_batch(state: RollupState, sql: dict[str, str], *, limit: int) -> int:
    """Fold up to ``limit`` new events into the facts; returns how many were new."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    postgres = connection.vendor == "postgresql"
    batch = state.batch + 1
    with connection.cursor() as cursor:
        if postgres:
            # These statements touch a few thousand rows but look costly to the planner
            # before it sees the data; compiling them to machine code (JIT) would take
            # seconds, a hundred times the work itself.
            cursor.execute("SET LOCAL jit = off", [])
            # Asked before this batch reads the log: if every transaction that was writing
            # when the last batch ended has ended by now, whatever events they wrote are
            # visible to this batch, so the last horizon is safe to pass.
            cursor.execute(sql["still_running"], [state.horizon_xids])
            horizon_passed = cursor.fetchone()[0] == 0
        cursor.execute(sql["claim"], [batch, adapt(now), state.folded_through, limit])
        folded = cursor.rowcount
        if folded:
            cursor.execute(sql["dirty_submissions"], [batch])
            # Always with a parameter list, so "%%" in the SQL reads as "%" on both drivers.
            for name in ("dirty_hours",  # where the old facts counted
                         "drop_submissions", "drop_entries",
                         "submissions",  # before the entries: they take its cohort
                         "entries",
                         "dirty_hours",  # where the new facts count
                         "drop_counts", "counts", "drop_histograms", "histograms",
                         "clear_submissions", "clear_hours"):
                cursor.execute(sql[name], [])
        watermark = state.folded_through
        if postgres:
            if horizon_passed:
                watermark = max(watermark, state.horizon_event_id)
            cursor.execute(sql["consecutive"], [watermark])
            watermark = max(watermark, cursor.fetchone()[0] or 0)
            cursor.execute(sql["settled"], [adapt(now - GRACE)])
            watermark = max(watermark, cursor.fetchone()[0] or 0)
        else:
            # One writer at a time, holding the lock from its first insert to its commit:
            # every id below a visible one has committed already (or never will).
            cursor.execute(sql["highest"], [])
            watermark = max(watermark, cursor.fetchone()[0] or 0)
        cursor.execute(sql["forget"], [watermark])
        if postgres:
            cursor.execute(sql["horizon"], [watermark])
            state.horizon_event_id, state.horizon_xids = cursor.fetchone()
    state.folded_through, state.batch, state.refreshed_at = watermark, batch, now
    state.save(update_fields=["folded_through", "batch", "refreshed_at", "horizon_event_id",
                              "horizon_xids"])
    return folded


def refresh(*, limit: int | None = None) -> int:
    """Fold every event not folded yet (up to ``limit``); returns how many were folded.

    Safe to call at any time and from several processes at once (they take turns).
    """
    sql = statements(connection.vendor)
    total = 0
    while limit is None or total < limit:
        size = BATCH if limit is None else min(BATCH, limit - total)
        with transaction.atomic():
            folded = _fold_batch(_state(nowait=False), sql, limit=size)
        total += folded
        if folded < size:
            break
    return total


def refresh_tail() -> int:
    """Fold the newest events before answering a request, if there are only a few and no
    other refresh is at work; otherwise leave them to the periodic task. Returns how many
    were folded. With nothing new (the usual case) this is one small query."""
    sql = statements(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql["tail"], [TAIL + 1])
        waiting = cursor.fetchone()[0]
    if waiting == 0 or waiting > TAIL:
        return 0
    with transaction.atomic():
        state = _state(nowait=True)
        if state is None:
            return 0
        return _fold_batch(state, sql, limit=TAIL)


def rollup_state() -> RollupState:
    """How fresh the rollups are (a fresh, unsaved row before the first refresh)."""
    return RollupState.objects.filter(pk=1).first() or RollupState(pk=1)
