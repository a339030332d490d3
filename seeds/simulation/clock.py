"""Simulated time: a discrete-event scheduler whose clock the platform's services read.

Actions wait in a heap ordered by (time, sequence number). The sequence number is taken when
an action is scheduled, so two actions due at the same instant run in the order they were
scheduled: the run depends on nothing but the order of scheduling, which the seeded agents
decide. While an action runs, ``now()`` is its due time; the services read it through
``core.clock`` (see ``Scheduler.installed``), so events, leases and expiries all run on
simulated time.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from core import clock

Action = Callable[[], None]


class Scheduler:
    """A heap of ``(time_s, seq, action)``; ``time_s`` is seconds since ``start``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulation starts at an aware datetime")
        self.start = start
        self.time_s = 0.0
        self._now = start
        self._heap: list[tuple[float, int, Action]] = []
        self._sequence = itertools.count()
        self.actions_run = 0

    def now(self) -> datetime:
        """The current simulated time (the clock source handed to ``core.clock``)."""
        return self._now

    def at(self, time_s: float, action: Action) -> None:
        """Run ``action`` at ``time_s``; a time in the past means "now", after what is due."""
        if math.isnan(time_s):
            raise ValueError("cannot schedule an action at NaN")
        heapq.heappush(self._heap, (max(time_s, self.time_s), next(self._sequence), action))

    def after(self, delay_s: float, action: Action) -> None:
        self.at(self.time_s + delay_s, action)

    def moment(self, time_s: float) -> datetime:
        """The datetime of a simulated time."""
        return self.start + timedelta(seconds=time_s)

    def seconds(self, moment: datetime) -> float:
        """The simulated time of a datetime."""
        return (moment - self.start).total_seconds()

    @property
    def pending(self) -> int:
        return len(self._heap)

    def run(self, until_s: float, *, between: Callable[[float], None] | None = None) -> None:
        """Run every action due before ``until_s`` in order, then stop the clock there.

        ``between(time_s)`` is called before each action (the progress display uses it).
        """
        heap = self._heap
        while heap and heap[0][0] < until_s:
            time_s, _, action = heapq.heappop(heap)
            if time_s != self.time_s:
                self.time_s = time_s
                self._now = self.start + timedelta(seconds=time_s)
            if between is not None:
                between(time_s)
            action()
            self.actions_run += 1
        self.time_s = until_s
        self._now = self.start + timedelta(seconds=until_s)

    @contextmanager
    def installed(self) -> Iterator[Scheduler]:
        """Make this scheduler's time the platform's time for the duration of the block."""
        with clock.use(self.now):
            yield self
