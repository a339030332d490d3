"""Research exports through the running server against COPY of the same rows, same run.

Builds 1 000 000 audit events (sealed, from 2 000 accounts, the action mix of a busy program)
in a throwaway PostgreSQL database and fetches ``GET /api/v1/research/export/events.<format>``
from gunicorn (production settings, one sync worker) for each format, reading the body into a
counting, hashing sink. Baselines read into the same sink, in the same run:

- CSV: ``psql`` running ``COPY (<the export's own SELECT>) TO STDOUT (FORMAT csv, HEADER)``,
  after loading the same pseudonym table in the same session;
- JSON Lines: ``psql`` running COPY of ``row_to_json`` over the same SELECT (a COPY-based JSON
  export), in the dialect the export uses;
- Parquet: in this process, psycopg COPY of the same CSV into pyarrow's CSV reader and a
  ParquetWriter (same compression), written to the sink.

The CSV and JSON Lines bodies must be byte-identical to their baselines (their SHA-256 are
compared). Every export is filtered to the built events (``until`` a month after them): each
server export records its own ``research.exported`` event, which would otherwise join every
later export and no baseline. Prints each rate, the ratios (server / baseline) against the
goals (CSV >= 0.8x, JSON Lines >= 0.8x, Parquet >= 0.5x) and the gunicorn worker's peak RSS
(VmHWM, goal under 200 MB). For context it also prints a plain
``COPY (SELECT * FROM audit_event)`` (the cost of pseudonyms, redaction and ISO timestamps).

Needs PostgreSQL (DATABASE_URL) and psql. Builds ``test_<name>`` and drops it when done.
Tunables: BENCH_EXPORT_EVENTS (default 1000000), BENCH_EXPORT_ROUNDS (interleaved rounds,
default 2; the best of each side is kept).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from _setup import django_database, free_port, postgres_url, serve_gunicorn

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("BENCH_EXPORT_EVENTS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_EXPORT_ROUNDS", "2"))
USERS = 2000
GOALS = {"csv": 0.8, "jsonl": 0.8, "parquet": 0.5}
RSS_GOAL_MB = 200
READ_BYTES = 256 * 1024
# After every built event, before the research.exported events the exports record (now).
UNTIL = datetime(2025, 4, 1, tzinfo=UTC)


# -- the database ------------------------------------------------------------------------
def build(connection) -> str:
    """USERS accounts, EVENTS sealed events and a study with one researcher; returns the
    researcher's API token."""
    from rest_framework.authtoken.models import Token

    from accounts.models import Role
    from audit.models import Study
    from tests.factories import UserFactory

    researcher = UserFactory(username="bench-researcher", roles=[Role.RESEARCHER])
    study = Study.objects.create(slug="bench", name="Bench study")
    study.researchers.add(researcher)
    token = Token.objects.create(user=researcher).key
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                                       email, is_staff, is_active, date_joined)
            SELECT '!', false, 'bench-user-' || g, '', '', 'bench-user-' || g || '@example.org',
                   false, true, now()
            FROM generate_series(1, {USERS}) g""")
        cursor.execute("SELECT min(id), max(id) FROM accounts_user")
        low, high = cursor.fetchone()
        # The mix of a busy program: mostly the review gate and the media pipeline, some
        # sign-ins (with the client's address), a few redemptions (a user id in the data) and
        # suspensions (free text in the data).
        cursor.execute(f"""
            INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name,
                                     actor_role, subject_type, subject_id, data, context)
            SELECT timestamptz '2025-03-01 00:00:00+00' + g * interval '250 milliseconds'
                     + (g % 997) * interval '1 microsecond',
                   a.action,
                   CASE WHEN a.action = 'submission.processed' THEN 'system' ELSE 'user' END,
                   CASE WHEN a.action = 'submission.processed' THEN NULL ELSE u.id END,
                   CASE WHEN a.action = 'submission.processed' THEN 'worker' ELSE '' END,
                   CASE WHEN a.action LIKE 'review.%' THEN 'moderator'
                        WHEN a.action LIKE 'program.%' THEN 'program_admin'
                        WHEN a.action = 'submission.processed' THEN '' ELSE 'tester' END,
                   CASE WHEN a.action LIKE 'review.%' OR a.action LIKE 'submission.%'
                          THEN 'submissions.submission'
                        WHEN a.action = 'auth.sign_in_succeeded' THEN 'accounts.user'
                        WHEN a.action = 'invitation.redeemed' THEN 'accounts.invitation'
                        ELSE 'accounts.program' END,
                   CASE WHEN a.action LIKE 'review.%' OR a.action LIKE 'submission.%'
                          THEN clip::text
                        WHEN a.action = 'auth.sign_in_succeeded' THEN u.id::text
                        WHEN a.action = 'invitation.redeemed' THEN gen_random_uuid()::text
                        ELSE '1' END,
                   CASE a.action
                     WHEN 'review.claimed' THEN jsonb_build_object(
                       'claim_id', gen_random_uuid(), 'track', 'primary',
                       'expires_at', '2025-03-01T00:10:00Z', 'waited_s', (g % 5000) / 7.0)
                     WHEN 'review.decided' THEN jsonb_build_object(
                       'decision_id', gen_random_uuid(), 'claim_id', gen_random_uuid(),
                       'track', 'primary', 'outcome', CASE WHEN g % 3 = 0 THEN 'reject'
                                                           ELSE 'approve' END,
                       'reasons', CASE WHEN g % 3 = 0 THEN '["likeness", "copyright"]'::jsonb
                                       ELSE '[]'::jsonb END,
                       'taxonomy_version', 1, 'effective', true, 'appeal_result', NULL,
                       'held_s', (g % 900) / 3.0)
                     WHEN 'submission.created' THEN jsonb_build_object(
                       'source', 'upload', 'cohort', 'creative-partners',
                       'size_bytes', 1000000 + g, 'sha256', md5(g::text) || md5((-g)::text),
                       'generation', NULL)
                     WHEN 'submission.processed' THEN jsonb_build_object(
                       'attempt', 1, 'processing_s', (g % 600) / 10.0, 'media',
                       '{{"container": "mp4", "video_codec": "h264", "width": 1920,
                         "height": 1080, "fps": 30.0, "duration_s": 10.0, "has_audio": true,
                         "audio_codec": "aac"}}'::jsonb)
                     WHEN 'auth.sign_in_succeeded' THEN '{{"method": "token"}}'::jsonb
                     WHEN 'invitation.redeemed' THEN jsonb_build_object(
                       'user_id', u.id, 'uses', 1, 'max_uses', 1)
                     WHEN 'program.suspended' THEN jsonb_build_object(
                       'from_status', 'open', 'reason',
                       'A leak of unreleased clips: "all access suspended", see \\\\ note')
                     ELSE '{{}}'::jsonb END,
                   CASE WHEN a.action LIKE 'auth.%' OR a.action = 'invitation.redeemed'
                        THEN jsonb_build_object('ip', '203.0.113.' || (g % 250),
                                                'user_agent', 'python-requests/2.32')
                        ELSE '{{}}'::jsonb END
            FROM generate_series(1, {EVENTS}) g
            CROSS JOIN LATERAL (SELECT CASE
                WHEN g % 100 < 30 THEN 'review.claimed'
                WHEN g % 100 < 55 THEN 'review.decided'
                WHEN g % 100 < 70 THEN 'submission.created'
                WHEN g % 100 < 85 THEN 'submission.processed'
                WHEN g % 100 < 95 THEN 'submission.submitted'
                WHEN g % 100 < 99 THEN 'auth.sign_in_succeeded'
                WHEN g % 1000 < 995 THEN 'invitation.redeemed'
                ELSE 'program.suspended' END AS action) a
            CROSS JOIN LATERAL (SELECT {low} + (g::bigint * 7919) % ({high} - {low} + 1) AS id) u
            CROSS JOIN LATERAL (SELECT md5((g / 7)::text)::uuid AS clip) c""")
        cursor.execute("""
            INSERT INTO audit_seal (seq, event_id, leaf_hash, hash)
            SELECT row_number() OVER (ORDER BY id), id, encode(sha256(id::text::bytea), 'hex'),
                   encode(sha256((-id)::text::bytea), 'hex')
            FROM audit_event""")
        cursor.execute("VACUUM ANALYZE audit_event, audit_seal, accounts_user")
        cursor.execute("CHECKPOINT")
    return token


# -- sinks and sources -------------------------------------------------------------------------
class Sink:
    """Counts and hashes what it is given: the same sink for the server and the baselines."""

    def __init__(self) -> None:
        self.bytes = 0
        self.digest = hashlib.sha256()

    def take(self, data: bytes) -> None:
        self.bytes += len(data)
        self.digest.update(data)


def fetch(port: int, path: str, token: str) -> tuple[float, Sink]:
    sink = Sink()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {response.read()[:300]!r}")
    while data := response.read(READ_BYTES):
        sink.take(data)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, sink


def psql(db_url: str, script: Path) -> tuple[float, Sink]:
    sink = Sink()
    started = time.perf_counter()
    process = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db_url,
                                "-f", str(script)], stdout=subprocess.PIPE)
    while data := process.stdout.read(READ_BYTES):
        sink.take(data)
    if process.wait() != 0:
        raise RuntimeError("psql failed")
    return time.perf_counter() - started, sink


def copy_to_parquet(connection, people_rows: list[tuple], sql: str,
                    columns: list) -> tuple[float, Sink]:
    """The in-process baseline: COPY CSV into pyarrow and a ParquetWriter, to the sink."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from audit.research import exports, formats

    sink = Sink()
    started = time.perf_counter()
    options = formats.arrow_csv_options(columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("BEGIN")
        raw.execute(f"CREATE TEMPORARY TABLE {exports.PSEUDONYMS} (user_id bigint PRIMARY KEY, "
                    "user_ref text NOT NULL UNIQUE, pseudonym text NOT NULL, username text) "
                    "ON COMMIT DROP")
        with raw.copy(f"COPY {exports.PSEUDONYMS} FROM STDIN") as copy:
            for row in people_rows:
                copy.write_row(row)
        raw.execute(f"ANALYZE {exports.PSEUDONYMS}")
        raw.execute("SET LOCAL jit = off")
        # The export's own buffer, emptied into the sink after every block, as it streams.
        buffer = formats.Sink()
        with pq.ParquetWriter(buffer, formats.arrow_schema(columns),
                              **formats.PARQUET_WRITER_OPTIONS) as out, \
                raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            block, size = [], 0
            for row in copy:
                block.append(row)
                size += len(row)
                if size >= exports.PARQUET_BLOCK_BYTES:
                    out.write_table(pa_csv.read_csv(pa.py_buffer(b"".join(block)), **options))
                    sink.take(buffer.drain())
                    block, size = [], 0
            if block:
                out.write_table(pa_csv.read_csv(pa.py_buffer(b"".join(block)), **options))
        sink.take(buffer.drain())  # the footer
        raw.execute("COMMIT")
    return time.perf_counter() - started, sink


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pid(master: int) -> int:
    return int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])


