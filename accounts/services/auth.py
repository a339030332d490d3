"""Signing in and API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from rest_framework.authtoken.models import Token

import audit
from accounts.errors import InvalidCredentials
from accounts.models import User


def auth_authenticate(
    *, username: str, password: str, method: str, context: dict[str, Any] | None = None
) -> User:
    """Check a password and record the outcome; raise ``InvalidCredentials`` on failure.

    The failure message never says whether the username exists.
    """
    user = authenticate(username=username, password=password)
    with transaction.atomic():
        if user is not None:
            audit.record("auth.sign_in_succeeded", actor=user, subject=user,
                         data={"method": method}, context=context)
            return user
        named = User.objects.filter(username=username).first() if username else None
        reason = "unknown_user" if named is None else (
            "inactive" if not named.is_active else "bad_password")
        audit.record("auth.sign_in_failed", actor=named, subject=named,
                     data={"method": method, "reason": reason}, context=context)
    raise InvalidCredentials()


def token_issue(*, actor: User, via: str) -> Token:
    """The user's API token, created (and recorded) if they have none."""
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=actor)
        if created:
            audit.record("token.created", actor=actor, subject=actor, data={"via": via})
    return token


def token_revoke(*, actor: User, via: str) -> bool:
    """Delete the user's own API token; returns whether there was one."""
    return _token_delete(owner=actor, actor=actor, via=via)


def token_revoke_of(*, actor: User | audit.SystemActor, owner: User, via: str = "admin") -> bool:
    """Revoke someone else's API token: a program admin's action (say, on a token seen in an
    anomaly), or the token watch's. The owner gets a new token by signing in again. Returns
    whether there was one.

    Callers check that a user ``actor`` is a program admin (the program page does).
    """
    return _token_delete(owner=owner, actor=actor, via=via)


def _token_delete(*, owner: User, actor: User | audit.SystemActor, via: str) -> bool:
    with transaction.atomic():
        deleted, _ = Token.objects.filter(user=owner).delete()
        if deleted:
            audit.record("token.revoked", actor=actor, subject=owner, data={"via": via})
    return bool(deleted)


def sign_out_record(*, actor: User) -> None:
    with transaction.atomic():
        audit.record("auth.signed_out", actor=actor, subject=actor)
