"""How export values are written: the text PostgreSQL's COPY writes, made in Python for
SQLite, and the Parquet schema and reader options for every database.

Every format carries the same values (docs/datasets.md, "Types"): timestamps as ISO 8601 in
UTC with microseconds, booleans as ``true``/``false``, JSON as its text (CSV, Parquet) or its
value (JSON Lines).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from audit.research.datasets import BOOLEAN, FLOAT, INTEGER, JSON, TIMESTAMP, Column


def timestamp_text(value: datetime | str) -> str:
    """``2025-03-04T09:00:00.000000Z``: SQLite hands over naive UTC, as text or datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def float_text(value: float) -> str:
    """The shortest text that reads back as the same float, as PostgreSQL prints float8."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def csv_text(column: Column, value: Any) -> str | None:
    """A value as the CSV text PostgreSQL's COPY would write (None for NULL)."""
    if value is None:
        return None
    if column.type == TIMESTAMP:
        return timestamp_text(value)
    if column.type == BOOLEAN:
        return "true" if value else "false"
    if column.type == FLOAT:
        return float_text(value)
    if column.type == INTEGER:
        return str(int(value))
    return str(value)


def json_value(column: Column, value: Any) -> Any:
    """A value as JSON Lines and the events API carry it."""
    if value is None:
        return None
    if column.type == TIMESTAMP:
        return timestamp_text(value)
    if column.type == BOOLEAN:
        return bool(value)
    if column.type == FLOAT:
        number = float(value)
        return int(number) if number.is_integer() and math.isfinite(number) else number
    if column.type == INTEGER:
        return int(value)
    if column.type == JSON:
        return json.loads(value) if isinstance(value, str | bytes) else value
    return str(value)


def _csv_field(text: str | None, single: bool) -> str:
    # PostgreSQL's CSV rules: NULL is nothing, an empty string is "", and a value is quoted
    # when it holds the delimiter, a quote or a line break (or is \. alone on its line).
    if text is None:
        return ""
    if (text == "" or "," in text or '"' in text or "\n" in text or "\r" in text
            or (single and text == "\\.")):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(values: Iterable[str | None]) -> bytes:
    """One CSV line as PostgreSQL's ``COPY ... (FORMAT csv)`` writes it."""
    values = list(values)
    single = len(values) == 1
    return (",".join(_csv_field(value, single) for value in values) + "\n").encode()


def arrow_schema(columns: list[Column]) -> Any:
    """The Parquet schema of these columns (JSON is kept as its text)."""
    import pyarrow as pa

    types = {INTEGER: pa.int64(), FLOAT: pa.float64(), BOOLEAN: pa.bool_(),
             TIMESTAMP: pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(column.name, types.get(column.type, pa.string()))
                      for column in columns])


class Sink:
    """Where the Parquet writer writes: bytes wait here until the stream hands them on."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        self.pieces.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data, self.pieces = b"".join(self.pieces), []
        return data


def arrow_csv_options(columns: list[Column]) -> dict[str, Any]:
    """How pyarrow reads the export's CSV (no header) back into typed columns."""
    import pyarrow.csv as pa_csv

    return {
        # One thread: the database formats rows on one core while this parses on the other.
        "read_options": pa_csv.ReadOptions(column_names=[column.name for column in columns],
                                           use_threads=False),
        # Quoted values may hold line breaks (notes).
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        # An unquoted empty field is NULL; "" is an empty string.
        "convert_options": pa_csv.ConvertOptions(
            column_types=arrow_schema(columns), null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=False, true_values=["true"], false_values=["false"]),
    }


# Dictionary encoding pays off only for a few repeated values; on ids, hashes and JSON it
# costs four times the parsing and makes the file larger (zstd finds the repeats anyway).
PARQUET_WRITER_OPTIONS = {"compression": "zstd", "use_dictionary": False}
