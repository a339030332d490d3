"""The review queue: claim-next + approve through the service layer against a raw SQL loop
doing the same writes, at 1, 4 and 16 concurrent moderators (one process each), same run.

Prints items/s, p50 and p99 latency per item for both, their ratio (service / raw), and the
integrity counts (clips with more than one decision, or more than one open claim: must be 0).
Then a diagnosis in this process: statements per item, CPU per item in the client process
and in its database backend for both loops (their ratio is what to expect once every core is
busy), both claim queries' plans, and a CPU profile of the service loop. Then the claim
endpoint over HTTP (gunicorn, 4 sync workers, 16 keep-alive clients) as a p99 ratio to
``GET /api/v1/me/`` on the same server.
Goal (issue 4): service >= 0.5x raw at 4 and 16 moderators.

How the sides are kept comparable: the same spawned processes (one per moderator, each its
own database connection) run every loop; before each run every clip is put back to pending,
claims, decisions and events are emptied, and the tables vacuumed and checkpointed; runs are
interleaved, rotating which goes first; all processes start at the same instant and stop
after the same time. The raw loop applies the selector's rules (pending, not own, no live
claim, not decided by them, no open escalation, queue order) and writes the same rows: a
claim and its ``review.claimed`` event, the fenced update ending the claim, the decision, the
status change, the ``review.decided`` event, in one transaction. For context a third loop
runs the same SQL split like the services (a claim transaction, then a decision transaction).
The decision e-mail task is replaced by a counting stub in the benchmark processes (no
broker, not eager); gunicorn gets the in-memory broker.

Needs PostgreSQL (DATABASE_URL). Builds ``test_<name>`` with 100 000 pending clips and drops
it when done (about 5 minutes). Tunables: BENCH_CLAIMS_ITEMS; BENCH_CLAIMS_SECONDS (per
run) and BENCH_CLAIMS_ROUNDS (interleaved runs per loop and concurrency, pooled);
BENCH_CLAIMS_HTTP_SECONDS (per endpoint); BENCH_CLAIMS_PROFILE (auto: profile one service
loop when the goal is missed; 1: always; 0: never).
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import math
import multiprocessing
import os
import pstats
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from _setup import django_database, free_port, postgres_url, serve_gunicorn

ROOT = Path(__file__).resolve().parent.parent
ITEMS = int(os.environ.get("BENCH_CLAIMS_ITEMS", "100000"))
SECONDS = float(os.environ.get("BENCH_CLAIMS_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_CLAIMS_ROUNDS", "3"))
HTTP_SECONDS = float(os.environ.get("BENCH_CLAIMS_HTTP_SECONDS", "8"))
PROFILE = os.environ.get("BENCH_CLAIMS_PROFILE", "auto")
LEVELS = (1, 4, 16)
TESTERS = 4
HTTP_WORKERS = 4
GOAL = 0.5


# -- the database ------------------------------------------------------------------------
def build(connection) -> list[tuple[int, str]]:
    """Testers, moderators with tokens, the default taxonomy, no second opinions, and ITEMS
    pending clips (COPY); returns the moderators as (id, token)."""
    from psycopg.types.json import Jsonb
    from rest_framework.authtoken.models import Token

    from accounts.models import Role
    from accounts.selectors import program_get
    from audit import SystemActor
    from core import clock
    from review.services.taxonomy import taxonomy_install_defaults
    from submissions.models import Submission, SubmissionStatus
    from tests.factories import UserFactory

    testers = [UserFactory(username=f"tester{i}").pk for i in range(TESTERS)]
    moderators = [UserFactory(username=f"moderator{i}", roles=[Role.MODERATOR])
                  for i in range(max(LEVELS))]
    tokens = [(user.pk, Token.objects.create(user=user).key) for user in moderators]
    taxonomy_install_defaults(actor=SystemActor("bench"))
    program = program_get()
    program.second_opinion_rate = 0.0  # every decision is the same kind of work
    program.save()

    now = clock.now()
    start = now - timedelta(seconds=ITEMS)
    overrides = {"status": SubmissionStatus.PENDING_REVIEW, "source": "upload",
                 "size_bytes": 1_000_000, "processing_attempts": 1}
    fields = list(Submission._meta.concrete_fields)
    columns = ", ".join(field.column for field in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {Submission._meta.db_table} ({columns}) FROM STDIN") as copy:
        for i in range(ITEMS):
            at = start + timedelta(seconds=i)
            values = {**overrides, "id": uuid.uuid4(), "owner": testers[i % TESTERS],
                      "prompt": f"bench clip {i}", "original": f"clips/{i}.mp4",
                      "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
                      "created_at": at, "submitted_at": at, "processed_at": at,
                      "review_entered_at": at}
            row = []
            for field in fields:
                value = values[field.name] if field.name in values else field.get_default()
                row.append(Jsonb(value) if field.get_internal_type() == "JSONField" else value)
            copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE submissions_submission")
    return tokens


def reset(connection) -> None:
    """Every clip back to pending, no claims, decisions or events; vacuumed and checkpointed,
    so each run starts from the same state."""
    with connection.cursor() as cursor:
        # TRUNCATE of the append-only audit table is allowed only in a test_* database whose
        # session sets early_access.allow_test_flush (the test settings do).
        cursor.execute("TRUNCATE review_decision, review_claim, audit_event CASCADE")
        cursor.execute("UPDATE submissions_submission SET status = 'pending_review', "
                       "decided_at = NULL WHERE status <> 'pending_review'")
        cursor.execute("VACUUM ANALYZE submissions_submission, review_claim, review_decision, "
                       "audit_event")
        cursor.execute("CHECKPOINT")


def integrity(connection) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT
              (SELECT count(*) FROM (SELECT submission_id FROM review_decision
                                     GROUP BY 1 HAVING count(*) > 1) x),
              (SELECT count(*) FROM (SELECT submission_id FROM review_claim
                                     WHERE ended_at IS NULL GROUP BY 1 HAVING count(*) > 1) x),
              (SELECT count(*) FROM (SELECT submission_id FROM review_claim
                                     GROUP BY 1 HAVING count(*) > 1) x),
              (SELECT count(*) FROM review_decision),
              (SELECT count(*) FROM submissions_submission WHERE status = 'approved'),
              (SELECT count(*) FROM audit_event),
              (SELECT count(*) FROM review_claim WHERE ended_at IS NULL),
              (SELECT count(*) FROM review_claim)""")
        names = ("double_decisions", "double_open_claims", "claimed_twice", "decisions",
                 "approved", "events", "open_claims", "claims")
        return dict(zip(names, cursor.fetchone(), strict=True))


