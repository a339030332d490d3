"""Incidents in the window: each suspension of the program with the gate's activity before,
during and after it, and the token anomalies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery

from audit.models import Event
from audit.research.access import ResearchScope
from audit.research.metrics.base import MetricFilters, count_of, rate
from audit.research.rollups import reads
from core import clock

PROGRAM_EVENTS = ("program.suspended", "program.paused", "program.resumed")
ANOMALY_ACTION = "security.token_anomaly"
MAX_ANOMALIES = 200
# The anomaly's text fields that are enumerations (safe to show); other text may identify.
ANOMALY_TEXT_FACTS = ("reason", "action")


def suspensions(filters: MetricFilters, scope: ResearchScope) -> list[dict[str, Any]]:
    """Each suspension of the program that overlaps the window (from ``program.suspended``
    to the next change of the program's status), with the gate's activity before, during
    and after it, each period as long as the suspension."""
    next_change = (Event.objects.filter(action__in=PROGRAM_EVENTS, id__gt=OuterRef("id"))
                   .order_by("id").values("occurred_at")[:1])
    windows = Event.objects.filter(action="program.suspended").annotate(
        ended_at=Subquery(next_change)).order_by("id")
    if filters.until:
        windows = windows.filter(occurred_at__lt=filters.until)
    if filters.since:
        windows = windows.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=filters.since))
    windows = list(windows.values("id", "occurred_at", "ended_at", "data"))
    if not windows:
        return []
    periods: dict[str, tuple[datetime, datetime]] = {}
    for index, window in enumerate(windows):
        started = window["occurred_at"]
        ended = window["ended_at"] or max(clock.now(), started)  # still in force: until now
        length = ended - started
        periods.update({f"{index}_before": (started - length, started),
                        f"{index}_during": (started, ended),
                        f"{index}_after": (ended, ended + length)})
        window["end"] = ended
    found = reads.measures_by_period(
        ("clips", "gate_entered", "first_decisions"),
        {name: reads.window(start, end, filters.cohort)
         for name, (start, end) in periods.items()})
    counts = {name: {"submissions": count_of(by_measure["clips"]),
                     "entered_queue": count_of(by_measure["gate_entered"]),
                     "approved": count_of(by_measure["first_decisions"], key="approve"),
                     "rejected": count_of(by_measure["first_decisions"], key="reject")}
              for name, by_measure in found.items()}
    # Anomalies are few: counted from the log itself, through its index on the action.
    anomalies = Event.objects.filter(action=ANOMALY_ACTION, occurred_at__gte=min(
        start for start, _ in periods.values()), occurred_at__lt=max(
        end for _, end in periods.values())).aggregate(**{
            name: Count("pk", filter=Q(occurred_at__gte=start, occurred_at__lt=end))
            for name, (start, end) in periods.items()})
    result = []
    for index, window in enumerate(windows):
        length = (window["end"] - window["occurred_at"]).total_seconds()
        entry = {"started_at": window["occurred_at"], "ended_at": window["ended_at"],
                 "duration_s": round(length, 3),
                 "reason": window["data"].get("reason") if _may_read_reasons(scope) else None}
        for period in ("before", "during", "after"):
            name = f"{index}_{period}"
            start, end = periods[name]
            counted = counts[name]
            entry[period] = {
                "from": start, "to": end, **counted,
                "approval_rate": rate(counted["approved"],
                                      counted["approved"] + counted["rejected"]),
                "token_anomalies": anomalies[name],
            }
        result.append(entry)
    return result


def _may_read_reasons(scope: ResearchScope) -> bool:
    # An admin's reason is free text: researchers read it only when their study may.
    return scope.study is None or scope.free_text


def token_anomalies(filters: MetricFilters, scope: ResearchScope) -> list[dict[str, Any]]:
    """Token anomalies in the window (all cohorts): when, whose token (pseudonymous), and
    their numeric facts and enumerations (never addresses, fingerprints or other text)."""
    found = Event.objects.filter(action=ANOMALY_ACTION)
    if filters.since:
        found = found.filter(occurred_at__gte=filters.since)
    if filters.until:
        found = found.filter(occurred_at__lt=filters.until)
    result = []
    for event in found.order_by("occurred_at", "id")[:MAX_ANOMALIES]:
        owner = (int(event.subject_id) if event.subject_type == "accounts.user"
                 and event.subject_id.isdigit() else event.actor_id)
        facts = {key: value for key, value in (event.data or {}).items()
                 if isinstance(value, bool | int | float)
                 or (key in ANOMALY_TEXT_FACTS and isinstance(value, str))}
        result.append({"at": event.occurred_at, "token_owner": scope.pseudonym(owner),
                       "facts": facts})
    return result
