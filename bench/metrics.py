"""The research metrics endpoint over 1 000 000 events, against the raw aggregate query over
the events that it would otherwise run, in the same run. PostgreSQL only.

Builds a throwaway database holding a program's log (about 150 000 clips through the gate,
with second opinions, appeals, shares, a suspension and token anomalies, in time order),
folds it into the rollups, then times:

- baseline: one group-by over the events (action and day, with an average of a number
  read from each event's JSON data), the cheapest query that reads the whole log;
- ``GET /api/v1/research/metrics/`` through the test client as a program admin (the
  tail check, every figure, JSON rendering), unfiltered and filtered.

Prints the medians and the ratio endpoint / baseline (goal: at most 0.1x).
"""

import os
import statistics
import sys
import time

from _setup import django_database, postgres_url

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
ROUNDS = 15
BASELINE_ROUNDS = 5
EVENTS_PER_CLIP = 6.69  # the mix below: 6 always, plus second opinions, appeals and shares

CLIPS_SQL = """
CREATE TABLE bench_clip AS
SELECT i,
       md5('clip' || i)::uuid::text AS id,
       CASE WHEN i %% 3 = 0 THEN 'red-team' ELSE 'creative-partners' END AS cohort,
       1000 + i %% 300 AS tester,
       2000 + (i * 7) %% 20 AS moderator,
       2000 + (i * 7 + 3) %% 20 AS second_moderator,
       timestamptz '2025-03-01 00:00+00' + (i * (interval '30 days' / %(clips)s)) AS created,
       -ln(1 - random()) * 900 AS wait_s,
       30 + random() * 300 AS held_s,
       CASE WHEN random() < 0.7 THEN 'approve' ELSE 'reject' END AS outcome,
       random() < 0.1 AS second_opinion,
       CASE WHEN random() < 0.8 THEN 'same' ELSE 'other' END AS agreement,
       random() AS appeal_draw,
       random() AS share_draw,
       -ln(1 - random()) * 1800 AS later_wait_s
FROM generate_series(1, %(clips)s) AS i;
"""

