"""Who may read research data, and through which pseudonyms.

A researcher reads the log through a study: every person appears as
``u_`` + the first 16 hex digits of ``HMAC-SHA256(key, "<scope>:<user id>")``, stable within
the study and unlinkable across studies (the key never leaves the server). Program admins
read aggregate metrics through a scope of their own, ``program``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission

from audit.models import Study
from core.errors import DomainError, PermissionDenied

RESEARCHER = "researcher"
PROGRAM_ADMIN = "program_admin"
PROGRAM_SCOPE = "program"


class NoStudy(PermissionDenied):
    code = "research.no_study"
    default_message = "You are not a researcher of any study; ask a program admin to add you."


class StudyRequired(DomainError):
    code = "research.study_required"
    default_message = "You belong to several studies: name one with ?study=<slug>."


class NotInStudy(PermissionDenied):
    code = "research.not_in_study"
    default_message = "You are not a researcher of this study."


def _key() -> bytes:
    key = settings.RESEARCH_PSEUDONYM_KEY
    if not key:
        raise ImproperlyConfigured("RESEARCH_PSEUDONYM_KEY is not set.")
    return key.encode()


def pseudonym(scope: str, user_id: int | None) -> str | None:
    """The pseudonym of ``user_id`` within ``scope`` (a study's id, or ``program``)."""
    if user_id is None:
        return None
    digest = hmac.new(_key(), f"{scope}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return "u_" + digest[:16]


@dataclass(frozen=True)
class ResearchScope:
    """The lens one request reads through: its study (None for a program admin's aggregate
    view) and what that study has been granted."""

    study: Study | None

    @property
    def name(self) -> str:
        return str(self.study.pk) if self.study else PROGRAM_SCOPE

    @property
    def identities(self) -> bool:
        return bool(self.study and self.study.grant_identities)

    @property
    def free_text(self) -> bool:
        return bool(self.study and self.study.grant_free_text)

    @property
    def client_context(self) -> bool:
        return bool(self.study and self.study.grant_client_context)

    def pseudonym(self, user_id: int | None) -> str | None:
        return pseudonym(self.name, user_id)

    @property
    def label(self) -> str:
        """A name for files made in this scope: the study's slug, or ``program``."""
        return self.study.slug if self.study else PROGRAM_SCOPE


@dataclass(frozen=True)
class Person:
    """One account as a scope sees it: the username only when the study is granted it."""

    user_id: int
    pseudonym: str
    username: str | None


def people(scope: ResearchScope) -> list[Person]:
    """Every account's pseudonym in ``scope`` (a program has a few thousand accounts at most,
    so the whole map is made here, where the key is, and handed to the database per request)."""
    from django.contrib.auth import get_user_model

    identities = scope.identities
    return [Person(user_id, scope.pseudonym(user_id), username if identities else None)
            for user_id, username in get_user_model().objects.order_by("pk").values_list(
                "pk", "username")]


def scope_for(user: Any, study_slug: str | None, *, program_admin_allowed: bool) -> ResearchScope:
    """Resolve the scope of a request: the named study (the researcher must belong to it), the
    researcher's only study, or, for a program admin on an aggregate endpoint, the program."""
    if user.has_role(RESEARCHER):
        studies = user.studies.all()
        if study_slug:
            study = next((s for s in studies if s.slug == study_slug), None)
            if study is None:
                raise NotInStudy()
            return ResearchScope(study)
        if len(studies) == 1:
            return ResearchScope(studies[0])
        if studies:
            raise StudyRequired()
        if not (program_admin_allowed and user.has_role(PROGRAM_ADMIN)):
            raise NoStudy()
    if program_admin_allowed and user.has_role(PROGRAM_ADMIN):
        return ResearchScope(None)
    raise PermissionDenied("This needs the role researcher.")


def research_permissions(*, program_admins: bool = False) -> list[type[BasePermission]]:
    """Permission classes for a research endpoint. The resolved scope is put on the request
    as ``request.research_scope``. Testers and moderators get 403 ``permission.denied``."""
    from rest_framework.permissions import IsAuthenticated

    from accounts.permissions import ProgramAccess  # the API's defaults, kept on every view

    class ResearchAccess(BasePermission):
        def has_permission(self, request: Any, view: Any) -> bool:
            request.research_scope = scope_for(
                request.user, request.query_params.get("study") or None,
                program_admin_allowed=program_admins)
            return True

    return [IsAuthenticated, ProgramAccess, ResearchAccess]
