"""Sealing: committed events get consecutive sequence numbers in a hash chain, and each sealing
run signs a checkpoint of the chain's head (docs/verifying-the-log.md).

The chain, exactly::

    canonical_json(event) = UTF-8 of json.dumps(row, sort_keys=True, separators=(",", ":"),
                                                ensure_ascii=False)
        row = {"id", "occurred_at", "action", "actor_type", "actor_id", "actor_name",
               "actor_role", "subject_type", "subject_id", "data", "context"}: every column of
        the event row, occurred_at as YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC), actor_id an integer
        or null, data and context the JSON values as stored
    leaf_hash_n = SHA-256(canonical_json(event_n))
    hash_n      = SHA-256(bytes(hash_{n-1}) || bytes(leaf_hash_n)),  hash_0 = 32 zero bytes

Hashes are stored as lower-case hex; the chain concatenates their raw 32 bytes. Chaining the
leaf hash (not the event itself) lets anyone holding an export with ``seq``, ``leaf_hash`` and
``hash`` columns recompute the chain up to a signed checkpoint without seeing the identities
the leaves were hashed from.

Writers only insert events. The sealer runs off the request path (Celery beat every few
seconds, or ``manage.py audit_seal``), one at a time: PostgreSQL hands the run to whoever takes
an advisory transaction lock, and the seal's primary key (``seq``) and unique ``event_id``
refuse anything sealed twice whatever happens.

Finding what is unsealed stays cheap however long the log grows: a run looks only above a
low-water mark (see ``low_water_mark``), so a transaction that commits a lower id late is still
sealed as long as it stayed open less than the margin; a full sweep below the mark runs once
per margin in each sealing process, and ``audit_verify`` reports anything older left unsealed.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from json.encoder import c_make_encoder, encode_basestring
from json.scanner import c_make_scanner
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit import signing
from audit.models import Checkpoint, Event, Seal

GENESIS = "0" * 64
DEFAULT_BATCH = 5000
# Any constant shared by every sealer: the advisory lock that makes sealing one-at-a-time.
_LOCK_KEY = 0x6561_7564_6974_7365  # "eaud" "itse"


def _json_codec() -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    """``(encode, decode)``: exactly ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` and ``json.loads(text)``, calling the C encoder and scanner that
    json uses underneath directly. Per call, json's own wrappers (a new encoder each time,
    two regular expressions per decode) cost as much as the work; the sealer and the
    verifier do this for every event."""
    reference = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if c_make_encoder is None or c_make_scanner is None:  # an interpreter without _json
        return reference.encode, json.loads
    iterencode = c_make_encoder(None, reference.default, encode_basestring, None, ":", ",",
                                True, False, True)
    scan = c_make_scanner(json.JSONDecoder())

    def encode(value: Any) -> str:
        return "".join(iterencode(value, 0))

    def decode(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return json.loads(text)  # leading whitespace, or not JSON: json says which
        return value if end == len(text) else json.loads(text)

    return encode, decode


_ENCODE, _DECODE = _json_codec()
# canonical_json with the keys already in sorted order; the values are JSON-encoded exactly as
# _ENCODE would (encode_basestring is the encoder json.dumps uses when ensure_ascii=False).
# "context" and "data" sit side by side in that order, so both come from one JSON object
# {"context": ..., "data": ...} encoded without its braces: one parse and one encode per row.
_ROW = ('{"action":%s,"actor_id":%s,"actor_name":%s,"actor_role":%s,"actor_type":%s,%s,'
        '"id":%d,"occurred_at":"%s","subject_id":%s,"subject_type":%s}')
# What a row read for hashing holds, in this order (see ``event_columns``).
ROW_FIELDS = ("id", "occurred_at", "action", "actor_type", "actor_id", "actor_name",
              "actor_role", "subject_type", "subject_id", "payload")

_last_sweep: float | None = None  # time.monotonic() of this process's last full sweep


def canonical_json(event: Event) -> bytes:
    """The bytes an event's leaf hash is taken over (see the module docstring).

    Values are taken as the database stores them: ``data`` and ``context`` go through the
    same JSON encoder as on save, so an event fresh from ``audit.record`` gives the same bytes
    as the row read back."""
    payload = json.dumps({"context": event.context, "data": event.data}, cls=DjangoJSONEncoder)
    return _canonical_row((
        event.pk, signing.timestamp(event.occurred_at), event.action, event.actor_type,
        event.actor_id, event.actor_name, event.actor_role, event.subject_type,
        event.subject_id, payload), _ENCODE(_DECODE(payload))[1:-1])


def _canonical_row(row: Sequence[Any], context_and_data: str) -> bytes:
    """canonical_json of a row read as ``ROW_FIELDS`` (occurred_at already formatted), given
    ``"context":<canonical>,"data":<canonical>`` for its payload."""
    (event_id, occurred_at, action, actor_type, actor_id, actor_name, actor_role,
     subject_type, subject_id, _) = row
    return (_ROW % (
        encode_basestring(action), "null" if actor_id is None else int(actor_id),
        encode_basestring(actor_name), encode_basestring(actor_role),
        encode_basestring(actor_type), context_and_data, event_id, occurred_at,
        encode_basestring(subject_id), encode_basestring(subject_type),
    )).encode()


def chain_hash(previous: str, leaf: str) -> str:
    """hash_n from hash_{n-1} and leaf_hash_n, all hex."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(leaf)).hexdigest()


# --- Reading event rows fast --------------------------------------------------------------

def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def event_columns(vendor: str, alias: str = "e") -> str:
    """The SELECT list of an event row as ``ROW_FIELDS``, for ``row_reader(vendor)``.

    The database does the cheap parts beside us: it joins context and data into one JSON
    text, and PostgreSQL formats occurred_at (no datetime objects built here)."""
    def column(name: str) -> str:
        return f"{alias}.{connection.ops.quote_name(Event._meta.get_field(name).column)}"

    occurred_at = column("occurred_at")
    if vendor == "postgresql":
        occurred_at = (f"to_char({occurred_at} AT TIME ZONE 'UTC', "
                       "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        context, data = f"{column('context')}::text", f"{column('data')}::text"
    else:
        context, data = column("context"), column("data")
    payload = (f"'{{\"context\":' || coalesce({context}, 'null') || ',\"data\":' || "
               f"coalesce({data}, 'null') || '}}'")
    return ", ".join([column("id"), occurred_at, *map(column, ROW_FIELDS[2:9]), payload])


def row_reader(vendor: str) -> Callable[[Sequence[Any]], bytes]:
    """``canonical(row)`` for rows selected with ``event_columns(vendor)``; use one per pass.

    Many events carry the same data and context (none, ``{"method": "token"}``, ...): the
    reader remembers the canonical form of recent payload texts, bounded, so those skip the
    JSON parse and encode."""
    payloads: dict[str, str] = {}

    def context_and_data(payload: str) -> str:
        canonical = payloads.get(payload)
        if canonical is None:
            canonical = _ENCODE(_DECODE(payload))[1:-1]
            if len(payloads) >= 4096:
                payloads.clear()
            payloads[payload] = canonical
        return canonical

    if vendor == "postgresql":
        def canonical(row: Sequence[Any]) -> bytes:
            return _canonical_row(row, context_and_data(row[9]))
    else:
        def canonical(row: Sequence[Any]) -> bytes:
            # SQLite and others hand occurred_at back as stored: text (or a datetime) in UTC.
            moment = row[1]
            if isinstance(moment, str):
                moment = datetime.fromisoformat(moment)
            return _canonical_row((row[0], signing.timestamp(moment), *row[2:]),
                                  context_and_data(row[9]))

    return canonical


# --- The sealer ----------------------------------------------------------------------------

def seal_margin() -> timedelta:
    """How long a transaction that records an event may stay open (plus how long one sealing
    run may take) and still be sealed by the fast path; see ``low_water_mark``."""
    return timedelta(seconds=settings.AUDIT_SEAL_MARGIN_S)


def _wall_clock() -> datetime:
    # Real time even when a simulation runs the platform on a simulated clock: checkpoint
    # times are compared with each other to place the low-water mark.
    return timezone.now()


def low_water_mark(margin: timedelta | None = None) -> int:
    """The event id below which a sealing run does not look for unsealed events.

    It is the last event sealed by the newest checkpoint made at least ``margin`` before the
    newest checkpoint. An event committed since that newest checkpoint's run began was
    not visible to it; if its transaction stayed open less than the margin (minus how long a
    run takes), its id was drawn after that older run had read every id up to the mark, so
    it lies above the mark. Measuring from the newest checkpoint rather than from now keeps
    this true when the sealer has been stopped for a while. 0 (look everywhere) while the
    log is younger than the margin."""
    margin = seal_margin() if margin is None else margin
    newest = Checkpoint.objects.order_by("-seq").values_list("seq", "created_at").first()
    if newest is None:
        return 0
    older = (Checkpoint.objects.filter(seq__lte=newest[0], created_at__lte=newest[1] - margin)
             .order_by("-seq").values_list("seq", flat=True).first())
    if older is None:
        return 0
    return Seal.objects.filter(seq=older).values_list("event_id", flat=True).first() or 0


def _sweep_due(margin: timedelta) -> bool:
    return _last_sweep is None or time.monotonic() - _last_sweep >= margin.total_seconds()


def _take_lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite has a single writer; the primary keys settle any race
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        return cursor.fetchone()[0]


def _window_end(after: int, size: int) -> int | None:
    """The id of the ``size``-th event above ``after`` (or the last one): windows hold a
    batch of events whatever gaps rolled-back transactions left in the ids."""
    sql = (f"SELECT max(id) FROM (SELECT id FROM {_table(Event)} WHERE id > %s "  # noqa: S608
           "ORDER BY id LIMIT %s) w")
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, size])
        return cursor.fetchone()[0]


def _unsealed_events(after: int, upto: int) -> list[tuple]:
    """Unsealed events with ids in (after, upto], in id order. Both sides of the anti-join are
    bounded by the window, so the plan stays an index range scan however stale the table
    statistics are (an unbounded anti-join can hash the whole seal table on every batch)."""
    sql = (f"SELECT {event_columns(connection.vendor)} FROM {_table(Event)} e "  # noqa: S608
           f"WHERE e.id > %s AND e.id <= %s AND NOT EXISTS (SELECT 1 FROM {_table(Seal)} s "
           "WHERE s.event_id = e.id AND s.event_id > %s AND s.event_id <= %s) ORDER BY e.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, upto, after, upto])
        return cursor.fetchall()


def _insert_seals(seals: list[tuple[int, int, str, str]]) -> None:
    columns = "seq, event_id, leaf_hash, hash"
    if connection.vendor == "postgresql":
        with connection.connection.cursor() as cursor, cursor.copy(
                f"COPY {_table(Seal)} ({columns}) FROM STDIN") as copy:
            for seal in seals:
                copy.write_row(seal)
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {_table(Seal)} ({columns}) "  # noqa: S608
                           "VALUES (%s, %s, %s, %s)", seals)


@dataclass(frozen=True)
class SealRun:
    sealed: int
    checkpoint: Checkpoint | None


def seal_pending(batch: int = DEFAULT_BATCH, *, full: bool | None = None,
                 wait: bool = False) -> int:
    """Seal every committed event not sealed yet; returns how many were sealed.

    Events are taken in id order, ``batch`` at a time, and given the next consecutive
    sequence numbers; the run then writes one signed checkpoint of the new head and, once
    committed, appends it to ``AUDIT_CHECKPOINT_LOG``. All in one transaction: a run seals
    everything it found, or nothing.

    ``full`` looks below the low-water mark too (None: when this process has not done so for
    a margin's time). When another sealer holds the lock the run returns 0 at once, or waits
    for it with ``wait``.
    """
    return seal_run(batch, full=full, wait=wait).sealed


def seal_run(batch: int = DEFAULT_BATCH, *, full: bool | None = None,
             wait: bool = False) -> SealRun:
    """``seal_pending``, answering the checkpoint it wrote as well (None when nothing new)."""
    global _last_sweep
    key = signing.private_key()  # refuse before taking anything if there is no key
    margin = seal_margin()
    sweep = _sweep_due(margin) if full is None else full
    sweep_started = time.monotonic()
    reader = row_reader(connection.vendor)
    sha256 = hashlib.sha256
    checkpoint = None
    try:
        with transaction.atomic():
            if not _take_lock(wait=wait):
                return SealRun(0, None)
            # Taken before the first look for events: whatever committed before this moment
            # is sealed by this run or an earlier one (low_water_mark relies on it).
            started = _wall_clock()
            seq, head = Seal.objects.order_by("-seq").values_list("seq", "hash").first() or (
                0, GENESIS)
            after = 0 if sweep else low_water_mark(margin)
            chain = bytes.fromhex(head)
            sealed = 0
            while (upto := _window_end(after, batch)) is not None:
                seals = []
                for row in _unsealed_events(after, upto):
                    leaf = sha256(reader(row)).digest()
                    chain = sha256(chain + leaf).digest()
                    seq += 1
                    seals.append((seq, row[0], leaf.hex(), chain.hex()))
                if seals:
                    _insert_seals(seals)
                    sealed += len(seals)
                after = upto
            if sealed:
                checkpoint = _checkpoint_create(key, seq, chain.hex(), started)
    except IntegrityError:
        # Only a sealer that bypassed the lock can get here: the keys kept the other's work.
        return SealRun(0, None)
    if sweep:
        _last_sweep = sweep_started
    if sealed:
        transaction.on_commit(append_checkpoint_log)
    return SealRun(sealed, checkpoint)


def _checkpoint_create(key: Any, seq: int, head_hash: str, created_at: datetime) -> Checkpoint:
    message = signing.checkpoint_message(seq, head_hash, signing.timestamp(created_at))
    checkpoint = Checkpoint(seq=seq, head_hash=head_hash, created_at=created_at,
                            signature=signing.sign(key, message),
                            key_id=signing.key_id(signing.raw_public_key(key)))
    checkpoint.save(force_insert=True)
    return checkpoint


# --- Checkpoints outside the database -----------------------------------------------------

def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-seq").first()


def configured_public_keys() -> dict[str, bytes]:
    """``{key_id: raw public key}`` of the configured signing key (empty without one)."""
    if not settings.AUDIT_SIGNING_KEY:
        return {}
    raw = signing.raw_public_key(signing.private_key())
    return {signing.key_id(raw): raw}


def checkpoint_document(checkpoint: Checkpoint,
                        public_keys: dict[str, bytes] | None = None) -> dict[str, Any]:
    """A checkpoint as published (API, checkpoint log). ``public_key`` is the base64 raw key
    that signed it when that key is known (the configured one), else None."""
    keys = configured_public_keys() if public_keys is None else public_keys
    raw = keys.get(checkpoint.key_id)
    return {"seq": checkpoint.seq, "head_hash": checkpoint.head_hash,
            "created_at": signing.timestamp(checkpoint.created_at),
            "signature": checkpoint.signature, "key_id": checkpoint.key_id,
            "public_key": base64.b64encode(raw).decode() if raw else None}


def _last_logged_seq(log: Any) -> int:
    """The seq of the log's last complete line (a torn last line is closed off first)."""
    size = log.seek(0, os.SEEK_END)
    if size == 0:
        return 0
    log.seek(max(0, size - 65536))
    tail = log.read()
    if not tail.endswith(b"\n"):
        log.write(b"\n")  # a write cut short by a crash stays as one unreadable line
    for line in reversed(tail.splitlines()):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


def append_checkpoint_log(path: Path | str | None = None) -> int:
    """Append to the checkpoint log (JSON Lines) every checkpoint newer than its last line, in
    seq order, and fsync; returns how many lines were written.

    Catching up rather than writing one line per run means a crash between the commit and the
    append loses nothing. The file is never rewritten: if the database is ever behind it, the
    log keeps what it had, which is the point."""
    path = Path(path or settings.AUDIT_CHECKPOINT_LOG)
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("a+b") as log:
        fcntl.flock(log, fcntl.LOCK_EX)  # sealers on one machine append one at a time
        last = _last_logged_seq(log)
        keys = configured_public_keys()
        for checkpoint in Checkpoint.objects.filter(seq__gt=last).order_by("seq").iterator():
            document = checkpoint_document(checkpoint, keys)
            log.write(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
                      + b"\n")
            written += 1
        log.flush()
        os.fsync(log.fileno())
    if created:  # make the new file's directory entry durable too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return written
