"""The one write path into the audit log.

Every event is checked against the registry and built by ``prepare``, and inserted by the
statement built here. ``record`` does both at once. A hot path whose change is one statement
(a moderator's decision) can carry the prepared event inside that statement instead
(``insert_select_sql``): the change and its event then reach the database in one round trip,
and the event is still exactly the row ``record`` would have written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from audit import registry
from audit.models import ActorType, Event
from core import clock, sql


class AuditedUser(Protocol):
    pk: Any

    @property
    def audit_role(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """The platform acting on its own (a sweeper, the sealer, a migration)."""

    name: str


class OutsideTransaction(RuntimeError):
    """``record`` was called outside the business transaction it belongs to."""


Subject = models.Model | tuple[str, Any] | None


@dataclass(frozen=True)
class PreparedEvent:
    """An event checked and built but not yet written, with its insert's parameters."""

    event: Event
    params: list[Any]  # in the order of ``_COLUMNS``

    def written(self, pk: int) -> Event:
        """The event, once a statement inserted it as ``pk``."""
        self.event.pk = pk
        return self.event


def record(
    action: str,
    *,
    actor: AuditedUser | SystemActor | None,
    subject: Subject = None,
    data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Event:
    """Append one event, inside the caller's transaction.

    ``actor`` is a user, a ``SystemActor``, or ``None`` for an anonymous client. ``data``
    must carry exactly the fields the action declares. The event commits or rolls back with
    the change it describes, so it exists exactly when that change does.
    """
    return write(prepare(action, actor=actor, subject=subject, data=data, context=context))


def prepare(
    action: str,
    *,
    actor: AuditedUser | SystemActor | None,
    subject: Subject = None,
    data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> PreparedEvent:
    """Check and build an event as ``record`` does, without writing it: for a statement that
    carries it (``insert_select_sql``), or ``write`` later in the same transaction."""
    db = sql.db_of_default()
    if not db.in_atomic_block:
        raise OutsideTransaction(f"audit.record({action!r}) must run inside transaction.atomic()")
    spec = registry.get(action)
    data = data or {}
    if data.keys() != spec.fields.keys():
        missing, extra = spec.fields.keys() - data.keys(), data.keys() - spec.fields.keys()
        raise ValueError(f"{action}: data fields differ from the registry "
                         f"(missing {sorted(missing)}, undeclared {sorted(extra)})")

    actor_id, actor_name, actor_role = None, "", ""
    if actor is None:
        actor_type = ActorType.ANONYMOUS
    elif isinstance(actor, SystemActor):
        actor_type, actor_name = ActorType.SYSTEM, actor.name
    else:
        actor_type, actor_id, actor_role = ActorType.USER, actor.pk, actor.audit_role
    subject_type = subject_id = ""
    if isinstance(subject, models.Model):
        subject_type, subject_id = subject._meta.label_lower, str(subject.pk)
    elif subject is not None:
        subject_type, subject_id = subject[0], str(subject[1])
    occurred_at, context = clock.now(), context or {}
    values = (action, actor_type.value, actor_id, actor_name, actor_role, subject_type,
              subject_id)
    # Positional arguments in field order (see _COLUMNS): Django's quick way to an instance.
    event = Event(None, occurred_at, *values, data, context)
    event._state.adding, event._state.db = False, db.alias
    return PreparedEvent(event, [
        db.ops.adapt_datetimefield_value(occurred_at), *values,
        db.ops.adapt_json_value(data, DjangoJSONEncoder),  # as Event's JSONFields save them
        db.ops.adapt_json_value(context, DjangoJSONEncoder)])


def write(prepared: PreparedEvent) -> Event:
    """Insert a prepared event now (one parameterised statement, prepared on PostgreSQL:
    every action writes an event, so the ORM's per-save query compilation is skipped)."""
    db = sql.db_of_default()
    return prepared.written(sql.run(db, _insert_sql(db.vendor), prepared.params, row=True)[0])


# Event's columns after the id, in the model's field order.
_COLUMNS = ("occurred_at", "action", "actor_type", "actor_id", "actor_name", "actor_role",
            "subject_type", "subject_id", "data", "context")


@cache
def _insert_sql(vendor: str) -> str:
    db = sql.db_of_default()
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    return f"{_insert_into(db)} VALUES ({placeholders}) RETURNING {_id(db)}"


@cache
def insert_select_sql(vendor: str, source: str) -> str:
    """An INSERT of one prepared event (its ``params`` in order) for each row of ``source``
    (a name in the carrying statement's WITH), answering the new event's id: as a
    data-modifying WITH query, it writes the event only if the change it describes was made."""
    db = sql.db_of_default()
    # Typed, as the SELECT of an INSERT does not take its columns' types.
    values = ", ".join(f"CAST(%s AS {Event._meta.get_field(name).cast_db_type(db)})"
                       for name in _COLUMNS)
    return f"{_insert_into(db)} SELECT {values} FROM {source} RETURNING {_id(db)}"  # noqa: S608


def _insert_into(db: BaseDatabaseWrapper) -> str:
    quote = db.ops.quote_name
    columns = ", ".join(quote(Event._meta.get_field(name).column) for name in _COLUMNS)
    # Built only from the model's own table and column names; values go in as parameters.
    return f"INSERT INTO {quote(Event._meta.db_table)} ({columns})"


def _id(db: BaseDatabaseWrapper) -> str:
    return db.ops.quote_name(Event._meta.pk.column)
