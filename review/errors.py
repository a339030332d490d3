"""The refusals of the review app, with the codes API.md documents."""

from core.errors import Conflict, DomainError


class LeaseLost(Conflict):
    code = "review.lease_lost"
    default_message = ("Your claim on this item expired or the item was decided; "
                       "nothing was changed.")


class ReasonRequired(DomainError):
    code = "review.reason_required"
    default_message = "Give at least one reason when rejecting."


class TaxonomyMissing(Conflict):
    code = "review.taxonomy_missing"
    default_message = ("No reason taxonomy is published yet; a program admin must publish "
                       "one before decisions can be recorded.")


class AppealNotAllowed(Conflict):
    code = "submission.invalid_transition"
