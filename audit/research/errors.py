"""The research API's own refusals (access refusals live in ``audit.research.access``)."""

from core.errors import NotFound


class UnknownDataset(NotFound):
    code = "research.unknown_dataset"
    default_message = "No such dataset; see docs/datasets.md for the datasets there are."


class UnknownFormat(NotFound):
    code = "research.unknown_format"
    default_message = "No such export format: use csv, jsonl or parquet."
