"""``audit_verify``: an untampered log verifies; every kind of tampering, done with the triggers
disabled as a database superuser could, fails naming the exact first sequence number; a log
cut short or re-hashed by someone holding the key is caught only against a kept checkpoint."""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit import sealing, signing
from audit import verify as verify_module
from audit.models import Checkpoint, Event, Seal
from audit.verify import verify_log
from tests.audit.conftest import (
    T0,
    event_with_id,
    execute,
    record,
    seal,
    tamper,
    triggers_disabled,
)

# Sealed as seq 1..12 in two runs (checkpoints at seq 6 and 12); id 4 was never used.
IDS = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]


@pytest.fixture
def log(db, settings, wall_clock, checkpoint_log):
    """Twelve sealed events, two checkpoints, the checkpoint log copied to a safe place.
    A zero margin: nothing in these tests stays open across a sealing run."""
    settings.AUDIT_SEAL_MARGIN_S = 0
    for event_id in IDS[:6]:
        event_with_id(event_id, reason=f"reason {event_id}")
    seal(full=False)
    wall_clock.advance(seconds=5)
    for event_id in IDS[6:]:
        event_with_id(event_id, reason=f"reason {event_id}")
    seal(full=False)
    kept = checkpoint_log.parent / "kept-elsewhere.jsonl"
    kept.write_bytes(checkpoint_log.read_bytes())
    return kept


def verify(*args: str) -> tuple[list[str], str | None]:
    """Run the command; its output lines and, when it fails, the error it exits with."""
    out = StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as error:
        return out.getvalue().splitlines(), str(error)
    return out.getvalue().splitlines(), None


def event_at(seq: int) -> int:
    return Seal.objects.get(seq=seq).event_id


def _time(moment) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


# --- Clean logs ---------------------------------------------------------------------------------

def test_an_untampered_log_verifies(log, public_key):
    # when
    lines, error = verify()

    # then
    head = Seal.objects.get(seq=12).hash
    assert error is None
    assert len(lines) == 1
    assert lines[0].startswith(
        f"OK: sealed: 12 events (seq 1..12), head {head}; checkpoints: 2 verified (keys: "
        f"{signing.key_id(public_key)}); kept checkpoints: 0 checked; events awaiting the "
        "sealer: 0. Checked in ")


def test_an_untampered_log_reaches_every_kept_checkpoint(log):
    # when
    lines, error = verify("--checkpoint", str(log))

    # then
    assert error is None
    assert "kept checkpoints: 2 checked" in lines[0]


def test_a_single_checkpoint_file_as_the_api_serves_it_is_accepted(log, tmp_path):
    # given
    answer = sealing.checkpoint_document(Checkpoint.objects.get(seq=6))
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(answer, indent=2))

    # when
    lines, error = verify("--checkpoint", str(path))

    # then
    assert error is None
    assert "kept checkpoints: 1 checked" in lines[0]


def test_events_not_sealed_yet_are_counted_not_failed(log):
    # given: a new event the sealer has not reached
    event_with_id(20)

    # when
    lines, error = verify()

    # then
    assert error is None
    assert "events awaiting the sealer: 1." in lines[0]


def test_an_empty_log_verifies(db):
    # when
    lines, error = verify()

    # then
    assert error is None
    assert lines[0].startswith(f"OK: sealed: 0 events, head {'0' * 64}; checkpoints: 0 ")


def test_every_checkpoint_signature_verifies_with_the_published_public_key(log, public_key):
    # given: the public key as published, not as configured
    published = base64.b64decode(json.loads(log.read_text().splitlines()[0])["public_key"])

    # when
    results = [signing.signature_valid(
        published, signing.checkpoint_message(c.seq, c.head_hash,
                                              signing.timestamp(c.created_at)), c.signature)
        for c in Checkpoint.objects.order_by("seq")]

    # then
    assert published == public_key
    assert results == [True, True]


# --- Tampering inside the database: each names the first bad seq ---------------------------------

def change_a_row():
    tamper(("UPDATE audit_event SET data = %s WHERE id = %s",
            [json.dumps({"from_status": "open", "reason": "edited"}), event_at(5)]))


