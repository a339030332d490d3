"""The review queue's hot statements: claim-next and decide, written once per database.

Every item a moderator reviews runs these. Through the ORM, each statement is compiled again
on every call and each row saved field by field, which costs several times the database's
own work; here each is one parameterised statement built once from the models' table and
column names (values always go in as parameters). On PostgreSQL they are also prepared once
per connection, so the server parses and plans them once instead of on every item.

Services call these inside their own transaction; the rules (who may decide, the fencing
token, the state machine) stay in the services and in the conditions these statements carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from accounts.models import Program
from audit.services import PreparedEvent
from audit.services import insert_select_sql as audit_insert_select_sql
from audit.services import write as audit_write
from core.sql import db_of_default, run
from review.models import Appeal, Claim, ClaimEnd, Decision, TaxonomyVersion
from submissions.models import Submission
from submissions.transitions import TRANSITIONS

_db, _run = db_of_default, run


def fetchone(sql: str, params: Sequence[Any],
             fields: Sequence[models.Field | None]) -> list | None:
    """Run one query; answers its first row as Python values. ``fields`` name each column's
    model field, for the conversions a database needs (SQLite's text UUIDs and times); None
    takes a column as the driver gives it."""
    db = _db()
    values = _run(db, sql, params, row=True)
    if values is None:
        return None
    return [value if value is None or field is None or not _converts(db.vendor, field)
            else _to_python(db, value, field)
            for value, field in zip(values, fields, strict=True)]


@cache
def _converts(vendor: str, field: models.Field) -> bool:
    expression = _column_of(field)
    db = _db()
    return bool(db.ops.get_db_converters(expression) or expression.get_db_converters(db))


def _column_of(field: models.Field):
    # A foreign key's column converts as the key it points to (a UUID, say).
    return field.get_col(field.model._meta.db_table)


def _to_python(db: BaseDatabaseWrapper, value: Any, field: models.Field) -> Any:
    expression = _column_of(field)
    for converter in [*db.ops.get_db_converters(expression),
                      *expression.get_db_converters(db)]:
        value = converter(value, expression, db)
    return value


def _q(name: str) -> str:
    return _db().ops.quote_name(name)


def _column(model: type[models.Model], name: str) -> str:
    return _q(model._meta.get_field(name).column)


def _row(db: BaseDatabaseWrapper, instance: models.Model) -> list[Any]:
    """The values of every concrete column of ``instance``, ready for the database."""
    return [field.get_db_prep_save(getattr(instance, field.attname), db)
            for field in instance._meta.concrete_fields]


@cache
def _insert_sql(vendor: str, model: type[models.Model], suffix: str = "") -> str:
    fields = model._meta.concrete_fields
    columns = ", ".join(_q(field.column) for field in fields)
    # Built only from the model's own table and column names; values go in as parameters.
    return (f"INSERT INTO {_q(model._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}){suffix}")


def _date(db: BaseDatabaseWrapper, moment: datetime) -> Any:
    return db.ops.adapt_datetimefield_value(moment)


def _id(db: BaseDatabaseWrapper, model: type[models.Model], value: Any) -> Any:
    return model._meta.pk.get_db_prep_value(value, db)


# -- claims -------------------------------------------------------------------------------
def claim_insert(claim: Claim) -> bool:
    """Insert ``claim`` unless its clip already has an open claim (live, or run out and not
    yet closed): then nothing is written and the answer is False. The partial unique index
    "one open claim per clip" decides, so two claims can never both be open."""
    db = _db()
    return _run(db, _claim_insert_sql(db.vendor), _row(db, claim)) == 1


@cache
def _claim_insert_sql(vendor: str) -> str:
    return _insert_sql(vendor, Claim, _on_open_claim())


def _on_open_claim() -> str:
    return (f" ON CONFLICT ({_column(Claim, 'submission')}) "
            f"WHERE {_column(Claim, 'ended_at')} IS NULL DO NOTHING")


class OpenedClaim(NamedTuple):
    submission_id: UUID
    track: str
    expires_at: datetime
    review_entered_at: datetime | None  # when the clip entered the queue


def picks_and_claims_at_once() -> bool:
    """Whether claim-next can take a clip and open its claim in one statement (PostgreSQL:
    the locking read in the WITH of the claim's INSERT)."""
    return _db().vendor == "postgresql"


def claim_insert_next(claim: Claim, pick: tuple[str, Sequence[Any]],
                      tracks: tuple[str, str]) -> OpenedClaim | None:
    """Open ``claim`` (its id, moderator and time set) on the clip ``pick`` finds: the
    next-clip query and its parameters, whose columns are ``QueuedClip``'s. The
    claim takes the first of ``tracks`` if the clip waits on an appeal, else the second,
    and the lease length the query read. None, with nothing written, if the query found no
    clip or one that an open claim already holds. PostgreSQL only."""
    db = _db()
    sql, params = pick
    params = list(params)
    for field, value in zip(Claim._meta.concrete_fields, _row(db, claim), strict=True):
        if field.attname == "track":
            params.extend(tracks)
        elif field.attname == "expires_at":
            params.append(_date(db, claim.claimed_at))
        elif field.attname != "submission_id":
            params.append(value)
    row = _run(db, _claim_insert_next_sql(db.vendor, sql), params, row=True)
    return None if row is None else OpenedClaim(*row)


@cache
def _claim_insert_next_sql(vendor: str, pick: str) -> str:
    from review.selectors import QueuedClip  # the selectors build on this module

    db, columns, values = _db(), [], []
    picked = {name: f"picked.{_q(name)}" for name in QueuedClip._fields}
    for field in Claim._meta.concrete_fields:
        columns.append(_q(field.column))
        # Typed, as the SELECT of an INSERT does not take its columns' types.
        value = f"CAST(%s AS {field.cast_db_type(db)})"
        if field.attname == "submission_id":
            value = picked["pk"]
        elif field.attname == "track":
            value = f"CASE WHEN {picked['appeal_open']} THEN {value} ELSE {value} END"
        elif field.attname == "expires_at":
            value = f"{value} + {picked['lease_seconds']} * INTERVAL '1 second'"
        values.append(value)
    returned = ", ".join(_column(Claim, name) for name in ("submission", "track", "expires_at"))
    # Built from the models' own names and the selector's compiled query; values go in as
    # parameters.
    return (f"WITH picked AS ({pick}) "  # noqa: S608
            f"INSERT INTO {_q(Claim._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM picked{_on_open_claim()} "
            f"RETURNING {returned}, (SELECT {picked['review_entered_at']} FROM picked)")


# -- decisions ----------------------------------------------------------------------------
class HeldClaim(NamedTuple):
    """A claim about to be decided, with what the decision needs in the same read."""

    submission_id: UUID
    track: str
    claimed_at: datetime
    second_opinion_id: int | None
    status: str  # the clip's, read under its row lock
    sha256: str
    taxonomy_version: int | None  # the latest published; None before the first
    second_opinion_rate: float
    appeal_open: bool  # the clip waits on an appeal this decision would settle


_HELD_FIELDS = (Claim._meta.get_field("submission"), Claim._meta.get_field("track"),
                Claim._meta.get_field("claimed_at"), Claim._meta.get_field("second_opinion"),
                Submission._meta.get_field("status"), Submission._meta.get_field("sha256"),
                TaxonomyVersion._meta.get_field("number"),
                Program._meta.get_field("second_opinion_rate"), None)


def claim_for_decision(claim_id: UUID, moderator_id: int) -> HeldClaim | None:
    """``moderator_id``'s claim ``claim_id``, whether live or not, with its clip's row locked
    (the clip first, then the claim: the order claim-next takes them in, so a decision and
    a concurrent claim never wait on each other in a cycle); None if there is no such claim
    of theirs. Also reads the taxonomy version in force, the program's second-opinion rate
    and whether an appeal waits, so a decision reads everything it needs in one statement."""
    db = _db()
    row = fetchone(_claim_for_decision_sql(db.vendor),
                   [Program.SINGLETON_ID, _id(db, Claim, claim_id), moderator_id], _HELD_FIELDS)
    if row is None:
        return None
    if row[-2] is None:  # no program row yet: the default policy
        row[-2] = Program._meta.get_field("second_opinion_rate").get_default()
    row[-1] = bool(row[-1])  # SQLite answers EXISTS as 0 or 1
    return HeldClaim(*row)


@cache
def _claim_for_decision_sql(vendor: str) -> str:
    lock = " FOR UPDATE OF s" if _db().features.has_select_for_update else ""
    held = ", ".join([*(f"c.{_column(Claim, name)}"
                        for name in ("submission", "track", "claimed_at", "second_opinion")),
                      f"s.{_column(Submission, 'status')}", f"s.{_column(Submission, 'sha256')}"])
    taxonomy = (f"SELECT MAX(t.{_column(TaxonomyVersion, 'number')}) "  # noqa: S608
                f"FROM {_q(TaxonomyVersion._meta.db_table)} t")
    rate = (f"SELECT p.{_column(Program, 'second_opinion_rate')} "  # noqa: S608
            f"FROM {_q(Program._meta.db_table)} p WHERE p.{_column(Program, 'id')} = %s")
    appeal = (f"SELECT 1 FROM {_q(Appeal._meta.db_table)} a "  # noqa: S608
              f"WHERE a.{_column(Appeal, 'submission')} = s.{_column(Submission, 'id')} "
              f"AND a.{_column(Appeal, 'decision')} IS NULL")
    return (f"SELECT {held}, ({taxonomy}), ({rate}), EXISTS ({appeal}) "  # noqa: S608
            f"FROM {_q(Claim._meta.db_table)} c "
            f"INNER JOIN {_q(Submission._meta.db_table)} s "
            f"ON s.{_column(Submission, 'id')} = c.{_column(Claim, 'submission')} "
            f"WHERE c.{_column(Claim, 'id')} = %s AND c.{_column(Claim, 'moderator')} = %s{lock}")


def claim_take(claim_id: UUID, now: datetime) -> bool:
    """End the claim as decided, if it is still live at ``now``: the fencing token's
    conditional update. False (and nothing changed) once it ended or ran out."""
    db = _db()
    moment = _date(db, now)
    return _run(db, _claim_take_sql(db.vendor),
                [moment, ClaimEnd.DECIDED.value, _id(db, Claim, claim_id), moment]) == 1


@cache
def _claim_take_sql(vendor: str) -> str:
    ended, expires = _column(Claim, "ended_at"), _column(Claim, "expires_at")
    return (f"UPDATE {_q(Claim._meta.db_table)} SET {ended} = %s, "  # noqa: S608
            f"{_column(Claim, 'end_reason')} = %s WHERE {_column(Claim, 'id')} = %s "
            f"AND {ended} IS NULL AND {expires} > %s")


def decision_write(decision: Decision, event: PreparedEvent, *, move: str | None = None,
                   target: str | None = None) -> tuple[bool, bool]:
    """Write ``decision`` under its claim: take the claim (the fencing token's conditional
    update, only while it is still live at ``decision.decided_at``) and only then insert the
    decision, its audit ``event`` and, for a decision that changes the clip's status, move the
    clip by ``move`` of the submission state machine to ``target`` (which the caller had from
    ``submissions.transitions.target_of``), only from a status the transition table allows
    that move from. Answers (taken, moved); nothing is written unless the claim was taken.

    On PostgreSQL this is one statement, each part of which runs only on what the part
    before returned, and which carries the event (``audit.services.insert_select_sql``);
    elsewhere the same writes one after another, the event last by its own insert.
    """
    db = _db()
    moment = _date(db, decision.decided_at)
    take = [moment, ClaimEnd.DECIDED.value, _id(db, Claim, decision.claim_id), moment]
    sources = sorted(TRANSITIONS[move][0]) if move else []
    moving = [target, moment, _id(db, Submission, decision.submission_id), *sources]
    if db.vendor == "postgresql":
        taken, moved, event_id = _run(
            db, _decision_write_sql(db.vendor, len(sources) if move else None),
            [*take, *_row(db, decision), *(moving if move else []), *event.params], row=True)
        if event_id is not None:
            event.written(event_id)
        return taken == 1, moved == 1
    if _run(db, _claim_take_sql(db.vendor), take) != 1:
        return False, False
    _run(db, _insert_sql(db.vendor, Decision), _row(db, decision))
    moved = bool(move) and _run(db, _clip_move_sql(db.vendor, len(sources)), moving) == 1
    audit_write(event)
    return True, moved


@cache
def _decision_write_sql(vendor: str, sources: int | None) -> str:
    fields = Decision._meta.concrete_fields
    take = f"{_claim_take_sql(vendor)} RETURNING {_column(Claim, 'id')}"
    db = _db()
    # Typed, as the SELECT of an INSERT does not take its columns' types.
    values = ", ".join(f"CAST(%s AS {field.cast_db_type(db)})" for field in fields)
    insert = (f"INSERT INTO {_q(Decision._meta.db_table)} "  # noqa: S608
              f"({', '.join(_q(field.column) for field in fields)}) "
              f"SELECT {values} FROM taken RETURNING {_column(Decision, 'id')}")
    parts = [f"taken AS ({take})", f"decided AS ({insert})"]
    moved = "0"
    if sources is not None:
        parts.append(f"moved AS ({_clip_move_sql(vendor, sources)} "  # noqa: S608
                     f"AND EXISTS (SELECT 1 FROM decided) RETURNING {_column(Submission, 'id')})")
        moved = "(SELECT COUNT(*) FROM moved)"
    parts.append(f"recorded AS ({audit_insert_select_sql(vendor, 'taken')})")
    return (f"WITH {', '.join(parts)} "  # noqa: S608
            f"SELECT (SELECT COUNT(*) FROM taken), {moved}, (SELECT * FROM recorded)")


@cache
def _clip_move_sql(vendor: str, sources: int) -> str:
    status = _column(Submission, "status")
    return (f"UPDATE {_q(Submission._meta.db_table)} SET {status} = %s, "  # noqa: S608
            f"{_column(Submission, 'decided_at')} = %s WHERE {_column(Submission, 'id')} = %s "
            f"AND {status} IN ({', '.join(['%s'] * sources)})")
