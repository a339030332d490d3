"""Reading the rollups for a window of time: the days it covers whole from the daily rows,
then whole hours from the hourly rows, and only the minutes at its edges from the facts, in
one query for all the counts.

Percentiles are exact and cost two small queries: the histograms (read the same way) say
which bin holds each wanted rank, then the value at that rank is read by walking the facts'
index on (bin, value) within that bin only (a bin is an eighth of a doubling wide, a few per
cent of the rows). They interpolate between ranks as PostgreSQL's ``percentile_cont`` does.

Times are UTC (the platform's time zone): days and hours start on UTC boundaries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from audit.research.rollups.definitions import HISTOGRAMS, MEASURES, group_by

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@dataclass(frozen=True)
class Window:
    """``[since, until)`` split into the rollup periods it covers whole (``("day", first,
    end)`` and ``("hour", first, end)``, either end open) and the minutes at its edges, read
    from the facts."""

    since: datetime | None
    until: datetime | None
    cohort: str | None
    rollups: tuple[tuple[str, datetime | None, datetime | None], ...]
    edges: tuple[tuple[datetime, datetime], ...]


def _floor(moment: datetime, unit: timedelta) -> datetime:
    if unit == DAY:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else floor + unit


def _split(start: datetime | None, end: datetime | None, unit: timedelta,
           rollups: list, edges: list) -> None:
    """Cover ``[start, end)`` with whole units of the rollup, then finer units or facts."""
    first = start and _ceil(start, unit)
    last = end and _floor(end, unit)
    finer = (lambda a, b: _split(a, b, HOUR, rollups, edges)) if unit == DAY else (
        lambda a, b: edges.append((a, b)))
    if first is not None and last is not None and first >= last:
        finer(start, end)
        return
    rollups.append(("day" if unit == DAY else "hour", first, last))
    if start is not None and start < first:
        finer(start, first)
    if end is not None and last < end:
        finer(last, end)


def window(since: datetime | None, until: datetime | None, cohort: str | None) -> Window:
    rollups: list = []
    edges: list = []
    _split(since, until, DAY, rollups, edges)
    return Window(since, until, cohort, tuple(rollups), tuple(edges))


def _adapt(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _rollup_part(table: str, name_column: str, names: tuple[str, ...], select: str,
                 period: tuple[str, datetime | None, datetime | None],
                 cohort: str | None) -> tuple[str, list[Any]]:
    unit, first, end = period
    conditions = ["period = %s", f"{name_column} IN ({', '.join(['%s'] * len(names))})"]
    params: list[Any] = [unit, *names]
    if first is not None:
        conditions.append("start >= %s")
        params.append(_adapt(first))
    if end is not None:
        conditions.append("start < %s")
        params.append(_adapt(end))
    if cohort:
        conditions.append("cohort = %s")
        params.append(cohort)
    return f"SELECT {select} FROM {table} WHERE {' AND '.join(conditions)}", params  # noqa: S608


def _fact_range(time: str, start: datetime | None, end: datetime | None,
                cohort: str | None) -> tuple[str, list[Any]]:
    conditions, params = [], []
    if start is not None:
        conditions.append(f"f.{time} >= %s")
        params.append(_adapt(start))
    if end is not None:
        conditions.append(f"f.{time} < %s")
        params.append(_adapt(end))
    if cohort:
        conditions.append("f.cohort = %s")
        params.append(cohort)
    return " AND ".join(conditions) or "1 = 1", params


def _measures_sql(names: tuple[str, ...], w: Window) -> tuple[str, list[Any]]:
    """``(measure, cohort, key, moderator_id, n, total)`` rows of the measures over the
    window: whole days and hours from the rollup, the edges' minutes from the facts."""
    parts, params = [], []
    for period in w.rollups:
        sql, found = _rollup_part("audit_rollup_count", "measure", names,
                                  "measure, cohort, key, moderator_id, n, total", period,
                                  w.cohort)
        parts.append(sql)
        params += found
    for start, end in w.edges:
        for name in names:
            m = MEASURES[name]
            condition, found = _fact_range(m.time, start, end, w.cohort)
            group = group_by("f.cohort", m.key, m.moderator)
            parts.append(f"SELECT '{m.name}' AS measure, f.cohort AS cohort, "  # noqa: S608
                         f"{m.key} AS key, {m.moderator} AS moderator_id, COUNT(*) AS n, "
                         f"SUM({m.total}) AS total FROM {m.table} f "
                         f"WHERE {m.condition} AND {condition} GROUP BY {group}")
            params += found
    sql = (f"SELECT measure, cohort, key, moderator_id, SUM(n) AS n, "  # noqa: S608
           f"SUM(total) AS total FROM ({' UNION ALL '.join(parts)}) parts "
           f"GROUP BY measure, cohort, key, moderator_id")
    return sql, params


