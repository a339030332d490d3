"""Writes docs/audit-events.md from the action registry (``--check`` only compares)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.docs import render


class Command(BaseCommand):
    help = "Generate docs/audit-events.md, the data dictionary of audit actions."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Exit non-zero if the file is out of date; write nothing.")

    def handle(self, *args, check: bool = False, **options):
        path = Path(settings.BASE_DIR) / "docs" / "audit-events.md"
        text = render()
        if check:
            if not path.exists() or path.read_text() != text:
                raise CommandError(f"{path} is stale: run `python manage.py audit_docs`.")
            self.stdout.write("docs/audit-events.md is current.")
            return
        path.write_text(text)
        self.stdout.write(f"Wrote {path}.")
