"""Sealing: the canonical form of an event, consecutive sequence numbers in id order, the hash
chain and its signed checkpoints, the checkpoint log, late-committing transactions, and two
sealers at once."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import timedelta, timezone
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, connections, transaction

import audit
from audit import sealing, signing
from audit.models import Checkpoint, Event, Seal
from audit.tasks import audit_seal
from audit.verify import verify_log
from tests.audit.conftest import T0, event_with_id, record, seal

TRICKY_VALUES = [
    None, True, False, 0, -1, 2**70, 0.1, 1e-07, 1.5, -2.25, "", "plain",
    'quote " and backslash \\ and slash /', "line\nbreak\ttab\x01\x1f control",
    "ünïcødé ✓ 🙏 \u2028 \u2029 \x7f", [], {}, [1, [2, [3, {}]]],
    {"z": 1, "a": {"y": [True, None], "b": "é"}, "é": 0, "A": 1, "_": 2},
]


def _chain(leaves: list[str]) -> list[str]:
    """The chain by the documented formula, computed here independently of audit.sealing."""
    hashes, previous = [], bytes(32)
    for leaf in leaves:
        previous = hashlib.sha256(previous + bytes.fromhex(leaf)).digest()
        hashes.append(previous.hex())
    return hashes


def _stored_canonical(event_id: int) -> bytes:
    """The canonical form the sealer computes from the row as the database returns it."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sealing.event_columns(vendor)} FROM audit_event e "  # noqa: S608
                       "WHERE e.id = %s", [event_id])
        return sealing.row_reader(vendor)(cursor.fetchone())


def _seals() -> list[tuple]:
    return list(Seal.objects.order_by("seq").values_list("seq", "event_id", "leaf_hash", "hash"))


# --- The canonical form ----------------------------------------------------------------------

def test_canonical_json_is_sorted_compact_utf8_with_every_column():
    # given: an event as a row holds it, its time given in another time zone
    event = Event(
        pk=42, occurred_at=T0.astimezone(timezone(timedelta(hours=-5))),
        action="review.decided", actor_type="user", actor_id=7, actor_name="",
        actor_role="moderator", subject_type="submissions.submission", subject_id="abc",
        data={"z": 1, "a": ["ü", None, 1.5], "q": 'say "hi"\n'},
        context={"ip": "203.0.113.7"})

    # when
    canonical = sealing.canonical_json(event)

    # then
    assert canonical == (
        '{"action":"review.decided","actor_id":7,"actor_name":"","actor_role":"moderator",'
        '"actor_type":"user","context":{"ip":"203.0.113.7"},'
        '"data":{"a":["ü",null,1.5],"q":"say \\"hi\\"\\n","z":1},"id":42,'
        '"occurred_at":"2025-03-04T09:00:00.123456Z","subject_id":"abc",'
        '"subject_type":"submissions.submission"}').encode()
    assert canonical == json.dumps(
        {"id": 42, "occurred_at": "2025-03-04T09:00:00.123456Z", "action": "review.decided",
         "actor_type": "user", "actor_id": 7, "actor_name": "", "actor_role": "moderator",
         "subject_type": "submissions.submission", "subject_id": "abc",
         "data": event.data, "context": event.context},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_canonical_json_writes_six_fraction_digits_and_null_for_no_actor():
    # given: a time on a whole second, an anonymous actor
    event = Event(pk=1, occurred_at=T0.replace(microsecond=0), action="auth.signed_out",
                  actor_type="anonymous", actor_id=None, data={}, context={})

    # when
    canonical = sealing.canonical_json(event)

    # then
    assert b'"actor_id":null' in canonical
    assert b'"occurred_at":"2025-03-04T09:00:00.000000Z"' in canonical
    assert b'"context":{},"data":{}' in canonical


@pytest.mark.parametrize("value", TRICKY_VALUES, ids=repr)
def test_the_fast_json_codec_is_exactly_json(value):
    # given
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    spaced = json.dumps(value)

    # when / then: the C encoder and scanner, called directly, agree with json itself
    assert sealing._ENCODE(value) == text
    assert sealing._DECODE(spaced) == json.loads(spaced)
    assert sealing._DECODE(f" {spaced}") == json.loads(spaced)


def test_the_row_read_back_hashes_like_the_fresh_event(db):
    # given: values that JSON, CSV and COPY handling tend to get wrong
    data = {"values": TRICKY_VALUES, "when": T0, "uuid": uuid.UUID(int=5),
            "price": Decimal("1.10"), "ключ": "значение"}
    fresh = Event.objects.create(
        occurred_at=T0, action="review.decided", actor_type="user", actor_id=7,
        actor_name="", actor_role='mod "x"', subject_type="submissions.submission",
        subject_id="ab\\c", data=data, context={"ua": "Mozilla/5.0 (X11; Linux) ✓"})

    # when
    stored = _stored_canonical(fresh.pk)

    # then: the fast row reader, the model read back and the fresh instance agree
    assert stored == sealing.canonical_json(Event.objects.get(pk=fresh.pk))
    assert stored == sealing.canonical_json(fresh)
    assert json.loads(stored)["data"]["when"] == "2025-03-04T09:00:00.123Z"


# --- Sealing --------------------------------------------------------------------------------

def test_sealing_gives_consecutive_seqs_in_id_order_with_the_documented_chain(db, public_key):
    # given
    events = [record(reason=f"r{n}") for n in range(5)]

    # when
    sealed = seal()

    # then
    leaves = [hashlib.sha256(sealing.canonical_json(event)).hexdigest() for event in events]
    assert sealed == 5
    assert _seals() == list(zip(range(1, 6), [event.pk for event in events], leaves,
                                _chain(leaves), strict=True))
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.seq, checkpoint.head_hash) == (5, _chain(leaves)[-1])
    assert checkpoint.key_id == hashlib.sha256(public_key).hexdigest()[:16]
    message = (f"early-access-checkpoint\n5\n{checkpoint.head_hash}\n"
               f"{signing.timestamp(checkpoint.created_at)}").encode()
    assert signing.signature_valid(public_key, message, checkpoint.signature)
    assert not signing.signature_valid(public_key, message + b"\n", checkpoint.signature)