@dataclass(frozen=True)
class Count:
    cohort: str
    key: str
    moderator_id: int
    n: int
    total: float | None


def measures(names: tuple[str, ...], w: Window) -> dict[str, list[Count]]:
    """The measures' counts and sums over the window, per cohort, key and moderator, in one
    query."""
    sql, params = _measures_sql(names, w)
    found: dict[str, list[Count]] = {name: [] for name in names}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for name, cohort, key, moderator, n, total in cursor.fetchall():
            found[name].append(Count(cohort, key, int(moderator), int(n),
                                     None if total is None else float(total)))
    return found


def kappa(w: Window) -> tuple[int, int, int, float | None]:
    """Cohen's kappa of the second opinions over the window, computed in SQL from their
    contingency table: ``(pairs N, agreed, Σ rows_i · columns_i, kappa)``. Chance agreement
    is ``Σ / N²``; kappa is ``(agreed · N - Σ) / (N² - Σ)``, null when Σ = N²."""
    sql, params = _measures_sql(("pairs",), w)
    if connection.vendor == "postgresql":
        first, second = "split_part(key, '|', 1)", "split_part(key, '|', 2)"
    else:
        first, second = "substr(key, 1, instr(key, '|') - 1)", "substr(key, instr(key, '|') + 1)"
    query = f"""
        WITH parts AS ({sql}),
        cells AS (SELECT {first} AS first, {second} AS second, SUM(n) AS n
                  FROM parts GROUP BY key),
        total AS (SELECT COALESCE(SUM(n), 0) AS n FROM cells),
        agreed AS (SELECT COALESCE(SUM(n), 0) AS n FROM cells WHERE first = second),
        firsts AS (SELECT first AS category, SUM(n) AS n FROM cells GROUP BY first),
        seconds AS (SELECT second AS category, SUM(n) AS n FROM cells GROUP BY second),
        chance AS (SELECT COALESCE(SUM(firsts.n * seconds.n), 0) AS n
                   FROM firsts JOIN seconds ON firsts.category = seconds.category)
        SELECT total.n, agreed.n, chance.n,
               CASE WHEN total.n * total.n = chance.n THEN NULL
                    ELSE (agreed.n * total.n - chance.n) * 1.0 / (total.n * total.n - chance.n)
               END
        FROM total, agreed, chance"""  # noqa: S608 (built from constants; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        total, agreed, chance, value = cursor.fetchone()
    return int(total), int(agreed), int(chance), None if value is None else float(value)


# --- Counts over several periods -----------------------------------------------------------------


def measures_by_period(names: tuple[str, ...],
                       windows: dict[str, Window]) -> dict[str, dict[str, list[Count]]]:
    """``measures`` over several windows at once (one query): ``{label: {measure: counts}}``."""
    parts, params = [], []
    for label, w in windows.items():
        sql, found = _measures_sql(names, w)
        parts.append(f"SELECT %s AS label, measure, cohort, key, moderator_id, n, total "  # noqa: S608
                     f"FROM ({sql}) period")
        params += [label, *found]
    result = {label: {name: [] for name in names} for label in windows}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for label, name, cohort, key, moderator, n, total in cursor.fetchall():
            result[label][name].append(Count(cohort, key, int(moderator), int(n),
                                             None if total is None else float(total)))
    return result


# --- Percentiles ------------------------------------------------------------------------------


def _histograms(names: tuple[str, ...], w: Window) -> dict[str, dict[str, dict[int, int]]]:
    """Counts per bin over the window, per histogram and cohort, in one query."""
    parts, params = [], []
    for period in w.rollups:
        sql, found = _rollup_part("audit_rollup_histogram", "metric", names,
                                  "metric, cohort, bin, n", period, w.cohort)
        parts.append(sql)
        params += found
    for start, end in w.edges:
        for name in names:
            h = HISTOGRAMS[name]
            condition, found = _fact_range(h.time, start, end, w.cohort)
            parts.append(f"SELECT '{h.name}' AS metric, f.cohort AS cohort, "  # noqa: S608
                         f"f.{h.bin} AS bin, COUNT(*) AS n FROM {h.table} f "
                         f"WHERE f.{h.bin} IS NOT NULL AND {h.condition} AND {condition} "
                         f"GROUP BY f.cohort, f.{h.bin}")
            params += found
    sql = (f"SELECT metric, cohort, bin, SUM(n) FROM ({' UNION ALL '.join(parts)}) "  # noqa: S608
           f"parts GROUP BY metric, cohort, bin")
    counts: dict[str, dict[str, dict[int, int]]] = {
        name: defaultdict(dict) for name in names}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for name, cohort, found_bin, n in cursor.fetchall():
            counts[name][cohort][int(found_bin)] = int(n)
    return counts


