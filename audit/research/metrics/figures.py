"""The figures of one window: counts, rates, percentiles, cohorts, moderators, appeals and
agreement, from four queries over the rollups."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model

from audit.research.access import ResearchScope
from audit.research.metrics.base import MetricFilters, cohort_key, count_of, rate
from audit.research.rollups import TTD_BANDS, reads

OUTCOME_COLUMNS = {"approve": "approved", "reject": "rejected", "escalate": "escalated"}
# The measures the figures read (audit.research.rollups.MEASURES).
COUNTED = ("clips", "first_decisions", "ttd_bands", "appeals", "appeal_results", "pairs",
           "decisions")
PERCENTILES = (0.5, 0.9, 0.99)
COHORT_PERCENTILES = (0.5, 0.9)


class Figures:
    """The figures of one window, from four queries: every count, the agreement, and the
    percentiles (two)."""

    def __init__(self, filters: MetricFilters) -> None:
        self.filters = filters
        self.window = reads.window(filters.since, filters.until, filters.cohort)

    @cached_property
    def counts(self) -> dict[str, list[reads.Count]]:
        return reads.measures(COUNTED, self.window)

    @property
    def clips(self) -> list[reads.Count]:
        return self.counts["clips"]

    @property
    def verdicts(self) -> list[reads.Count]:
        return self.counts["first_decisions"]

    @cached_property
    def percentiles(self) -> dict[str, dict[str | None, dict[str, Any]]]:
        return reads.percentiles(("time_to_decision", "queue_wait"), self.window,
                                 PERCENTILES, cohort_points=COHORT_PERCENTILES)

    @property
    def decision_times(self) -> dict[str | None, dict[str, Any]]:
        return self.percentiles["time_to_decision"]

    @property
    def waits(self) -> dict[str | None, dict[str, Any]]:
        return self.percentiles["queue_wait"]


def submission_counts(figures: Figures) -> dict[str, Any]:
    """Clips created in the window, by their status now."""
    by_status: dict[str, int] = {}
    for count in figures.clips:
        by_status[count.key] = by_status.get(count.key, 0) + count.n
    return {"total": sum(by_status.values()), "by_status": dict(sorted(by_status.items()))}


def first_decisions(figures: Figures) -> dict[str, Any]:
    approved = count_of(figures.verdicts, key="approve")
    rejected = count_of(figures.verdicts, key="reject")
    return {"approved": approved, "rejected": rejected,
            "approval_rate": rate(approved, approved + rejected)}


def by_cohort(figures: Figures) -> dict[str, dict[str, Any]]:
    """The main figures per cohort (only cohorts with clips or decisions in the window)."""
    clips, verdicts = figures.clips, figures.verdicts
    decision_times, waits = figures.decision_times, figures.waits
    cohorts = sorted({count.cohort for count in clips + verdicts}
                     | (set(decision_times) | set(waits)) - {None})
    result = {}
    for cohort in cohorts:
        approved = count_of(verdicts, cohort=cohort, key="approve")
        rejected = count_of(verdicts, cohort=cohort, key="reject")
        result[cohort_key(cohort)] = {
            "submissions": count_of(clips, cohort=cohort), "approved": approved,
            "rejected": rejected, "approval_rate": rate(approved, approved + rejected),
            "time_to_decision_s": _pick(decision_times.get(cohort)),
            "queue_wait_s": _pick(waits.get(cohort)),
        }
    return result


def _pick(summary: dict[str, Any] | None) -> dict[str, Any]:
    summary = summary or {}
    return {name: summary.get(name) for name in ("p50", "p90")}


def by_moderator(figures: Figures, scope: ResearchScope) -> dict[str, dict[str, Any]]:
    """Decisions per moderator (every track), under the scope's pseudonyms, with the mean
    time from claim to decision."""
    rows: dict[int, dict[str, Any]] = {}
    for count in figures.counts["decisions"]:
        track, outcome = count.key.split("|", 1)
        row = rows.setdefault(count.moderator_id, {
            "decisions": 0, "approved": 0, "rejected": 0, "escalated": 0,
            "second_opinions": 0, "review_total": 0.0})
        row["decisions"] += count.n
        row["review_total"] += count.total or 0.0
        if outcome in OUTCOME_COLUMNS:
            row[OUTCOME_COLUMNS[outcome]] += count.n
        if track == "second_opinion":
            row["second_opinions"] += count.n
    names = {}
    if scope.identities:
        names = dict(get_user_model().objects.filter(pk__in=list(rows))
                     .values_list("pk", "username"))
    result = {}
    for moderator, row in rows.items():
        review_total = row.pop("review_total")
        entry = {**row,
                 "approval_rate": rate(row["approved"], row["approved"] + row["rejected"]),
                 "review_s": {"mean": round(review_total / row["decisions"], 3)}}
        if scope.identities:
            entry["username"] = names.get(moderator)
        result[scope.pseudonym(moderator)] = entry
    return dict(sorted(result.items(), key=lambda item: (-item[1]["decisions"], item[0])))


def appeals(figures: Figures) -> dict[str, Any]:
    """Appeals made in the window, and appeal results given in it (by an appeal decision, or
    by the program admins when the appeal was escalated)."""
    results = figures.counts["appeal_results"]
    overturned, upheld = count_of(results, key="overturned"), count_of(results, key="upheld")
    return {"count": count_of(figures.counts["appeals"]),
            "overturned": overturned, "upheld": upheld,
            "overturn_rate": rate(overturned, overturned + upheld)}


def agreement(figures: Figures) -> dict[str, Any]:
    """Agreement between a first decision and its blind second opinion (decided in the
    window): the contingency table, observed and chance agreement, and Cohen's kappa."""
    total, agreed, chance, kappa = reads.kappa(figures.window)
    cells: dict[tuple[str, str], int] = {}
    for count in figures.counts["pairs"]:
        first, second = count.key.split("|", 1)
        cells[first, second] = cells.get((first, second), 0) + count.n
    table = [(first, second, n) for (first, second), n in sorted(cells.items())]
    return {
        "pairs": total,
        "observed": rate(agreed, total),
        "expected": round(chance / (total * total), 4) if total else None,
        "kappa": round(kappa, 4) if kappa is not None else None,
        "table": [{"first": first, "second": second, "n": n} for first, second, n in table],
    }


def time_to_decision_histogram(figures: Figures) -> list[dict[str, Any]]:
    """Clips by how long their first verdict took, in bins people read (``TTD_BANDS``)."""
    counts = figures.counts["ttd_bands"]
    result, lower = [], 0
    for index, (upper, label) in enumerate(TTD_BANDS):
        result.append({"label": label, "from_s": lower, "to_s": upper,
                       "n": count_of(counts, key=str(index))})
        lower = upper
    return result