# One row per event: (step, time, action, actor id, role, data) for each clip, in order.
EVENTS_SQL = """
INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, actor_role,
                         subject_type, subject_id, data, context)
SELECT at, action, CASE WHEN actor IS NULL THEN 'system' ELSE 'user' END, actor,
       CASE WHEN actor IS NULL THEN 'media-worker' ELSE '' END, COALESCE(role, ''),
       'submissions.submission', id, data, '{}'::jsonb
FROM (
    SELECT c.i, 0 AS step, c.id, c.created AS at, 'submission.created' AS action,
           c.tester AS actor, 'tester' AS role,
           jsonb_build_object('source', 'upload', 'cohort', c.cohort, 'size_bytes', 4096,
                              'sha256', '', 'generation', NULL) AS data
    FROM bench_clip c
    UNION ALL
    SELECT c.i, 1, c.id, c.created, 'submission.submitted', c.tester, 'tester', '{}'::jsonb
    FROM bench_clip c
    UNION ALL
    SELECT c.i, 2, c.id, c.created + interval '1 second', 'submission.processing_started',
           NULL, NULL, '{"attempt": 1}'::jsonb
    FROM bench_clip c
    UNION ALL
    SELECT c.i, 3, c.id, c.created + interval '5 seconds', 'submission.processed', NULL, NULL,
           '{"attempt": 1, "media": {"container": "mp4"}, "processing_s": 4.0}'::jsonb
    FROM bench_clip c
    UNION ALL
    SELECT c.i, 4, c.id, c.created + interval '5 seconds' + c.wait_s * interval '1 second',
           'review.claimed', c.moderator, 'moderator',
           jsonb_build_object('claim_id', md5('claim' || c.i)::uuid, 'track', 'primary',
                              'expires_at', NULL, 'waited_s', round(c.wait_s::numeric, 3))
    FROM bench_clip c
    UNION ALL
    SELECT c.i, 5, c.id,
           c.created + interval '5 seconds' + (c.wait_s + c.held_s) * interval '1 second',
           'review.decided', c.moderator, 'moderator',
           jsonb_build_object('decision_id', md5('decision' || c.i)::uuid,
                              'claim_id', md5('claim' || c.i)::uuid, 'track', 'primary',
                              'outcome', c.outcome, 'reasons', '[]'::jsonb,
                              'taxonomy_version', 1, 'effective', true, 'appeal_result', NULL,
                              'held_s', round(c.held_s::numeric, 3))
    FROM bench_clip c
    UNION ALL
    SELECT c.i, 6, c.id,
           c.created + interval '5 seconds' + (c.wait_s + c.held_s) * interval '1 second',
           'review.second_opinion_requested', NULL, NULL,
           jsonb_build_object('first_decision_id', md5('decision' || c.i)::uuid)
    FROM bench_clip c WHERE c.second_opinion
    UNION ALL
    SELECT c.i, 7, c.id, c.created + (c.wait_s + c.held_s + c.later_wait_s) * interval '1 second'
           + interval '10 seconds', 'review.claimed', c.second_moderator, 'moderator',
           jsonb_build_object('claim_id', md5('second' || c.i)::uuid,
                              'track', 'second_opinion', 'expires_at', NULL, 'waited_s', NULL)
    FROM bench_clip c WHERE c.second_opinion
    UNION ALL
    SELECT c.i, 8, c.id, c.created + (c.wait_s + 2 * c.held_s + c.later_wait_s)
           * interval '1 second' + interval '10 seconds', 'review.decided', c.second_moderator,
           'moderator',
           jsonb_build_object('decision_id', md5('second-decision' || c.i)::uuid,
                              'claim_id', md5('second' || c.i)::uuid,
                              'track', 'second_opinion',
                              'outcome', CASE WHEN (c.agreement = 'same') = (c.outcome = 'approve')
                                              THEN 'approve' ELSE 'reject' END,
                              'reasons', '[]'::jsonb, 'taxonomy_version', 1, 'effective', false,
                              'appeal_result', NULL, 'held_s', round(c.held_s::numeric, 3))
    FROM bench_clip c WHERE c.second_opinion
    UNION ALL
    SELECT c.i, 9, c.id, c.created + (c.wait_s + c.held_s) * interval '1 second'
           + interval '1 hour', 'submission.appealed', c.tester, 'tester',
           jsonb_build_object('rejection_id', md5('decision' || c.i)::uuid,
                              'message_chars', 120)
    FROM bench_clip c WHERE c.outcome = 'reject' AND c.appeal_draw < 0.2
    UNION ALL
    SELECT c.i, 10, c.id, c.created + (c.wait_s + c.held_s + c.later_wait_s)
           * interval '1 second' + interval '1 hour', 'review.claimed', c.second_moderator,
           'moderator',
           jsonb_build_object('claim_id', md5('appeal' || c.i)::uuid, 'track', 'appeal',
                              'expires_at', NULL, 'waited_s', NULL)
    FROM bench_clip c WHERE c.outcome = 'reject' AND c.appeal_draw < 0.2
    UNION ALL
    SELECT c.i, 11, c.id, c.created + (c.wait_s + 2 * c.held_s + c.later_wait_s)
           * interval '1 second' + interval '1 hour', 'review.decided', c.second_moderator,
           'moderator',
           jsonb_build_object('decision_id', md5('appeal-decision' || c.i)::uuid,
                              'claim_id', md5('appeal' || c.i)::uuid, 'track', 'appeal',
                              'outcome', CASE WHEN c.appeal_draw < 0.08 THEN 'approve'
                                              ELSE 'reject' END,
                              'reasons', '[]'::jsonb, 'taxonomy_version', 1, 'effective', true,
                              'appeal_result', CASE WHEN c.appeal_draw < 0.08 THEN 'overturned'
                                                    ELSE 'upheld' END,
                              'held_s', round(c.held_s::numeric, 3))
    FROM bench_clip c WHERE c.outcome = 'reject' AND c.appeal_draw < 0.2
    UNION ALL
    SELECT c.i, 12, c.id, c.created + (c.wait_s + c.held_s) * interval '1 second'
           + interval '10 minutes', 'submission.shared', c.tester, 'tester',
           jsonb_build_object('share_link_id', c.i)
    FROM bench_clip c WHERE c.outcome = 'approve' AND c.share_draw < 0.3
) events
ORDER BY at, i, step
"""

# The rest of the million: sign-ins, a suspension after a leak, and its token anomalies.
OTHER_SQL = """
INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, actor_role,
                         subject_type, subject_id, data, context)
SELECT timestamptz '2025-03-01 00:00+00' + i * (interval '30 days' / %(filler)s),
       'auth.sign_in_succeeded', 'user', 1000 + i %% 300, '', 'tester', 'accounts.user',
       (1000 + i %% 300)::text, '{"method": "token"}'::jsonb, '{}'::jsonb
FROM generate_series(1, %(filler)s) AS i
"""
INCIDENT_SQL = """
INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, actor_role,
                         subject_type, subject_id, data, context)
SELECT timestamptz '2025-03-20 09:00+00' + i * interval '20 minutes',
       'security.token_anomaly', 'system', NULL, 'token-watch', '', 'accounts.user', '1007',
       jsonb_build_object('token_fingerprint', 'abababababababab', 'reason', 'rate',
                          'observed', 400 + i, 'threshold', 60, 'usual_per_hour', 12,
                          'window_start', NULL, 'window_s', 3600, 'action', 'alerted'),
       '{}'::jsonb
FROM generate_series(1, 6) AS i;
INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, actor_role,
                         subject_type, subject_id, data, context)
VALUES (timestamptz '2025-03-20 11:00+00', 'program.suspended', 'user', 3000, '',
        'program_admin', 'accounts.program', '1',
        '{"from_status": "open", "reason": "Leaked access"}'::jsonb, '{}'::jsonb),
       (timestamptz '2025-03-21 09:00+00', 'program.resumed', 'user', 3000, '',
        'program_admin', 'accounts.program', '1',
        '{"from_status": "suspended", "reason": ""}'::jsonb, '{}'::jsonb);
"""

