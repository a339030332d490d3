"""The refusals of this app, with the codes API.md documents."""

from core.errors import Conflict, DomainError, InvalidTransition, PermissionDenied


class InvitationInvalid(DomainError):
    # One code and one message for wrong, expired, used-up and revoked codes alike, so a
    # caller cannot learn which codes exist.
    code = "invitation.invalid"
    default_message = "This invitation code is not valid. Ask the program team for a new one."


class InvitationAlreadyRevoked(Conflict):
    code = "invitation.already_revoked"
    default_message = "This invitation is already revoked."


class TermsNotAccepted(DomainError):
    code = "terms.not_accepted"
    default_message = "You must accept the program's terms to join."


class InvalidCredentials(DomainError):
    code = "auth.invalid_credentials"
    default_message = "The username or password is not correct."


class ProgramSuspended(PermissionDenied):
    code = "program.suspended"

    def __init__(self, reason: str):
        super().__init__(f"The program is suspended: {reason}" if reason
                         else "The program is suspended.")


class ProgramPaused(Conflict):
    code = "program.paused"

    def __init__(self, reason: str):
        super().__init__(
            f"The program is paused; new clips cannot be created or submitted: {reason}"
            if reason else "The program is paused; new clips cannot be created or submitted."
        )


class ProgramInvalidTransition(InvalidTransition):
    code = "program.invalid_transition"
