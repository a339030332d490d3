"""The program switch: pause, suspend and resume, with one transition table."""

from __future__ import annotations

from django.db import transaction

import audit
from accounts.errors import ProgramInvalidTransition, ProgramPaused, ProgramSuspended
from accounts.models import Program, ProgramStatus, User
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