def test_the_next_run_continues_the_chain_and_an_idle_run_writes_nothing(db):
    # given
    first = [record() for _ in range(3)]
    seal()

    # when
    idle = seal()
    later = [record() for _ in range(2)]
    sealed = seal()

    # then
    leaves = [hashlib.sha256(sealing.canonical_json(event)).hexdigest()
              for event in first + later]
    assert (idle, sealed) == (0, 2)
    assert [seal[3] for seal in _seals()] == _chain(leaves)
    assert list(Checkpoint.objects.values_list("seq", "head_hash")) == [
        (3, _chain(leaves)[2]), (5, _chain(leaves)[4])]


def test_small_batches_give_the_same_chain_as_one(db):
    # given: ids with gaps, as rolled-back transactions leave them
    for event_id in (3, 4, 9, 10, 11, 20, 21):
        event_with_id(event_id)

    # when
    sealed = seal(batch=2)

    # then
    assert sealed == 7
    assert [row[:2] for row in _seals()] == list(enumerate((3, 4, 9, 10, 11, 20, 21), 1))
    assert Checkpoint.objects.count() == 1
    assert verify_log().ok


def test_a_lower_id_committed_late_is_sealed_by_the_next_run(db):
    # given: ids 1 and 3 committed; 2 is drawn by a transaction still open
    event_with_id(1)
    event_with_id(3)
    seal()

    # when: it commits after the run
    event_with_id(2)
    sealed = seal(full=False)

    # then: it is sealed next, not skipped
    assert sealed == 1
    assert [row[:2] for row in _seals()] == [(1, 1), (2, 3), (3, 2)]
    assert verify_log().ok


def test_a_late_commit_above_the_low_water_mark_is_found_without_a_full_sweep(db, wall_clock):
    # given: two runs more than the margin apart
    event_with_id(1)
    seal(full=False)                      # checkpoint 1 at T0
    wall_clock.advance(minutes=11)
    event_with_id(3)
    seal(full=False)                      # checkpoint 2 at T0 + 11 min
    wall_clock.advance(minutes=11)

    # when: id 2, drawn before id 3, commits now
    event_with_id(2)
    mark = sealing.low_water_mark()
    sealed = seal(full=False)

    # then: the mark is the last event of checkpoint 1, and id 2 above it is sealed
    assert mark == 1
    assert sealed == 1
    assert [row[:2] for row in _seals()] == [(1, 1), (2, 3), (3, 2)]