def move_a_time_by_a_microsecond():
    moment = Event.objects.get(pk=event_at(3)).occurred_at + timedelta(microseconds=1)
    tamper(("UPDATE audit_event SET occurred_at = %s WHERE id = %s",
            [_time(moment), event_at(3)]))


def change_the_actor():
    tamper(("UPDATE audit_event SET actor_name = 'someone else' WHERE id = %s",
            [event_at(11)]))


def delete_a_row():
    tamper(("DELETE FROM audit_event WHERE id = %s", [event_at(7)]))


def delete_a_seal():
    tamper("DELETE FROM audit_seal WHERE seq = 5")


def insert_a_row_into_the_sealed_past():
    event_with_id(4)  # the unused id between seq 3 (id 3) and seq 4 (id 5); no trigger needed


def append_a_row_with_a_forged_seal():
    forged = event_with_id(14)
    leaf = hashlib.sha256(sealing.canonical_json(forged)).hexdigest()
    head = Seal.objects.get(seq=12).hash
    tamper(("INSERT INTO audit_seal (seq, event_id, leaf_hash, hash) VALUES (13, 14, %s, %s)",
            [leaf, sealing.chain_hash(head, leaf)]))


def swap_two_events_contents():
    first, second = Event.objects.get(pk=event_at(8)), Event.objects.get(pk=event_at(10))
    tamper(*[("UPDATE audit_event SET data = %s, occurred_at = %s WHERE id = %s",
              [json.dumps(source.data), _time(source.occurred_at), target.pk])
             for source, target in ((second, first), (first, second))])


def swap_two_seals_events():
    tamper("UPDATE audit_seal SET event_id = -2 WHERE seq = 2",
           ("UPDATE audit_seal SET event_id = %s WHERE seq = 3", [IDS[1]]),
           ("UPDATE audit_seal SET event_id = %s WHERE seq = 2", [IDS[2]]))


def rewrite_a_seal_hash():
    tamper(("UPDATE audit_seal SET hash = %s WHERE seq = 9", ["ab" * 32]))


def rewrite_a_checkpoint_head():
    tamper(("UPDATE audit_checkpoint SET head_hash = %s WHERE seq = 6", ["cd" * 32]))


def forge_a_checkpoint_signature():
    tamper(("UPDATE audit_checkpoint SET signature = %s WHERE seq = 12", ["00" * 64]))


def rehash_without_the_key():
    """Re-hash from seq 8 and delete the checkpoints it contradicts (no key to re-sign)."""
    _rehash_from(8, reason="rewritten")
    tamper("DELETE FROM audit_checkpoint WHERE seq = 12")


def cut_the_tail_but_leave_its_checkpoint():
    tamper("DELETE FROM audit_seal WHERE seq >= 11",
           ("DELETE FROM audit_event WHERE id >= %s", [IDS[10]]))


