"""The platform's periodic work (Celery beat), on simulated time.

Beat runs the lease sweep every 30 s. Run literally, that is 2 880 calls a simulated day that
almost always find nothing; the simulation knows every lease its moderators let lapse, so it
runs the sweep at the first 30-second tick after each such lease ends, which is when beat's
sweep would first have found it. Nothing else beat does changes what the run records: the
media sweep finds nothing to re-send when tasks run in-process, and sealing runs once at the
end (it orders events by id, whenever it runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from seeds.simulation.world import World

LEASE_SWEEP_EVERY_S = 30.0


@dataclass
class Beat:
    world: World
    _sweeps: set[float] = field(default_factory=set)

    def lease_expires(self, expires_at: datetime) -> None:
        tick = math.ceil(self.world.scheduler.seconds(expires_at) / LEASE_SWEEP_EVERY_S)
        time_s = tick * LEASE_SWEEP_EVERY_S
        if time_s not in self._sweeps:
            self._sweeps.add(time_s)
            self.world.at(time_s, lambda: self.sweep_leases(time_s))

    def sweep_leases(self, time_s: float) -> None:
        from review.services.claims import claims_expire

        self._sweeps.discard(time_s)
        expired = self.world.stats.call("review.claims_expire", claims_expire)
        self.world.stats.counts["leases expired by the sweep"] += expired
