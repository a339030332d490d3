"""A clock the test moves by hand, for ``core.clock.use`` or any other time source."""

from __future__ import annotations

from datetime import datetime, timedelta


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by ``delta`` (``timedelta``'s keywords)."""
        self.now += timedelta(**delta)
        return self.now

    def at(self, **delta: float) -> datetime:
        """Stand at ``delta`` after the start."""
        self.now = self.start + timedelta(**delta)
        return self.now
