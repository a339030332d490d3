"""The program switch (pause, suspend and resume, with one transition table) and its policy."""

from __future__ import annotations

from typing import Any

from django.db import transaction

import audit
from accounts.errors import ProgramInvalidTransition, ProgramPaused, ProgramSuspended
from accounts.models import Program, ProgramStatus, TokenAnomalyAction, User
from accounts.selectors import program_get
from core import clock
from core.errors import InvalidInput

# command → (statuses it may start from, status it leads to)
PROGRAM_TRANSITIONS: dict[str, tuple[frozenset[ProgramStatus], ProgramStatus]] = {
    "pause": (frozenset({ProgramStatus.OPEN}), ProgramStatus.PAUSED),
    "suspend": (frozenset({ProgramStatus.OPEN, ProgramStatus.PAUSED}), ProgramStatus.SUSPENDED),
    "resume": (frozenset({ProgramStatus.PAUSED, ProgramStatus.SUSPENDED}), ProgramStatus.OPEN),
}
_EVENTS = {"pause": "program.paused", "suspend": "program.suspended", "resume": "program.resumed"}


def _program_move(*, actor: User, command: str, reason: str) -> Program:
    sources, target = PROGRAM_TRANSITIONS[command]
    program_get()  # make sure the row exists before locking it
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=Program.SINGLETON_ID)
        if program.status not in sources:
            raise ProgramInvalidTransition(
                f"The program is {program.status}; it cannot be {_EVENTS[command].split('.')[1]}."
            )
        previous = program.status
        program.status, program.reason = target, reason
        program.changed_at, program.changed_by = clock.now(), actor
        program.save(update_fields=["status", "reason", "changed_at", "changed_by"])
        audit.record(_EVENTS[command], actor=actor, subject=program,
                     data={"from_status": previous, "reason": reason})
    return program


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(fields={"reason": ["Give a reason; testers will see it."]})
    return reason


def program_pause(*, actor: User, reason: str) -> Program:
    """Stop new clips from being created or submitted; everything else keeps working."""
    return _program_move(actor=actor, command="pause", reason=_required_reason(reason))


def program_suspend(*, actor: User, reason: str) -> Program:
    """Shut every tester out on their next request, by session or token alike."""
    return _program_move(actor=actor, command="suspend", reason=_required_reason(reason))


def program_resume(*, actor: User, reason: str = "") -> Program:
    return _program_move(actor=actor, command="resume", reason=(reason or "").strip())


def program_require_accepting_clips() -> Program:
    """Raise ``ProgramPaused`` (or ``ProgramSuspended``) unless new clips are accepted now."""
    program = program_get()
    if program.status == ProgramStatus.SUSPENDED:
        raise ProgramSuspended(program.reason)
    if program.status == ProgramStatus.PAUSED:
        raise ProgramPaused(program.reason)
    return program


# Policy fields a program admin may change through ``program_policy_update``: numbers with
# the type and range they must keep, choices with their values.
POLICY_NUMBERS: dict[str, tuple[type, int, int]] = {
    "lease_seconds": (int, 60, 86_400),  # a minute to a day
    "second_opinion_rate": (float, 0, 1),
    "token_max_addresses": (int, 1, 10_000),
    "token_rate_factor": (float, 1, 1_000),
    "token_rate_floor": (int, 1, 1_000_000),
}
POLICY_CHOICES: dict[str, list[str]] = {"token_anomaly_action": TokenAnomalyAction.values}


def _policy_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in POLICY_CHOICES:
            if value not in POLICY_CHOICES[name]:
                errors[name] = [f"Choose one of {', '.join(POLICY_CHOICES[name])}."]
        elif name in POLICY_NUMBERS:
            kind, low, high = POLICY_NUMBERS[name]
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or (kind is int and value != int(value)) or not low <= value <= high:
                noun = "a whole number" if kind is int else "a number"
                errors[name] = [f"Give {noun} between {low:,} and {high:,}."]
        else:
            errors[name] = ["This policy field cannot be changed here."]
    return errors


def program_policy_update(*, actor: User, **values: Any) -> Program:
    """Change the named policy fields; records the ones that changed, from what to what.

    Any bad value refuses the whole change with ``InvalidInput`` naming the fields. The token
    watch applies new thresholds from the next hour's window; the action, at once.
    """
    errors = _policy_errors(values)
    if errors:
        raise InvalidInput(fields=errors)
    values = {name: POLICY_NUMBERS[name][0](value) if name in POLICY_NUMBERS else value
              for name, value in values.items()}
    program_get()  # make sure the row exists before locking it
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=Program.SINGLETON_ID)
        changed = {name: {"from": getattr(program, name), "to": value}
                   for name, value in values.items() if getattr(program, name) != value}
        if changed:
            for name, change in changed.items():
                setattr(program, name, change["to"])
            program.save(update_fields=sorted(changed))
            audit.record("program.policy_changed", actor=actor, subject=program,
                         data={"changed": changed})
    return program
