"""Windows that cut through days: the figures come from the daily rollups for whole days and
from the facts for the hours at the edges, and must equal a direct count over the history.
Percentiles are checked against a plain implementation of ``percentile_cont``."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest

from audit.research import rollups
from audit.research.access import ResearchScope
from audit.research.metrics import metric_filters, metrics_overview
from tests.research.test_metrics import T0, GateHistory, People, at

DAY = timedelta(days=1)


def percentile_cont(values: list[float], point: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = point * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (position - low) * (ordered[high] - ordered[low]), 3)


@pytest.fixture
def three_days(db):
    """Sixty clips over three days, each claimed after a random wait and decided after a
    random review; returns what each clip did, to count by hand."""
    people = People()
    draw = random.Random(7)
    history = GateHistory()
    clips = []
    for index in range(60):
        minute = index * 71 + draw.randint(0, 30)
        owner = people.tess if index % 2 else people.rosa
        clip = history.clip(owner, minute)
        history.processed(clip, minute)
        wait, held = draw.randint(1, 600), draw.randint(1, 40)
        history.claimed(clip, people.ada, minute + wait)
        outcome = "approve" if draw.random() < 0.6 else "reject"
        history.decided(clip, people.ada, minute + wait + held, outcome,
                        claimed_minute=minute + wait)
        clips.append({"cohort": owner.cohort.slug, "created": at(minute),
                      "decided": at(minute + wait + held), "outcome": outcome,
                      "ttd": (wait + held) * 60.0, "wait": wait * 60.0})
    rollups.refresh()
    return clips


WINDOWS = {
    "everything": (None, None),
    "from noon to the third morning": (T0 + timedelta(hours=3), T0 + 2 * DAY - timedelta(hours=3)),
    "one whole day": (T0 - timedelta(hours=9) + DAY, T0 - timedelta(hours=9) + 2 * DAY),
    "inside one day": (T0 + timedelta(hours=1, minutes=17), T0 + timedelta(hours=11, minutes=3)),
    "since a morning": (T0 + DAY - timedelta(hours=4), None),
    "until an afternoon": (None, T0 + DAY + timedelta(hours=4, minutes=30)),
}


@pytest.mark.parametrize("cohort", [None, "red-team"])
@pytest.mark.parametrize("name", list(WINDOWS))
def test_figures_over_a_window_equal_a_direct_count(three_days, name, cohort):
    # given
    since, until = WINDOWS[name]

    def inside(moment) -> bool:
        return (since is None or moment >= since) and (until is None or moment < until)

    mine = [clip for clip in three_days if cohort in (None, clip["cohort"])]
    created = [clip for clip in mine if inside(clip["created"])]
    decided = [clip for clip in mine if inside(clip["decided"])]

    # when
    metrics = metrics_overview(metric_filters(since=since, until=until, cohort=cohort),
                               ResearchScope(None))

    # then
    approved = sum(clip["outcome"] == "approve" for clip in decided)
    assert metrics["submissions"]["total"] == len(created)
    assert metrics["decisions"] == {"approved": approved, "rejected": len(decided) - approved}
    assert metrics["time_to_decision_s"] == {
        "n": len(decided),
        **{f"p{round(p * 100)}": percentile_cont([c["ttd"] for c in decided], p)
           for p in (0.5, 0.9, 0.99)}}
    assert metrics["queue_wait_s"] == {
        "n": len(created),
        **{f"p{round(p * 100)}": percentile_cont([c["wait"] for c in created], p)
           for p in (0.5, 0.9, 0.99)}}
    for slug, row in metrics["by_cohort"].items():
        theirs = [clip["ttd"] for clip in decided if clip["cohort"] == slug]
        assert row["time_to_decision_s"] == {"p50": percentile_cont(theirs, 0.5),
                                             "p90": percentile_cont(theirs, 0.9)}
    assert sum(row["n"] for row in metrics["time_to_decision_histogram"]) == len(decided)
