"""The registry of audit actions: every event's name, meaning and data fields.

Apps register their actions in their own ``audit_actions`` module (imported when the app
is ready). ``audit.record`` refuses unregistered actions and undeclared data fields, so the
generated data dictionary (``docs/audit-events.md``) is always the whole truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    subject: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.name.split(".", 1)[0]


class UnknownAction(LookupError):
    pass


_actions: dict[str, Action] = {}


def register(name: str, *, description: str, subject: str = "",
             fields: dict[str, str] | None = None) -> Action:
    """Declare an action. ``fields`` maps each data key to its meaning."""
    if not _NAME.match(name):
        raise ValueError(f"audit action names are dotted lower-case words, not {name!r}")
    action = Action(name=name, description=description, subject=subject, fields=fields or {})
    if _actions.get(name, action) != action:
        raise ValueError(f"audit action {name!r} is already registered differently")
    _actions[name] = action
    return action


def get(name: str) -> Action:
    try:
        return _actions[name]
    except KeyError:
        raise UnknownAction(f"audit action {name!r} is not registered") from None


def all_actions() -> list[Action]:
    return sorted(_actions.values(), key=lambda action: action.name)