TAMPERING = {
    "changed row": (change_a_row, 5, "event_changed"),
    "time moved by 1 µs": (move_a_time_by_a_microsecond, 3, "event_changed"),
    "actor changed": (change_the_actor, 11, "event_changed"),
    "deleted row": (delete_a_row, 7, "event_missing"),
    "deleted seal": (delete_a_seal, 5, "seal_missing"),
    "inserted row": (insert_a_row_into_the_sealed_past, 4, "unsealed"),
    "appended row with a forged seal": (append_a_row_with_a_forged_seal, 13, "uncovered"),
    "swapped contents": (swap_two_events_contents, 8, "event_changed"),
    "swapped seals": (swap_two_seals_events, 2, "reordered"),
    "rewritten seal": (rewrite_a_seal_hash, 9, "chain_broken"),
    "rewritten checkpoint": (rewrite_a_checkpoint_head, 6, "checkpoint_head"),
    "forged signature": (forge_a_checkpoint_signature, 12, "checkpoint_signature"),
    "re-hashed, checkpoint deleted": (rehash_without_the_key, 7, "uncovered"),
    "tail cut, checkpoint left": (cut_the_tail_but_leave_its_checkpoint, 11, "truncated"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=str)
def test_tampering_fails_verification_naming_the_first_bad_seq(log, case):
    # given
    make_change, seq, kind = TAMPERING[case]
    make_change()

    # when
    lines, error = verify()

    # then
    assert error == f"the audit log does not verify: first mismatch at seq {seq} ({kind})"
    assert lines[0].startswith(f"MISMATCH at seq {seq} ({kind}): ")


def test_the_message_says_what_is_wrong(log):
    # given
    change_a_row()
    delete_a_row()

    # when
    lines, error = verify()

    # then
    assert lines[:4] == [
        f"MISMATCH at seq 5 (event_changed): event #{IDS[4]} was changed: its row no longer "
        "matches the leaf hash sealed for it",
        "Problems: 2 in all; by seq (at most 20):",
        f"  seq 5: event #{IDS[4]} was changed: its row no longer matches the leaf hash sealed "
        "for it [event_changed]",
        f"  seq 7: event #{IDS[6]} is missing: its row was deleted, or its id changed "
        "[event_missing]",
    ]
    assert error is not None


def test_swapped_seals_are_named_as_a_reordering(log):
    # given
    swap_two_seals_events()

    # when
    report = verify_log()

    # then
    assert [(problem.seq, problem.kind, problem.message) for problem in report.problems] == [
        (2, "reordered", f"the event found here (#{IDS[2]}) is the one sealed at seq 3: rows "
                         "were swapped or reordered"),
        (3, "reordered", f"the event found here (#{IDS[1]}) is the one sealed at seq 2: rows "
                         "were swapped or reordered"),
    ]


def test_the_triggers_are_back_on_after_tampering(postgres, log):
    # given
    change_a_row()

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid IN ('audit_event'::regclass, 'audit_seal'::regclass, "
            "'audit_checkpoint'::regclass) AND NOT tgisinternal ORDER BY 1, 2")
        triggers = cursor.fetchall()

    # then: enabled ALWAYS ('A') again
    assert {enabled for _, _, enabled in triggers} == {"A"}
    assert len(triggers) == 6


# --- What only a checkpoint kept elsewhere reveals -----------------------------------------------

def _rehash_from(seq: int, *, reason: str) -> None:
    """Edit the event at ``seq``, then recompute every later leaf and hash consistently."""
    tamper(("UPDATE audit_event SET data = %s WHERE id = %s",
            [json.dumps({"from_status": "open", "reason": reason}), event_at(seq)]))
    previous = Seal.objects.get(seq=seq - 1).hash
    with triggers_disabled():
        for row in Seal.objects.filter(seq__gte=seq).order_by("seq"):
            leaf = hashlib.sha256(sealing.canonical_json(Event.objects.get(pk=row.event_id)))
            previous = sealing.chain_hash(previous, leaf.hexdigest())
            execute("UPDATE audit_seal SET leaf_hash = %s, hash = %s WHERE seq = %s",
                    [leaf.hexdigest(), previous, row.seq])


def _re_sign_checkpoint(seq: int) -> None:
    """What an insider holding the signing key can do after re-hashing."""
    tamper(("DELETE FROM audit_checkpoint WHERE seq = %s", [seq]))
    sealing._checkpoint_create(signing.private_key(), seq, Seal.objects.get(seq=seq).hash,
                               T0 + timedelta(hours=1))


def test_a_log_rehashed_and_re_signed_by_an_insider_is_caught_only_by_a_kept_checkpoint(log):
    # given: seq 8 edited, the chain re-hashed from there, checkpoint 12 re-signed
    _rehash_from(8, reason="rewritten")
    _re_sign_checkpoint(12)

    # when
    inside_only = verify()
    against_kept = verify("--checkpoint", str(log))

    # then
    assert inside_only[1] is None
    assert against_kept[1] == ("the audit log does not verify: first mismatch at seq 12 "
                               "(kept_checkpoint_mismatch)")
    kept_head = json.loads(log.read_text().splitlines()[1])["head_hash"]
    assert against_kept[0][0] == (
        "MISMATCH at seq 12 (kept_checkpoint_mismatch): the chain no longer reaches the head "
        f"of the kept checkpoint at seq 12 ({log}:2: {kept_head[:16]}…, database "
        f"{Seal.objects.get(seq=12).hash[:16]}…): the log was rewritten after seq 6")


def test_a_log_cut_short_at_a_checkpoint_is_caught_only_by_a_kept_checkpoint(log):
    # given: the last run's events, seals and checkpoint removed
    tamper("DELETE FROM audit_checkpoint WHERE seq = 12",
           "DELETE FROM audit_seal WHERE seq > 6",
           ("DELETE FROM audit_event WHERE id > %s", [IDS[5]]))

    # when
    inside_only = verify()
    against_kept = verify("--checkpoint", str(log))

    # then
    assert inside_only[1] is None
    assert inside_only[0][0].startswith("OK: sealed: 6 events (seq 1..6)")
    assert against_kept[1] == ("the audit log does not verify: first mismatch at seq 7 "
                               "(truncated)")
    assert against_kept[0][0] == (
        f"MISMATCH at seq 7 (truncated): the chain ends at seq 6, but a kept checkpoint "
        f"({log}:2) covers seq 12: seals 7..12 were removed (the log was cut short)")


def test_a_kept_checkpoint_with_a_bad_signature_proves_nothing(log, tmp_path):
    # given: a copy whose head was changed after signing
    document = json.loads(log.read_text().splitlines()[0])
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**document, "head_hash": "ef" * 32}))

    # when
    lines, error = verify("--checkpoint", str(forged))

    # then
    assert error == ("the audit log does not verify: first mismatch at seq 6 "
                     "(kept_checkpoint_signature)")
    assert lines[0] == (
        f"MISMATCH at seq 6 (kept_checkpoint_signature): the kept checkpoint ({forged}:1) "
        f"does not carry a valid signature of key {document['key_id']}: it proves nothing")


