"""The ``sora-2024`` simulation at full size: 300 testers over 21 days, tiny media.

Prints the run's wall time against the 3-minute goal, simulated actions and audit events per
second of wall time, and where the time went: inside the platform (every service, selector and
API call the agents make, timed around the call), in the generator rendering tiny clips, and
in the simulator itself (the rest: scheduling, agents, bookkeeping). The simulator's share is
the ratio to watch (goal: under 20 %); the baseline is the platform's own time in the same run.
Also the most expensive platform calls, to show where a faster run would come from.

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/simulate.py [--testers N] [--days N]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from _setup import django_database

GOAL_S = 180.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--testers", type=int, default=300)
    parser.add_argument("--moderators", type=int, default=8)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    with django_database() as connection:
        from audit.sealing import seal_pending
        from seeds.simulation.output import datasets_write
        from seeds.simulation.params import SimulationParams
        from seeds.simulation.runner import simulate
        from seeds.simulation.summary import summarize, summary_text

        params = SimulationParams(testers=arguments.testers, moderators=arguments.moderators,
                                  days=arguments.days, seed=arguments.seed, media="tiny")
        started, cpu_started = time.perf_counter(), time.process_time()
        result = simulate(params)
        finishing = time.perf_counter()
        sealed = seal_pending()
        summary = summarize(result)
        with tempfile.TemporaryDirectory() as folder:
            files = datasets_write(Path(folder), "simulation")
            size = sum(path.stat().st_size for path in files)
        ended, cpu_used = time.perf_counter(), time.process_time() - cpu_started

        performance = summary["performance"]
        stats = result.world.stats
        wall = result.wall_s
        print(f"database: {connection.vendor}; sora-2024, {params.testers} testers, "
              f"{params.moderators} moderators, {params.days} days, tiny media, seed "
              f"{params.seed}")
        print(f"simulated run:        {wall:8.1f} s wall, {result.actions} actions "
              f"({result.actions / wall:,.0f}/s), {performance['audit_events']} audit events "
              f"({performance['audit_events'] / wall:,.0f}/s)")
        print(f"seal + summary + export: {ended - finishing:5.1f} s ({sealed} events sealed, "
              f"{len(files)} files, {size / 1e6:.1f} MB)")
        print(f"whole run:            {ended - started:8.1f} s = "
              f"{(ended - started) / GOAL_S:.2f}x the {GOAL_S:.0f} s goal "
              f"(this process used {cpu_used:.1f} s of CPU; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"in the platform:      {stats.platform_s():8.1f} s = "
              f"{stats.platform_s() / wall:6.1%} of the simulated run")
        print(f"in the generator:     {stats.generator_s():8.1f} s = "
              f"{stats.generator_s() / wall:6.1%}")
        own = wall - stats.platform_s() - stats.generator_s()
        print(f"simulator overhead:   {own:8.1f} s = {own / wall:6.1%} (goal < 20 %)")
        print("platform hot spots (total s, calls, ms per call):")
        for spot in performance["hot_spots"]:
            print(f"  {spot['seconds']:8.2f} s {spot['calls']:6d}  {spot['ms_per_call']:8.2f} ms  "
                  f"{spot['call']}")
        periods = summary["periods"]
        print("gate: submissions before/during/after the leak "
              f"{periods['before']['submissions']}/{periods['during']['submissions']}/"
              f"{periods['after']['submissions']}; minutes to first anomaly "
              f"{summary['leak']['minutes_to_first_anomaly']}, to suspension "
              f"{summary['leak']['minutes_to_suspension']}; outsider generations "
              f"{summary['leak']['outsider_generations']}")
        print()
        print(summary_text(summary), end="")


if __name__ == "__main__":
    main()