def _locate(bins: dict[int, int], rank: int) -> tuple[int, int]:
    """The bin holding the ``rank``-th smallest value (from 0), and its rank in the bin."""
    below = 0
    for found_bin in sorted(bins):
        if rank < below + bins[found_bin]:
            return found_bin, rank - below
        below += bins[found_bin]
    raise ValueError(rank)


Summary = dict[str | None, dict[str, Any]]


def percentiles(names: tuple[str, ...], w: Window, points: tuple[float, ...],
                cohort_points: tuple[float, ...] = ()) -> dict[str, Summary]:
    """For each histogram: ``{None: {"n", "p50", ...}, cohort: {"n", ...}}`` over the
    window, ``points`` overall and ``cohort_points`` per cohort (when the window is not one
    cohort's already). Two queries whatever the number of histograms and cohorts."""
    wanted: dict[tuple[str, str | None, int, int], None] = {}
    plans: dict[str, dict[str | None, tuple[int, list]]] = {}
    for name, per_cohort in _histograms(names, w).items():
        overall: dict[int, int] = defaultdict(int)
        for bins in per_cohort.values():
            for found_bin, n in bins.items():
                overall[found_bin] += n
        plans[name] = {}
        groups: dict[str | None, tuple[dict[int, int], tuple[float, ...]]] = {
            None: (dict(overall), points)}
        if cohort_points and not w.cohort:
            groups.update({cohort: (bins, cohort_points) for cohort, bins in per_cohort.items()})
        for group, (bins, wanted_points) in groups.items():
            total, steps = sum(bins.values()), []
            for point in wanted_points if total else ():
                # percentile_cont interpolates between the two ranks around the position.
                position = point * (total - 1)
                low = math.floor(position)
                low_key = (name, group, *_locate(bins, low))
                high_key = (name, group, *_locate(bins, min(low + 1, total - 1)))
                wanted[low_key] = wanted[high_key] = None
                steps.append((f"p{round(point * 100)}", position - low, low_key, high_key))
            plans[name][group] = (total, steps)
        if w.cohort and cohort_points:  # the window is that cohort's: the same figures
            plans[name][w.cohort] = plans[name][None]
    values = _ranked_values(w, list(wanted)) if wanted else {}
    result: dict[str, Summary] = {}
    for name, planned in plans.items():
        result[name] = {}
        for group, (total, steps) in planned.items():
            entry: dict[str, Any] = {"n": total, **{
                f"p{round(point * 100)}": None
                for point in (points if group is None else cohort_points)}}
            for label, fraction, low_key, high_key in steps:
                low, high = values.get(low_key), values.get(high_key)
                if low is not None and high is not None:
                    entry[label] = round(low + fraction * (high - low), 3)
            result[name][group] = entry
    return result


def _ranked_values(w: Window,
                   wanted: list[tuple[str, str | None, int, int]]) -> dict[tuple, float]:
    """The values at the wanted ranks within their bins (``(histogram, None, bin, rank)``
    over every cohort, ``(histogram, cohort, bin, rank)`` within one). Each bin is one short
    walk along the facts' index on (bin, value), from the lowest rank wanted in it to the
    highest (usually two neighbours): no sorting, and one round trip for all of them."""
    spans: dict[tuple[str, str | None, int], list[int]] = defaultdict(list)
    for name, group, found_bin, rank in wanted:
        spans[name, group, found_bin].append(rank)
    parts, params = [], []
    walks = list(spans.items())
    for index, ((name, group, found_bin), ranks) in enumerate(walks):
        h = HISTOGRAMS[name]
        condition, found = _fact_range(h.time, w.since, w.until, w.cohort)
        cohort = " AND f.cohort = %s" if group is not None else ""
        parts.append(f"SELECT {index} AS walk, value, "  # noqa: S608
                     f"ROW_NUMBER() OVER (ORDER BY value) - 1 AS step FROM ("
                     f"SELECT f.{h.value} AS value FROM {h.table} f "
                     f"WHERE f.{h.bin} = %s{cohort} AND {h.condition} AND {condition} "
                     f"ORDER BY f.{h.value} LIMIT %s OFFSET %s) walk{index}")
        params += [found_bin, *([group] if group is not None else []), *found,
                   max(ranks) - min(ranks) + 1, min(ranks)]
    found_values: dict[tuple, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for walk, value, step in cursor.fetchall():
            (name, group, found_bin), ranks = walks[walk]
            found_values[name, group, found_bin, min(ranks) + step] = float(value)
    return found_values
