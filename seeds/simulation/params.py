"""A run's parameters and their limits; a bad value is refused with a message naming it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

MEDIA_CHOICES = ("tiny", "full")

# name → (lowest, highest) accepted; the option is named --<name with dashes>.
LIMITS: dict[str, tuple[float, float]] = {
    "seed": (0, 2**63 - 1),
    "testers": (1, 5000),
    "moderators": (1, 500),
    "days": (2, 120),
    "second_opinion_rate": (0.0, 1.0),
    "lease_minutes": (1, 240),
    "activity": (0.0, 20.0),
}


class ParameterError(ValueError):
    """A parameter is out of its range or of the wrong kind; the message says which and why."""


@dataclass(frozen=True)
class SimulationParams:
    scenario: str = "sora-2024"
    seed: int = 1
    testers: int = 300
    moderators: int = 8
    days: int = 21
    second_opinion_rate: float = 0.05
    lease_minutes: int = 10
    media: str = "tiny"
    activity: float = 1.0

    def __post_init__(self) -> None:
        from seeds.simulation.scenarios import SCENARIOS

        if self.scenario not in SCENARIOS:
            raise ParameterError(f"Unknown scenario {self.scenario!r}; choose one of: "
                                 f"{', '.join(sorted(SCENARIOS))}.")
        if self.media not in MEDIA_CHOICES:
            raise ParameterError(f"--media must be one of {', '.join(MEDIA_CHOICES)} "
                                 f"(got {self.media!r}).")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            option = "--" + name.replace("_", "-")
            whole = isinstance(low, int) and isinstance(high, int)
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                    whole and not isinstance(value, int)):
                kind = "a whole number" if whole else "a number"
                raise ParameterError(f"{option} must be {kind} (got {value!r}).")
            if math.isnan(value) or not low <= value <= high:
                raise ParameterError(f"{option} must be between {_number(low)} and "
                                     f"{_number(high)} (got {_number(value)}).")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"
