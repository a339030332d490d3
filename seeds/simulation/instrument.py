"""Where the wall time of a run goes: the platform's code, the generator, or the simulator.

Every call an agent makes into the platform (a service, a selector, an API request through
the test client) goes through ``Stats.call``, which adds its wall time to that call's name.
What is left of the run's wall time is the simulator's own work: scheduling, the agents'
decisions, bookkeeping and progress display.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# Calls into the platform's generator (``submissions.generator``) made by the simulation
# itself to render tiny clips; reported apart from the services (see seeds/simulation/media).
GENERATOR = "generator.render_clip"


@dataclass
class Stats:
    seconds: dict[str, float] = field(default_factory=lambda: Counter())
    calls: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)

    def call(self, name: str, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``function`` and charge its wall time to ``name`` (even when it raises)."""
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.calls[name] += 1

    def platform_s(self) -> float:
        """Wall time spent in the platform's services, selectors and API (not the generator)."""
        return sum(seconds for name, seconds in self.seconds.items() if name != GENERATOR)

    def generator_s(self) -> float:
        return self.seconds.get(GENERATOR, 0.0)

    def hot_spots(self, limit: int = 12) -> list[dict[str, Any]]:
        """The most expensive calls, by total wall time."""
        ranked = sorted(self.seconds.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [{"call": name, "calls": self.calls[name], "seconds": round(seconds, 3),
                 "ms_per_call": round(1000 * seconds / max(1, self.calls[name]), 3)}
                for name, seconds in ranked]
