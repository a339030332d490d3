"""Reads with a rule in them: the program row, invitation lists, cohorts with sizes."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from rest_framework.authtoken.models import Token

from accounts.models import Cohort, Invitation, Program, Role, TermsAcceptance, User


def program_get() -> Program:
    """The program's single row, created with default policy the first time it is read."""
    program, _ = Program.objects.get_or_create(pk=Program.SINGLETON_ID)
    return program


def program_setting(name: str):
    """One policy value of the program, read on its own (hot paths read one field; a missing
    row means the defaults)."""
    value = (Program.objects.filter(pk=Program.SINGLETON_ID).values_list(name, flat=True)
             .first())
    return Program._meta.get_field(name).get_default() if value is None else value


def invitations_list() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("cohort", "created_by")


def cohorts_with_size() -> QuerySet[Cohort]:
    """Cohorts with ``size``: the number of active testers in each."""
    return Cohort.objects.annotate(
        size=Count("members", filter=Q(members__is_active=True, members__groups__name=Role.TESTER))
    ).order_by("slug")


def terms_version_accepted(user: User) -> str | None:
    """The latest terms version the user accepted, or None."""
    return (
        TermsAcceptance.objects.filter(user=user)
        .order_by("-accepted_at", "-id")
        .values_list("version", flat=True)
        .first()
    )


def api_token_of(user: User) -> Token | None:
    return Token.objects.filter(user=user).first()
