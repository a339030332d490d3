"""The SQL of a refresh, built once per database vendor from the definitions (constants
only; every value from outside goes in as a parameter)."""

from __future__ import annotations

from functools import cache

from audit.research.rollups.definitions import (
    ENTRY_TRACK,
    HISTOGRAMS,
    MEASURES,
    STATUS_AFTER,
    SUBMISSION,
    Dialect,
    Histogram,
    Measure,
    case,
    group_by,
)


def _count_per(period: str, m: Measure) -> str:
    """A measure per hour or per day (``period``) over the dirty ones, from the facts."""
    table = "hours" if period == "hour" else "days"
    return (f"SELECT '{period}', p.start, f.cohort, '{m.name}', {m.key}, "  # noqa: S608
            f"{m.moderator}, COUNT(*), SUM({m.total}) FROM {table} p JOIN {m.table} f "
            f"ON f.{m.time} >= p.start AND f.{m.time} < p.stop WHERE {m.condition} "
            f"GROUP BY {group_by('p.start', 'f.cohort', m.key, m.moderator)}")


def _bins_per(period: str, h: Histogram) -> str:
    table = "hours" if period == "hour" else "days"
    return (f"SELECT '{period}', p.start, f.cohort, '{h.name}', f.{h.bin}, "  # noqa: S608
            f"COUNT(*) FROM {table} p JOIN {h.table} f "
            f"ON f.{h.time} >= p.start AND f.{h.time} < p.stop "
            f"WHERE f.{h.bin} IS NOT NULL AND {h.condition} GROUP BY p.start, f.cohort, f.{h.bin}")


