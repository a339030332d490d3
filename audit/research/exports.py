"""Streaming exports of research datasets (CSV, JSON Lines, Parquet) and keyset pages of them.

On PostgreSQL every format is built on ``COPY (SELECT ...) TO STDOUT``: the database formats
the rows and the web process only forwards bytes (CSV), lines (JSON Lines: ``row_to_json``
copied in a CSV dialect whose quote and delimiter never occur in JSON text, so nothing is
escaped twice) or parses bounded blocks of CSV into Parquet row groups with pyarrow. On
SQLite a plain cursor is read in batches and the same text is made in Python. Either way
memory stays flat: nothing holds more than one block of rows.

The study's pseudonyms are computed here (the key never reaches the database) and loaded into
a temporary table on the same connection, so the query can join them and COPY stays in the
database. Every format carries the same columns and values (docs/datasets.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from audit.research import formats
from audit.research.access import Person, ResearchScope
from audit.research.datasets import (
    BOOLEAN,
    JSON,
    TIMESTAMP,
    Column,
    Dataset,
    Filters,
    Query,
    QueryContext,
)

FORMATS = ("csv", "jsonl", "parquet")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
# Bytes handed to the server per write: large enough that a million rows are a few thousand
# writes, small enough to keep memory flat.
CHUNK_BYTES = 256 * 1024
# CSV bytes parsed into one Parquet row group (a few thousand rows). A block costs about ten
# times its size in memory while it is parsed, encoded and compressed; with pyarrow's own code
# (some 60 MB, paged in on first use) that keeps a web worker under 200 MB.
PARQUET_BLOCK_BYTES = 1024 * 1024
SQLITE_BATCH = 2000

PSEUDONYMS = "research_pseudonym"
# ISO 8601 in UTC with microseconds, the same text in every format and on every database.
_PG_TIMESTAMP = "to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# JSON text never holds a raw control character, so with these as quote and delimiter a
# CSV-format COPY writes each JSON value exactly as it is (text format would double every
# backslash).
_PG_JSONL_OPTIONS = "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'"


@dataclass(frozen=True)
class Export:
    """One dataset as one scope may read it, with the request's filters applied."""

    dataset: Dataset
    columns: list[Column]
    query: Query
    people: list[Person]
    vendor: str
    after: Any = None
    before: Any = None

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


def export_prepare(dataset: Dataset, scope: ResearchScope, filters: Filters,
                   people: list[Person], *, after: Any = None, before: Any = None) -> Export:
    """Build ``dataset``'s query for ``scope`` (whose pseudonyms are ``people``); ``after``
    and ``before`` bound the key of a page (``export_page``)."""
    ctx = QueryContext(vendor=connection.vendor, scope=scope, filters=filters,
                       pseudonyms=PSEUDONYMS, after=after, before=before)
    query = dataset.build(ctx)
    columns = dataset.columns_for(scope)
    missing = [column.name for column in columns if column.name not in query.select]
    if missing:
        raise ImproperlyConfigured(f"dataset {dataset.name!r} has no SQL for {missing}")
    return Export(dataset=dataset, columns=columns, query=query, people=people,
                  vendor=connection.vendor, after=after, before=before)


# -- SQL ------------------------------------------------------------------------------------

def _sql(export: Export, expressions: list[str], *, where: Iterable[str] = (),
         params: Iterable[Any] = (), order_by: str | None = None,
         limit: int | None = None) -> tuple[str, list[Any]]:
    quote = connection.ops.quote_name
    query = export.query
    select = ", ".join(f"{expression} AS {quote(name)}"
                       for name, expression in zip(export.names, expressions, strict=True))
    conditions = [*query.where, *where]
    sql = f"SELECT {select} FROM {query.from_}"  # noqa: S608  (registered SQL, bound values)
    if conditions:
        sql += " WHERE " + " AND ".join(f"({condition})" for condition in conditions)
    sql += f" ORDER BY {order_by or query.order_by}"
    values = [*query.params, *params]
    if limit is not None:
        sql += " LIMIT %s"
        values.append(limit)
    return sql, values