# -- the processes -------------------------------------------------------------------------
class Pool:
    """max(LEVELS) spawned moderator processes, kept for every run."""

    def __init__(self, db_name: str, moderators: list[tuple[int, str]]) -> None:
        import _claims_worker

        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.commands = [context.Queue() for _ in moderators]
        self.processes = [context.Process(target=_claims_worker.serve, daemon=True,
                                          args=(db_name, pk, token, queue, self.results))
                          for (pk, token), queue in zip(moderators, self.commands, strict=True)]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            self._get(120)

    def _get(self, timeout: float):
        kind, outcome = self.results.get(timeout=timeout)
        if isinstance(outcome, dict) and "error" in outcome:
            raise RuntimeError(f"a benchmark process failed in {kind}: {outcome['error']}")
        return outcome

    def run(self, kind: str, clients: int, duration: float, *extra) -> dict:
        start_at = time.time() + 0.3
        for queue in self.commands[:clients]:
            queue.put((kind, (start_at, duration, *extra)))
        outcomes = [self._get(duration + 120) for _ in range(clients)]
        # A failed attempt (an error the moderator would see) comes back as a negative time.
        times = [x for outcome in outcomes for x in outcome["latencies"]]
        done = sum(1 for x in times if x >= 0)
        latencies = sorted(abs(x) for x in times)
        elapsed = max(outcome["finished"] for outcome in outcomes) - start_at
        return {"items": done, "rate": done / elapsed, "elapsed": elapsed,
                "failed": len(times) - done,
                "latencies": latencies,
                "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
                "empty": sum(outcome.get("empty", 0) for outcome in outcomes),
                "notified": sum(outcome.get("notified", 0) for outcome in outcomes),
                "lost_races": sum(outcome.get("lost_races", 0) for outcome in outcomes),
                "errors": merge([outcome.get("errors", {}) for outcome in outcomes]),
                "statuses": merge([outcome.get("statuses", {}) for outcome in outcomes])}

    def close(self) -> None:
        for queue in self.commands:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def merge(counts: list[dict]) -> dict:
    total: dict = {}
    for count in counts:
        for key, value in count.items():
            total[key] = total.get(key, 0) + value
    return total