def test_an_event_below_the_low_water_mark_waits_for_the_full_sweep(db, wall_clock,
                                                                    monkeypatch):
    # given: a log older than the margin, then an event with an id below the mark
    for event_id in (1, 2, 4):
        event_with_id(event_id)
    seal(full=False)
    wall_clock.advance(minutes=11)
    event_with_id(5)
    seal(full=False)
    event_with_id(3)   # a transaction open longer than the margin, or an insert

    # when
    fast = seal(full=False)
    monkeypatch.setattr(sealing, "_last_sweep", None)
    swept = seal()                         # this process has not swept yet: it does now
    after_sweep = seal()                   # and not again within the margin

    # then
    assert (sealing.low_water_mark(), fast, swept, after_sweep) == (4, 0, 1, 0)
    assert [row[:2] for row in _seals()] == [(1, 1), (2, 2), (3, 4), (4, 5), (5, 3)]


def test_sealing_refuses_without_a_signing_key(db, settings):
    # given
    record()
    settings.AUDIT_SIGNING_KEY = ""

    # when / then
    with pytest.raises(ImproperlyConfigured, match="AUDIT_SIGNING_KEY is not set"):
        sealing.seal_pending()
    assert (Seal.objects.count(), Checkpoint.objects.count()) == (0, 0)


@pytest.mark.parametrize(("key", "error"), [
    ("not base64!", "not valid base64"),
    ("AAAA", "must hold 32 bytes"),
])
def test_a_malformed_signing_key_is_refused(db, settings, key, error):
    # given
    record()
    settings.AUDIT_SIGNING_KEY = key

    # when / then
    with pytest.raises(ImproperlyConfigured, match=error):
        sealing.seal_pending()
    assert Seal.objects.count() == 0


def test_the_beat_task_seals_and_says_how_many(db):
    # given
    record()
    record()

    # when
    sealed = audit_seal()

    # then
    assert sealed == 2
    assert list(Seal.objects.values_list("seq", flat=True)) == [1, 2]


# --- The checkpoint log ------------------------------------------------------------------------

def _log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_run_appends_its_checkpoint_to_the_log_after_commit(
        db, checkpoint_log, public_key_b64, django_capture_on_commit_callbacks):
    # given
    record()

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sealing.seal_pending()
    record()
    with django_capture_on_commit_callbacks(execute=True):
        sealing.seal_pending()

    # then
    assert len(callbacks) == 1
    documents = [sealing.checkpoint_document(checkpoint)
                 for checkpoint in Checkpoint.objects.order_by("seq")]
    assert _log_lines(checkpoint_log) == documents
    assert [document["seq"] for document in documents] == [1, 2]
    assert documents[1]["public_key"] == public_key_b64
    assert documents[1]["created_at"] == signing.timestamp(Checkpoint.objects.get(seq=2).created_at)


def test_the_log_catches_up_after_a_lost_append_and_closes_a_torn_line(db, checkpoint_log):
    # given: a run whose append never happened (a crash after the commit)
    record()
    sealing.seal_run()
    record()

    # when: the next run appends what the log lacks
    seal()
    caught_up = [line["seq"] for line in _log_lines(checkpoint_log)]
    checkpoint_log.write_text(checkpoint_log.read_text()[:-20])   # then a crash tears a line
    record()
    seal()

    # then: the torn line is closed off and left alone; checkpoint 2 is written again after it
    lines = checkpoint_log.read_text().split("\n")
    assert caught_up == [1, 2]
    assert json.loads(lines[0])["seq"] == 1
    assert lines[1].startswith('{"created_at"')
    assert not lines[1].endswith("}")
    assert [json.loads(line)["seq"] for line in lines[2:4]] == [2, 3]
    assert lines[4:] == [""]


def test_the_log_never_goes_back(db, checkpoint_log):
    # given: a log that has seen further than this database
    checkpoint_log.write_text('{"seq": 99, "head_hash": "ab"}\n')
    record()

    # when
    seal()

    # then: nothing is appended until the chain passes seq 99
    assert checkpoint_log.read_text() == '{"seq": 99, "head_hash": "ab"}\n'


# --- The management command -------------------------------------------------------------------

