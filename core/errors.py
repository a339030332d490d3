"""Domain errors: raised by services, turned into the API's JSON error shape in one place.

Each error carries the stable machine code that API.md documents, a human message and the
HTTP status it maps to. Web views catch the same errors and show the message.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation. Subclasses fix ``code`` and ``status``; the message may vary."""

    code = "error"
    status = 400
    default_message = "The request could not be carried out."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = message or self.default_message
        self.fields = fields
        super().__init__(self.message)


class InvalidInput(DomainError):
    """Bad input caught by a service (as opposed to by a serializer); names the fields."""

    code = "request.invalid"
    status = 400
    default_message = "Some fields are not valid."


class PermissionDenied(DomainError):
    code = "permission.denied"
    status = 403
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "This conflicts with the current state."


class InvalidTransition(Conflict):
    """A state machine refused a move that its transition table does not allow."""

    code = "invalid_transition"
