"""The one write path into the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.db import connection, models

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
    if not connection.in_atomic_block:
        raise OutsideTransaction(f"audit.record({action!r}) must run inside transaction.atomic()")
    spec = registry.get(action)
    data = data or {}
    if set(data) != set(spec.fields):
        missing, extra = set(spec.fields) - set(data), set(data) - set(spec.fields)
        raise ValueError(f"{action}: data fields differ from the registry "
                         f"(missing {sorted(missing)}, undeclared {sorted(extra)})")

    event = Event(occurred_at=clock.now(), action=action, data=data, context=context or {})
    if actor is None:
        event.actor_type = ActorType.ANONYMOUS
    elif isinstance(actor, SystemActor):
        event.actor_type, event.actor_name = ActorType.SYSTEM, actor.name
    else:
        event.actor_type, event.actor_id = ActorType.USER, actor.pk
        event.actor_role = actor.audit_role
    if isinstance(subject, models.Model):
        event.subject_type = subject._meta.label_lower
        event.subject_id = str(subject.pk)
    elif subject is not None:
        event.subject_type, event.subject_id = subject[0], str(subject[1])
    event.pk = _insert(event)
    event._state.adding, event._state.db = False, connection.alias
    return event


_COLUMNS = ("occurred_at", "action", "actor_type", "actor_id", "actor_name", "actor_role",
            "subject_type", "subject_id", "data", "context")


@cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(Event._meta.get_field(name).column) for name in _COLUMNS)
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    # Built only from the model's own table and column names; values go in as parameters.
    return (f"INSERT INTO {quote(Event._meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
            f"RETURNING {quote(Event._meta.pk.column)}")


def _insert(event: Event) -> int:
    """One parameterised INSERT, prepared on PostgreSQL: every action writes an event, so the
    ORM's per-save query compilation (about two thirds of the cost) is skipped on this path."""
    params = [getattr(event, name) for name in _COLUMNS]
    params[0] = connection.ops.adapt_datetimefield_value(event.occurred_at)
    for index, name in ((8, "data"), (9, "context")):
        params[index] = Event._meta.get_field(name).get_db_prep_save(params[index], connection)
    return sql.run(sql.db_of_default(), _insert_sql(connection.vendor), params, row=True)[0]