def test_checkpoints_of_a_retired_key_need_its_public_key(log, settings, public_key_b64):
    # given: the key is replaced, and a later run signs with the new one
    settings.AUDIT_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
    event_with_id(20)
    seal(full=False)

    # when
    without = verify()
    with_old_key = verify("--public-key", public_key_b64)

    # then
    assert without[1] == ("the audit log does not verify: first mismatch at seq 6 "
                          "(checkpoint_unknown_key)")
    assert with_old_key[1] is None


@pytest.mark.parametrize(("content", "error"), [
    ('{"seq": 6, "head_hash": "ab"}', "{path}:1 is not a checkpoint (it needs seq, head_hash, "
                                      "created_at, signature and key_id)"),
    ('not json\n{"seq": 7}\n', "{path}:2 is not a checkpoint"),
    ("[1, 2]", "{path}:1 is not a checkpoint"),
    ("not json\nat all", "{path} holds no checkpoint"),
])
def test_a_checkpoint_file_that_is_not_checkpoints_is_refused(log, tmp_path, content, error):
    # given
    path = tmp_path / "kept.json"
    path.write_text(content)

    # when / then
    with pytest.raises(CommandError,
                       match=re.escape(f"--checkpoint {path}: " + error.format(path=path))):
        call_command("audit_verify", "--checkpoint", str(path), stdout=StringIO())


def test_lines_cut_short_by_a_crash_are_left_out_with_a_note(log, tmp_path):
    # given: the log as the sealer leaves it after a crash mid-write: a torn line, closed off,
    # and the checkpoint written again after it
    lines = log.read_text().splitlines()
    kept = tmp_path / "kept.jsonl"
    kept.write_text(f"{lines[0]}\n{lines[1][:30]}\n{lines[1]}\n{lines[1][:10]}")

    # when
    output, error = verify("--checkpoint", str(kept))

    # then
    assert error is None
    assert output[0] == (f"Note: {kept}: left out lines that are not JSON (writes cut short by "
                         "a crash): 2, 4.")
    assert "kept checkpoints: 2 checked" in output[1]


def test_a_malformed_public_key_is_refused(log):
    # when / then
    with pytest.raises(CommandError, match="--public-key: an Ed25519 public key has 32 bytes"):
        call_command("audit_verify", "--public-key", "AAAA", stdout=StringIO())


# --- A transaction that stayed open past the margin ----------------------------------------------

def test_an_event_sealed_by_the_full_sweep_is_noted_not_failed(db, settings, wall_clock):
    # given: id 3 sealed only by a sweep, after ids above the low-water mark
    settings.AUDIT_SEAL_MARGIN_S = 0
    for event_id in (1, 2, 4):
        event_with_id(event_id)
    seal(full=False)
    wall_clock.advance(seconds=5)
    event_with_id(5)
    seal(full=False)
    event_with_id(3)
    seal(full=True)

    # when
    lines, error = verify()

    # then
    assert error is None
    assert lines[0] == (
        "Note: sealed out of id order, more than a margin after events with higher ids: 1 "
        "(first at seq 5). Transactions that stayed open longer than the margin, or events "
        "inserted with old ids before the sealer reached them.")
    assert lines[1].startswith("OK: sealed: 5 events")


