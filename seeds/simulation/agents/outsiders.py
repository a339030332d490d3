"""The leak: a tester's API token is published, and anonymous outsiders use it.

Outsiders arrive as a Poisson process whose rate climbs while the news spreads, each from an
address of their own, and ask the generation API for a few clips each: far more, and from far
more addresses, than the token's owner ever did. They use the real API over the test client,
so the platform's token watch sees them exactly as it would see real requests. They leave
when the platform refuses them (suspended program, revoked token); once refusals are what
newcomers hear about, no more come.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from uuid import UUID

from seeds.simulation import prompts
from seeds.simulation.interfaces import ApiClient
from seeds.simulation.world import HOUR_S, MINUTE_S, Truth, World, seeded

# The documentation address blocks (RFC 5737): 762 distinct outsiders before any repeat.
ADDRESS_BLOCKS = ("203.0.113", "198.51.100", "192.0.2")
OUTSIDER_PROPENSITY = 0.3
OUTSIDER_CATEGORIES = {"likeness": 5, "copyright": 4, "misleading": 3, "sexual-content": 2,
                       "violence": 2, "hate": 1, "confidentiality": 1, "minors": 0.2}


@dataclass(frozen=True)
class LeakPlan:
    """The leak's shape (the scenario sets it)."""

    peak_arrivals_per_hour: float
    ramp_s: float  # from the first arrival to the peak rate
    campaign_s: float  # after this, interest dies down even if the token still works
    generations_per_outsider: tuple[int, int]
    clip: dict  # what outsiders ask the generation API for (resolution, duration_s)
    refusals_before_word_spreads: int = 3


@dataclass
class Leak:
    world: World
    rng: random.Random
    plan: LeakPlan
    token: str = ""
    arrivals: int = 0
    refusals: int = 0
    generations: int = 0
    started_s: float = 0.0
    _next_address: int = 0

    def begin(self) -> None:
        self.started_s = self.world.now_s
        self.world.timeline.leak_started_s = self.started_s
        self._schedule_arrival()

    def _rate(self, time_s: float) -> float:
        ramp = min(1.0, (time_s - self.started_s) / self.plan.ramp_s) if self.plan.ramp_s else 1
        return self.plan.peak_arrivals_per_hour * max(0.05, ramp) / HOUR_S

    def _schedule_arrival(self) -> None:
        # Thinning (Lewis and Shedler): candidates at the peak rate, each kept with the
        # share of the peak that the rate has reached by then.
        peak = self.plan.peak_arrivals_per_hour / HOUR_S
        time_s = self.world.now_s
        while True:
            time_s += self.rng.expovariate(peak)
            if time_s - self.started_s > self.plan.campaign_s:
                return
            if self.rng.random() * peak <= self._rate(time_s):
                break
        self.world.at(time_s, self.arrive)

    def arrive(self) -> None:
        if self.refusals >= self.plan.refusals_before_word_spreads:
            return  # the word is out that the token no longer works
        self.arrivals += 1
        block = ADDRESS_BLOCKS[(self._next_address // 254) % len(ADDRESS_BLOCKS)]
        address = f"{block}.{self._next_address % 254 + 1}"
        self._next_address += 1
        low, high = self.plan.generations_per_outsider
        outsider = Outsider(self, ApiClient(self.world.stats, self.token, address),
                            seeded(self.rng.random()), self.rng.randint(low, high))
        outsider.generate()
        self._schedule_arrival()


@dataclass
class Outsider:
    leak: Leak
    api: ApiClient
    rng: random.Random
    remaining: int

    @property
    def world(self) -> World:
        return self.leak.world

    def _truth(self) -> tuple[str, Truth]:
        if self.rng.random() < OUTSIDER_PROPENSITY:
            names = list(OUTSIDER_CATEGORIES)
            category = self.rng.choices(names, [OUTSIDER_CATEGORIES[n] for n in names])[0]
            return prompts.violating_prompt(self.rng, category), Truth(True, category,
                                                                       "outsider")
        return prompts.ordinary_prompt(self.rng), Truth(False, "", "outsider")

    def generate(self) -> None:
        prompt, truth = self._truth()
        status, body = self.api.request("post", "/api/v1/generations/", json_body={
            "prompt": prompt, "seed": self.rng.randrange(2**31), **self.leak.plan.clip})
        if status != 202:
            self.leak.refusals += 1
            self.world.stats.counts[f"outsider requests refused ({status})"] += 1
            return
        self.leak.generations += 1
        self.world.stats.counts["outsider generations"] += 1
        clip = UUID(body["id"])
        self.world.remember(clip, truth)
        self.world.after(self.rng.uniform(1, 4) * MINUTE_S, lambda: self.fetch(clip))

    def fetch(self, clip: UUID) -> None:
        status, body = self.api.request("get", f"/api/v1/submissions/{clip}/")
        if status == 200 and body.get("status") == "draft":
            self.api.request("get", f"/api/v1/submissions/{clip}/media/original/")
            self.world.stats.counts["outsider downloads"] += 1
        elif status != 200:
            self.leak.refusals += 1
            return
        self.remaining -= 1
        if self.remaining > 0:
            self.world.after(self.rng.uniform(0.5, 5) * MINUTE_S, self.generate)