# What a dashboard would run over the raw log without rollups: the cheapest whole-log
# aggregate (research/performance-anchors.md: "GROUP BY action, day with a jsonb→numeric
# average over 1M rows").
BASELINE_SQL = """
SELECT action, date_trunc('day', occurred_at) AS day, count(*),
       avg((data ->> 'held_s')::numeric)
FROM audit_event GROUP BY 1, 2
"""


def median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def p95_ms(timings: list[float]) -> float:
    return sorted(timings)[max(0, round(0.95 * len(timings)) - 1)] * 1000


def profile(connection, call) -> None:
    """Print the slowest queries of one call (BENCH_PROFILE=<how many>)."""
    timings = []

    def timed(execute, sql, params, many, context):
        begun = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - begun, " ".join(sql.split())[:150]))

    begun = time.perf_counter()
    with connection.execute_wrapper(timed):
        call()
    total = time.perf_counter() - begun
    print(f"profile: {len(timings)} queries, {sum(t for t, _ in timings) * 1000:.1f} ms of "
          f"{total * 1000:.1f} ms")
    shown = int(os.environ.get("BENCH_PROFILE", "12"))
    for elapsed, sql in sorted(timings, reverse=True)[:shown]:
        print(f"  {elapsed * 1000:7.1f} ms  {sql}")


def main() -> None:
    url = postgres_url()
    if url is None:
        print("bench/metrics.py needs PostgreSQL: set DATABASE_URL=postgres://... ; skipped.")
        return
    with django_database() as connection:
        from rest_framework.test import APIClient

        from accounts.models import Role
        from audit.models import Event
        from audit.research import rollups
        from tests.factories import UserFactory

        admin = UserFactory(username="bench-admin", roles=[Role.PROGRAM_ADMIN], cohort=None)
        clips = int(EVENTS / EVENTS_PER_CLIP)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.42)")  # the same log on every run
            cursor.execute(CLIPS_SQL, {"clips": clips})
            cursor.execute(EVENTS_SQL)
            made = cursor.rowcount
            if EVENTS - made - 8 > 0:
                cursor.execute(OTHER_SQL, {"filler": EVENTS - made - 8})
            cursor.execute(INCIDENT_SQL)
            cursor.execute("DROP TABLE bench_clip")
            cursor.execute("ANALYZE audit_event")
        events = Event.objects.count()
        print(f"database: {connection.vendor}; {events} events ({clips} clips) made in "
              f"{time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        folded = rollups.refresh()
        fold_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            # What autovacuum does to the rollups in a while; the index-only reads of the
            # percentiles need it.
            cursor.execute("VACUUM ANALYZE")
        print(f"rollups: {folded} events folded in {fold_s:.1f} s "
              f"({folded / fold_s:,.0f} events/s)")

        def baseline() -> float:
            begun = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL)
                cursor.fetchall()
            return time.perf_counter() - begun

        client = APIClient()
        client.force_authenticate(admin)

        def endpoint(query: dict[str, str]) -> float:
            begun = time.perf_counter()
            response = client.get("/api/v1/research/metrics/", query)
            elapsed = time.perf_counter() - begun
            if response.status_code != 200:
                sys.exit(f"the endpoint answered {response.status_code}: {response.content!r}")
            return elapsed

        answer = client.get("/api/v1/research/metrics/").json()
        print(f"answer: {answer['submissions']['total']} clips, approval rate "
              f"{answer['approval_rate']}, time to decision p50 "
              f"{answer['time_to_decision_s']['p50']} s, kappa {answer['agreement']['kappa']}, "
              f"{len(answer['suspensions'])} suspension, "
              f"{len(answer['token_anomalies'])} token anomalies")

        if os.environ.get("BENCH_PROFILE"):
            profile(connection, lambda: client.get("/api/v1/research/metrics/"))

        # Bounds off the hour, so whole days, whole hours and the facts' minutes are all read.
        filtered = {"cohort": "red-team", "since": "2025-03-10T06:30:00Z",
                    "until": "2025-03-24T18:45:00Z"}
        raw, whole, narrow = [], [], []
        for round_ in range(ROUNDS):  # interleaved, to damp the machine's noise
            if round_ < BASELINE_ROUNDS:
                raw.append(baseline())
            whole.append(endpoint({}))
            narrow.append(endpoint(filtered))
        base = median_ms(raw)
        print(f"baseline (raw group-by over the events): median {base:8.1f} ms "
              f"(best {min(raw) * 1000:.1f} ms, {BASELINE_ROUNDS} runs)")
        print(f"GET research/metrics/             median {median_ms(whole):8.1f} ms, "
              f"p95 {p95_ms(whole):8.1f} ms ({ROUNDS} runs)")
        print(f"GET research/metrics/?cohort&since&until  median {median_ms(narrow):8.1f} ms, "
              f"p95 {p95_ms(narrow):8.1f} ms")
        print(f"ratio endpoint / raw query = {median_ms(whole) / base:.3f}x median, "
              f"{p95_ms(whole) / base:.3f}x p95 (filtered: {median_ms(narrow) / base:.3f}x); "
              f"goal <= 0.1x")


if __name__ == "__main__":
    main()
