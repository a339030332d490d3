"""Invited artists: they join, work in sessions on the days they are active, make clips,
submit the ones they like, and come back later to appeal a rejection or share an approval."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from uuid import UUID

from seeds.simulation import prompts
from seeds.simulation.interfaces import Refused, TesterApi, TesterServices
from seeds.simulation.world import DAY_S, HOUR_S, MINUTE_S, Truth, World, poisson

APPEAL_MESSAGES = [
    "This clip follows the guidelines; I think the rejection is a mistake.",
    "Please take another look: nothing in this clip is a real person or a protected work.",
    "The rejection reason does not match what the clip shows.",
]
# Categories a creative partner's violating clips fall under, with weights: mostly the kind of
# mistake an artist makes (a recognisable face, a protected character), rarely the worst.
CREATIVE_CATEGORIES = {"likeness": 5, "copyright": 6, "misleading": 3, "confidentiality": 2,
                       "violence": 2, "sexual-content": 1, "hate": 0.5, "minors": 0.3}
RED_TEAM_CATEGORIES = {"likeness": 3, "copyright": 2, "misleading": 4, "confidentiality": 1,
                       "violence": 4, "sexual-content": 3, "hate": 3, "minors": 1}
WEEKEND_ACTIVITY = 0.6  # relative chance of working on a Saturday or Sunday
SEEDS_TRIED = 4  # artists try a handful of seeds per prompt: 0, 1, 2, 3


@dataclass
class TesterProfile:
    """A tester's hidden character, drawn once from their own random stream."""

    index: int
    username: str
    cohort: str
    activity: float  # chance of working on a given weekday
    utc_offset_h: int
    session_hour: float  # local hour their sessions start around
    clips_per_session: float  # mean number of clips beyond the first
    propensity: float  # chance that a clip they make breaks the policy
    categories: dict[str, float]
    submit_rate: float
    appeal_rate: float  # chance of appealing a rejection they believe wrong
    share_rate: float
    withdraw_rate: float
    protester: bool = False
    uses_api: bool = False

    @classmethod
    def draw(cls, rng: random.Random, index: int, cohort: str, activity_scale: float
             ) -> TesterProfile:
        red_team = cohort == "red-team"
        activity = rng.betavariate(2, 10) if red_team else rng.betavariate(1.2, 11)
        return cls(
            index=index, username=f"tester-{index + 1:04d}", cohort=cohort,
            activity=min(0.95, activity * activity_scale),
            utc_offset_h=rng.choice([-8, -7, -6, -5, -5, -4, 0, 1, 1, 2, 8, 9]),
            session_hour=rng.uniform(9, 20),
            clips_per_session=rng.gammavariate(2, 0.75),
            propensity=rng.betavariate(3, 5) if red_team else rng.betavariate(1, 14),
            categories=RED_TEAM_CATEGORIES if red_team else CREATIVE_CATEGORIES,
            submit_rate=rng.uniform(0.55, 0.9),
            appeal_rate=rng.uniform(0.3, 0.8),
            share_rate=rng.uniform(0.3, 0.9),
            withdraw_rate=0.03,
        )


@dataclass
class _Clip:
    id: UUID
    truth: Truth
    submitted: bool = False
    appealed: bool = False
    settled: bool = False  # nothing more the tester will do with it


