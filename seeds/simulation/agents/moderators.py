"""Staff moderators working the review queue in shifts, and how they judge a clip.

A moderator's verdict comes from the simulation's ground truth, bent by their accuracy and by
fatigue: the longer into a shift, the slower and the less accurate. What they see of a clip on
the platform (its prompt, its media) plays no part, and the truth never passes through the
platform on its way to them.
"""

from __future__ import annotations

import random
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from seeds.simulation.prompts import CATEGORIES
from seeds.simulation.world import DAY_S, HOUR_S, MINUTE_S, Truth, World, lognormal_median

# Reasons a moderator gives a clip they wrongly believe breaks the policy.
FALSE_ALARM_REASONS = ["quality", "quality", "likeness", "copyright", "misleading", "other"]
# Categories where moderators are unsure and often ask a program admin.
HARD_CATEGORIES = frozenset({"likeness", "misleading", "copyright", "confidentiality"})
SHIFTS = {"early": (6.0, 14.0), "late": (14.0, 22.0)}
WEEKDAYS, THURSDAY_TO_MONDAY = (0, 1, 2, 3, 4), (3, 4, 5, 6, 0)


@dataclass(frozen=True)
class Verdict:
    outcome: str
    reasons: tuple[str, ...] = ()


@dataclass
class Judge:
    """How one person turns a clip's truth into a decision."""

    accuracy: float
    fatigue_per_hour: float
    escalation_rate: float
    rng: random.Random

    def verdict(self, truth: Truth, *, hours_in: float, may_escalate: bool) -> Verdict:
        right = self.rng.random() < max(0.5, self.accuracy - self.fatigue_per_hour * hours_in)
        sees_violation = truth.violates == right
        if sees_violation and may_escalate:
            unsure = truth.category in HARD_CATEGORIES or not truth.violates
            if self.rng.random() < self.escalation_rate * (4 if unsure else 1):
                return Verdict("escalate")
        if not sees_violation:
            return Verdict("approve")
        if truth.violates:
            reasons = [truth.category]
            if self.rng.random() < 0.1:  # a second, related reason now and then
                extra = self.rng.choice(CATEGORIES)
                if extra != truth.category:
                    reasons.append(extra)
            return Verdict("reject", tuple(reasons))
        return Verdict("reject", (self.rng.choice(FALSE_ALARM_REASONS),))


@dataclass
class ModeratorProfile:
    index: int
    username: str
    shift: str
    workdays: tuple[int, ...]
    review_median_s: float
    review_sigma: float
    accuracy: float
    fatigue_per_hour: float
    abandon_rate: float  # chance of being pulled away and letting the lease run out
    idle_check_s: float  # how long they wait before looking at an empty queue again

    @classmethod
    def draw(cls, rng: random.Random, index: int) -> ModeratorProfile:
        return cls(
            index=index, username=f"moderator-{index + 1:02d}",
            shift="early" if index % 2 == 0 else "late",
            workdays=THURSDAY_TO_MONDAY if index % 3 == 2 else WEEKDAYS,
            review_median_s=rng.uniform(45, 150), review_sigma=0.6,
            accuracy=rng.uniform(0.86, 0.97), fatigue_per_hour=rng.uniform(0.004, 0.012),
            abandon_rate=0.015, idle_check_s=rng.uniform(40, 75) * MINUTE_S,
        )


@dataclass
class Moderator:
    world: World
    profile: ModeratorProfile
    rng: random.Random
    user: Any = None
    judge: Judge = field(init=False)
    shift_start_s: float = 0.0
    shift_end_s: float = 0.0

    def __post_init__(self) -> None:
        self.judge = Judge(self.profile.accuracy, self.profile.fatigue_per_hour,
                           escalation_rate=0.03, rng=self.rng)

    # -- shifts ---------------------------------------------------------------------------

    def schedule_shifts(self) -> None:
        start_h, end_h = SHIFTS[self.profile.shift]
        for day in range(int(self.world.end_s // DAY_S)):
            if self.world.weekday(day * DAY_S) in self.profile.workdays:
                begin = day * DAY_S + (start_h + self.rng.uniform(-0.25, 0.25)) * HOUR_S
                end = day * DAY_S + end_h * HOUR_S
                self.world.at(begin, lambda begin=begin, end=end: self.start_shift(begin, end))

    def start_shift(self, begin: float, end: float) -> None:
        self.shift_start_s, self.shift_end_s = begin, end
        self.work()

    @property
    def hours_in(self) -> float:
        return max(0.0, (self.world.now_s - self.shift_start_s) / HOUR_S)

    # -- the queue ------------------------------------------------------------------------

    def work(self) -> None:
        """Take the next item, or come back later when the queue is empty."""
        from review.services.claims import claim_next

        if self.world.now_s >= self.shift_end_s - 5 * MINUTE_S:
            return  # the shift is over
        claim = self.world.stats.call("review.claim_next", claim_next, actor=self.user)
        if claim is None:
            wait = self.rng.expovariate(1 / self.profile.idle_check_s)
            if self.world.now_s + wait < self.shift_end_s:
                self.world.after(max(2 * MINUTE_S, wait), self.work)
            return
        self.world.stats.counts[f"claims ({claim.track})"] += 1
        truth = self.world.truth_of(claim.submission_id)
        may_escalate = claim.track in ("primary", "appeal")
        verdict = self.judge.verdict(truth, hours_in=self.hours_in, may_escalate=may_escalate)
        review_s = lognormal_median(self.rng, self.profile.review_median_s,
                                    self.profile.review_sigma)
        review_s *= (1 + 0.05 * self.hours_in) * (1.3 if truth.violates else 1.0)
        lease_s = self.world.params.lease_minutes * MINUTE_S
        if self.rng.random() < self.profile.abandon_rate:
            # Pulled away with the page closed: no heartbeat, the lease runs out, and their
            # late decision is refused.
            back = lease_s + self.rng.uniform(1, 15) * MINUTE_S
            self.world.after(back, lambda: self.decide(claim.pk, verdict))
            self.world.beat.lease_expires(claim.expires_at)
            return
        # The moderator page renews the lease by heartbeat at half its length while open.
        renewal = lease_s / 2
        while renewal < review_s:
            self.world.after(renewal, lambda: self.renew(claim.pk))
            renewal += lease_s / 2
        self.world.after(review_s, lambda: self.decide(claim.pk, verdict))

    def renew(self, claim_id: UUID) -> None:
        from core.errors import DomainError
        from review.services.claims import claim_renew

        with suppress(DomainError):  # decided or lost meanwhile; the decision will say so
            self.world.stats.call("review.claim_renew", claim_renew, actor=self.user,
                                  claim_id=claim_id)

    def decide(self, claim_id: UUID, verdict: Verdict) -> None:
        from core.errors import DomainError
        from review.services.decisions import decision_record

        try:
            self.world.stats.call("review.decision_record", decision_record, actor=self.user,
                                  claim_id=claim_id, outcome=verdict.outcome,
                                  reasons=list(verdict.reasons))
        except DomainError as error:
            self.world.stats.counts[f"decisions refused: {error.code}"] += 1
        else:
            self.world.stats.counts[f"decisions ({verdict.outcome})"] += 1
        self.world.after(self.rng.uniform(10, 60), self.work)
