"""``manage.py simulate``: run a simulated program through the real services (see
docs/simulation.md)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from seeds.simulation.params import MEDIA_CHOICES, ParameterError, SimulationParams
from seeds.simulation.scenarios import SCENARIOS

STUDY = "simulation"


class Command(BaseCommand):
    help = ("Run a scenario of the early-access program by itself: synthetic testers, "
            "moderators, program admins and outsiders act through the platform's services on a "
            "simulated clock. Optionally write the research datasets and a summary.")

    def add_arguments(self, parser):
        defaults = SimulationParams()
        parser.add_argument("--scenario", default=defaults.scenario,
                            help=f"One of: {', '.join(sorted(SCENARIOS))} (default %(default)s).")
        parser.add_argument("--seed", type=int, default=defaults.seed,
                            help="Random seed; same scenario, parameters and seed give the same "
                                 "datasets (default %(default)s).")
        parser.add_argument("--testers", type=int, default=defaults.testers,
                            help="Invited testers (default %(default)s).")
        parser.add_argument("--moderators", type=int, default=defaults.moderators,
                            help="Staff moderators (default %(default)s).")
        parser.add_argument("--days", type=int, default=defaults.days,
                            help="Simulated days (default %(default)s).")
        parser.add_argument("--second-opinion-rate", type=float,
                            default=defaults.second_opinion_rate,
                            help="Share of first decisions sampled for a blind second opinion "
                                 "(default %(default)s).")
        parser.add_argument("--lease-minutes", type=int, default=defaults.lease_minutes,
                            help="Length of a moderator's lease on an item (default "
                                 "%(default)s).")
        parser.add_argument("--media", default=defaults.media,
                            help=f"{' or '.join(MEDIA_CHOICES)}: 64x36 half-second clips, or 10 s "
                                 "1080p clips from the generation service (default %(default)s).")
        parser.add_argument("--activity", type=float, default=defaults.activity,
                            help="Multiplies how often testers work (default %(default)s).")
        parser.add_argument("--out", type=Path, default=None,
                            help="Write every research dataset (CSV and Parquet) and the summary "
                                 "to this new or empty folder.")
        parser.add_argument("--fresh", action="store_true",
                            help="Replace the database with a new, empty one first (it is "
                                 "dropped: everything in it is lost).")
        parser.add_argument("--no-progress", action="store_true",
                            help="Do not show the progress bar.")

    def handle(self, *args, **options):
        from audit.sealing import seal_pending
        from seeds.simulation.database import database_replace, program_data
        from seeds.simulation.output import datasets_write, output_check, summary_write
        from seeds.simulation.progress import ProgressBar
        from seeds.simulation.runner import simulate
        from seeds.simulation.summary import summarize, summary_text

        if not settings.DEMO_SEED_ALLOWED:
            raise CommandError("Refusing to simulate under these settings: a simulation fills "
                               "the database with synthetic people and clips, and --fresh "
                               "drops it (DEMO_SEED_ALLOWED is off, as in production).")
        try:
            params = SimulationParams(
                scenario=options["scenario"], seed=options["seed"], testers=options["testers"],
                moderators=options["moderators"], days=options["days"],
                second_opinion_rate=options["second_opinion_rate"],
                lease_minutes=options["lease_minutes"], media=options["media"],
                activity=options["activity"])
            if options["out"] is not None:
                output_check(options["out"])
        except (ParameterError, ValueError) as error:
            raise CommandError(str(error)) from None

        if options["fresh"]:
            self.stderr.write(f"Replacing the database: {database_replace()}.")
        else:
            call_command("migrate", interactive=False, verbosity=0)
        found = program_data()
        if any(found.values()):
            held = ", ".join(f"{what}: {count}" for what, count in found.items())
            raise CommandError(f"The database already holds a program ({held}). Simulate into "
                               "an empty database (point DATABASE_URL at a new one), or pass "
                               "--fresh to replace this one.")

        progress = None
        if not options["no_progress"]:
            progress = ProgressBar(lambda text: self.stderr.write(text, ending=""),
                                   terminal=self.stderr.isatty(), total_s=params.days * 86_400,
                                   days=params.days)
        result = simulate(params, progress=progress)
        if progress is not None:
            progress.finish(result.world)
        sealed = seal_pending()
        summary = summarize(result)
        summary["sealed_events"] = sealed
        text = summary_text(summary)
        if options["out"] is not None:
            folder = options["out"]
            written = datasets_write(folder, STUDY) + summary_write(folder, summary, text)
            text += f"Wrote {len(written)} files to {folder}.\n"
        self.stdout.write(text, ending="")
