"""The refusals of this app, with the codes API.md documents."""

from core.errors import Conflict, DomainError, InvalidTransition


class SubmissionInvalidTransition(InvalidTransition):
    code = "submission.invalid_transition"


class SubmissionNotApproved(Conflict):
    code = "submission.not_approved"
    default_message = "Only approved clips can be shared."


class UploadTooLarge(DomainError):
    code = "media.too_large"
    status = 413


class UnsupportedMedia(DomainError):
    code = "media.unsupported_type"
    status = 400
