"""The demo program: cohorts, staff and testers, created through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Cohort, Role, User
from accounts.selectors import program_get
from accounts.services.invitations import invitation_create, invitation_redeem
from accounts.services.users import cohort_create, terms_accept, user_create
from audit import SystemActor

SEED_ACTOR = SystemActor("seed")

COHORTS = [
    ("creative-partners", "Creative partners",
     "Invited artists and filmmakers testing the tool for creative work."),
    ("red-team", "Red team", "Invited experts probing the tool for harms before release."),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    roles: str
    cohort: str


# (username, role, cohort slug)
STAFF = [
    ("admin", Role.PROGRAM_ADMIN, "creative-partners"),
    ("mod-ada", Role.MODERATOR, "creative-partners"),
    ("mod-bo", Role.MODERATOR, "red-team"),
    ("researcher", Role.RESEARCHER, "creative-partners"),
]
TESTERS = [
    ("tess", "creative-partners"), ("theo", "creative-partners"), ("tara", "creative-partners"),
    ("rosa", "red-team"), ("rex", "red-team"),
]


def seed_demo(*, password: str) -> list[DemoLogin]:
    """Create the demo program if it is not there yet; returns the demo logins.

    Idempotent: cohorts and accounts that exist are left as they are.
    """
    cohorts = {}
    for slug, name, description in COHORTS:
        cohorts[slug] = Cohort.objects.filter(slug=slug).first() or cohort_create(
            actor=SEED_ACTOR, slug=slug, name=name, description=description)

    logins = []
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        with transaction.atomic():
            admin = user_create(actor=SEED_ACTOR, username="admin", email="admin@example.org",
                                password=password, roles=[Role.PROGRAM_ADMIN],
                                cohort=cohorts["creative-partners"], is_staff=True,
                                is_superuser=True)
            terms_accept(actor=admin, version=program_get().terms_version)
    logins.append(DemoLogin("admin", "program_admin (and Django admin)", "creative-partners"))

    # Everyone else joins the way real people do: the admin invites, they redeem.
    people = STAFF[1:] + [(username, Role.TESTER, cohort) for username, cohort in TESTERS]
    for username, role, cohort in people:
        if not User.objects.filter(username=username).exists():
            _invitation, code = invitation_create(actor=admin, cohort=cohorts[cohort], role=role)
            invitation_redeem(code=code, username=username, email=f"{username}@example.org",
                              password=password, accept_terms=True)
        logins.append(DemoLogin(username, role, cohort))
    return logins
