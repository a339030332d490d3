"""Verification of the sealed log: recompute every leaf and the whole chain from the rows,
check every checkpoint's head and signature, and name the first sequence number that does not
match (``manage.py audit_verify``; docs/verifying-the-log.md).

What each kind of tampering looks like from here:

- an event row changed, or two rows' contents swapped: its leaf no longer matches
  (``event_changed``); seals pointed at each other's events: each event's leaf is the one
  sealed at the other seq (``reordered``);
- an event row deleted: a seal without its event (``event_missing``); a seal deleted: a gap
  in the sequence (``seal_missing``); a seal's hash rewritten: ``chain_broken``;
- an event inserted among sealed ones: an unsealed event below the low-water mark
  (``unsealed``);
- the chain re-hashed from some point on: the first checkpoint after that point no longer
  matches (``checkpoint_head``), or, if its checkpoints were deleted, seals that no checkpoint
  covers (``uncovered``);
- with checkpoints kept outside the database: a log cut short (``truncated``) or re-hashed
  and re-signed (``kept_checkpoint_mismatch``), which nothing inside the database can reveal.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from audit import signing
from audit.models import Checkpoint, Event, Seal
from audit.sealing import (
    GENESIS,
    configured_public_keys,
    event_columns,
    low_water_mark,
    row_reader,
    seal_margin,
)

WINDOW = 5000
MAX_LISTED = 1000  # problems kept in the report; more are only counted


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message}"


@dataclass(frozen=True)
class KeptCheckpoint:
    """A checkpoint kept outside the database (a line of the checkpoint log, or the API's
    answer saved to a file)."""

    seq: int
    head_hash: str
    created_at: str
    signature: str
    key_id: str
    source: str = field(default="", compare=False)  # where it was read: copies count once


@dataclass
class Report:
    sealed: int = 0
    head_hash: str = GENESIS
    checkpoints: int = 0
    kept_checkpoints: int = 0
    pending: int = 0
    low_water_mark: int = 0
    key_ids: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)  # the first MAX_LISTED found
    problem_count: int = 0
    first: Problem | None = None  # at the lowest seq (the earliest found among equals)
    late_sealed: int = 0
    first_late_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, seq: int, kind: str, message: str) -> None:
        problem = Problem(seq, kind, message)
        self.problem_count += 1
        if self.first is None or seq < self.first.seq:
            self.first = problem
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)


class CheckpointFileError(ValueError):
    """A checkpoint file that cannot be read as checkpoints at all."""


@dataclass(frozen=True)
class CheckpointFile:
    checkpoints: list[KeptCheckpoint]
    unreadable_lines: list[int]  # lines that are not JSON: writes cut short by a crash


def read_checkpoint_file(path: Path | str) -> CheckpointFile:
    """The checkpoints in ``path``: one checkpoint's JSON, or the JSON Lines checkpoint log.

    A line that is not JSON is left out and listed: a write cut short by a crash leaves one,
    which the sealer closes off and writes again after it (and a kept checkpoint counts only
    by its signature, so nothing unreadable can pass for one). JSON that is not a checkpoint,
    or a file without any, is an error naming where."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    unreadable = []
    try:
        numbered = [(1, json.loads(text))]
    except json.JSONDecodeError:
        numbered = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((number, json.loads(line)))
            except json.JSONDecodeError:
                unreadable.append(number)
    kept = []
    for number, document in numbered:
        try:
            kept.append(KeptCheckpoint(
                seq=int(document["seq"]), head_hash=str(document["head_hash"]),
                created_at=str(document["created_at"]), signature=str(document["signature"]),
                key_id=str(document["key_id"]), source=f"{path}:{number}"))
        except (KeyError, TypeError, ValueError):
            raise CheckpointFileError(
                f"{path}:{number} is not a checkpoint (it needs seq, head_hash, created_at, "
                "signature and key_id)") from None
    if not kept:
        raise CheckpointFileError(f"{path} holds no checkpoint")
    return CheckpointFile(kept, unreadable)


def verify_log(*, kept: Iterable[KeptCheckpoint] = (),
               public_keys: dict[str, bytes] | None = None,
               margin: timedelta | None = None) -> Report:
    """Check the whole log; the report lists every problem found (``report.first`` is the one
    to look at first). ``public_keys`` (``{key_id: raw key}``) adds keys beyond the configured
    one, e.g. a key retired since it signed older checkpoints."""
    keys = configured_public_keys() | (public_keys or {})
    margin = seal_margin() if margin is None else margin
    report = Report()
    kept = _trusted(sorted(set(kept), key=lambda checkpoint: checkpoint.seq), keys, report)
    own_transaction = not connection.in_atomic_block
    snapshot = None
    with transaction.atomic():
        if own_transaction and connection.vendor == "postgresql":
            # One snapshot for every query: a sealing run committing meanwhile changes nothing.
            # Exported, so a second connection can read ahead inside the same snapshot.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
        report.low_water_mark = low_water_mark(margin)
        chain = _Chain(report, keys, kept, margin, snapshot=snapshot)
        chain.walk()
        _check_unsealed(report, sealed_at_or_below_mark=chain.present_at_or_below_mark)
    _name_reorderings(report, chain.mismatched_leaves)
    return report


