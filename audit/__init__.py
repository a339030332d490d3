"""The append-only audit log: one write path (``audit.record``, or ``audit.prepare`` for an
event carried by the statement that makes its change) and a registry of actions.

The log itself (recording, sealing, verification) imports no other app of the platform;
every app records into it. ``audit.research`` reads it for researchers and knows about roles.
"""

from typing import Any

__all__ = ["PreparedEvent", "SystemActor", "prepare", "record"]


def __getattr__(name: str) -> Any:
    # Lazy, so ``import audit`` works before the app registry is ready.
    if name in __all__:
        from audit import services

        return getattr(services, name)
    raise AttributeError(name)
