"""Sealing and verification of the audit log over 1 000 000 events, each against a bare loop
doing the same hashing in the same run.

- Sealing: ``seal_pending`` (windows of 5 000 ids, anti-join against the seals, COPY, one
  signed checkpoint, the checkpoint log appended and fsynced) against a bare batch sequencer:
  one server-side cursor over the events in id order, the same canonical bytes and SHA-256
  chain, COPY into a copy of the seal table (same indexes), one transaction, nothing else.
- Verification: ``manage.py audit_verify`` (seals streamed in seq order through a server-side
  cursor, their events fetched a window at a time by a second connection in the same snapshot,
  every leaf, link, checkpoint head and signature checked) against a bare verifier: two
  server-side cursors, events by id and seals by seq, zipped, the same leaf and link
  recomputed and compared.
- Also: one beat-sized run (1 000 new events) on top of the 1 000 000 sealed, with the
  low-water mark and with a full sweep, to show what the mark saves.

Prints events/s for each, the ratios (ours / bare) and the issue's goals (sealing >= 20 000
events/s, verification >= 100 000 events/s); also events per CPU-second of this process, which
says what the Python side costs when other work shares the cores (the load average is shown).

Needs PostgreSQL (DATABASE_URL); builds ``test_<name>`` and drops it when done (about 6
minutes). Tunables: BENCH_SEAL_EVENTS (default 1 000 000), BENCH_SEAL_ROUNDS (interleaved
rounds, best of each; default 2).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

from _setup import django_database, postgres_url

EVENTS = int(os.environ.get("BENCH_SEAL_EVENTS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_SEAL_ROUNDS", "2"))
WINDOW = 5000
SEALING_GOAL, VERIFY_GOAL = 20_000, 100_000

# A mix shaped like the platform's own log: claims and decisions with ids and reasons, clip
# facts with numbers, sign-ins carrying client context, events without data.
BUILD = """
INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, actor_role,
                         subject_type, subject_id, data, context)
SELECT timestamptz '2025-03-04 09:00:00+00' + g * interval '37 milliseconds',
       (ARRAY['review.claimed', 'review.decided', 'submission.submitted',
              'submission.processed', 'auth.sign_in_succeeded', 'review.released'])[k + 1],
       CASE WHEN k = 3 THEN 'system' ELSE 'user' END,
       CASE WHEN k = 3 THEN NULL ELSE g %% 400 END,
       CASE WHEN k = 3 THEN 'media-worker' ELSE '' END,
       CASE WHEN k IN (0, 1, 5) THEN 'moderator' WHEN k = 3 THEN '' ELSE 'tester' END,
       CASE WHEN k = 4 THEN 'accounts.user' ELSE 'submissions.submission' END,
       CASE WHEN k = 4 THEN (g %% 400)::text
            ELSE substr(md5(g::text), 1, 8) || '-' || substr(md5(g::text), 9, 4) || '-4' ||
                 substr(md5(g::text), 14, 3) || '-a' || substr(md5(g::text), 18, 3) || '-' ||
                 substr(md5(g::text), 21, 12) END,
       CASE k
         WHEN 0 THEN jsonb_build_object('claim_id', md5((g * 7)::text), 'lease_seconds', 600,
                                        'queue_position', g %% 50)
         WHEN 1 THEN jsonb_build_object('claim_id', md5((g * 7)::text),
                                        'outcome', CASE WHEN g %% 3 = 0 THEN 'reject'
                                                        ELSE 'approve' END,
                                        'reasons',
                                        CASE WHEN g %% 3 = 0
                                             THEN jsonb_build_array('likeness', 'violence')
                                             ELSE '[]'::jsonb END,
                                        'taxonomy_version', 3, 'automated', false)
         WHEN 2 THEN jsonb_build_object('from_status', 'draft')
         WHEN 3 THEN jsonb_build_object('duration_s', 9.5, 'width', 1920, 'height', 1080,
                                        'video_codec', 'h264', 'fps', 29.97)
         WHEN 4 THEN jsonb_build_object('method', 'token')
         ELSE '{}'::jsonb END,
       CASE WHEN k = 4 THEN jsonb_build_object('ip', '198.51.100.' || (g %% 250),
                                               'user_agent', 'Mozilla/5.0 (X11; Linux x86_64)')
            ELSE '{}'::jsonb END