def _trusted(kept: list[KeptCheckpoint], keys: dict[str, bytes],
             report: Report) -> list[KeptCheckpoint]:
    """The kept checkpoints whose signature holds; the others are problems of their own."""
    trusted = []
    for checkpoint in kept:
        key = keys.get(checkpoint.key_id)
        message = signing.checkpoint_message(checkpoint.seq, checkpoint.head_hash,
                                             checkpoint.created_at)
        if key is None:
            report.add(checkpoint.seq, "kept_checkpoint_unknown_key",
                       f"the kept checkpoint ({checkpoint.source}) is signed by key "
                       f"{checkpoint.key_id}, which is not known here (pass --public-key)")
        elif not signing.signature_valid(key, message, checkpoint.signature):
            report.add(checkpoint.seq, "kept_checkpoint_signature",
                       f"the kept checkpoint ({checkpoint.source}) does not carry a valid "
                       f"signature of key {checkpoint.key_id}: it proves nothing")
        else:
            trusted.append(checkpoint)
    return trusted


class _Chain:
    """One pass over the seals in seq order, with their events and checkpoints."""

    def __init__(self, report: Report, keys: dict[str, bytes], kept: list[KeptCheckpoint],
                 margin: timedelta, *, snapshot: str | None) -> None:
        self.report, self.keys, self.margin, self.snapshot = report, keys, margin, snapshot
        self.kept = deque(kept)
        self.last_kept_match = 0
        self.mismatched_leaves: dict[int, tuple[bytes, bytes, int]] = {}
        self.present_at_or_below_mark = 0  # sealed events still there, id <= low-water mark
        # Checkpoints passed, to tell which seals a run made below its own low-water mark.
        self.recent: deque[tuple[datetime, int]] = deque()
        self.run_floor = 0
        self.floor_candidate = 0
        self.last_checkpoint_seq = 0

    def walk(self) -> None:
        report = self.report
        expected, previous = 1, bytes(32)
        reader = row_reader(connection.vendor)
        sha256, fromhex = hashlib.sha256, bytes.fromhex
        mark = report.low_water_mark
        windows = (self._windows() if self.snapshot is None
                   else _read_ahead(self._windows, self.snapshot))
        for seals, events, checkpoints in windows:
            for seq, event_id, leaf_hex, hash_hex in seals:
                if seq != expected:
                    report.add(expected, "seal_missing",
                               f"seals {expected}..{seq - 1} are missing: the chain jumps "
                               f"from seq {expected - 1} to seq {seq}")
                try:
                    stored_leaf, stored_hash = fromhex(leaf_hex), fromhex(hash_hex)
                except ValueError:
                    report.add(seq, "chain_broken", "the seal's hashes are not hex")
                    stored_leaf = stored_hash = bytes(32)
                row = events.get(event_id)
                if row is None:
                    report.add(seq, "event_missing",
                               f"event #{event_id} is missing: its row was deleted, or its "
                               "id changed")
                else:
                    leaf = sha256(reader(row)).digest()
                    if leaf != stored_leaf:
                        report.add(seq, "event_changed",
                                   f"event #{event_id} was changed: its row no longer "
                                   "matches the leaf hash sealed for it")
                        if len(self.mismatched_leaves) < MAX_LISTED:
                            self.mismatched_leaves[seq] = (leaf, stored_leaf, event_id)
                    if event_id <= mark:
                        self.present_at_or_below_mark += 1
                if sha256(previous + stored_leaf).digest() != stored_hash:
                    report.add(seq, "chain_broken",
                               "the seal's hash does not follow from the previous seal and "
                               "its leaf: the seal was rewritten")
                if event_id <= self.run_floor:
                    report.late_sealed += 1
                    report.first_late_seq = report.first_late_seq or seq
                previous, expected = stored_hash, seq + 1
                if seq in checkpoints:
                    self._checkpoint(seq, event_id, hash_hex, checkpoints[seq])
                while self.kept and self.kept[0].seq <= seq:
                    self._kept(seq, hash_hex, self.kept.popleft())
            report.sealed += len(seals)
        report.head_hash = previous.hex() if expected > 1 else GENESIS
        self._tail(expected - 1)

    # -- reading, in windows ---------------------------------------------------------------

    def _windows(self) -> Iterator[tuple[list[tuple], dict[int, tuple], dict[int, tuple]]]:
        """``(seals, their events by id, checkpoints by seq)``, a window of seals at a time."""
        for seals in self._seal_windows():
            yield (seals, self._events([seal[1] for seal in seals]),
                   self._checkpoints(seals[0][0], seals[-1][0]))

    def _seal_windows(self) -> Iterable[list[tuple]]:
        """Seals in seq order, a window at a time, from a server-side cursor on PostgreSQL."""
        sql = (f"SELECT seq, event_id, leaf_hash, hash FROM {_table(Seal)} "  # noqa: S608
               "ORDER BY seq")
        if connection.vendor == "postgresql":
            cursor = connection.connection.cursor(name="audit_verify_seals")
        else:
            cursor = connection.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(WINDOW):
                yield rows
        finally:
            cursor.close()

    def _events(self, ids: Sequence[int]) -> dict[int, tuple]:
        """The events of a window of seals, by id. Seals follow id order but for late
        commits, so a window's ids nearly always fill a narrow range: read that range (an
        index range scan, nothing to send but two numbers), else ask for the ids."""
        columns, low, high = event_columns(connection.vendor), min(ids), max(ids)
        select = f"SELECT {columns} FROM {_table(Event)} e WHERE "  # noqa: S608
        if high - low < 2 * len(ids):
            queries = [(select + "e.id >= %s AND e.id <= %s", [low, high])]
        elif connection.vendor == "postgresql":
            # An array literal: psycopg's list adaptation costs more than the lookup.
            queries = [(select + "e.id = ANY(%s::bigint[])",
                        ["{" + ",".join(map(str, ids)) + "}"])]
        else:  # in chunks below SQLite's oldest limit on query parameters (999)
            queries = [(select + f"e.id IN ({', '.join(['%s'] * len(chunk))})", list(chunk))
                       for chunk in (ids[start:start + 900] for start in range(0, len(ids), 900))]
        events = {}
        with connection.cursor() as cursor:
            for sql, params in queries:
                cursor.execute(sql, params)
                events.update((row[0], row) for row in cursor.fetchall())
        return events

    def _checkpoints(self, first: int, last: int) -> dict[int, tuple]:
        rows = Checkpoint.objects.filter(seq__gte=first, seq__lte=last).values_list(
            "seq", "head_hash", "created_at", "signature", "key_id")
        return {row[0]: row for row in rows}

    # -- checks at checkpoints ---------------------------------------------------------------

    def _checkpoint(self, seq: int, event_id: int, hash_hex: str, row: tuple) -> None:
        report = self.report
        _, head_hash, created_at, signature, key_id = row
        report.checkpoints += 1
        report.key_ids.add(key_id)
        self.last_checkpoint_seq = seq
        if head_hash != hash_hex:
            report.add(seq, "checkpoint_head",
                       f"the checkpoint at seq {seq} records head {head_hash[:16]}… but the "
                       f"chain has {hash_hex[:16]}… there: the chain was rewritten after the "
                       "checkpoint was signed")
        key = self.keys.get(key_id)
        message = signing.checkpoint_message(seq, head_hash, signing.timestamp(created_at))
        if key is None:
            report.add(seq, "checkpoint_unknown_key",
                       f"the checkpoint at seq {seq} is signed by key {key_id}, which is not "
                       "known here (pass --public-key)")
        elif not signing.signature_valid(key, message, signature):
            report.add(seq, "checkpoint_signature",
                       f"the checkpoint at seq {seq} does not carry a valid signature of key "
                       f"{key_id}")
        # The low-water mark of the run after this one (as the sealer placed it).
        self.recent.append((created_at, event_id))
        threshold = created_at - self.margin
        while self.recent and self.recent[0][0] <= threshold:
            self.floor_candidate = self.recent.popleft()[1]
        self.run_floor = self.floor_candidate

    def _kept(self, seq: int, hash_hex: str, kept: KeptCheckpoint) -> None:
        report = self.report
        report.kept_checkpoints += 1
        if kept.seq < seq:  # a seq the database no longer has: reported as a gap already
            return
        if kept.head_hash != hash_hex:
            report.add(seq, "kept_checkpoint_mismatch",
                       f"the chain no longer reaches the head of the kept checkpoint at seq "
                       f"{seq} ({kept.source}: {kept.head_hash[:16]}…, database "
                       f"{hash_hex[:16]}…): the log was rewritten after seq "
                       f"{self.last_kept_match}")
        else:
            self.last_kept_match = seq

    def _tail(self, last_seq: int) -> None:
        report = self.report
        for kept in self.kept:
            report.kept_checkpoints += 1
            report.add(last_seq + 1, "truncated",
                       f"the chain ends at seq {last_seq}, but a kept checkpoint "
                       f"({kept.source}) covers seq {kept.seq}: seals "
                       f"{last_seq + 1}..{kept.seq} were removed (the log was cut short)")
        beyond = Checkpoint.objects.filter(seq__gt=last_seq).order_by("seq").first()
        if beyond is not None:
            report.add(last_seq + 1, "truncated",
                       f"the chain ends at seq {last_seq}, but a checkpoint covers seq "
                       f"{beyond.seq}: seals after seq {last_seq} were removed")
        if last_seq > self.last_checkpoint_seq and beyond is None:
            first = self.last_checkpoint_seq + 1
            report.add(first, "uncovered",
                       f"seals {first}..{last_seq} are covered by no checkpoint: checkpoints "
                       "were deleted, or seals written outside the sealer")


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_DONE = object()
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