def _expressions(export: Export, style: str) -> list[str]:
    """Each column's SQL: ``raw`` as the dataset wrote it; ``csv`` as text (PostgreSQL);
    ``json`` typed for ``row_to_json`` (PostgreSQL)."""
    expressions = []
    for column in export.columns:
        expression = export.query.select[column.name]
        if style != "raw" and column.type == TIMESTAMP:
            expression = _PG_TIMESTAMP.format(expression)
        elif style == "csv" and column.type in (BOOLEAN, JSON):
            expression = f"({expression})::text"
        expressions.append(expression)
    return expressions


@contextmanager
def _pseudonyms_loaded(export: Export) -> Iterator[Any]:
    """A cursor on a connection holding the study's pseudonyms as a temporary table.

    On PostgreSQL the table lives in a transaction (``ON COMMIT DROP``; rolled back if the
    client goes away mid-export). SQLite would take the database's write lock for a
    transaction, so there the table is created outside one and dropped at the end.
    """
    postgres = export.vendor == "postgresql"
    with ExitStack() as stack:
        if postgres:
            stack.enter_context(transaction.atomic())
        cursor = stack.enter_context(connection.cursor())
        cursor.execute(f"DROP TABLE IF EXISTS {PSEUDONYMS}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {PSEUDONYMS} (user_id bigint PRIMARY KEY, "
            "user_ref text NOT NULL UNIQUE, pseudonym text NOT NULL, username text)"
            + (" ON COMMIT DROP" if postgres else ""))
        rows = [(p.user_id, str(p.user_id), p.pseudonym, p.username) for p in export.people]
        if postgres:
            with cursor.cursor.copy(f"COPY {PSEUDONYMS} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {PSEUDONYMS}")
            # The redaction subqueries make the planner's estimates large enough to switch on
            # JIT compilation, which costs more (hundreds of ms per export) than it saves.
            cursor.execute("SET LOCAL jit = off")
        else:
            cursor.executemany(f"INSERT INTO {PSEUDONYMS} VALUES (%s, %s, %s, %s)",  # noqa: S608
                               rows)
        try:
            yield cursor
        finally:
            if not postgres:
                cursor.execute(f"DROP TABLE IF EXISTS {PSEUDONYMS}")
        if postgres:
            cursor.execute(f"DROP TABLE {PSEUDONYMS}")  # at once, even inside a savepoint


def _sqlite_rows(export: Export, cursor: Any) -> Iterator[tuple]:
    sql, params = _sql(export, _expressions(export, "raw"))
    cursor.execute(sql, params)
    while batch := cursor.fetchmany(SQLITE_BATCH):
        yield from batch


# -- streams --------------------------------------------------------------------------------

def _blocks(pieces: Iterable[bytes | memoryview], size: int) -> Iterator[bytearray]:
    """Gather many small pieces (COPY hands over one row at a time) into blocks of ``size``
    bytes, copying each piece once so the database driver's row buffers are freed at once."""
    block = bytearray()
    for piece in pieces:
        block += piece
        if len(block) >= size:
            yield block
            block = bytearray()
    if block:
        yield block


def _copy_rows(cursor: Any, sql: str, params: list[Any]) -> Iterator[memoryview]:
    with cursor.cursor.copy(sql, params) as copy:
        yield from copy


def _csv_rows(export: Export, cursor: Any, *, header: bool) -> Iterator[bytes | memoryview]:
    """The dataset as CSV, one row per piece (the header first when asked)."""
    if export.vendor == "postgresql":
        sql, params = _sql(export, _expressions(export, "csv"))
        options = "FORMAT csv, HEADER" if header else "FORMAT csv"
        yield from _copy_rows(cursor, f"COPY ({sql}) TO STDOUT WITH ({options})", params)
        return
    if header:
        yield formats.csv_line(export.names)
    columns = export.columns
    for row in _sqlite_rows(export, cursor):
        yield formats.csv_line(formats.csv_text(column, value)
                               for column, value in zip(columns, row, strict=True))