@pytest.mark.django_db(transaction=True)
def test_verifying_outside_a_transaction_reads_ahead_and_names_the_same_seq(
        postgres, settings, monkeypatch):
    # given: a committed log read in windows of 5 by a second connection in one snapshot
    settings.AUDIT_SEAL_MARGIN_S = 0
    monkeypatch.setattr(verify_module, "WINDOW", 5)
    read_ahead, snapshots = verify_module._read_ahead, []

    def spy(windows, snapshot):
        snapshots.append(snapshot)
        return read_ahead(windows, snapshot)

    monkeypatch.setattr(verify_module, "_read_ahead", spy)
    events = [record(reason=f"r{n}") for n in range(23)]
    seal()
    tamper(("UPDATE audit_event SET actor_name = 'x' WHERE id = %s", [events[16].pk]))

    # when
    report = verify_log()

    # then
    assert len(snapshots) == 1
    assert report.sealed == 23
    assert [(problem.seq, problem.kind) for problem in report.problems] == [
        (17, "event_changed")]


# --- PostgreSQL: 100 000 events -------------------------------------------------------------

def test_an_untampered_log_of_100_000_events_verifies(postgres):
    # given: events written in bulk, then sealed like the beat task would
    execute("""
        INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name,
                                 actor_role, subject_type, subject_id, data, context)
        SELECT timestamptz '2025-03-04 09:00:00+00' + g * interval '1 millisecond',
               'review.decided', 'user', g % 50, '', 'moderator', 'submissions.submission',
               md5(g::text),
               jsonb_build_object('outcome', 'approve', 'reasons', jsonb_build_array('likeness'),
                                  'n', g, 'note', 'ünïcødé "quoted"'),
               CASE WHEN g % 10 = 0 THEN '{"ip": "203.0.113.7"}'::jsonb ELSE '{}'::jsonb END
        FROM generate_series(1, 100000) g""")
    sealed = sealing.seal_pending(wait=True)

    # when
    report = verify_log()

    # then
    assert sealed == 100_000
    assert (report.problem_count, report.sealed, report.checkpoints) == (0, 100_000, 1)
    assert report.head_hash == Seal.objects.get(seq=100_000).hash
    assert Checkpoint.objects.get().head_hash == report.head_hash


# --- docs/verify_export.py: an outsider's check of an export ------------------------------------

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_export.py"


def _script():
    spec = importlib.util.spec_from_file_location("verify_export", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _export_rows() -> list[dict]:
    """A synthetic events export: the sealed columns beside pseudonymous ones."""
    return [{"seq": seal.seq, "occurred_at": f"2025-03-04T09:00:{seal.seq:02d}.000000Z",
             "action": "program.suspended", "actor": f"u_{seal.event_id:016x}",
             "leaf_hash": seal.leaf_hash, "hash": seal.hash}
            for seal in Seal.objects.order_by("seq")]


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["seq", "occurred_at", "action", "actor",
                                                    "leaf_hash", "hash"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _latest(tmp_path: Path, **changes) -> Path:
    document = {**sealing.checkpoint_document(Checkpoint.objects.get(seq=12)), **changes}
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(document))
    return path


def test_the_export_script_needs_only_the_standard_library_and_cryptography():
    # when
    tree = ast.parse(SCRIPT.read_text())
    imported = {(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
                for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names}

    # then
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_a_complete_export_verifies_against_the_latest_checkpoint(log, tmp_path, public_key_b64):
    # given: a CSV export, with one event exported before it was sealed
    rows = [*_export_rows(), {"seq": "", "occurred_at": "2025-03-04T10:00:00.000000Z",
                              "action": "auth.signed_out", "actor": "", "leaf_hash": "",
                              "hash": ""}]
    export = _write_csv(tmp_path / "events.csv", rows)
    checkpoint = Checkpoint.objects.get(seq=12)

    # when: run as an outsider would, in a fresh interpreter
    result = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(export), str(_latest(tmp_path)),
         "--public-key", public_key_b64], capture_output=True, text=True, check=False)

    # then
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"OK: seq 1..12 of the export are the chain signed by key {checkpoint.key_id} at "
        f"{signing.timestamp(checkpoint.created_at)} (head {checkpoint.head_hash}); "
        "1 checkpoint(s) checked, 0 newer row(s) linked but not yet covered by a checkpoint.\n")


