"""The run's summary: the gate's figures before, during and after the leak, the leak's own
timeline, how well the gate did against the ground truth, and where the wall time went.

The gate's figures are the research metrics' own (``audit.research.metrics``, read from the
rollups, as the researcher dashboard shows them), so the summary and the dashboard agree.
Periods: *before* is from the opening to the leak's start, *during* from the leak's start to
the program's resumption (the leak and the suspension), *after* from then to the end.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from django.db.models import Count

from seeds.simulation.runner import RunResult
from seeds.simulation.world import HOUR_S

PERIODS = ("before", "during", "after")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def _first_event(action: str, since: datetime | None = None) -> datetime | None:
    from audit.models import Event

    events = Event.objects.filter(action=action)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    return events.order_by("occurred_at", "id").values_list("occurred_at", flat=True).first()


def _period_figures(since: datetime, until: datetime) -> dict[str, Any]:
    from audit.research import metrics
    from audit.research.access import ResearchScope
    from seeds.models import GroundTruth, Origin
    from submissions.models import Submission

    if until <= since:  # a period the run never reached (no leak, or no resumption)
        return _empty_period(since, until)
    figures = metrics.metrics_overview(
        metrics.metric_filters(since=since, until=until, bucket="hour"), ResearchScope(None))
    depth = [point["depth"] for point in figures["queue_depth"]]
    times, waits = figures["time_to_decision_s"], figures["queue_wait_s"]
    return {
        "from": _iso(since), "to": _iso(until),
        "hours": round((until - since).total_seconds() / HOUR_S, 2),
        "clips_created": figures["submissions"]["total"],
        "submissions": Submission.objects.filter(submitted_at__gte=since,
                                                 submitted_at__lt=until).count(),
        **figures["decisions"],
        "approval_rate": figures["approval_rate"],
        "time_to_decision_s": {"n": times["n"], "p50": times["p50"], "p90": times["p90"]},
        "queue_wait_s": {"n": waits["n"], "p50": waits["p50"], "p90": waits["p90"]},
        "queue_depth": {
            "mean": round(statistics.fmean(depth), 2) if depth else None,
            "max": max(depth) if depth else None,
            "at_end": depth[-1] if depth else None},
        "appeals": figures["appeals"]["count"],
        "token_anomalies": len(figures["token_anomalies"]),
        "outsider_generations": GroundTruth.objects.filter(
            origin=Origin.OUTSIDER, submission__created_at__gte=since,
            submission__created_at__lt=until).count(),
    }


def _empty_period(since: datetime, until: datetime) -> dict[str, Any]:
    nothing = {"n": 0, "p50": None, "p90": None}
    return {"from": _iso(since), "to": _iso(until), "hours": 0, "clips_created": 0,
            "submissions": 0, "approved": 0, "rejected": 0, "approval_rate": None,
            "time_to_decision_s": nothing, "queue_wait_s": nothing,
            "queue_depth": {"mean": None, "max": None, "at_end": None}, "appeals": 0,
            "token_anomalies": 0, "outsider_generations": 0}


def _gate_against_truth() -> dict[str, Any]:
    """Effective verdicts now, against what the clips really were."""
    from review.models import Decision
    from seeds.models import GroundTruth

    truth = dict(GroundTruth.objects.values_list("submission_id", "violates"))
    verdicts = Decision.objects.filter(is_effective=True).values_list("submission_id",
                                                                      "outcome")
    table = {"violating_approved": 0, "violating_rejected": 0, "fine_approved": 0,
             "fine_rejected": 0}
    for clip, outcome in verdicts:
        if clip in truth and outcome in ("approve", "reject"):
            kind = "violating" if truth[clip] else "fine"
            table[f"{kind}_{'approved' if outcome == 'approve' else 'rejected'}"] += 1
    violating = table["violating_approved"] + table["violating_rejected"]
    fine = table["fine_approved"] + table["fine_rejected"]
    decided = violating + fine
    return {**table,
            "accuracy": round((table["violating_rejected"] + table["fine_approved"]) / decided,
                              4) if decided else None,
            "violating_missed_rate": round(table["violating_approved"] / violating, 4)
            if violating else None,
            "fine_rejected_rate": round(table["fine_rejected"] / fine, 4) if fine else None}


def summarize(result: RunResult) -> dict[str, Any]:
    from audit.research import rollups
    from seeds.models import GroundTruth

    world = result.world
    rollups.refresh()
    start, end = world.moment(0), world.moment(world.end_s)
    timeline = world.timeline
    leak_at = world.moment(timeline.leak_started_s) if timeline.leak_started_s else None
    resumed_at = world.moment(timeline.resumed_s) if timeline.resumed_s else None
    first_anomaly = _first_event("security.token_anomaly", leak_at) if leak_at else None
    suspended_at = _first_event("program.suspended", leak_at) if leak_at else None
    bounds = {"before": (start, leak_at or end), "during": (leak_at or end, resumed_at or end),
              "after": (resumed_at or end, end)}
    origins = dict(GroundTruth.objects.values_list("origin").annotate(n=Count("pk"))
                   .order_by())
    stats = world.stats
    platform_s, generator_s = stats.platform_s(), stats.generator_s()
    own_s = max(0.0, result.wall_s - platform_s - generator_s)
    return {
        "scenario": result.params.scenario,
        "seed": result.params.seed,
        "parameters": result.params.to_dict(),
        "simulated": {"from": _iso(start), "to": _iso(end)},
        "periods": {name: _period_figures(*bounds[name]) for name in PERIODS},
        "leak": {
            "started_at": _iso(leak_at),
            "first_anomaly_at": _iso(first_anomaly),
            "minutes_to_first_anomaly": _minutes(leak_at, first_anomaly),
            "admins_noticed_at": _iso(world.moment(timeline.incident_noticed_s))
            if timeline.incident_noticed_s is not None else None,
            "admins_noticed_by": timeline.incident_source,
            "suspended_at": _iso(suspended_at),
            "minutes_to_suspension": _minutes(leak_at, suspended_at),
            "resumed_at": _iso(resumed_at),
            "hours_suspended": round((resumed_at - suspended_at).total_seconds() / HOUR_S, 2)
            if resumed_at and suspended_at else None,
            "outsider_generations": origins.get("outsider", 0),
            "outsider_requests_refused": sum(
                count for name, count in stats.counts.items()
                if name.startswith("outsider requests refused")),
        },
        "ground_truth": {
            "clips": sum(origins.values()), "by_origin": origins,
            "violating": GroundTruth.objects.filter(violates=True).count(),
            "gate": _gate_against_truth(),
        },
        "activity": dict(sorted(stats.counts.items())),
        "performance": {
            "wall_s": round(result.wall_s, 3),
            "actions": result.actions,
            "actions_per_s": round(result.actions / result.wall_s, 1) if result.wall_s else None,
            "audit_events": _events_recorded(),
            "platform_s": round(platform_s, 3),
            "generator_s": round(generator_s, 3),
            "simulator_s": round(own_s, 3),
            "simulator_share": round(own_s / result.wall_s, 4) if result.wall_s else None,
            "hot_spots": stats.hot_spots(),
        },
    }


def _events_recorded() -> int:
    from audit.models import Event

    return Event.objects.count()


def _figure(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"  # noqa: RUF001  (an en dash reads as "none" in a table)
    if isinstance(value, float) and unit == "s":
        return f"{value / 3600:.1f} h" if value >= 3600 else f"{value / 60:.0f} min"
    if isinstance(value, float) and unit == "%":
        return f"{100 * value:.1f} %"
    return f"{value}{unit}"


def summary_text(summary: dict[str, Any]) -> str:
    """A few lines for people: the gate before, during and after the leak, and the leak."""
    periods, leak = summary["periods"], summary["leak"]
    lines = [f"Scenario {summary['scenario']}, seed {summary['seed']}: "
             f"{summary['parameters']['testers']} testers, "
             f"{summary['parameters']['moderators']} moderators, "
             f"{summary['parameters']['days']} days "
             f"({summary['simulated']['from']} to {summary['simulated']['to']}).", ""]
    rows = [("", "before", "during", "after"),
            ("hours", *(f"{periods[p]['hours']:g}" for p in PERIODS)),
            ("submissions", *(str(periods[p]["submissions"]) for p in PERIODS)),
            ("approval rate", *(_figure(periods[p]["approval_rate"], "%") for p in PERIODS)),
            ("time to decision p50",
             *(_figure(periods[p]["time_to_decision_s"]["p50"], "s") for p in PERIODS)),
            ("time to decision p90",
             *(_figure(periods[p]["time_to_decision_s"]["p90"], "s") for p in PERIODS)),
            ("queue depth (mean)", *(_figure(periods[p]["queue_depth"]["mean"]) for p in PERIODS)),
            ("queue depth (max)", *(_figure(periods[p]["queue_depth"]["max"]) for p in PERIODS)),
            ("token anomalies", *(str(periods[p]["token_anomalies"]) for p in PERIODS)),
            ("outsider generations",
             *(str(periods[p]["outsider_generations"]) for p in PERIODS))]
    width = max(len(row[0]) for row in rows)
    for row in rows:
        lines.append(f"  {row[0]:<{width}}  " + "  ".join(f"{cell:>10}" for cell in row[1:]))
    lines += ["", f"Leak: started {leak['started_at']}; first token anomaly after "
                  f"{_figure(leak['minutes_to_first_anomaly'], ' min')}; admins noticed by "
                  f"{leak['admins_noticed_by'] or '–'}; program suspended after "  # noqa: RUF001
                  f"{_figure(leak['minutes_to_suspension'], ' min')}, resumed {leak['resumed_at']}"
                  f" ({_figure(leak['hours_suspended'], ' h')} suspended); "
                  f"{leak['outsider_generations']} clips generated by outsiders."]
    gate = summary["ground_truth"]["gate"]
    lines.append(f"Gate against ground truth: accuracy {_figure(gate['accuracy'], '%')}, "
                 f"violating clips approved {_figure(gate['violating_missed_rate'], '%')}, "
                 f"fine clips rejected {_figure(gate['fine_rejected_rate'], '%')}.")
    performance = summary["performance"]
    lines.append(f"Run: {performance['actions']} simulated actions, "
                 f"{performance['audit_events']} audit events in {performance['wall_s']:.1f} s "
                 f"of wall time; simulator overhead "
                 f"{_figure(performance['simulator_share'], '%')}.")
    return "\n".join(lines) + "\n"
