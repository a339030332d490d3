"""Seals what the beat task has not sealed yet, until nothing is left (see audit.sealing)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.sealing import DEFAULT_BATCH, latest_checkpoint, seal_run


class Command(BaseCommand):
    help = ("Seal every committed event not sealed yet, signing a checkpoint per run and "
            "appending it to the checkpoint log; runs until nothing is left.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                            help=f"Events per query and insert (default {DEFAULT_BATCH}).")
        parser.add_argument("--full", action="store_true",
                            help="Look below the low-water mark too, for events whose "
                                 "transaction stayed open longer than the margin.")

    def handle(self, *args, batch: int, full: bool, **options):
        total = 0
        while (run := seal_run(batch, full=full and total == 0, wait=True)).sealed:
            checkpoint = run.checkpoint
            self.stdout.write(
                f"Sealed {run.sealed} events as seq {checkpoint.seq - run.sealed + 1}.."
                f"{checkpoint.seq}; head {checkpoint.head_hash}; checkpoint signed by key "
                f"{checkpoint.key_id}, appended to {settings.AUDIT_CHECKPOINT_LOG}.")
            total += run.sealed
        if total == 0:
            latest = latest_checkpoint()
            where = f"the chain ends at seq {latest.seq}" if latest else "nothing is sealed yet"
            self.stdout.write(f"Nothing to seal; {where}.")