def test_a_json_lines_export_verifies_against_the_whole_checkpoint_log(log, tmp_path, capsys,
                                                                       public_key):
    # given: the checkpoint log as kept elsewhere, no key given (the log's own is used)
    export = _write_jsonl(tmp_path / "events.jsonl", _export_rows())

    # when
    status = _script().main([str(export), str(log)])

    # then
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0] == (f"Using the public key the checkpoint file carries (key id "
                        f"{signing.key_id(public_key)}); compare that id with the one the "
                        "platform publishes.")
    assert lines[1].startswith("OK: seq 1..12 of the export are the chain signed by key ")
    assert "2 checkpoint(s) checked" in lines[1]


def _drop(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["seq"] != 5]


def _swap_leaves(rows: list[dict]) -> list[dict]:
    rows[2]["leaf_hash"], rows[3]["leaf_hash"] = rows[3]["leaf_hash"], rows[2]["leaf_hash"]
    return rows


def _rehash_from_8(rows: list[dict]) -> list[dict]:
    rows[7]["leaf_hash"] = "77" * 32
    for index in range(7, len(rows)):
        rows[index]["hash"] = sealing.chain_hash(rows[index - 1]["hash"], rows[index]["leaf_hash"])
    return rows


def _cut_tail(rows: list[dict]) -> list[dict]:
    return rows[:10]


def _duplicate(rows: list[dict]) -> list[dict]:
    return [*rows[:4], rows[3], *rows[4:]]


EXPORT_TAMPERING = {
    "row removed": (_drop, "seq 5: missing from the export (the next row is seq 6); only an "
                           "unfiltered export of every event can be checked"),
    "leaves swapped": (_swap_leaves, "seq 3: hash does not follow from the previous row and "
                                     "this row's leaf_hash: rows were changed, added, removed "
                                     "or reordered"),
    "re-hashed": (_rehash_from_8, "seq 12: the chain does not reach the checkpoint's head"),
    "cut short": (_cut_tail, "the export ends at seq 10, before the first checkpoint (seq 12): "
                             "export again, or use an older checkpoint"),
    "row repeated": (_duplicate, "seq 4 appears twice in the export"),
}


@pytest.mark.parametrize("case", EXPORT_TAMPERING, ids=str)
def test_a_tampered_export_fails_naming_the_seq(log, tmp_path, capsys, public_key_b64, case):
    # given
    mutate, message = EXPORT_TAMPERING[case]
    export = _write_csv(tmp_path / "events.csv", mutate(_export_rows()))

    # when
    status = _script().main([str(export), str(_latest(tmp_path)),
                             "--public-key", public_key_b64])

    # then
    assert status == 1
    assert capsys.readouterr().out.startswith(f"FAILED: {message}")


def test_an_export_checked_with_another_key_fails(log, tmp_path, capsys):
    # given: someone else's key
    other = base64.b64encode(signing.raw_public_key(
        Ed25519PrivateKey.from_private_bytes(bytes(32)))).decode()
    export = _write_csv(tmp_path / "events.csv", _export_rows())

    # when
    status = _script().main([str(export), str(_latest(tmp_path)), "--public-key", other])

    # then
    assert status == 1
    assert capsys.readouterr().out.startswith("FAILED: seq 12: signed by key ")


def test_a_checkpoint_changed_after_signing_fails(log, tmp_path, capsys, public_key_b64):
    # given: the export re-hashed from seq 8, and the checkpoint's head edited to match it
    rows = _rehash_from_8(_export_rows())
    export = _write_csv(tmp_path / "events.csv", rows)
    forged = _latest(tmp_path, head_hash=rows[-1]["hash"])

    # when
    status = _script().main([str(export), str(forged), "--public-key", public_key_b64])

    # then
    assert status == 1
    assert capsys.readouterr().out == (
        "FAILED: seq 12: the checkpoint's signature does not verify with this public key: the "
        "checkpoint or the key is not genuine\n")
