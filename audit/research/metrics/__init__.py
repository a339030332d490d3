"""The approval gate's metrics, read from the research rollups and computed in the database.

Definitions (the dashboard and ``GET research/metrics/`` both use them):

- The **gate** is the queue testers wait in: the primary, appeal and escalation tracks.
  Second opinions are measured under *agreement* only.
- **Approval rate**: approvals over approvals and rejections, among clips whose first
  effective decision (a first review, or the program admins' answer to an escalation) falls
  in the window. Appeals are reported on their own.
- **Time to decision**: from the clip entering the queue to its first effective decision.
- **Queue wait**: from an entry into the gate to its first claim; entries nobody has claimed
  yet are not counted.
- **Queue depth**: gate entries not yet decided or withdrawn, at the end of each bucket.
- Percentiles interpolate linearly between ranks (PostgreSQL's ``percentile_cont``, numpy's
  default).

Filters: ``since`` and ``until`` bound each figure by its own time (clips by creation,
decisions by decision, queue entries by entry); ``cohort`` by the clip owner's cohort. Time
series are in whole hours or days.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import connection, transaction

from audit.models import SubmissionRollup
from audit.research.access import ResearchScope
from audit.research.metrics.base import BUCKETS, MetricFilters, metric_filters
from audit.research.metrics.figures import (
    Figures,
    agreement,
    appeals,
    by_cohort,
    by_moderator,
    first_decisions,
    submission_counts,
    time_to_decision_histogram,
)
from audit.research.metrics.incidents import suspensions, token_anomalies
from audit.research.metrics.over_time import over_time
from audit.research.rollups import rollup_state

__all__ = ["BUCKETS", "MetricFilters", "cohorts_seen", "metric_filters", "metrics_overview",
           "over_time"]


def freshness() -> dict[str, Any]:
    """The last event the figures include, and when the rollups were last refreshed."""
    state = rollup_state()
    return {"through_event": max(state.folded_through, state.horizon_event_id),
            "refreshed_at": state.refreshed_at}


def metrics_overview(filters: MetricFilters, scope: ResearchScope) -> dict[str, Any]:
    """Every figure the research metrics endpoint and the dashboard show. On PostgreSQL they
    are read from one snapshot of the rollups, so a refresh committing meanwhile cannot mix
    two states (SQLite has one writer at a time, and a read would only wait for its lock)."""
    postgres = connection.vendor == "postgresql"
    outermost = not connection.in_atomic_block
    with transaction.atomic() if postgres else nullcontext():
        if postgres:
            # Small reads; compiling them (JIT) would cost more than running them.
            settings = "SET LOCAL jit = off"
            if outermost:
                settings = f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; {settings}"
            with connection.cursor() as cursor:
                cursor.execute(settings)
        figures = Figures(filters)
        decided = first_decisions(figures)
        return {
            "as_of": freshness(),
            "filters": {"since": filters.since, "until": filters.until,
                        "cohort": filters.cohort},
            "submissions": submission_counts(figures),
            "approval_rate": decided["approval_rate"],
            "decisions": {"approved": decided["approved"], "rejected": decided["rejected"]},
            "time_to_decision_s": figures.decision_times[None],
            "time_to_decision_histogram": time_to_decision_histogram(figures),
            "queue_wait_s": figures.waits[None],
            "by_cohort": by_cohort(figures),
            "by_moderator": by_moderator(figures, scope),
            "appeals": appeals(figures),
            "agreement": agreement(figures),
            **over_time(filters),
            "suspensions": suspensions(filters, scope),
            "token_anomalies": token_anomalies(filters, scope),
        }


def cohorts_seen() -> list[str]:
    """The cohorts the log has seen clips from (for the dashboard's filter)."""
    return list(SubmissionRollup.objects.exclude(cohort="").values_list("cohort", flat=True)
                .distinct().order_by("cohort"))