def _read_ahead(windows: Callable[[], Iterator[Any]], snapshot: str) -> Iterator[Any]:
    """Iterate ``windows()`` on a thread with a connection of its own, inside the same exported
    snapshot, one window ahead: the database reads and sends the next window while this
    thread hashes the current one (waiting on the socket releases the GIL)."""
    if not _SNAPSHOT_ID.match(snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    ahead: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                for item in windows():
                    if not offer(item):
                        return
            offer(_DONE)
        except BaseException as error:  # handed to the reading side, which raises it
            offer(error)
        finally:
            connection.close()

    reader = threading.Thread(target=produce, name="audit-verify-reader", daemon=True)
    reader.start()
    try:
        while (item := ahead.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _check_unsealed(report: Report, *, sealed_at_or_below_mark: int) -> None:
    """Unsealed events at or below the low-water mark are problems (something put into the
    sealed past); above it they are events still waiting for the sealer. Counting first keeps
    the anti-join below the mark for when something is actually missing."""
    mark = report.low_water_mark
    event_table, seal_table = _table(Event), _table(Seal)
    unsealed = (f"FROM {event_table} e WHERE {{range}} AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {seal_table} s WHERE s.event_id = e.id)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {unsealed.format(range='e.id > %s')}", [mark])
        report.pending = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {event_table} WHERE id <= %s",  # noqa: S608
                       [mark])
        if cursor.fetchone()[0] == sealed_at_or_below_mark:
            return
        cursor.execute(f"SELECT e.id {unsealed.format(range='e.id <= %s')} "
                       f"ORDER BY e.id LIMIT {MAX_LISTED}", [mark])
        for (event_id,) in cursor.fetchall():
            cursor.execute(f"SELECT seq FROM {seal_table} WHERE event_id > %s "  # noqa: S608
                           "ORDER BY event_id LIMIT 1", [event_id])
            position = cursor.fetchone()
            report.add(position[0] if position else report.sealed + 1, "unsealed",
                       f"event #{event_id} is not sealed, though events after it were sealed "
                       f"a margin's time before the last sealing run: it was inserted into "
                       "the sealed past (or its transaction stayed open longer than the "
                       "margin)")


def _name_reorderings(report: Report, mismatched: dict[int, tuple[bytes, bytes, int]]) -> None:
    """Changed leaves that are each other's sealed leaves: rows swapped, not edited."""
    sealed_at = {stored: seq for seq, (_, stored, _) in mismatched.items()}
    moved = {seq: sealed_at[actual] for seq, (actual, _, _) in mismatched.items()
             if sealed_at.get(actual, seq) != seq}
    def relabel(problem: Problem | None) -> Problem | None:
        if problem is None or problem.kind != "event_changed" or problem.seq not in moved:
            return problem
        return Problem(problem.seq, "reordered",
                       f"the event found here (#{mismatched[problem.seq][2]}) is the one sealed "
                       f"at seq {moved[problem.seq]}: rows were swapped or reordered")

    report.problems = [relabel(problem) for problem in report.problems]
    report.first = relabel(report.first)


def verify_summary(report: Report) -> str:
    """One line saying what was checked."""
    keys = ", ".join(sorted(report.key_ids)) or "none"
    span = f" (seq 1..{report.sealed})" if report.sealed else ""
    return (f"sealed: {report.sealed} events{span}, head {report.head_hash}; checkpoints: "
            f"{report.checkpoints} verified (keys: {keys}); kept checkpoints: "
            f"{report.kept_checkpoints} checked; events awaiting the sealer: {report.pending}.")