def _jsonl_rows(export: Export, cursor: Any) -> Iterator[bytes | memoryview]:
    if export.vendor == "postgresql":
        sql, params = _sql(export, _expressions(export, "json"))
        yield from _copy_rows(
            cursor, f"COPY (SELECT row_to_json(q)::text FROM ({sql}) q) TO STDOUT "  # noqa: S608
                    f"WITH ({_PG_JSONL_OPTIONS})", params)
        return
    for row in _sqlite_rows(export, cursor):
        yield (json.dumps(_json_row(export, row), ensure_ascii=False, separators=(",", ":"))
               + "\n").encode()


def _json_row(export: Export, row: tuple) -> dict[str, Any]:
    return {column.name: formats.json_value(column, value)
            for column, value in zip(export.columns, row, strict=True)}


def _parquet(export: Export, rows: Iterable[bytes | memoryview]) -> Iterator[bytes]:
    """CSV rows (no header) into Parquet, one row group per block of CSV."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    options = formats.arrow_csv_options(export.columns)
    sink = formats.Sink()
    with pq.ParquetWriter(sink, formats.arrow_schema(export.columns),
                          **formats.PARQUET_WRITER_OPTIONS) as writer:
        for block in _blocks(rows, PARQUET_BLOCK_BYTES):
            writer.write_table(pa_csv.read_csv(pa.py_buffer(block), **options))
            yield sink.drain()
    yield sink.drain()  # the footer


def export_stream(export: Export, format: str) -> Iterator[bytes]:
    """The export in ``format`` as a stream of byte blocks, for a streaming response.

    Nothing is read before the first block is asked for; a client that goes away mid-stream
    leaves nothing behind (the COPY is cancelled and the temporary table dropped).
    """
    with _pseudonyms_loaded(export) as cursor:
        if format == "csv":
            yield from map(bytes, _blocks(_csv_rows(export, cursor, header=True), CHUNK_BYTES))
        elif format == "jsonl":
            yield from map(bytes, _blocks(_jsonl_rows(export, cursor), CHUNK_BYTES))
        elif format == "parquet":
            yield from _parquet(export, _csv_rows(export, cursor, header=False))
        else:
            raise ValueError(f"unknown export format {format!r}")


# -- pages ----------------------------------------------------------------------------------

def export_page(export: Export, *, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` rows after (or before) the key bounds the export was prepared with, in
    key order, with the same values as the exports; and whether more rows lie beyond them in
    that direction."""
    key = export.dataset.key
    if key is None:
        raise ValueError(f"dataset {export.dataset.name!r} has no key to page by")
    key_sql = export.query.select[key]
    where, params, descending = [], [], export.before is not None
    if export.after is not None:
        where.append(f"{key_sql} > %s")
        params.append(export.after)
    if export.before is not None:
        where.append(f"{key_sql} < %s")
        params.append(export.before)
    order_by = f"{key_sql} DESC" if descending else key_sql
    with _pseudonyms_loaded(export) as cursor:
        if export.vendor == "postgresql":
            sql, values = _sql(export, _expressions(export, "json"), where=where, params=params,
                               order_by=order_by, limit=limit + 1)
            cursor.execute(f"SELECT row_to_json(q)::text FROM ({sql}) q", values)  # noqa: S608
            rows = [json.loads(text) for (text,) in cursor.fetchall()]
        else:
            sql, values = _sql(export, _expressions(export, "raw"), where=where, params=params,
                               order_by=order_by, limit=limit + 1)
            cursor.execute(sql, values)
            rows = [_json_row(export, row) for row in cursor.fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    if descending:
        rows.reverse()
    return rows, more

