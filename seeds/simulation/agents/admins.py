"""Program admins: they decide escalated clips in rounds, read their alerts, and act on an
incident by suspending the program for everyone, revoking the leaked token, and later
resuming."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from seeds.simulation.agents.moderators import Judge
from seeds.simulation.world import DAY_S, HOUR_S, MINUTE_S, World, lognormal_median, seeded

SUSPEND_REASON = ("Access is suspended for everyone while we investigate unauthorised use of "
                  "a tester's access.")
RESUME_REASON = "Access is restored. The leaked access was revoked."
ESCALATION_ROUNDS_H = (10.0, 15.0)  # UTC, on weekdays
WATCH_HOURS = (7.0, 23.0)  # the admins on duty read alerts between these hours (UTC)


@dataclass
class IncidentPlan:
    """How the admins respond to a leak (the scenario sets it)."""

    alert_check_every_s: float  # how often the admin on duty reads their alerts
    investigation_median_s: float  # from noticing to deciding to suspend everyone
    public_report_after_s: float  # the leak reaches the press this long after it starts
    resume_hour_utc: float  # the admins resume the next day at this hour


@dataclass
class ProgramAdmins:
    world: World
    rng: random.Random
    plan: IncidentPlan
    users: list[Any] = field(default_factory=list)
    leaked_token_owner: Any = None
    judge: Judge = field(init=False)
    _mail_seen: int = 0
    _incident_open: bool = False

    def __post_init__(self) -> None:
        self.judge = Judge(accuracy=0.97, fatigue_per_hour=0.0, escalation_rate=0.0,
                           rng=seeded(self.rng.random()))

    @property
    def lead(self):
        return self.users[0]

    def start(self) -> None:
        from django.core import mail

        self._mail_seen = len(getattr(mail, "outbox", []))
        for day in range(int(self.world.end_s // DAY_S)):
            if self.world.weekday(day * DAY_S) < 5:
                for hour in ESCALATION_ROUNDS_H:
                    at = day * DAY_S + hour * HOUR_S + self.rng.uniform(0, 30) * MINUTE_S
                    self.world.at(at, self.escalation_round)
        self.world.at(WATCH_HOURS[0] * HOUR_S, self.read_alerts)

    # -- escalations ----------------------------------------------------------------------

    def escalation_round(self) -> None:
        from review.services.claims import claim_next

        admin = self.users[int(self.world.now_s // DAY_S) % len(self.users)]
        claim = self.world.stats.call("review.claim_next", claim_next, actor=admin)
        if claim is None:
            return
        truth = self.world.truth_of(claim.submission_id)
        verdict = self.judge.verdict(truth, hours_in=0, may_escalate=False)
        review_s = lognormal_median(self.rng, 5 * MINUTE_S, 0.5)
        self.world.after(review_s, lambda: self._decide(admin, claim.pk, verdict))

    def _decide(self, admin, claim_id, verdict) -> None:
        from core.errors import DomainError
        from review.services.decisions import decision_record

        try:
            self.world.stats.call("review.decision_record", decision_record, actor=admin,
                                  claim_id=claim_id, outcome=verdict.outcome,
                                  reasons=list(verdict.reasons))
            self.world.stats.counts[f"escalations decided ({verdict.outcome})"] += 1
        except DomainError as error:
            self.world.stats.counts[f"decisions refused: {error.code}"] += 1
        self.world.after(self.rng.uniform(30, 120), self.escalation_round)

    # -- alerts and incidents -------------------------------------------------------------

    def read_alerts(self) -> None:
        """The admin on duty reads the alerts e-mailed to the program admins since last time."""
        from django.core import mail

        outbox = getattr(mail, "outbox", [])
        addresses = {user.email for user in self.users}
        alerts = [message for message in outbox[self._mail_seen:]
                  if addresses & {*message.to, *message.cc, *message.bcc}]
        self._mail_seen = len(outbox)
        if alerts:
            self.world.stats.counts["alert e-mails read"] += len(alerts)
            self.notice("alert")
        hour = (self.world.now_s % DAY_S) / HOUR_S
        wait = self.plan.alert_check_every_s * self.rng.uniform(0.6, 1.4)
        if hour + wait / HOUR_S > WATCH_HOURS[1]:
            wait = (24 - hour + WATCH_HOURS[0]) * HOUR_S  # off duty until the morning
        self.world.after(wait, self.read_alerts)

    def leak_began(self) -> None:
        self.world.after(self.plan.public_report_after_s, lambda: self.notice("public report"))

    def notice(self, source: str) -> None:
        if self._incident_open or self.world.timeline.suspended_s is not None:
            return
        self._incident_open = True
        timeline = self.world.timeline
        timeline.incident_noticed_s, timeline.incident_source = self.world.now_s, source
        delay = lognormal_median(self.rng, self.plan.investigation_median_s, 0.25)
        self.world.after(delay, self.suspend)

    def suspend(self) -> None:
        from accounts.services.program import program_suspend

        self.world.stats.call("accounts.program_suspend", program_suspend, actor=self.lead,
                              reason=SUSPEND_REASON)
        self.world.timeline.suspended_s = self.world.now_s
        self._revoke_leaked_token()
        day = int(self.world.now_s // DAY_S) + 1
        self.world.at(day * DAY_S + self.plan.resume_hour_utc * HOUR_S, self.resume)

    def _revoke_leaked_token(self) -> None:
        """Revoke the token the program page shows in the latest anomaly (or, without one,
        the token the press reported)."""
        from accounts.services.auth import token_revoke_of

        owner = self.leaked_token_owner
        from accounts.selectors import token_anomalies_recent

        anomalies = self.world.stats.call("accounts.token_anomalies_recent",
                                          token_anomalies_recent)
        for anomaly in anomalies:
            if anomaly.user is not None and anomaly.same_token:
                owner = anomaly.user
                break
        if owner is not None and self.world.stats.call(
                "accounts.token_revoke_of", token_revoke_of, actor=self.lead, owner=owner):
            self.world.timeline.leaked_token_revoked_s = self.world.now_s

    def resume(self) -> None:
        from accounts.services.program import program_resume

        self.world.stats.call("accounts.program_resume", program_resume, actor=self.lead,
                              reason=RESUME_REASON)
        self.world.timeline.resumed_s = self.world.now_s
        self._incident_open = False