FROM (SELECT g, g %% 6 AS k FROM generate_series(1, %s) g) numbered
"""


def build(connection) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BUILD, [EVENTS])
        cursor.execute("CREATE TABLE bench_seal (LIKE audit_seal INCLUDING ALL)")
    vacuum(connection, "audit_event")
    print(f"built {EVENTS:,} events in {time.perf_counter() - started:.0f} s")


def vacuum(connection, *tables: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")


def reset(connection) -> None:
    """Back to nothing sealed (the test database lets TRUNCATE past the append-only trigger)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_seal, audit_checkpoint, bench_seal")
    vacuum(connection, "audit_seal", "audit_checkpoint", "bench_seal")


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def timed_with_cpu(work) -> tuple[float, float, object]:
    """Wall time, this process's CPU time (every thread), and the result."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - started, time.process_time() - cpu, result


# --- The bare loops --------------------------------------------------------------------------

def bare_sequencer(connection) -> int:
    """Read every event once in id order, hash, COPY the seals: a sequencer and nothing else."""
    from django.db import transaction

    from audit.sealing import event_columns, row_reader

    reader, sha256 = row_reader("postgresql"), hashlib.sha256
    connection.ensure_connection()
    raw = connection.connection
    count, seq, chain = 0, 0, bytes(32)
    with transaction.atomic():
        events = raw.cursor(name="bare_sequencer")
        events.execute(f"SELECT {event_columns('postgresql')} FROM audit_event e ORDER BY e.id")
        with raw.cursor() as writer:
            while rows := events.fetchmany(WINDOW):
                seals = []
                for row in rows:
                    leaf = sha256(reader(row)).digest()
                    chain = sha256(chain + leaf).digest()
                    seq += 1
                    seals.append((seq, row[0], leaf.hex(), chain.hex()))
                with writer.copy("COPY bench_seal (seq, event_id, leaf_hash, hash) "
                                 "FROM STDIN") as copy:
                    for seal in seals:
                        copy.write_row(seal)
                count += len(rows)
        events.close()
    return count


def bare_verifier(connection) -> int:
    """Both tables read once in order, zipped, every leaf and link recomputed and compared."""
    from django.db import transaction

    from audit.sealing import event_columns, row_reader

    reader, sha256, fromhex = row_reader("postgresql"), hashlib.sha256, bytes.fromhex
    connection.ensure_connection()
    raw = connection.connection
    count, bad, previous = 0, 0, bytes(32)
    with transaction.atomic():
        events = raw.cursor(name="bare_events")
        seals = raw.cursor(name="bare_seals")
        events.execute(f"SELECT {event_columns('postgresql')} FROM audit_event e ORDER BY e.id")
        seals.execute("SELECT seq, event_id, leaf_hash, hash FROM audit_seal ORDER BY seq")
        while batch := seals.fetchmany(WINDOW):
            for (_, event_id, leaf_hex, hash_hex), row in zip(
                    batch, events.fetchmany(len(batch)), strict=True):
                stored_leaf, stored_hash = fromhex(leaf_hex), fromhex(hash_hex)
                if row[0] != event_id or sha256(reader(row)).digest() != stored_leaf:
                    bad += 1
                if sha256(previous + stored_leaf).digest() != stored_hash:
                    bad += 1
                previous = stored_hash
            count += len(batch)
        events.close()
        seals.close()
    assert bad == 0, f"the bare verifier found {bad} mismatches"
    return count


# --- Ours ------------------------------------------------------------------------------------

def ours_seal() -> int:
    from audit.sealing import seal_pending

    return seal_pending(wait=True, full=True)


def ours_verify() -> int:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("audit_verify", stdout=out)  # raises on any mismatch
    return int(out.getvalue().split("sealed: ", 1)[1].split(" ", 1)[0])


def beat_runs(connection) -> tuple[float, float]:
    """One run finding 1 000 new events above 1 000 000 sealed: with the low-water mark, and
    with a full sweep (times in ms)."""
    from audit import sealing

    def add_events() -> None:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO audit_event (occurred_at, action, actor_type, "
                           "actor_name, actor_role, subject_type, subject_id, data, context) "
                           "SELECT now(), 'review.released', 'system', 'bench', '', "
                           "'submissions.submission', g::text, '{}', '{}' "
                           "FROM generate_series(1, 1000) g")

    # Make the newest checkpoint older than the margin, as it is in a log that has been
    # running for a while, so the mark sits at the last sealed event.
    later = sealing._wall_clock() + sealing.seal_margin() * 2
    add_events()
    original, sealing._wall_clock = sealing._wall_clock, lambda: later
    try:
        sealing.seal_pending(full=False)
        add_events()
        marked, sealed = timed(lambda: sealing.seal_pending(full=False))
        assert sealed == 1000
        add_events()
        swept, sealed = timed(lambda: sealing.seal_pending(full=True))
        assert sealed == 1000
    finally:
        sealing._wall_clock = original
    return marked * 1000, swept * 1000


def measure(connection) -> None:
    names = ("bare sequencer", "seal_pending", "bare verifier", "audit_verify")
    best = dict.fromkeys(names, 0.0)
    per_cpu_second = dict.fromkeys(names, 0.0)

    def run(name: str, work) -> float:
        seconds, cpu, count = timed_with_cpu(work)
        assert count == EVENTS, count
        best[name] = max(best[name], count / seconds)
        per_cpu_second[name] = max(per_cpu_second[name], count / cpu)
        return count / seconds

    for round_number in range(ROUNDS):
        # Which side goes first alternates: the first reader of a round pays for cold pages.
        sealers = [("bare sequencer", lambda: bare_sequencer(connection)),
                   ("seal_pending", ours_seal)]
        verifiers = [("bare verifier", lambda: bare_verifier(connection)),
                     ("audit_verify", ours_verify)]
        if round_number % 2:
            sealers.reverse()
            verifiers.reverse()
        reset(connection)
        rates = {name: run(name, work) for name, work in sealers}
        vacuum(connection, "audit_seal")
        rates |= {name: run(name, work) for name, work in verifiers}
        print(f"round {round_number + 1}: " + ", ".join(
            f"{name} {rate:,.0f}/s" for name, rate in rates.items()))
    marked, swept = beat_runs(connection)

    def line(name: str, baseline: str, goal: int) -> str:
        rate = best[name]
        verdict = "meets" if rate >= goal else "misses"
        return (f"{name:<14} {rate:>9,.0f} events/s   {rate / best[baseline]:.2f}x the "
                f"{baseline} ({best[baseline]:,.0f}/s); {verdict} the goal of {goal:,}/s")

    print(f"\ndatabase: postgresql; {EVENTS:,} events; best of {ROUNDS} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(line("seal_pending", "bare sequencer", SEALING_GOAL))
    print(line("audit_verify", "bare verifier", VERIFY_GOAL))
    print("events per CPU-second of this process (the database's own work not counted): "
          + ", ".join(f"{name} {rate:,.0f}" for name, rate in per_cpu_second.items()))
    print(f"one beat run, 1 000 new events over {EVENTS:,} sealed: {marked:.0f} ms with the "
          f"low-water mark, {swept:.0f} ms with a full sweep ({marked / swept:.2f}x)")


def main() -> None:
    url = postgres_url()
    if url is None:
        print("bench/seal.py needs PostgreSQL (1 000 000 events, COPY, server-side cursors): "
              "set DATABASE_URL=postgres://... ; skipped.")
        return
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="bench-seal-"))
    os.environ["TEST_VAR_DIR"] = str(scratch)  # the checkpoint log lands here, and is removed
    try:
        with django_database() as connection:
            build(connection)
            measure(connection)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
