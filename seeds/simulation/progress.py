"""A progress bar on one line of a terminal, with an estimate of the time left.

The estimate assumes the rest of the simulated time passes at the rate it has so far (in wall
seconds per simulated second, counted from the first action). Written at most four times a
second; where the stream is not a terminal (a log file), a plain line every tenth of the run
instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from seeds.simulation.world import DAY_S, World


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressBar:
    WIDTH = 28
    EVERY_S = 0.25

    def __init__(self, write: Callable[[str], None], *, terminal: bool, total_s: float,
                 days: int) -> None:
        self.write, self.terminal = write, terminal
        self.total_s, self.days = total_s, days
        self.started = time.perf_counter()
        self._next = 0.0
        self._next_tenth = 0.1
        self._first_s: float | None = None
        self.shown = False

    def __call__(self, time_s: float, world: World) -> None:
        if self._first_s is None:
            self._first_s = time_s
        now = time.perf_counter()
        if now < self._next:
            return
        self._next = now + self.EVERY_S
        fraction = min(1.0, time_s / self.total_s)
        if not self.terminal:
            if fraction < self._next_tenth:
                return
            self._next_tenth = (int(fraction * 10) + 1) / 10
        self._show(fraction, world, now)

    def _show(self, fraction: float, world: World, now: float) -> None:
        elapsed = now - self.started
        done_s = world.now_s - (self._first_s or 0.0)
        left = None
        if elapsed >= 1 and done_s > 0:
            left = elapsed * max(0.0, self.total_s - world.now_s) / done_s
        filled = round(self.WIDTH * fraction)
        actions = world.scheduler.actions_run
        day = min(self.days, int(world.now_s // DAY_S) + 1)
        rate = actions / max(elapsed, 1e-9)
        text = (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * fraction:5.1f}%  "
                f"day {day}/{self.days}  {actions:,} actions ({rate:,.0f}/s)  "
                f"{_duration(elapsed)} elapsed, "
                f"{'~' + _duration(left) if left is not None else '?'} left")
        self.write("\r" + text + "\033[K" if self.terminal else text + "\n")
        self.shown = True

    def finish(self, world: World) -> None:
        self._show(1.0, world, time.perf_counter())
        if self.terminal:
            self.write("\n")
