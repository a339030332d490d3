"""The simulated clock: actions run in (time, scheduling order), and the platform reads the
simulated time while they run."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from seeds.simulation.clock import Scheduler

START = datetime(2024, 11, 11, tzinfo=UTC)


def test_actions_run_in_time_order_and_ties_in_the_order_they_were_scheduled():
    # given
    scheduler, ran = Scheduler(START), []
    for name, time_s in (("c", 30.0), ("a", 10.0), ("b1", 20.0), ("b2", 20.0), ("b3", 20.0)):
        scheduler.at(time_s, lambda name=name: ran.append(name))

    # when
    scheduler.run(until_s=100)

    # then
    assert ran == ["a", "b1", "b2", "b3", "c"]
    assert scheduler.actions_run == 5
    assert scheduler.time_s == 100
    assert scheduler.now() == START + timedelta(seconds=100)


def test_the_platform_reads_the_simulated_time_while_an_action_runs():
    # given
    scheduler, seen = Scheduler(START), []
    scheduler.at(90.5, lambda: seen.append(clock.now()))
    scheduler.at(3600, lambda: seen.append(clock.now()))

    # when
    with scheduler.installed():
        scheduler.run(until_s=7200)
    after = clock.now()

    # then
    assert seen == [START + timedelta(seconds=90.5), START + timedelta(hours=1)]
    assert after > datetime(2025, 1, 1, tzinfo=UTC)  # the real clock is back


def test_an_action_scheduled_in_the_past_runs_now_after_what_is_due():
    # given
    scheduler, ran = Scheduler(START), []

    def first():
        ran.append(("first", scheduler.time_s))
        scheduler.at(5.0, lambda: ran.append(("late", scheduler.time_s)))
        scheduler.after(0, lambda: ran.append(("now", scheduler.time_s)))

    scheduler.at(10.0, first)
    scheduler.at(10.0, lambda: ran.append(("due", scheduler.time_s)))

    # when
    scheduler.run(until_s=20)

    # then
    assert ran == [("first", 10.0), ("due", 10.0), ("late", 10.0), ("now", 10.0)]


def test_run_stops_before_the_end_and_keeps_later_actions():
    # given
    scheduler, ran = Scheduler(START), []
    scheduler.at(50, lambda: ran.append(50))
    scheduler.at(100, lambda: ran.append(100))
    scheduler.at(150, lambda: ran.append(150))

    # when
    scheduler.run(until_s=100)

    # then
    assert ran == [50]
    assert scheduler.pending == 2


def _trace(seed: int) -> list[tuple[float, str]]:
    """A run of agents that schedule each other at random times from one seeded stream."""
    scheduler, rng, trace = Scheduler(START), random.Random(seed), []

    def agent(name: str) -> None:
        trace.append((scheduler.time_s, name))
        for child in range(rng.randint(0, 2)):
            scheduler.after(rng.choice([0.0, 1.0, rng.uniform(0, 60)]),
                            lambda child=child: agent(f"{name}.{child}"))

    for index in range(5):
        scheduler.at(rng.choice([0.0, 30.0]), lambda index=index: agent(str(index)))
    scheduler.run(until_s=600)
    return trace


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    # when
    first, again, other = _trace(7), _trace(7), _trace(8)

    # then
    assert first == again
    assert first != other
    assert len(first) == 47
    assert first[:3] == [(0.0, "1"), (0.0, "3"), (0.0, "4")]  # agents 0 and 2 start at 30 s


def test_the_clock_refuses_naive_starts_and_nan_times():
    with pytest.raises(ValueError, match="aware"):
        Scheduler(datetime(2024, 11, 11))  # noqa: DTZ001  (the naive start under test)
    with pytest.raises(ValueError, match="NaN"):
        Scheduler(START).at(float("nan"), lambda: None)
