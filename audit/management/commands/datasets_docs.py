"""Writes docs/datasets.md from the research dataset registry (``--check`` only compares)."""

from audit.management.generated_doc import GeneratedDocCommand
from audit.research.dictionary import render


class Command(GeneratedDocCommand):
    help = "Generate docs/datasets.md, the data dictionary of the research datasets."
    document = "docs/datasets.md"

    def render(self) -> str:
        return render()
