"""Run a scenario from start to end and keep what the run knows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.db import transaction

from seeds.simulation.clock import Scheduler
from seeds.simulation.environment import simulated
from seeds.simulation.media import TinyClips
from seeds.simulation.params import SimulationParams
from seeds.simulation.scenarios import SCENARIOS
from seeds.simulation.world import World

Progress = Callable[[float, World], None]


@dataclass
class RunResult:
    params: SimulationParams
    world: World
    run: Any  # the scenario's record of its agents
    wall_s: float

    @property
    def actions(self) -> int:
        return self.world.scheduler.actions_run


def simulate(params: SimulationParams, *, progress: Progress | None = None) -> RunResult:
    """Run ``params.scenario`` on the current database (which the caller checked is empty)."""
    scenario = import_module(SCENARIOS[params.scenario])
    scheduler = Scheduler(scenario.START)
    world = World(params=params, scheduler=scheduler)
    if params.media == "tiny":
        world.clips = TinyClips(world.stats)
    between = (lambda time_s: progress(time_s, world)) if progress else None
    started = time.perf_counter()
    with simulated(scheduler, seed=params.seed):
        run = scenario.build(world)
        scheduler.run(world.end_s, between=between)
        ground_truth_save(world)
    return RunResult(params=params, world=world, run=run,
                     wall_s=time.perf_counter() - started)


def ground_truth_save(world: World) -> int:
    """Write the truth of every clip the run made (the simulation's own table, read only by
    researchers through the ``ground_truth`` dataset)."""
    from seeds.models import GroundTruth

    rows = [GroundTruth(submission_id=clip, violates=truth.violates, category=truth.category,
                        origin=truth.origin)
            for clip, truth in world.truths.items()]
    with transaction.atomic():
        GroundTruth.objects.bulk_create(rows, batch_size=500)
    return len(rows)
