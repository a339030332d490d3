"""Invitations: create, revoke, and redeem into a new account."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from rest_framework.authtoken.models import Token

import audit
from accounts.errors import InvitationAlreadyRevoked, InvitationInvalid, TermsNotAccepted
from accounts.models import Cohort, Invitation, InvitationStatus, Redemption, Role, User
from accounts.selectors import program_get
from accounts.services.users import terms_accept, user_create
from core import clock
from core.errors import InvalidInput

MAX_EXPIRY_DAYS = 90
MAX_USES = 1000


def invitation_code_hash(code: str) -> str:
    # Codes carry 192 random bits, so a plain SHA-256 is as good as a slow hash (ASVS 6.5.2).
    return hashlib.sha256(code.strip().encode()).hexdigest()


def invitation_create(
    *,
    actor: User,
    cohort: Cohort,
    role: str = Role.TESTER,
    email: str = "",
    expires_in_days: int = 14,
    max_uses: int = 1,
) -> tuple[Invitation, str]:
    """Create an invitation and return it with its code, which is shown only this once."""
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [f"Choose one of {', '.join(Role.values)}."]
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = [f"Between 1 and {MAX_EXPIRY_DAYS} days."]
    if not 1 <= max_uses <= MAX_USES:
        errors["max_uses"] = [f"Between 1 and {MAX_USES}."]
    if email and max_uses != 1:
        errors["max_uses"] = ["An invitation bound to one e-mail address can be used once."]
    if errors:
        raise InvalidInput(fields=errors)

    code = secrets.token_urlsafe(24)
    now = clock.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            code_hash=invitation_code_hash(code), cohort=cohort, role=role,
            email=email.strip().lower(), expires_at=now + timedelta(days=expires_in_days),
            max_uses=max_uses, created_by=actor, created_at=now,
        )
        audit.record("invitation.created", actor=actor, subject=invitation, data={
            "cohort": cohort.slug, "role": role, "email_bound": bool(invitation.email),
            "expires_at": invitation.expires_at, "max_uses": max_uses,
        })
    return invitation, code


def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at is not None:
            raise InvitationAlreadyRevoked()
        invitation.revoked_at = clock.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record("invitation.revoked", actor=actor, subject=invitation,
                     data={"uses": invitation.uses})
    return invitation


class _Refused(Exception):
    def __init__(self, reason: str, invitation: Invitation | None = None):
        self.reason, self.invitation = reason, invitation


def _claim_one_use(code: str, email: str) -> Invitation:
    """Take one use of the invitation with a conditional update, or raise ``_Refused``.

    The update only matches while the invitation is live and has uses left, so two clients
    redeeming a single-use code at once cannot both succeed, on any database.
    """
    invitation = Invitation.objects.filter(code_hash=invitation_code_hash(code)).first()
    if invitation is None:
        raise _Refused("unknown_code")
    now = clock.now()
    status = invitation.status_at(now)
    if status != InvitationStatus.ACTIVE:
        raise _Refused(status.value, invitation)
    if invitation.email and invitation.email != email.strip().lower():
        raise _Refused("email_mismatch", invitation)
    taken = Invitation.objects.filter(
        pk=invitation.pk, revoked_at__isnull=True, expires_at__gt=now, uses__lt=F("max_uses"),
    ).update(uses=F("uses") + 1)
    if not taken:
        raise _Refused(InvitationStatus.USED_UP.value, invitation)
    invitation.refresh_from_db(fields=["uses"])
    return invitation


def invitation_redeem(
    *,
    code: str,
    username: str,
    email: str,
    password: str,
    accept_terms: bool,
    context: dict[str, Any] | None = None,
) -> tuple[User, Token]:
    """Create the invited account, record its acceptance of the terms, and issue a token.

    Every kind of bad code raises the same ``InvitationInvalid``; the audit log keeps the
    real reason. Field problems raise ``InvalidInput`` and consume nothing.
    """
    try:
        with transaction.atomic():
            if not accept_terms:
                raise _Refused("terms_not_accepted")
            invitation = _claim_one_use(code, email)
            user = user_create(
                actor=None, username=username, email=email, password=password,
                roles=[invitation.role], cohort=invitation.cohort, invitation_id=invitation.pk,
            )
            Redemption.objects.create(invitation=invitation, user=user, redeemed_at=clock.now())
            audit.record("invitation.redeemed", actor=user, subject=invitation, context=context,
                         data={"user_id": user.pk, "uses": invitation.uses,
                               "max_uses": invitation.max_uses})
            terms_accept(actor=user, version=program_get().terms_version)
            token = Token.objects.create(user=user)
            audit.record("token.created", actor=user, subject=user, data={"via": "redemption"})
            return user, token
    except _Refused as refused:
        with transaction.atomic():
            subject = refused.invitation or ("accounts.invitation", "")
            audit.record("invitation.redemption_refused", actor=None, subject=subject,
                         data={"reason": refused.reason}, context=context)
        if refused.reason == "terms_not_accepted":
            raise TermsNotAccepted() from None
        raise InvitationInvalid() from None