# -- diagnosis ------------------------------------------------------------------------------
def backend_cpu(cursor) -> Callable[[], float]:
    """A reading of the CPU seconds the PostgreSQL backend serving ``cursor`` has used
    (from /proc: the server runs on this machine), or of 0.0 where that cannot be read."""
    cursor.execute("SELECT pg_backend_pid()")
    stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return read


def diagnose(connection, moderator_id: int, profile: bool) -> None:
    """Queries per item; CPU per item in the client process and in its database backend,
    for both loops (on two cores shared by every process, their totals bound the rates at
    high concurrency); both claim queries' plans; and (when asked) a CPU profile of one
    service loop in this process."""
    import _claims_worker
    import psycopg
    from django.db import transaction

    import review.tasks
    from accounts.models import User
    from core import clock
    from review.selectors import clips_claimable_by
    from review.services.claims import claim_next
    from review.services.decisions import decision_record

    review.tasks.decision_notify = _claims_worker._NotifyStub()
    actor = User.objects.get(pk=moderator_id)
    assert actor.roles
    statements: list[str] = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    def item() -> None:
        claim = claim_next(actor=actor)
        decision_record(actor=actor, claim_id=claim.pk, outcome="approve")

    with connection.cursor() as cursor:
        service_backend = backend_cpu(cursor)
    raw_connection = psycopg.connect(**_claims_worker.raw_params(connection.settings_dict))
    raw = _claims_worker.RawLoop(raw_connection, moderator_id)
    cost = {"service": [0.0, 0.0, 0.0], "raw": [0.0, 0.0, 0.0]}  # wall, client, backend
    items = {"service": 0, "raw": 0}
    with raw_connection, raw_connection.cursor() as cursor:
        raw_backend = backend_cpu(cursor)
        version = raw.taxonomy_version(cursor)
        loops = {"service": (item, service_backend),
                 "raw": (lambda: raw.item(cursor, version), raw_backend)}
        for step, _ in loops.values():
            for _ in range(20):  # warm: connections, prepared statements, caches
                step()
        with connection.execute_wrapper(count):
            item()
        for batch in range(20):  # alternating batches, so machine noise hits both alike
            for name in ("service", "raw") if batch % 2 else ("raw", "service"):
                step, backend = loops[name]
                wall, client, server = time.perf_counter(), time.process_time(), backend()
                for _ in range(25):
                    step()
                for index, spent in enumerate((time.perf_counter() - wall,
                                               time.process_time() - client,
                                               backend() - server)):
                    cost[name][index] += spent
                items[name] += 25
    per_item = {name: [spent / items[name] * 1000 for spent in cost[name]] for name in cost}
    for name, label in (("service", f"service: {len(statements)} SQL statements and 2 "
                                    "transactions per item"),
                        ("raw", "raw SQL: 7 statements and 1 transaction per item")):
        wall, client, server = per_item[name]
        print(f"  {label}, {wall:.2f} ms/item; CPU {client:.2f} ms in the client process + "
              f"{server:.2f} ms in its database backend = {client + server:.2f} ms")
    service_cpu, raw_cpu = (sum(per_item[name][1:]) for name in ("service", "raw"))
    if service_cpu and raw_cpu:
        print(f"  CPU per item raw / service = {raw_cpu / service_cpu:.2f}x: the ratio to "
              "expect when every core is busy")
    queryset = clips_claimable_by(actor, clock.now(), escalated=False).select_for_update(
        skip_locked=True, of=("self",))[:1]
    with transaction.atomic():
        sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for name, query, args in (
                ("service claim query (ORM)", sql, params),
                ("raw claim query", _claims_worker.RAW_PICK,
                 {"me": moderator_id, "now": clock.now()})):
            cursor.execute("BEGIN")
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, args)
            plan = cursor.fetchone()[0]
            cursor.execute("ROLLBACK")
            plan = plan[0] if isinstance(plan, list) else plan
            jit = plan.get("JIT", {}).get("Timing", {}).get("Total", 0.0)
            top = plan["Plan"]
            nodes = []
            while top is not None:
                nodes.append(top["Node Type"] + (f" ({top['Sort Method']})"
                                                 if "Sort Method" in top else ""))
                children = top.get("Plans") or []
                top = children[0] if children else None
            print(f"  {name}: {plan['Execution Time']:.2f} ms (JIT {jit:.0f} ms of it); "
                  f"plan {' > '.join(nodes)}")
    if not profile:
        return
    # CPU time, not wall time: waiting on the database is the other process's cost.
    profiler = cProfile.Profile(time.process_time)
    end, profiled = time.perf_counter() + 2, 0
    profiler.enable()
    while time.perf_counter() < end:
        item()
        profiled += 1
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"  cProfile (CPU time), one service loop in this process: {profiled} items, "
          f"{total:.2f} s ({total / profiled * 1000:.2f} ms/item, with the profiler's overhead)")
    watched = {
        "claim_next": ("review/services/claims.py", "claim_next"),
        "  claim_insert_next (SKIP LOCKED pick + claim insert)": ("review/sql.py",
                                                                 "claim_insert_next"),
        "  _opened (the claim's audit event)": ("review/services/claims.py", "_opened"),
        "decision_record": ("review/services/decisions.py", "decision_record"),
        "  claim_for_decision (clip lock + claim read)": ("review/sql.py",
                                                          "claim_for_decision"),
        "  decision_write (fenced take + decision + status + its event)": (
            "review/sql.py", "decision_write"),
        "audit.prepare (building every event)": ("audit/services.py", "prepare"),
        "audit.record (events written alone)": ("audit/services.py", "record"),
        "psycopg execute (all statements)": ("psycopg/cursor.py", "execute"),
        "SQL compilation (as_sql, all)": ("django/db/models/sql/compiler.py", "as_sql"),
        "model instances (__init__, all)": ("django/db/models/base.py", "__init__"),
        "transaction commit (all)": ("django/db/backends/base/base.py", "commit"),
    }
    for label, (file, function) in watched.items():
        cumulative = sum(entry[3] for key, entry in stats.stats.items()
                         if key[0].endswith(file) and key[2] == function)
        print(f"    {label:48s} {cumulative / profiled * 1000:6.2f} ms/item "
              f"({cumulative / total:4.0%})")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    print("  top own time:")
    for line in out.getvalue().splitlines():
        if line.strip() and line.strip()[0].isdigit():
            print("   ", line.strip()[:150])


