"""Who may do what: plain predicates, and the DRF permission classes built on them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.shortcuts import render
from rest_framework.permissions import BasePermission, IsAuthenticated

from accounts.errors import ProgramSuspended
from accounts.models import Program, ProgramStatus, Role


def has_role(user: Any, role: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(role)


def program_refuses(user: Any, program: Program) -> ProgramSuspended | None:
    """The refusal a suspended program gives this user, or None if they keep access.

    Program staff (moderators, researchers, program admins) keep access; testers and
    accounts without a staff role are shut out until the program resumes.
    """
    if program.status != ProgramStatus.SUSPENDED:
        return None
    if not getattr(user, "is_authenticated", False) or user.is_program_staff:
        return None
    return ProgramSuspended(program.reason)


def request_program(request: Any) -> Program:
    """The program row, read once per request (the switch takes effect on the next request)."""
    from accounts.selectors import program_get

    program = getattr(request, "_program", None)
    if program is None:
        program = program_get()
        request._program = program
    return program


class ProgramAccess(BasePermission):
    """Default on every API view: a suspended program refuses testers, by session or token.

    A view lists the methods that stay open during suspension in ``program_exempt_methods``
    (``GET program/`` and ``GET me/``, so testers can learn what happened).
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in getattr(view, "program_exempt_methods", ()):
            return True
        refusal = program_refuses(request.user, request_program(request))
        if refusal is not None:
            raise refusal
        return True


def roles_required(*roles: Role) -> list[type[BasePermission]]:
    """Permission classes for a view open to any of ``roles`` (plus the defaults)."""

    class HoldsRole(BasePermission):
        message = "This needs the role " + " or ".join(role.label.lower() for role in roles) + "."

        def has_permission(self, request: Any, view: Any) -> bool:
            return any(has_role(request.user, role) for role in roles)

    HoldsRole.__name__ = "Holds" + "Or".join(role.name.title().replace("_", "") for role in roles)
    return [IsAuthenticated, ProgramAccess, HoldsRole]


def page_for(*roles: Role, message: str) -> Callable:
    """Decorate a web view (under ``login_required``) so that only ``roles`` see it; everyone
    else gets the 403 page with ``message``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not any(has_role(request.user, role) for role in roles):
                return render(request, "core/error.html",
                              {"status": 403, "message": message}, status=403)
            return view(request, *args, **kwargs)

        return guarded

    return decorate
