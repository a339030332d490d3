"""The submissions API (API.md, "Submissions")."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import roles_required
from core.api import CursorPagination, errors
from core.errors import InvalidInput
from submissions import serializers as s
from submissions.errors import UploadTooLarge
from submissions.models import MediaKind, Submission, SubmissionStatus
from submissions.permissions import can_fetch_media, is_owner
from submissions.responses import media_response
from submissions.selectors import (
    media_policy,
    submission_visible_to,
    submissions_visible_to,
)
from submissions.services.lifecycle import (
    submission_generate,
    submission_submit,
    submission_upload,
    submission_withdraw,
)
from submissions.services.sharing import share_create, share_revoke
from submissions.uploads import StreamingHashUploadHandler

VIEWERS = roles_required(Role.TESTER, Role.MODERATOR, Role.PROGRAM_ADMIN)


class SubmissionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SubmissionStatus.choices)
    cohort = django_filters.CharFilter(field_name="cohort__slug")

    class Meta:
        model = Submission
        fields = ["status", "cohort"]


def _visible_or_404(request: Request, submission_id) -> Submission:
    submission = submission_visible_to(request.user, submission_id)
    if submission is None:
        raise Http404
    return submission


def _owned_or_404(request: Request, submission_id) -> Submission:
    submission = _visible_or_404(request, submission_id)
    if not is_owner(request.user, submission):
        raise Http404  # staff may look, but only the owner acts on a clip
    return submission


def _detail(request: Request, submission: Submission) -> dict:
    return s.SubmissionOutput(submission, context={"request": request}).data


class SubmissionListCreateApi(APIView):
    """GET: the clips you may see. POST: upload a clip (multipart, streamed to disk)."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [permission() for permission in roles_required(Role.TESTER)]
        return [permission() for permission in VIEWERS]

    upload_handler: StreamingHashUploadHandler | None = None

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Whatever happened (refused by CSRF, role or program state after the body was
            # read, or stored), no scratch file outlives the request.
            if self.upload_handler is not None:
                self.upload_handler.discard_all()

    def initialize_request(self, request, *args, **kwargs):
        # Installed before anything reads the body: the CSRF check of a session request
        # reads request.POST, which would otherwise parse the upload with Django's defaults.
        self.upload_handler = None
        if request.method == "POST":
            self.upload_handler = StreamingHashUploadHandler(
                request, max_bytes=lambda: media_policy().max_upload_bytes)
            request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(parameters=[
        OpenApiParameter("status", str, enum=SubmissionStatus.values),
        OpenApiParameter("cohort", str, description="A cohort's slug."),
    ], responses={200: s.SubmissionOutput(many=True), **errors(400, 401, 403)})
    def get(self, request: Request) -> Response:
        queryset = SubmissionFilter(request.query_params,
                                    queryset=submissions_visible_to(request.user))
        if not queryset.is_valid():
            raise InvalidInput(fields={k: list(v) for k, v in queryset.errors.items()})
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset.qs, request, view=self)
        return paginator.get_paginated_response(
            s.SubmissionOutput(page, many=True, context={"request": request}).data)

    @extend_schema(request={"multipart/form-data": s.UploadInput},
                   responses={201: s.CreatedOutput, **errors(400, 401, 403, 409, 413)})
    def post(self, request: Request) -> Response:
        handler = self.upload_handler
        data = s.UploadInput(data=request.data)
        if handler.too_large:
            raise UploadTooLarge(handler.max_bytes)
        data.is_valid(raise_exception=True)
        submission = submission_upload(
            actor=request.user, upload=data.validated_data["file"].received,
            prompt=data.validated_data["prompt"], title=data.validated_data["title"],
            submit=data.validated_data["submit"])
        return Response({"id": submission.pk, "status": submission.status},
                        status=status.HTTP_201_CREATED)


class SubmissionDetailApi(APIView):
    permission_classes = VIEWERS

    @extend_schema(responses={200: s.SubmissionOutput, **errors(401, 403, 404)})
    def get(self, request: Request, submission_id) -> Response:
        return Response(_detail(request, _visible_or_404(request, submission_id)))


class _OwnerMoveApi(APIView):
    permission_classes = roles_required(Role.TESTER)
    service = staticmethod(submission_submit)
    done = ""

    def post(self, request: Request, submission_id) -> Response:
        submission = self.service(actor=request.user,
                                  submission=_owned_or_404(request, submission_id))
        return Response({"detail": self.done, "status": submission.status})


@extend_schema(request=None, responses={200: s.DetailMessage, **errors(401, 403, 404, 409)})
class SubmissionSubmitApi(_OwnerMoveApi):
    """Submit a draft to the approval gate."""

    done = "Submitted: the clip is queued for processing and review."


@extend_schema(request=None, responses={200: s.DetailMessage, **errors(401, 403, 404, 409)})
class SubmissionWithdrawApi(_OwnerMoveApi):
    """Withdraw a clip before a decision."""

    service = staticmethod(submission_withdraw)
    done = "Withdrawn."


class SubmissionShareApi(APIView):
    permission_classes = roles_required(Role.TESTER, Role.PROGRAM_ADMIN)

    @extend_schema(request=None, responses={201: s.ShareOutput, **errors(401, 403, 404, 409)})
    def post(self, request: Request, submission_id) -> Response:
        link = share_create(actor=request.user, submission=_owned_or_404(request, submission_id))
        url = request.build_absolute_uri(reverse("share-page", args=[link.token]))
        return Response({"url": url, "token": link.token}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **errors(401, 403, 404)})
    def delete(self, request: Request, submission_id) -> Response:
        submission = _visible_or_404(request, submission_id)
        if not (is_owner(request.user, submission)
                or request.user.has_role(Role.PROGRAM_ADMIN)):
            raise Http404
        share_revoke(actor=request.user, submission=submission)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubmissionMediaApi(APIView):
    """The clip's files: original (owner and staff, as an attachment), thumbnail,
    contact sheet, watermarked rendition. 404 until the file exists."""

    permission_classes = VIEWERS

    @extend_schema(responses={(200, "application/octet-stream"): bytes,
                              (206, "application/octet-stream"): bytes,
                              **errors(401, 403, 404)})
    def get(self, request: Request, submission_id, kind: str):
        submission = _visible_or_404(request, submission_id)
        if kind not in MediaKind.values or not can_fetch_media(request.user, submission, kind):
            raise Http404
        name = submission.media_name(kind)
        if not name:
            raise Http404
        return media_response(request, name, kind, label=str(submission.pk)[:8])


class GenerationCreateApi(APIView):
    permission_classes = roles_required(Role.TESTER)

    @extend_schema(request=s.GenerationInput,
                   responses={202: s.CreatedOutput, **errors(400, 401, 403, 409)})
    def post(self, request: Request) -> Response:
        data = s.GenerationInput(data=request.data)
        data.is_valid(raise_exception=True)
        submission = submission_generate(actor=request.user, **data.validated_data)
        return Response({"id": submission.pk, "status": submission.status},
                        status=status.HTTP_202_ACCEPTED)
