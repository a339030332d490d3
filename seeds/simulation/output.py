"""Write a finished run to a folder: every research dataset in CSV and Parquet, as the run's
study reads them (pseudonyms, no identities or free text), and the summary.

The datasets go through the same export code as ``GET research/export/{dataset}.{format}``,
so a file here is byte for byte what a researcher of the study would download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUTPUT_FORMATS = ("csv", "parquet")


def output_check(folder: Path) -> None:
    """Refuse a folder that holds files already (a rerun must not mix with an older run)."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file; give a folder.")
    if folder.is_dir() and any(folder.iterdir()):
        raise ValueError(f"--out {folder} is not empty; give a new or empty folder.")


def datasets_write(folder: Path, study_slug: str) -> list[Path]:
    from audit.models import Study
    from audit.research.access import ResearchScope, people
    from audit.research.datasets import Filters, all_datasets
    from audit.research.exports import export_prepare, export_stream

    folder.mkdir(parents=True, exist_ok=True)
    scope = ResearchScope(Study.objects.get(slug=study_slug))
    everyone = people(scope)
    written = []
    for dataset in all_datasets():
        export = export_prepare(dataset, scope, Filters(), everyone)
        for format in OUTPUT_FORMATS:
            path = folder / f"{dataset.name}.{format}"
            with path.open("wb") as file:
                for block in export_stream(export, format):
                    file.write(block)
            written.append(path)
    return written


def summary_write(folder: Path, summary: dict[str, Any], text: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, text_path = folder / "summary.json", folder / "summary.txt"
    json_path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    text_path.write_text(text)
    return [json_path, text_path]