def test_the_audit_seal_command_runs_until_nothing_is_left(
        db, settings, public_key, django_capture_on_commit_callbacks):
    # given
    for _ in range(3):
        record()
    out = StringIO()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit_seal", stdout=out)
    call_command("audit_seal", stdout=out)

    # then
    head = Checkpoint.objects.get().head_hash
    assert out.getvalue().splitlines() == [
        f"Sealed 3 events as seq 1..3; head {head}; checkpoint signed by key "
        f"{signing.key_id(public_key)}, appended to {settings.AUDIT_CHECKPOINT_LOG}.",
        "Nothing to seal; the chain ends at seq 3.",
    ]
    assert [json.loads(line)["seq"] for line in
            settings.AUDIT_CHECKPOINT_LOG.read_text().splitlines()] == [3]


def test_the_audit_seal_command_on_an_empty_log(db):
    # given
    out = StringIO()

    # when
    call_command("audit_seal", stdout=out)

    # then
    assert out.getvalue() == "Nothing to seal; nothing is sealed yet.\n"


# --- PostgreSQL: real concurrency --------------------------------------------------------------

def _in_thread(target, *args):
    """Run ``target`` on a thread of its own (its own database connection)."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except BaseException as error:  # handed back to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_a_transaction_committing_late_on_postgres_is_sealed_not_skipped(postgres, wall_clock):
    # given: two runs more than the margin apart
    first = record()
    seal(full=False)
    wall_clock.advance(minutes=11)
    second = record()
    seal(full=False)
    wall_clock.advance(minutes=11)
    drawn, release = threading.Event(), threading.Event()

    def slow_transaction() -> int:
        with transaction.atomic():
            event = record()              # id drawn now, committed only when released
            drawn.set()
            assert release.wait(30)
        return event.pk

    thread, outcome = _in_thread(slow_transaction)
    assert drawn.wait(30)
    fourth = record()                     # a higher id, committed first

    # when
    before_commit = seal(full=False)
    release.set()
    thread.join(30)
    late = outcome["value"]
    wall_clock.advance(seconds=5)
    after_commit = seal(full=False)

    # then
    assert late < fourth.pk
    assert (before_commit, after_commit) == (1, 1)
    assert [row[1] for row in _seals()] == [first.pk, second.pk, fourth.pk, late]
    assert verify_log().ok


@pytest.mark.django_db(transaction=True)
def test_a_sealer_finding_the_lock_taken_seals_nothing(postgres):
    # given: another sealer holds the lock in an open transaction
    record()
    holding, release = threading.Event(), threading.Event()

    def other_sealer() -> None:
        with transaction.atomic():
            assert sealing._take_lock(wait=False)
            holding.set()
            assert release.wait(30)

    thread, outcome = _in_thread(other_sealer)
    assert holding.wait(30)

    # when
    while_held = sealing.seal_pending()
    release.set()
    thread.join(30)
    afterwards = sealing.seal_pending()

    # then
    assert "error" not in outcome
    assert (while_held, afterwards) == (0, 1)
    assert Seal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sealers_at_once_leave_no_gaps_and_no_duplicates(postgres):
    # given: writers recording while two sealers run side by side
    writing_done = threading.Event()

    def writer(count: int) -> None:
        for _ in range(count):
            with transaction.atomic():
                audit.record("auth.signed_out", actor=None)
                audit.record("auth.signed_out", actor=None)

    def sealer() -> list[int]:
        runs = []
        while not writing_done.is_set():
            runs.append(sealing.seal_pending(batch=7, full=True, wait=True))
        return runs

    sealers = [_in_thread(sealer) for _ in range(2)]
    writers = [_in_thread(writer, 150) for _ in range(2)]

    # when
    for thread, _ in writers:
        thread.join(120)
    writing_done.set()
    for thread, _ in sealers:
        thread.join(120)
    last = sealing.seal_pending(wait=True)

    # then
    runs = [outcome["value"] for _, outcome in sealers]
    event_ids = sorted(Event.objects.values_list("id", flat=True))
    seals = _seals()
    assert len(event_ids) == 600
    assert sum(map(sum, runs)) + last == 600
    assert [seal[0] for seal in seals] == list(range(1, 601))
    assert sorted(seal[1] for seal in seals) == event_ids
    assert all(Seal.objects.get(seq=checkpoint.seq).hash == checkpoint.head_hash
               for checkpoint in Checkpoint.objects.all())
    assert verify_log().ok
