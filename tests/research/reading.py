"""Reading exports back into typed rows, independently of the code that wrote them."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def parse_csv(data: bytes) -> tuple[list[str], list[list[str | None]]]:
    """CSV as PostgreSQL writes it, telling NULL (nothing) from an empty string ("")."""
    text = data.decode()
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    value, quoted, in_quotes, i = [], False, False, 0
    while i < len(text):
        char = text[i]
        if in_quotes:
            if char == '"' and text[i + 1:i + 2] == '"':
                value.append('"')
                i += 1
            elif char == '"':
                in_quotes = False
            else:
                value.append(char)
        elif char == '"':
            in_quotes = quoted = True
        elif char in ",\n":
            row.append("".join(value) if value or quoted else None)
            value, quoted = [], False
            if char == "\n":
                rows.append(row)
                row = []
        else:
            value.append(char)
        i += 1
    assert not row, "the CSV does not end with a line break"
    assert not value, "the CSV does not end with a line break"
    return list(rows[0]), rows[1:]


def typed(column_type: str, value):
    """One value, from any format, as a comparable Python value."""
    if value is None:
        return None
    if column_type == "timestamp":
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        assert len(value) == len("2025-03-04T09:00:00.000000Z"), value
        assert value.endswith("Z"), value
        return datetime.fromisoformat(value).astimezone(UTC)
    if column_type == "json":
        return json.loads(value) if isinstance(value, str) else value
    if column_type == "boolean":
        return {"true": True, "false": False}[value] if isinstance(value, str) else value
    if column_type == "integer":
        return int(value)
    if column_type == "float":
        return float(value)
    return value


@dataclass
class Read:
    """An export read back: its column names and its rows as typed dicts."""

    names: list[str]
    rows: list[dict] = field(default_factory=list)


def read_export(data: bytes, format: str, dataset: str, columns: list) -> Read:
    """Parse ``data`` (an export of ``dataset`` in ``format``) into typed rows."""
    types = {column.name: column.type for column in columns}
    if format == "csv":
        names, rows = parse_csv(data)
        return Read(names, [{name: typed(types[name], value)
                             for name, value in zip(names, row, strict=True)} for row in rows])
    if format == "jsonl":
        lines = data.decode().split("\n")
        assert lines[-1] == ""
        objects = [json.loads(line) for line in lines[:-1]]
        names = list(objects[0]) if objects else [column.name for column in columns]
        assert all(list(obj) == names for obj in objects)
        return Read(names, [{name: typed(types[name], obj[name]) for name in names}
                            for obj in objects])
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    return Read(table.column_names, [{name: typed(types[name], value)
                                      for name, value in row.items()}
                                     for row in table.to_pylist()])


def export_url(dataset: str, format: str) -> str:
    return f"/api/v1/research/export/{dataset}.{format}"


def fetch(client, dataset: str, format: str, **params) -> Read:
    """Export ``dataset`` in ``format`` through the API and read it back."""
    from audit.research.datasets import get_dataset

    response = client.get(export_url(dataset, format), params)
    assert response.status_code == 200, response.content
    return read_export(body(response), format, dataset, list(get_dataset(dataset).columns))


def events_api(client, **params) -> list[dict]:
    """Every page of ``research/events/``, followed by its ``next`` links, as typed rows."""
    from audit.research.datasets import get_dataset

    types = {column.name: column.type for column in get_dataset("events").columns}
    rows, url = [], "/api/v1/research/events/"
    while url:
        response = client.get(url, params) if not rows else client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        rows += [{name: typed(types[name], value) for name, value in row.items()}
                 for row in page["results"]]
        url = page["next"]
    return rows


def pseudonyms(study) -> dict[int, str]:
    """``{user id: pseudonym}`` in ``study``."""
    from audit.research.access import ResearchScope, people

    return {person.user_id: person.pseudonym for person in people(ResearchScope(study))}
