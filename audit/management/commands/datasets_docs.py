"""Writes docs/datasets.md from the research dataset registry (``--check`` only compares)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.research.dictionary import render


class Command(BaseCommand):
    help = "Generate docs/datasets.md, the data dictionary of the research datasets."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Exit non-zero if the file is out of date; write nothing.")

    def handle(self, *args, check: bool = False, **options):
        path = Path(settings.BASE_DIR) / "docs" / "datasets.md"
        text = render()
        if check:
            if not path.exists() or path.read_text() != text:
                raise CommandError(f"{path} is stale: run `python manage.py datasets_docs`.")
            self.stdout.write("docs/datasets.md is current.")
            return
        path.write_text(text)
        self.stdout.write(f"Wrote {path}.")