# -- the report -----------------------------------------------------------------------------
def pooled(runs: list[dict]) -> dict:
    """One figure from a loop's interleaved rounds: all items over all the time."""
    latencies = sorted(x for run in runs for x in run["latencies"])
    total = {key: sum(run[key] for run in runs)
             for key in ("items", "elapsed", "failed", "lost_races", "empty")}
    return {**total, "rate": total["items"] / total["elapsed"],
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
            "errors": merge([run["errors"] for run in runs]),
            "check": merge([run["check"] for run in runs])}


def line(name: str, stats: dict) -> str:
    return (f"{name:8s} {stats['rate']:8.0f} items/s  p50 {stats['p50']:7.2f} ms  "
            f"p99 {stats['p99']:7.2f} ms  ({stats['items']} items)")


def measure(connection, pool: Pool, moderators: list, url: str, scratch: Path) -> None:
    db_name = connection.settings_dict["NAME"]
    print(f"database: PostgreSQL {connection.pg_version // 10000}, {db_name}; "
          f"{ITEMS} pending clips from {TESTERS} testers; {ROUNDS} interleaved rounds of "
          f"{SECONDS:.0f} s per loop and concurrency; "
          f"one spawned process per moderator; e-mail task stubbed (counted, not sent)")
    results: dict = {}
    failed = []
    kinds = ("raw_loop", "raw_split", "service")
    for index, clients in enumerate(LEVELS):
        for round_ in range(ROUNDS):
            shift = (index + round_) % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:  # interleaved, rotating the first
                reset(connection)
                stats = pool.run(kind, clients, SECONDS)
                stats["check"] = check = integrity(connection)
                results.setdefault((clients, kind), []).append(stats)
                # Every decision approved and audited; every claim audited; a claim left
                # open only by a failed decision.
                if (check["decisions"] != stats["items"]
                        or check["approved"] != stats["items"]
                        or check["events"] != check["claims"] + check["decisions"]
                        or check["claims"] != check["decisions"] + check["open_claims"]
                        or check["open_claims"] > stats["failed"]):
                    failed.append(f"{kind} x{clients}: {check} for {stats['items']} items")
                if kind == "service" and stats["notified"] != stats["items"]:
                    failed.append(f"service x{clients}: {stats['notified']} e-mail tasks")
    results = {key: pooled(runs) for key, runs in results.items()}
    print("\nclaim-next + approve per item: the service layer; the raw SQL loop (one "
          "transaction per item: the baseline); raw SQL split like the services (a claim "
          "transaction, then a decision transaction: context)")
    ratios = {}
    for clients in LEVELS:
        service, raw = results[clients, "service"], results[clients, "raw_loop"]
        split = results[clients, "raw_split"]
        ratios[clients] = service["rate"] / raw["rate"]
        print(f"{clients:2d} moderator{'s' if clients > 1 else ' '}")
        print("   " + line("raw SQL", raw))
        print("   " + line("raw 2-tx", split))
        print("   " + line("service", service))
        print(f"   ratio service / raw = {ratios[clients]:.2f}x  (service / raw 2-tx = "
              f"{service['rate'] / split['rate']:.2f}x)")
        checks = {kind: results[clients, kind]["check"] for kind in kinds}
        print("   double decisions {} / {} / {}, double-open claims {} / {} / {}, clips claimed "
              "twice {} / {} / {} (raw / raw 2-tx / service)".format(
                  *(checks[kind]["double_decisions"] for kind in kinds),
                  *(checks[kind]["double_open_claims"] for kind in kinds),
                  *(checks[kind]["claimed_twice"] for kind in kinds)))
        for kind, name in (("raw_loop", "raw SQL"), ("raw_split", "raw 2-tx"),
                           ("service", "service")):
            run = results[clients, kind]
            if run["failed"] or run["lost_races"] or run["empty"]:
                print(f"   {name}: {run['failed']} failed attempts {run['errors']} (their time "
                      f"is in the latencies), {run['lost_races']} claims lost a race and "
                      f"retried, {run['empty']} empty claims")
    for problem in failed:
        print(f"   CHECK FAILED: {problem}")
    missed = [clients for clients in (4, 16) if ratios[clients] < GOAL]
    print(f"goal service >= {GOAL}x raw at 4 and 16 moderators: "
          + ("met" if not missed else f"MISSED at {missed}"))

    print("\ndiagnosis (one moderator, this process, full queue):")
    reset(connection)
    diagnose(connection, moderators[0][0],
             profile=PROFILE == "1" or (PROFILE == "auto" and bool(missed)))

    reset(connection)
    port = free_port()
    db_url = urlparse(url)._replace(path=f"/{db_name}").geturl()
    server = serve_gunicorn(db_url, scratch, port, workers=HTTP_WORKERS, timeout=120,
                            AUDIT_CHECKPOINT_LOG=str(scratch / "audit-checkpoints.jsonl"))
    try:
        clients = max(LEVELS)
        for endpoint in ("me", "claim"):  # warm every gunicorn worker
            pool.run("http", clients, 1.0, port, endpoint)
        http_stats = {"me": [], "claim": []}
        for order in (("claim", "me"), ("me", "claim")):
            for endpoint in order:
                http_stats[endpoint].append(
                    pool.run("http", clients, HTTP_SECONDS / 2, port, endpoint))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"\nHTTP: gunicorn config.wsgi (production settings), {HTTP_WORKERS} sync "
          f"workers, {clients} keep-alive clients (one process and moderator each), "
          f"2 interleaved rounds of {HTTP_SECONDS / 2:.0f} s per endpoint")
    summary = {}
    for endpoint, runs in http_stats.items():
        latencies = sorted(x for run in runs for x in run["latencies"])
        summary[endpoint] = {
            "rate": sum(run["rate"] for run in runs) / len(runs),
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
            "statuses": merge([run["statuses"] for run in runs])}
    labels = {"me": "GET /api/v1/me/", "claim": "POST /api/v1/review/claims/"}
    for endpoint, stats in summary.items():
        print(f"   {labels[endpoint]:28s} {stats['rate']:6.0f} req/s  "
              f"p50 {stats['p50']:7.2f} ms  p99 {stats['p99']:7.2f} ms  "
              f"statuses {stats['statuses']}")
    print("   (the claim clients decide each claimed clip with POST .../decide/ before "
          "the next claim; only the claim request is timed, and counted in req/s)")
    print(f"   ratio p99 claim / p99 me = {summary['claim']['p99'] / summary['me']['p99']:.2f}x")


def main() -> None:
    url = postgres_url()
    if url is None:
        print("bench/claims.py needs PostgreSQL (SKIP LOCKED, concurrent moderators): set "
              "DATABASE_URL=postgres://... ; skipped.")
        return
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    os.environ["TEST_VAR_DIR"] = str(scratch)  # worker processes share it, and it is removed
    try:
        with django_database() as connection:
            db_name = connection.settings_dict["NAME"]
            moderators = build(connection)
            pool = Pool(db_name, moderators)
            try:
                measure(connection, pool, moderators, url, scratch)
            finally:
                pool.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
