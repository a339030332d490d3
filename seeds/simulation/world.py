"""What every agent of a run shares: the clock, the seeded randomness, the instruments, the
simulation's private record of the truth, and the calendar helpers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from seeds.simulation.clock import Scheduler
from seeds.simulation.instrument import Stats
from seeds.simulation.params import SimulationParams

if TYPE_CHECKING:
    from accounts.models import User
    from seeds.simulation.agents.system import Beat
    from seeds.simulation.media import TinyClips

DAY_S = 86_400.0
HOUR_S = 3_600.0
MINUTE_S = 60.0


@dataclass(frozen=True)
class Truth:
    """What a clip really is. Known to the simulation (and, at the end, to researchers);
    never to the platform's moderators."""

    violates: bool
    category: str
    origin: str


@dataclass
class Timeline:
    """Moments of the run that only the simulation knows, or knows first."""

    leak_started_s: float | None = None
    incident_noticed_s: float | None = None
    incident_source: str | None = None
    suspended_s: float | None = None
    resumed_s: float | None = None
    leaked_token_revoked_s: float | None = None


@dataclass
class World:
    params: SimulationParams
    scheduler: Scheduler
    stats: Stats = field(default_factory=Stats)
    truths: dict[UUID, Truth] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    clips: TinyClips | None = None
    beat: Beat | None = None
    program_admins: list[User] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        """An independent random stream for one agent or purpose, derived from the seed.

        Streams are keyed by name, so adding an agent or a draw in one place leaves every
        other agent's choices as they were.
        """
        return seeded(f"{self.params.seed}/{name}")

    # -- time -----------------------------------------------------------------------------

    @property
    def now_s(self) -> float:
        return self.scheduler.time_s

    @property
    def end_s(self) -> float:
        return self.params.days * DAY_S

    def moment(self, time_s: float) -> datetime:
        return self.scheduler.moment(time_s)

    def weekday(self, time_s: float) -> int:
        """Monday is 0, as ``datetime.weekday``."""
        return (self.scheduler.start.weekday() + int(time_s // DAY_S)) % 7

    def at(self, time_s: float, action) -> None:
        if time_s < self.end_s:
            self.scheduler.at(time_s, action)

    def after(self, delay_s: float, action) -> None:
        self.at(self.now_s + delay_s, action)

    # -- truth ----------------------------------------------------------------------------

    def remember(self, clip: UUID, truth: Truth) -> None:
        self.truths[clip] = truth

    def truth_of(self, clip: UUID) -> Truth:
        return self.truths.get(clip, BENIGN)


BENIGN = Truth(violates=False, category="", origin="tester")


def seeded(key: str | float) -> random.Random:
    """A random stream fixed by ``key``: the run must be reproducible, and nothing drawn from
    it is a secret (passwords of simulated people are never used to sign in)."""
    return random.Random(key)  # noqa: S311


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lognormal_median(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)
