"""The named scenarios ``manage.py simulate --scenario`` can run."""

from __future__ import annotations

SCENARIOS = {
    "sora-2024": "seeds.simulation.scenarios.sora_2024",
}
