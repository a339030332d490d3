"""Writes docs/audit-events.md from the action registry (``--check`` only compares)."""

from audit.docs import render
from audit.management.generated_doc import GeneratedDocCommand


class Command(GeneratedDocCommand):
    help = "Generate docs/audit-events.md, the data dictionary of audit actions."
    document = "docs/audit-events.md"

    def render(self) -> str:
        return render()
