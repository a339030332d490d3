"""Verifies the sealed log from its rows; exits non-zero naming the first seq that does not
match (see audit.verify and docs/verifying-the-log.md)."""

import time

from django.core.management.base import BaseCommand, CommandError

from audit import signing
from audit.verify import CheckpointFileError, read_checkpoint_file, verify_log, verify_summary

LISTED = 20


class Command(BaseCommand):
    help = ("Recompute every leaf and the hash chain from the event rows, check every "
            "checkpoint's head and signature, and name the first sequence number that does not "
            "match. With --checkpoint, also check that the chain still reaches checkpoints "
            "kept outside the database.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                            help="A checkpoint JSON file or a JSON Lines checkpoint log kept "
                                 "outside the database (repeatable).")
        parser.add_argument("--public-key", action="append", default=[], metavar="BASE64",
                            help="A further Ed25519 public key (base64 of the raw 32 bytes) "
                                 "whose signatures count, e.g. a retired key (repeatable).")

    def handle(self, *args, checkpoint: list[str], public_key: list[str], **options):
        keys = {}
        for encoded in public_key:
            try:
                raw = signing.decode_public_key(encoded)
            except ValueError as error:
                raise CommandError(f"--public-key: {error}") from None
            keys[signing.key_id(raw)] = raw
        kept = []
        for path in checkpoint:
            try:
                read = read_checkpoint_file(path)
            except (OSError, CheckpointFileError) as error:
                raise CommandError(f"--checkpoint {path}: {error}") from None
            kept.extend(read.checkpoints)
            if read.unreadable_lines:
                lines = ", ".join(map(str, read.unreadable_lines))
                self.stdout.write(f"Note: {path}: left out lines that are not JSON (writes cut "
                                  f"short by a crash): {lines}.")

        started = time.perf_counter()
        report = verify_log(kept=kept, public_keys=keys)
        elapsed = time.perf_counter() - started

        if report.late_sealed:
            self.stdout.write(
                f"Note: sealed out of id order, more than a margin after events with higher "
                f"ids: {report.late_sealed} (first at seq {report.first_late_seq}). "
                "Transactions that stayed open longer than the margin, or events inserted "
                "with old ids before the sealer reached them.")
        if report.ok:
            rate = f" ({report.sealed / elapsed:,.0f} events/s)" if report.sealed else ""
            self.stdout.write(f"OK: {verify_summary(report)} Checked in {elapsed:.1f} s{rate}.")
            return
        first = report.first
        self.stdout.write(f"MISMATCH at seq {first.seq} ({first.kind}): {first.message}")
        self.stdout.write(f"Problems: {report.problem_count} in all; by seq (at most {LISTED}):")
        for problem in sorted(report.problems, key=lambda problem: problem.seq)[:LISTED]:
            self.stdout.write(f"  {problem} [{problem.kind}]")
        self.stdout.write(f"Checked: {verify_summary(report)}")
        raise CommandError(f"the audit log does not verify: first mismatch at seq {first.seq} "
                           f"({first.kind})")
