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

    def __init__(self, limit: int):
        super().__init__(too_large_message(limit))


def too_large_message(limit: int) -> str:
    if limit >= 1024 * 1024:
        size = f"{limit / (1024 * 1024):.0f} MB"
    else:
        size = f"{max(1, round(limit / 1024))} KB"
    return f"The file is larger than the program's limit of {size}."


class UnsupportedMedia(DomainError):
    code = "media.unsupported_type"
    status = 400