@dataclass
class Tester:
    world: World
    profile: TesterProfile
    rng: random.Random
    desk: TesterServices | TesterApi | None = None
    token: str = ""
    stopped: bool = False
    clips: list[_Clip] = field(default_factory=list)
    waiting: list[_Clip] = field(default_factory=list)  # drafts a refusal kept from the gate
    project: str = ""
    project_seed: int = 0

    # -- the calendar ---------------------------------------------------------------------

    def first_session(self, joined_s: float) -> None:
        self._schedule_from(joined_s, include_today=True)

    def _schedule_from(self, time_s: float, *, include_today: bool) -> None:
        day = int(time_s // DAY_S) + (0 if include_today else 1)
        last_day = int(self.world.end_s // DAY_S)
        while day < last_day:
            chance = self.profile.activity
            if self.world.weekday(day * DAY_S) >= 5:
                chance *= WEEKEND_ACTIVITY
            if self.rng.random() < chance:
                local = self.profile.session_hour + self.rng.gauss(0, 1.0)
                start = day * DAY_S + ((local - self.profile.utc_offset_h) % 24) * HOUR_S
                self.world.at(max(start, time_s), self.session)
                return
            day += 1

    # -- a working session ----------------------------------------------------------------

    def session(self) -> None:
        if self.stopped:
            return
        if self.desk.refusal() is not None:
            # Shut out: they try again a few hours later, or on their next working day.
            self.world.stats.counts["tester sessions refused"] += 1
            if self.rng.random() < 0.5:
                self.world.after(self.rng.uniform(2, 5) * HOUR_S, self.session)
            else:
                self._schedule_from(self.world.now_s, include_today=False)
            return
        self.world.stats.counts["tester sessions"] += 1
        self._review_clips()
        count = 1 + poisson(self.rng, self.profile.clips_per_session)
        delay = self.rng.uniform(1, 5) * MINUTE_S
        for _ in range(count):
            self.world.after(delay, self.make_clip)
            delay += self.rng.uniform(4, 20) * MINUTE_S
        # The decision e-mails bring them back later that day for a look at their clips.
        self.world.after(delay + self.rng.uniform(2, 6) * HOUR_S, self.look_in)
        self._schedule_from(self.world.now_s + delay, include_today=False)

    def look_in(self) -> None:
        """A short visit to the dashboard, without making anything."""
        if self.stopped or self.desk.refusal() is not None:
            return
        self.world.stats.counts["tester visits"] += 1
        self._review_clips()

    def _review_clips(self) -> None:
        """Look at the dashboard: appeal, share or withdraw what came back since last time,
        and submit the drafts a refusal kept back."""
        for clip in self.waiting[:]:
            if self._submit(clip):
                self.waiting.remove(clip)
        open_clips = [clip for clip in self.clips if clip.submitted and not clip.settled]
        if not open_clips:
            return
        statuses = self.desk.statuses([clip.id for clip in open_clips])
        for clip in open_clips:
            status = statuses.get(clip.id)
            if status == "approved":
                clip.settled = True
                if self.rng.random() < self.profile.share_rate:
                    self._try("share", self.desk.share, clip.id)
            elif status == "rejected":
                clip.settled = True
                if not clip.appealed and self.rng.random() < self._appeal_chance(clip):
                    clip.appealed = True
                    clip.settled = False  # they will look at the appeal's outcome
                    self._try("appeal", self.desk.appeal, clip.id,
                              self.rng.choice(APPEAL_MESSAGES))
            elif status == "pending_review" and not clip.appealed:
                if self.rng.random() < self.profile.withdraw_rate:
                    clip.settled = True
                    self._try("withdraw", self.desk.withdraw, clip.id)
            elif status in ("withdrawn", "failed"):
                clip.settled = True

    def _appeal_chance(self, clip: _Clip) -> float:
        # Testers know what they made: a fair rejection is rarely appealed.
        return self.profile.appeal_rate * (0.15 if clip.truth.violates else 1.0)

    def _try(self, what: str, call, *args) -> bool:
        try:
            call(*args)
        except Refused as refusal:
            self.world.stats.counts[f"tester {what} refused: {refusal.code}"] += 1
            return False
        self.world.stats.counts[f"tester {what}"] += 1
        return True

    # -- making a clip --------------------------------------------------------------------

    def _next_prompt(self) -> tuple[str, int, Truth]:
        if self.rng.random() < self.profile.propensity:
            categories = list(self.profile.categories)
            category = self.rng.choices(categories,
                                        weights=[self.profile.categories[name]
                                                 for name in categories])[0]
            prompt = prompts.violating_prompt(self.rng, category)
            seed = self.rng.randrange(SEEDS_TRIED)
            return prompt, seed, Truth(True, category, "tester")
        # An artist works on a project for a while, trying seed after seed.
        if not self.project or self.project_seed >= SEEDS_TRIED or self.rng.random() < 0.35:
            self.project, self.project_seed = prompts.ordinary_prompt(self.rng), 0
        seed, self.project_seed = self.project_seed, self.project_seed + 1
        return self.project, seed, Truth(False, "", "tester")

    def make_clip(self) -> None:
        if self.stopped:
            return
        prompt, seed, truth = self._next_prompt()
        try:
            clip_id = self.desk.make_clip(prompt, seed)
        except Refused as refusal:
            self.world.stats.counts[f"tester clip refused: {refusal.code}"] += 1
            return
        self.world.remember(clip_id, truth)
        clip = _Clip(clip_id, truth)
        self.clips.append(clip)
        self.world.stats.counts["tester clips made"] += 1
        # They watch the draft, then decide whether it is worth sending to the gate.
        self.world.after(self.rng.uniform(1, 8) * MINUTE_S, lambda: self.consider(clip))

    def consider(self, clip: _Clip) -> None:
        if self.stopped or self.rng.random() >= self.profile.submit_rate:
            clip.settled = True  # kept as a draft
            return
        if not self._submit(clip):
            self.waiting.append(clip)

    def _submit(self, clip: _Clip) -> bool:
        try:
            self.desk.submit(clip.id)
        except Refused as refusal:
            self.world.stats.counts[f"tester submit refused: {refusal.code}"] += 1
            return refusal.code not in ("program.suspended", "program.paused")
        clip.submitted = True
        self.world.stats.counts["tester clips submitted"] += 1
        return True


def cohort_sizes(testers: int) -> dict[str, int]:
    """About 15 % red team, at least one of each cohort when there are two or more testers."""
    red_team = 0 if testers < 2 else max(1, math.floor(testers * 0.15 + 0.5))
    return {"creative-partners": testers - red_team, "red-team": red_team}
