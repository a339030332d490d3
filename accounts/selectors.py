"""Reads with a rule in them: the program row, invitation lists, cohorts with sizes, token
anomalies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from rest_framework.authtoken.models import Token

from accounts.models import (
    Cohort,
    Invitation,
    Program,
    Role,
    TermsAcceptance,
    User,
    token_fingerprint,
)
from audit.models import Event


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


@dataclass(frozen=True)
class TokenWatchPolicy:
    max_addresses: int
    rate_factor: float
    rate_floor: int
    action: str


_TOKEN_WATCH_FIELDS = ("token_max_addresses", "token_rate_factor", "token_rate_floor",
                       "token_anomaly_action")


def token_watch_policy() -> TokenWatchPolicy:
    """The token watch's policy, in one query (a missing row means the defaults)."""
    row = Program.objects.filter(pk=Program.SINGLETON_ID).values(*_TOKEN_WATCH_FIELDS).first()
    if row is None:
        row = {name: Program._meta.get_field(name).get_default() for name in _TOKEN_WATCH_FIELDS}
    return TokenWatchPolicy(*(row[name] for name in _TOKEN_WATCH_FIELDS))


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


def program_admin_emails() -> list[str]:
    """Where alerts for the program admins go: every active program admin (and superuser)
    with an e-mail address, sorted."""
    return sorted(set(
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=Role.PROGRAM_ADMIN) | Q(is_superuser=True))
        .exclude(email="")
        .values_list("email", flat=True)
    ))


@dataclass(frozen=True)
class TokenAnomaly:
    """A ``security.token_anomaly`` event as the program page lists it."""

    event_id: int
    occurred_at: datetime
    user: User | None
    reason: str
    observed: int
    threshold: int
    action: str
    token_fingerprint: str
    holds_token: bool  # the user has an API token now (perhaps a newer one)
    same_token: bool  # ...and it is the very token that raised the anomaly


def token_anomalies_recent(limit: int = 20) -> list[TokenAnomaly]:
    """The latest token anomalies, newest first, with whether each user still holds a token."""
    events = list(Event.objects.filter(action="security.token_anomaly").order_by("-id")[:limit])
    user_ids = {int(event.subject_id) for event in events if event.subject_id.isdigit()}
    users = User.objects.in_bulk(user_ids)
    live = {user_id: token_fingerprint(key) for key, user_id in
            Token.objects.filter(user_id__in=user_ids).values_list("key", "user_id")}
    anomalies = []
    for event in events:
        user_id = int(event.subject_id) if event.subject_id.isdigit() else None
        data = event.data
        anomalies.append(TokenAnomaly(
            event_id=event.pk, occurred_at=event.occurred_at, user=users.get(user_id),
            reason=data["reason"], observed=data["observed"], threshold=data["threshold"],
            action=data["action"], token_fingerprint=data["token_fingerprint"],
            holds_token=user_id in live,
            same_token=live.get(user_id) == data["token_fingerprint"],
        ))
    return anomalies
