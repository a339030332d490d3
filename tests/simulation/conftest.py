"""Running small simulations in tests, and reading what they wrote."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

# A small program that still shows every part of the story in two days: decisions, an
# appeal, the leak, its token anomaly, the suspension and the resumption.
SMALL = {"seed": 8, "testers": 12, "moderators": 2, "days": 2, "activity": 6.0,
         "media": "tiny"}

# What a rerun cannot reproduce: the wall time the pipeline measured (``render_s``,
# ``processing_s`` in the event data); the bytes the video encoder wrote for a rendered clip
# (``sha256``, ``size_bytes``: libx264 in a long-running process now and then encodes the same
# pictures into different bytes); and the hash chain, which hashes both.
MEASURED_DATA_FIELDS = ("render_s", "processing_s")
ENCODED_DATA_FIELDS = {"submission.generated": ("sha256", "size_bytes"),
                       "submission.created": ("sha256", "size_bytes")}
CHAIN_COLUMNS = ("leaf_hash", "hash")


@pytest.fixture
def simulate(tmp_path):
    """``simulate(folder_name, **options)``: run ``manage.py simulate`` with SMALL (plus
    ``options``) and an ``--out`` folder; returns (folder, stdout, stderr)."""

    def run(name: str = "out", **options):
        folder = tmp_path / name
        stdout, stderr = io.StringIO(), io.StringIO()
        call_command("simulate", **{**SMALL, **options}, out=folder, stdout=stdout,
                     stderr=stderr)
        return folder, stdout.getvalue(), stderr.getvalue()

    return run


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def comparable(path: Path) -> list[dict[str, str]]:
    """A dataset's rows with what a rerun cannot reproduce left out (see above)."""
    rows = read_csv(path)
    for row in rows:
        for column in CHAIN_COLUMNS:
            row.pop(column, None)
        if row.get("data"):
            data = json.loads(row["data"])
            for field in (*MEASURED_DATA_FIELDS, *ENCODED_DATA_FIELDS.get(row["action"], ())):
                data.pop(field, None)
            row["data"] = json.dumps(data, sort_keys=True)
    return rows
