"""The metrics over time: clips created, the gate's entries, exits and depth, and first
verdicts, per hour or per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Max, Min

from audit.models import CountRollup, Event, RollupPeriod
from audit.research.metrics.base import MetricFilters, rate
from audit.research.rollups import GATE_TRACKS

# "auto" uses hours up to this span, days beyond it.
HOURLY_SPAN = timedelta(days=14)


# Events that a chart marks even when nothing else happens around them.
INCIDENT_ACTIONS = ("program.suspended", "program.paused", "program.resumed",
                    "security.token_anomaly")


def last_incident_at() -> datetime | None:
    """The time of the last change of the program's status or token anomaly. These events
    are few, so they are found through the index on the action; on PostgreSQL the subquery
    is fenced (OFFSET 0), else the planner walks the index on the time backwards from the
    log's end, hundreds of thousands of rows, to find a rare action."""
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    actions = ", ".join(["%s"] * len(INCIDENT_ACTIONS))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(occurred_at) FROM (SELECT occurred_at "  # noqa: S608
                       f"FROM {Event._meta.db_table} WHERE action IN ({actions}){fence}) "
                       f"incidents", INCIDENT_ACTIONS)
        found = cursor.fetchone()[0]
    return None if found is None else _parse_moment(found)


def _parse_moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _span(filters: MetricFilters) -> tuple[datetime, datetime] | None:
    """The hours the series cover: the filter's window, or from the first hour with data to
    the last hour with data or with an incident (so a quiet stretch at the end, such as a
    suspension, shows). Other events (sign-ins, say) do not stretch it: in a simulated
    program they happen on another clock."""
    bounds = CountRollup.objects.filter(period=RollupPeriod.HOUR).aggregate(
        first=Min("start"), last=Max("start"))
    if bounds["first"] is None:
        return None
    start = (filters.since or bounds["first"]).replace(minute=0, second=0, microsecond=0)
    end = filters.until
    if end is None:
        end = bounds["last"] + timedelta(hours=1)
        last_incident = last_incident_at()
        if last_incident is not None and last_incident >= end:
            end = last_incident.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return (start, end) if end > start else None


def bucket_for(filters: MetricFilters, span: tuple[datetime, datetime] | None) -> str:
    if filters.bucket != "auto":
        return filters.bucket
    return "hour" if span is None or span[1] - span[0] <= HOURLY_SPAN else "day"


def series(filters: MetricFilters) -> dict[str, Any]:
    """Per bucket: clips created, gate entries and exits, the queue's depth at the bucket's
    end, first decisions and the approval rate. The depth counts every entry since the log
    began, not only those in the window."""
    span = _span(filters)
    bucket = bucket_for(filters, span)
    if span is None:
        return {"bucket": bucket, "points": []}
    start, end = span
    if bucket == "day":
        start = start.replace(hour=0)
    cohort = "AND cohort = %s" if filters.cohort else ""
    gate = ", ".join(f"'{track}'" for track in GATE_TRACKS)
    query = f"""
        SELECT at, submissions, entered, exited, approved, rejected,
               SUM(entered - exited) OVER (ORDER BY at) AS depth
        FROM (
            SELECT start AS at,
                   SUM(CASE WHEN measure = 'clips' THEN n ELSE 0 END) AS submissions,
                   SUM(CASE WHEN measure = 'gate_entered' AND key IN ({gate}) THEN n
                            ELSE 0 END) AS entered,
                   SUM(CASE WHEN measure = 'gate_exited' AND key IN ({gate}) THEN n
                            ELSE 0 END) AS exited,
                   SUM(CASE WHEN measure = 'first_decisions' AND key = 'approve' THEN n
                            ELSE 0 END) AS approved,
                   SUM(CASE WHEN measure = 'first_decisions' AND key = 'reject' THEN n
                            ELSE 0 END) AS rejected
            FROM audit_rollup_count
            WHERE period = %s AND start < %s
              AND measure IN ('clips', 'gate_entered', 'gate_exited', 'first_decisions')
              {cohort}
            GROUP BY start
        ) buckets
        ORDER BY at"""  # noqa: S608 (built from constants; values are parameters)
    params = [bucket, connection.ops.adapt_datetimefield_value(end)]
    params += [filters.cohort] if filters.cohort else []
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = {_parse_moment(row[0]): row[1:] for row in cursor.fetchall()}

    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    earlier = [moment for moment in rows if moment < start]
    depth = int(rows[max(earlier)][5]) if earlier else 0
    points, moment = [], start
    while moment < end:  # every bucket, also the quiet ones
        found = rows.get(moment)
        if found is not None:
            depth = int(found[5])
        submissions, entered, exited, approved, rejected = (
            (int(value) for value in found[:5]) if found else (0, 0, 0, 0, 0))
        points.append({"at": moment, "submissions": submissions, "entered": entered,
                       "exited": exited, "depth": depth, "approved": approved,
                       "rejected": rejected})
        moment += step
    return {"bucket": bucket, "points": points}


def over_time(filters: MetricFilters) -> dict[str, Any]:
    """The series as the API gives them: one list per figure."""
    found = series(filters)
    points = found["points"]
    return {
        "bucket": found["bucket"],
        "queue_depth": [{"at": p["at"], "depth": p["depth"], "entered": p["entered"],
                         "exited": p["exited"]} for p in points],
        "approval_rate_over_time": [
            {"at": p["at"], "approved": p["approved"], "rejected": p["rejected"],
             "rate": rate(p["approved"], p["approved"] + p["rejected"])} for p in points],
        "submissions_over_time": [{"at": p["at"], "n": p["submissions"]} for p in points],
    }
