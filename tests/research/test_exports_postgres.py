"""The PostgreSQL path of the exports: rows leave the database through COPY, every format
keeps tricky text intact, and the Python fallback (SQLite) writes what COPY writes."""

import json

import pytest
from django.db import connection

from audit.research import formats
from tests.research.conftest import TRICKY_MESSAGE, TRICKY_NOTE, TRICKY_REASON
from tests.research.reading import body, export_url, fetch

FORMATS = ["csv", "jsonl", "parquet"]
TRICKY = [TRICKY_NOTE, TRICKY_MESSAGE, TRICKY_REASON, "", "\\.", "a,b", 'say "hi"',
          "\\N", "tab\there", "\x01\x02 control", "back\\slash\\\\double", "ünïcødé ✓ 🙏"]


@pytest.fixture
def free_text(history):
    history.study.grant_free_text = True
    history.study.save()


@pytest.mark.parametrize("format", FORMATS)
def test_rows_leave_the_database_through_copy(format, postgres, history, researcher_client):
    # given: every statement sent through Django's cursors during the export
    statements = []

    def watch(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(watch):
        data = body(researcher_client.get(export_url("events", format)))

    # then: only the export's own audit event and the pseudonym table's statements; the rows
    # themselves were copied
    assert data
    reads = [sql for sql in statements
             if "audit_event" in sql and not sql.startswith('INSERT INTO "audit_event"')]
    assert reads == []
    assert sum(sql.startswith('INSERT INTO "audit_event"') for sql in statements) == 1
    assert any(sql.startswith("CREATE TEMPORARY TABLE research_pseudonym") for sql in statements)


@pytest.mark.parametrize("format", FORMATS)
def test_tricky_text_survives_every_format(format, postgres, history, free_text,
                                           researcher_client):
    # when
    decisions = fetch(researcher_client, "decisions", format).rows
    submissions = fetch(researcher_client, "submissions", format).rows
    events = fetch(researcher_client, "events", format).rows

    # then
    assert decisions[0]["note_to_tester"] == TRICKY_NOTE
    assert submissions[0]["appeal_message"] == TRICKY_MESSAGE
    suspended = next(row for row in events if row["action"] == "program.suspended")
    assert suspended["data"]["reason"] == TRICKY_REASON


def test_json_lines_escape_text_once(postgres, history, free_text, researcher_client):
    # when
    text = body(researcher_client.get(export_url("decisions", "jsonl"))).decode()

    # then: JSON's own escapes, not COPY's on top of them (a backslash is \\ , not \\\\)
    assert f'"note_to_tester":{json.dumps(TRICKY_NOTE, ensure_ascii=False)}' in text
    assert all(json.loads(line) for line in text.splitlines())
    assert len(text.splitlines()) == 4


def test_csv_quotes_only_what_needs_quoting(postgres, history, free_text, researcher_client):
    # when
    text = body(researcher_client.get(export_url("decisions", "csv"))).decode()

    # then
    quoted = '"' + TRICKY_NOTE.replace('"', '""') + '"'
    assert f',{quoted},"internal, ""quoted"""\n' in text


def test_the_python_writer_matches_copy_byte_for_byte(postgres):
    # given: the values SQLite exports are written by Python
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s::text"] * (len(TRICKY) + 1))
        sql = f"COPY (SELECT {placeholders}) TO STDOUT WITH (FORMAT csv)"
        with cursor.cursor.copy(sql, [*TRICKY, None]) as copy:
            copied = b"".join(bytes(row) for row in copy)
        with cursor.cursor.copy("COPY (SELECT '\\.'::text) TO STDOUT WITH (FORMAT csv)") as copy:
            alone = b"".join(bytes(row) for row in copy)

    # then
    assert formats.csv_line([*TRICKY, None]) == copied
    assert formats.csv_line(["\\."]) == alone


def test_the_python_json_matches_row_to_json(postgres):
    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(q)::text FROM (SELECT %s::text AS t, %s::float8 AS f, "
                       "%s::bigint AS i, %s::boolean AS b) q",
                       ["".join(TRICKY), 12.5, 7, True])
        (from_postgres,) = cursor.fetchone()

    # then
    from_python = json.dumps({"t": "".join(TRICKY), "f": 12.5, "i": 7, "b": True},
                             ensure_ascii=False, separators=(",", ":"))
    assert from_postgres == from_python


def test_jit_is_off_for_the_export(postgres, history, researcher_client):
    # given: the settings in force while the rows are copied
    seen = []

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql == "SET LOCAL jit = off":
            with connection.cursor() as cursor:
                cursor.execute("SHOW jit")
                seen.append(cursor.fetchone()[0])
        return result

    # when
    with connection.execute_wrapper(watch):
        body(researcher_client.get(export_url("events", "csv")))

    # then
    assert seen == ["off"]