# -- the run -----------------------------------------------------------------------------------
def measure(connection, url: str, token: str, scratch: Path) -> None:
    import psycopg
    from django.conf import settings

    from audit.models import Study
    from audit.research import access, exports
    from audit.research.datasets import Filters, get_dataset

    db_name = connection.settings_dict["NAME"]
    db_url = urlparse(url)._replace(path=f"/{db_name}").geturl()
    dataset = get_dataset("events")
    scope = access.ResearchScope(Study.objects.get(slug="bench"))
    people = access.people(scope)
    export = exports.export_prepare(dataset, scope, Filters(until=UNTIL), people)
    # The export's own SELECTs with its filter's value written in, for psql and COPY.
    connection.ensure_connection()
    literal = psycopg.ClientCursor(connection.connection).mogrify
    csv_sql = literal(*exports._sql(export, exports._expressions(export, "csv")))
    json_sql = literal(*exports._sql(export, exports._expressions(export, "json")))
    people_rows = [(p.user_id, str(p.user_id), p.pseudonym, p.username) for p in people]
    load = (f"BEGIN;\nCREATE TEMPORARY TABLE {exports.PSEUDONYMS} (user_id bigint PRIMARY KEY, "
            "user_ref text NOT NULL UNIQUE, pseudonym text NOT NULL, username text) "
            f"ON COMMIT DROP;\nCOPY {exports.PSEUDONYMS} FROM STDIN;\n"
            + "".join(f"{a}\t{b}\t{c}\t\\N\n" for a, b, c, _ in people_rows)
            + f"\\.\nANALYZE {exports.PSEUDONYMS};\nSET LOCAL jit = off;\n")
    scripts = {
        "csv": load + f"COPY ({csv_sql}) TO STDOUT WITH (FORMAT csv, HEADER);\nCOMMIT;\n",
        "jsonl": load + f"COPY (SELECT row_to_json(q)::text FROM ({json_sql}) q) TO STDOUT "
                        f"WITH ({exports._PG_JSONL_OPTIONS});\nCOMMIT;\n",
        "raw": "COPY (SELECT * FROM audit_event ORDER BY id) TO STDOUT WITH (FORMAT csv);\n",
    }
    for name, text in scripts.items():
        (scratch / f"{name}.sql").write_text(text)

    port = free_port()
    server = serve_gunicorn(db_url, scratch, port, workers=1, timeout=600,
                            RESEARCH_PSEUDONYM_KEY=settings.RESEARCH_PSEUDONYM_KEY)
    try:
        worker = worker_pid(server.pid)
        fetch(port, "/api/v1/research/export/events.csv?until=2025-03-01T00:01:00Z", token)
        fetch(port, "/api/v1/research/export/events.parquet?until=2025-03-01T00:01:00Z", token)
        until = UNTIL.isoformat().replace("+00:00", "Z")
        warm_rss = peak_rss_mb(worker)
        results: dict[str, dict[str, list]] = {}

        def run(label: str, step) -> None:
            elapsed, sink = step()
            results.setdefault(label, {"times": [], "sinks": []})
            results[label]["times"].append(elapsed)
            results[label]["sinks"].append(sink)

        for round_ in range(ROUNDS):
            for format in ("csv", "jsonl", "parquet"):
                path = f"/api/v1/research/export/events.{format}?until={until}"
                if format == "parquet":
                    baseline = ("parquet baseline", lambda: copy_to_parquet(
                        connection, people_rows, csv_sql, export.columns))
                else:
                    baseline = (f"{format} baseline",
                                lambda f=format: psql(db_url, scratch / f"{f}.sql"))
                served = (f"{format} server", lambda p=path: fetch(port, p, token))
                for label, step in ((baseline, served) if round_ % 2 == 0
                                    else (served, baseline)):
                    run(label, step)
            run("raw table COPY", lambda: psql(db_url, scratch / "raw.sql"))
        peak = peak_rss_mb(worker)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(f"database: PostgreSQL {connection.pg_version // 10000}, {db_name}; {EVENTS} sealed "
          f"events from {USERS} accounts; gunicorn 1 sync worker (production settings); "
          f"{ROUNDS} interleaved rounds, best of each")
    best = {label: min(entry["times"]) for label, entry in results.items()}
    size = {label: entry["sinks"][0].bytes for label, entry in results.items()}
    for label in results:
        print(f"  {label:18s} {EVENTS / best[label]:9.0f} rows/s  {best[label]:6.2f} s  "
              f"{size[label] / 1e6:7.1f} MB  ({size[label] / best[label] / 1e6:5.0f} MB/s)")
    verdicts = []
    for format, goal in GOALS.items():
        ratio = best[f"{format} baseline"] / best[f"{format} server"]
        same = ""
        if format != "parquet":
            digests = {sink.digest.hexdigest() for label in (f"{format} baseline",
                                                             f"{format} server")
                       for sink in results[label]["sinks"]}
            same = ("; bytes identical to the baseline" if len(digests) == 1
                    else "; BYTES DIFFER FROM THE BASELINE")
        met = ratio >= goal
        verdicts.append(met)
        print(f"ratio {format:7s} server / baseline = {ratio:.2f}x  (goal >= {goal}x: "
              f"{'met' if met else 'MISSED'}{same})")
    overhead = best["csv server"] / best["raw table COPY"]
    print(f"context: the events export's CSV takes {overhead:.2f}x the time of a plain COPY of "
          "the raw table (pseudonyms, redaction, ISO timestamps, the seal join)")
    print(f"gunicorn worker peak RSS (VmHWM): {peak:.0f} MB after all exports, {warm_rss:.0f} MB "
          f"after warm-up (goal < {RSS_GOAL_MB} MB: {'met' if peak < RSS_GOAL_MB else 'MISSED'})")


def main() -> None:
    url = postgres_url()
    if url is None:
        print("bench/export.py needs PostgreSQL (COPY): set DATABASE_URL=postgres://... ; "
              "skipped.")
        return
    if shutil.which("psql") is None:
        print("bench/export.py needs psql for its baseline; skipped.")
        return
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        with django_database() as connection:
            token = build(connection)
            print(f"built {EVENTS} events in {time.perf_counter() - began:.0f} s")
            measure(connection, url, token, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"(total {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
