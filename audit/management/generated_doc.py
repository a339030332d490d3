"""A command that writes one document generated from code, or with ``--check`` only says
whether the committed copy is current (``make lint`` runs the checks)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class GeneratedDocCommand(BaseCommand):
    document: str  # its path under the project, e.g. "docs/datasets.md"

    def render(self) -> str:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Exit non-zero if the file is out of date; write nothing.")

    def handle(self, *args, check: bool = False, **options):
        path = Path(settings.BASE_DIR) / self.document
        text = self.render()
        if check:
            if not path.exists() or path.read_text() != text:
                command = self.__module__.rsplit(".", 1)[-1]
                raise CommandError(f"{path} is stale: run `python manage.py {command}`.")
            self.stdout.write(f"{self.document} is current.")
            return
        path.write_text(text)
        self.stdout.write(f"Wrote {path}.")

