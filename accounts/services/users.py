"""Accounts and cohorts: creation, roles and terms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

import audit
from accounts.models import Cohort, Role, TermsAcceptance, User
from core import clock
from core.errors import InvalidInput


def role_groups(roles: Iterable[str]) -> list[Group]:
    """The groups that carry ``roles`` (created on first use, so a flushed database works)."""
    return [Group.objects.get_or_create(name=Role(role).value)[0] for role in roles]


def cohort_create(*, actor: Any, slug: str, name: str, description: str = "") -> Cohort:
    with transaction.atomic():
        if Cohort.objects.filter(slug=slug).exists():
            raise InvalidInput(fields={"slug": [f"A cohort with the slug {slug!r} exists."]})
        cohort = Cohort.objects.create(slug=slug, name=name, description=description,
                                       created_at=clock.now())
        audit.record("cohort.created", actor=actor, subject=cohort,
                     data={"slug": cohort.slug, "name": cohort.name})
    return cohort


def account_fields_check(*, username: str, email: str, password: str) -> dict[str, list[str]]:
    """Field errors for a new account (uniqueness, e-mail shape, password strength)."""
    errors: dict[str, list[str]] = {}
    username_field = User._meta.get_field("username")
    try:
        username_field.clean(username, None)
    except ValidationError as error:
        errors["username"] = list(error.messages)
    else:
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = ["This username is taken."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid e-mail address."]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = ["An account with this e-mail address exists."]
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    return errors


def user_create(
    *,
    actor: Any,
    username: str,
    email: str,
    password: str,
    roles: Iterable[str],
    cohort: Cohort | None = None,
    invitation_id: Any = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create an account with its roles; must run inside the caller's transaction.

    Field problems (taken username or e-mail, weak password) raise ``InvalidInput`` naming
    the field, including when a concurrent request took the name first.
    """
    roles = sorted({Role(role).value for role in roles})
    errors = account_fields_check(username=username, email=email, password=password)
    if errors:
        raise InvalidInput(fields=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password,
                                            cohort=cohort, is_staff=is_staff,
                                            is_superuser=is_superuser)
    except IntegrityError:
        # Lost a race for the username or e-mail to a concurrent request.
        raise InvalidInput(fields={"username": ["This username or e-mail is taken."]}) from None
    user.groups.set(role_groups(roles))
    audit.record("account.created", actor=actor or user, subject=user,
                 data={"roles": roles, "cohort": cohort.slug if cohort else None,
                       "invitation_id": invitation_id, "superuser": is_superuser})
    return user


def terms_accept(*, actor: User, version: str) -> TermsAcceptance:
    """Record that ``actor`` accepted terms ``version`` (once per version)."""
    with transaction.atomic():
        acceptance, created = TermsAcceptance.objects.get_or_create(
            user=actor, version=version, defaults={"accepted_at": clock.now()}
        )
        if created:
            audit.record("terms.accepted", actor=actor, subject=actor, data={"version": version})
    return acceptance


def account_record_admin_change(*, actor: User, user: User, changed: Iterable[str]) -> None:
    """Audit a change staff made in the Django admin (field names only, never values)."""
    changed = sorted(set(changed))
    if not changed:
        return
    with transaction.atomic():
        audit.record("account.changed", actor=actor, subject=user, data={"changed": changed})