@cache
def statements(vendor: str) -> dict[str, str]:
    """The refresh's SQL for one database vendor."""
    d = Dialect(vendor)
    status = (
        "CASE WHEN e.action = 'submission.created' THEN "
        f"  CASE WHEN {d.text('source')} = 'generated' THEN 'generating' ELSE 'draft' END "
        f"WHEN e.action = 'review.decided' AND {d.flag('effective')} THEN "
        f"  {case(d.text('outcome'), {'approve': 'approved', 'reject': 'rejected'})} "
        f"ELSE {case('e.action', STATUS_AFTER)} END"
    )
    entry_track = (
        f"CASE WHEN e.action = 'review.decided' AND {d.text('outcome')} = 'escalate' "
        f"THEN 'escalation' ELSE {case('e.action', ENTRY_TRACK)} END"
    )
    # Every event of the clips being rebuilt, with the data fields the facts need.
    events = f"""
        ev AS (
            SELECT e.id, e.subject_id AS sid, e.occurred_at AS at, e.action, e.actor_id,
                   {d.text('track')} AS track, {d.text('outcome')} AS outcome,
                   {d.flag('effective')} AS effective, {d.text('appeal_result')} AS appeal_result,
                   {d.number('held_s')} AS held_s, {d.text('decision_id')} AS decision_id,
                   {d.text('first_decision_id')} AS first_decision_id,
                   {d.text('cohort')} AS cohort, {d.text('source')} AS source,
                   {status} AS status, {entry_track} AS entry_track
            FROM audit_event e
            JOIN audit_rollup_dirty_submission dirty ON dirty.submission_id = e.subject_id
            WHERE e.subject_type = '{SUBMISSION}'
        )"""  # noqa: S608
    first = "CASE WHEN ev.action = '{action}' THEN ev.at END"
    submissions = f"""
        WITH {events},
        last_status AS (
            SELECT sid, status FROM (
                SELECT sid, status, ROW_NUMBER() OVER (PARTITION BY sid ORDER BY id DESC) AS rn
                FROM ev WHERE status IS NOT NULL) ranked
            WHERE rn = 1),
        first_decision AS (
            SELECT sid, at, outcome FROM (
                SELECT sid, at, outcome, ROW_NUMBER() OVER (PARTITION BY sid ORDER BY id) AS rn
                FROM ev WHERE action = 'review.decided' AND effective) ranked
            WHERE rn = 1),
        stages AS (
            SELECT sid,
                   MAX(CASE WHEN action = 'submission.created' THEN cohort END) AS cohort,
                   MAX(CASE WHEN action = 'submission.created' THEN source END) AS source,
                   MIN({first.format(action='submission.created')}) AS created_at,
                   MIN({first.format(action='submission.submitted')}) AS submitted_at,
                   MIN({first.format(action='submission.processed')}) AS entered_queue_at,
                   MIN(CASE WHEN action = 'review.claimed' AND track = 'primary'
                            THEN at END) AS first_claimed_at,
                   MIN({first.format(action='submission.appealed')}) AS appealed_at,
                   MIN({first.format(action='submission.withdrawn')}) AS withdrawn_at,
                   MIN({first.format(action='submission.failed')}) AS failed_at,
                   MIN({first.format(action='submission.shared')}) AS shared_at,
                   MAX(id) AS last_event_id
            FROM ev GROUP BY sid)
        INSERT INTO audit_rollup_submission (
            submission_id, cohort, source, status, created_at, submitted_at, entered_queue_at,
            first_claimed_at, decided_at, outcome, appealed_at, withdrawn_at, failed_at,
            shared_at, time_to_decision_s, time_to_decision_bin, last_event_id)
        SELECT st.sid, COALESCE(st.cohort, ''), COALESCE(st.source, ''),
               COALESCE(ls.status, ''), st.created_at, st.submitted_at, st.entered_queue_at,
               st.first_claimed_at, fd.at, COALESCE(fd.outcome, ''), st.appealed_at,
               st.withdrawn_at, st.failed_at, st.shared_at,
               {d.seconds('st.entered_queue_at', 'fd.at')},
               {d.bin(d.seconds('st.entered_queue_at', 'fd.at'))}, st.last_event_id
        FROM stages st
        LEFT JOIN last_status ls ON ls.sid = st.sid
        LEFT JOIN first_decision fd ON fd.sid = st.sid"""  # noqa: S608

    # A claim or decision belongs to the entry of the same clip and track that precedes it,
    # up to that track's next entry.
    within = ("{x}.sid = en.sid AND {x}.id > en.entry_id "
              "AND (en.next_id IS NULL OR {x}.id < en.next_id)")
    entries = f"""
        WITH {events},
        entries AS (
            SELECT id AS entry_id, sid, at AS entered_at, entry_track AS track,
                   first_decision_id,
                   LEAD(id) OVER (PARTITION BY sid, entry_track ORDER BY id) AS next_id
            FROM ev WHERE entry_track IS NOT NULL),
        claims AS (
            SELECT en.entry_id, MIN(c.at) AS first_claimed_at, COUNT(*) AS claims
            FROM entries en
            JOIN ev c ON c.action = 'review.claimed' AND c.track = en.track
                     AND {within.format(x='c')}
            GROUP BY en.entry_id),
        decisions AS (
            SELECT * FROM (
                SELECT en.entry_id, d.id AS event_id, d.at, d.actor_id, d.outcome, d.effective,
                       d.appeal_result, d.held_s,
                       ROW_NUMBER() OVER (PARTITION BY en.entry_id ORDER BY d.id) AS rn
                FROM entries en
                JOIN ev d ON d.action = 'review.decided' AND d.track = en.track
                         AND {within.format(x='d')}) ranked
            WHERE rn = 1),
        withdrawals AS (
            SELECT en.entry_id, MIN(w.at) AS at
            FROM entries en
            JOIN ev w ON w.action = 'submission.withdrawn' AND w.sid = en.sid
                     AND w.id > en.entry_id
            WHERE en.track <> 'second_opinion'
            GROUP BY en.entry_id),
        compared AS (
            SELECT en.entry_id, f.outcome
            FROM entries en
            JOIN ev f ON f.action = 'review.decided' AND f.sid = en.sid
                     AND f.decision_id = en.first_decision_id)
        INSERT INTO audit_rollup_queue_entry (
            entry_event_id, submission_id, cohort, track, entered_at, first_claimed_at, claims,
            exited_at, exit_reason, decision_event_id, moderator_id, outcome, effective,
            appeal_result, compared_outcome, wait_s, wait_bin, decision_s, held_s)
        SELECT en.entry_id, en.sid, COALESCE(s.cohort, ''), en.track, en.entered_at,
               c.first_claimed_at, COALESCE(c.claims, 0),
               COALESCE(d.at, w.at),
               CASE WHEN d.entry_id IS NOT NULL THEN 'decided'
                    WHEN w.entry_id IS NOT NULL THEN 'withdrawn' ELSE '' END,
               d.event_id, d.actor_id, COALESCE(d.outcome, ''), d.effective,
               COALESCE(d.appeal_result, ''), COALESCE(cmp.outcome, ''),
               {d.seconds('en.entered_at', 'c.first_claimed_at')},
               {d.bin(d.seconds('en.entered_at', 'c.first_claimed_at'))},
               {d.seconds('en.entered_at', 'd.at')}, d.held_s
        FROM entries en
        LEFT JOIN claims c ON c.entry_id = en.entry_id
        LEFT JOIN decisions d ON d.entry_id = en.entry_id
        LEFT JOIN withdrawals w ON w.entry_id = en.entry_id
        LEFT JOIN compared cmp ON cmp.entry_id = en.entry_id
        LEFT JOIN audit_rollup_submission s ON s.submission_id = en.sid"""  # noqa: S608

    # The hours the facts of the dirty clips fall in (run before and after their rebuild).
    fact_hours = " UNION ".join(
        f"SELECT {d.hour(column)} AS hour, {d.hour_end(column)} AS hour_end "  # noqa: S608
        f"FROM {table} f JOIN audit_rollup_dirty_submission dirty "
        f"ON dirty.submission_id = f.submission_id WHERE {column} IS NOT NULL"
        for table, column in (("audit_rollup_submission", "f.created_at"),
                              ("audit_rollup_submission", "f.decided_at"),
                              ("audit_rollup_queue_entry", "f.entered_at"),
                              ("audit_rollup_queue_entry", "f.exited_at")))
    dirty_hours = (f"INSERT INTO audit_rollup_dirty_hour (hour, hour_end) "  # noqa: S608
                   f"SELECT hour, hour_end FROM ({fact_hours}) hours WHERE true "
                   f"ON CONFLICT (hour) DO NOTHING")

    # The dirty hours and the whole days around them, both rebuilt from the facts.
    periods = (f"hours AS (SELECT hour AS start, hour_end AS stop "  # noqa: S608
               f"FROM audit_rollup_dirty_hour), "
               f"days AS (SELECT DISTINCT {d.day('hour')} AS start, {d.day_end('hour')} AS stop "
               f"FROM audit_rollup_dirty_hour)")
    counts = (f"WITH {periods} INSERT INTO audit_rollup_count "
              "(period, start, cohort, measure, key, moderator_id, n, total) "
              + " UNION ALL ".join(_count_per(period, measure) for period in ("hour", "day")
                                   for measure in MEASURES.values()))
    histograms = (f"WITH {periods} INSERT INTO audit_rollup_histogram "
                  "(period, start, cohort, metric, bin, n) "
                  + " UNION ALL ".join(_bins_per(period, histogram)
                                       for period in ("hour", "day")
                                       for histogram in HISTOGRAMS.values()))
    dirty = ("(period = 'hour' AND start IN (SELECT start FROM hours)) "
             "OR (period = 'day' AND start IN (SELECT start FROM days))")

    return {
        "drop_counts": f"WITH {periods} DELETE FROM audit_rollup_count WHERE {dirty}",  # noqa: S608
        "counts": counts,
        "drop_histograms": (f"WITH {periods} DELETE FROM audit_rollup_histogram "  # noqa: S608
                            f"WHERE {dirty}"),
        "histograms": histograms,
        "claim": """
            INSERT INTO audit_rollup_folded (event_id, batch, folded_at)
            SELECT e.id, %s, %s FROM audit_event e
            WHERE e.id > %s
              AND NOT EXISTS (SELECT 1 FROM audit_rollup_folded f WHERE f.event_id = e.id)
            ORDER BY e.id LIMIT %s""",
        "dirty_submissions": f"""
            INSERT INTO audit_rollup_dirty_submission (submission_id)
            SELECT DISTINCT e.subject_id FROM audit_event e
            JOIN audit_rollup_folded f ON f.event_id = e.id
            WHERE f.batch = %s AND e.subject_type = '{SUBMISSION}'""",  # noqa: S608
        "dirty_hours": dirty_hours,
        "drop_submissions": """
            DELETE FROM audit_rollup_submission WHERE submission_id IN (
                SELECT submission_id FROM audit_rollup_dirty_submission)""",
        "drop_entries": """
            DELETE FROM audit_rollup_queue_entry WHERE submission_id IN (
                SELECT submission_id FROM audit_rollup_dirty_submission)""",
        "submissions": submissions,
        "entries": entries,
        "clear_submissions": "DELETE FROM audit_rollup_dirty_submission",
        "clear_hours": "DELETE FROM audit_rollup_dirty_hour",
        # PostgreSQL: the end of the run of consecutive folded ids just above the watermark.
        "consecutive": """
            SELECT MAX(event_id) FROM (
                SELECT event_id, ROW_NUMBER() OVER (ORDER BY event_id) AS position
                FROM audit_rollup_folded) folded
            WHERE event_id - %s = position""",
        "settled": "SELECT MAX(event_id) FROM audit_rollup_folded WHERE folded_at <= %s",
        "highest": "SELECT MAX(event_id) FROM audit_rollup_folded",
        "forget": "DELETE FROM audit_rollup_folded WHERE event_id <= %s",
        # PostgreSQL only. The horizon of a batch: every visible event up to the highest
        # folded id is folded, and only the transactions writing to this database right now
        # (other sessions that hold a transaction id) may still commit an id below it.
        "horizon": """
            SELECT GREATEST(%s, (SELECT COALESCE(MAX(event_id), 0) FROM audit_rollup_folded)),
                   COALESCE((SELECT array_agg(backend_xid::text::bigint) FROM pg_stat_activity
                             WHERE datname = current_database() AND backend_xid IS NOT NULL
                               AND pid <> pg_backend_pid()), '{}')""",
        "still_running": """
            SELECT COUNT(*) FROM pg_stat_activity
            WHERE datname = current_database() AND backend_xid::text::bigint = ANY(%s)""",
        "tail": """
            SELECT COUNT(*) FROM (
                SELECT e.id FROM audit_event e
                WHERE e.id > COALESCE(
                        (SELECT folded_through FROM audit_rollup_state WHERE id = 1), 0)
                  AND NOT EXISTS (SELECT 1 FROM audit_rollup_folded f WHERE f.event_id = e.id)
                LIMIT %s) tail""",
    }

