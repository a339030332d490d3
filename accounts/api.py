"""The accounts and program API (API.md, "Accounts and the program")."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import serializers as s
from accounts.models import Cohort, Role
from accounts.permissions import ProgramAccess, program_refuses, roles_required
from accounts.selectors import (
    cohorts_with_size,
    invitations_list,
    program_get,
    terms_version_accepted,
)
from accounts.services.auth import auth_authenticate, token_issue, token_revoke
from accounts.services.invitations import invitation_create, invitation_redeem, invitation_revoke
from accounts.services.program import program_pause, program_resume, program_suspend
from accounts.throttles import RedeemThrottle, SignInThrottle
from core import clock
from core.api import CursorPagination, errors
from core.errors import InvalidInput
from core.request import request_context


def me_data(user) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "roles": sorted(user.roles),
        "cohort": user.cohort.slug if user.cohort_id else None,
        "terms_version_accepted": terms_version_accepted(user),
    }


def program_data(program) -> dict:
    return {
        "status": program.status,
        "reason": program.reason,
        "changed_at": program.changed_at,
        "terms_version": program.terms_version,
        "policy": program.policy,
    }


class TokenApi(APIView):
    """POST: exchange a username and password for an API token. DELETE: revoke it."""

    def get_permissions(self):
        # Anyone may ask for a token, but a suspended program still refuses a signed-in tester.
        if self.request.method == "POST":
            return [ProgramAccess()]
        return super().get_permissions()

    def get_throttles(self):
        return [SignInThrottle()] if self.request.method == "POST" else []

    @extend_schema(request=s.TokenObtainInput, responses={200: s.TokenOutput, **errors(400, 429)},
                   auth=[])
    def post(self, request: Request) -> Response:
        data = s.TokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = auth_authenticate(**data.validated_data, method="token",
                                 context=request_context(request))
        if (refusal := program_refuses(user, program_get())) is not None:
            raise refusal  # no new credentials for testers while the program is suspended
        token = token_issue(actor=user, via="sign_in")
        return Response({"token": token.key})

    @extend_schema(responses={204: None, **errors(401)})
    def delete(self, request: Request) -> Response:
        token_revoke(actor=request.user, via="api")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    program_exempt_methods = ("GET", "HEAD")

    @extend_schema(responses={200: s.MeOutput, **errors(401)})
    def get(self, request: Request) -> Response:
        return Response(s.MeOutput(me_data(request.user)).data)


class ProgramApi(APIView):
    program_exempt_methods = ("GET", "HEAD")

    @extend_schema(responses={200: s.ProgramOutput, **errors(401)})
    def get(self, request: Request) -> Response:
        return Response(s.ProgramOutput(program_data(program_get())).data)


class _ProgramCommandApi(APIView):
    permission_classes = roles_required(Role.PROGRAM_ADMIN)
    input_serializer = s.RequiredReasonInput
    service = staticmethod(program_suspend)

    def post(self, request: Request) -> Response:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        program = self.service(actor=request.user, reason=data.validated_data["reason"])
        return Response(s.ProgramOutput(program_data(program)).data)


@extend_schema(request=s.RequiredReasonInput,
               responses={200: s.ProgramOutput, **errors(400, 401, 403, 409)})
class ProgramSuspendApi(_ProgramCommandApi):
    """Suspend the program: every tester loses access on their next request."""


@extend_schema(request=s.RequiredReasonInput,
               responses={200: s.ProgramOutput, **errors(400, 401, 403, 409)})
class ProgramPauseApi(_ProgramCommandApi):
    """Pause the program: no new clips may be created or submitted."""

    service = staticmethod(program_pause)


@extend_schema(request=s.ReasonInput,
               responses={200: s.ProgramOutput, **errors(400, 401, 403, 409)})
class ProgramResumeApi(_ProgramCommandApi):
    """Open the program again."""

    input_serializer = s.ReasonInput
    service = staticmethod(program_resume)


class InvitationListCreateApi(APIView):
    permission_classes = roles_required(Role.PROGRAM_ADMIN)

    @extend_schema(responses={200: s.InvitationOutput(many=True), **errors(401, 403)})
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(invitations_list(), request, view=self)
        data = s.InvitationOutput(page, many=True, context={"now": clock.now()}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=s.InvitationCreateInput,
                   responses={201: s.InvitationCreatedOutput, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        data = s.InvitationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        cohort = Cohort.objects.filter(slug=fields.pop("cohort")).first()
        if cohort is None:
            raise InvalidInput(fields={"cohort": ["No cohort has this slug."]})
        invitation, code = invitation_create(actor=request.user, cohort=cohort, **fields)
        out = s.InvitationOutput(invitation, context={"now": clock.now()}).data
        url = request.build_absolute_uri(reverse("accounts:redeem_code", args=[code]))
        return Response({**out, "code": code, "url": url}, status=status.HTTP_201_CREATED)


class InvitationRevokeApi(APIView):
    permission_classes = roles_required(Role.PROGRAM_ADMIN)

    @extend_schema(request=None, responses={200: s.InvitationOutput, **errors(401, 403, 404, 409)})
    def post(self, request: Request, invitation_id) -> Response:
        invitation = get_object_or_404(invitations_list(), pk=invitation_id)
        invitation = invitation_revoke(actor=request.user, invitation=invitation)
        return Response(s.InvitationOutput(invitation, context={"now": clock.now()}).data)


class InvitationRedeemApi(APIView):
    """Redeem an invitation: creates the account and answers with its API token."""

    permission_classes = [ProgramAccess]  # anonymous callers pass; suspended testers do not
    throttle_classes = [RedeemThrottle]

    @extend_schema(request=s.RedeemInput, responses={201: s.RedeemOutput, **errors(400, 429)},
                   auth=[])
    def post(self, request: Request) -> Response:
        data = s.RedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        user, token = invitation_redeem(**data.validated_data, context=request_context(request))
        return Response({"user": me_data(user), "token": token.key},
                        status=status.HTTP_201_CREATED)


class CohortListApi(APIView):
    permission_classes = roles_required(Role.PROGRAM_ADMIN, Role.RESEARCHER)

    @extend_schema(responses={200: s.CohortOutput(many=True), **errors(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(s.CohortOutput(cohorts_with_size(), many=True).data)
