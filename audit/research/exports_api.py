"""The research data API: the events list and the streamed dataset exports (API.md,
"Research"; the columns are documented in docs/datasets.md)."""

from __future__ import annotations

import base64
import binascii

from django.db import transaction
from django.http import StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from audit.research import access
from audit.research.access import research_permissions
from audit.research.datasets import get_dataset
from audit.research.errors import UnknownDataset, UnknownFormat
from audit.research.exports import (
    CONTENT_TYPES,
    FORMATS,
    export_page,
    export_prepare,
    export_stream,
)
from audit.research.filters import FILTERS, parse_filters
from audit.services import record
from core.api import CursorPagination, errors

STUDY = OpenApiParameter(
    "study", str, description="The study to read through (its slug); needed only by a "
                              "researcher of several studies.")
SINCE = OpenApiParameter("since", OpenApiTypes.DATETIME,
                         description="From this time on (inclusive); ISO 8601, UTC unless an "
                                     "offset is given; a date means its midnight.")
UNTIL = OpenApiParameter("until", OpenApiTypes.DATETIME, description="Before this time.")
ACTION = OpenApiParameter("action", str, description="One action, such as review.decided "
                                                     "(the events dataset only).")
COHORT = OpenApiParameter("cohort", str, description="A cohort's slug.")
SUBJECT = OpenApiParameter("subject_id", str, description="A subject's id: a clip's UUID, or a "
                                                          "person's pseudonym (events).")


class EventOutput(serializers.Serializer):
    """One event of the events dataset (docs/datasets.md)."""

    id = serializers.IntegerField()
    seq = serializers.IntegerField(allow_null=True)
    leaf_hash = serializers.CharField(allow_null=True)
    hash = serializers.CharField(allow_null=True)
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor_type = serializers.ChoiceField(choices=["user", "system", "anonymous"])
    actor = serializers.CharField(allow_null=True, help_text="A pseudonym, or a system actor.")
    actor_role = serializers.CharField(allow_null=True)
    subject_type = serializers.CharField(allow_null=True)
    subject_id = serializers.CharField(allow_null=True)
    data = serializers.DictField()
    actor_username = serializers.CharField(allow_null=True, required=False,
                                           help_text="Only for studies granted identities.")
    context = serializers.DictField(allow_null=True, required=False,
                                    help_text="Only for studies granted client context.")


class _FirstRenderer(BaseContentNegotiation):
    """Exports answer with their file whatever the client accepts; errors in JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _cursor(request: Request) -> tuple[int | None, int | None]:
    """(after, before) from the opaque ``cursor`` parameter."""
    token = request.query_params.get("cursor")
    if not token:
        return None, None
    try:
        direction, _, key = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        value = int(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise NotFound("Invalid cursor.") from None
    if direction == "a":
        return value, None
    if direction == "b":
        return None, value
    raise NotFound("Invalid cursor.")


def _link(request: Request, direction: str, key: int) -> str:
    token = base64.urlsafe_b64encode(f"{direction}:{key}".encode()).decode()
    return replace_query_param(request.build_absolute_uri(), "cursor", token)


class EventListApi(APIView):
    """The audit log through the study's pseudonyms, oldest first: the same rows and values
    as the events dataset."""

    permission_classes = research_permissions()
    pagination_class = CursorPagination

    @extend_schema(
        parameters=[STUDY, ACTION, SINCE, UNTIL, COHORT, SUBJECT],
        responses={200: EventOutput(many=True), **errors(400, 401, 403, 404)})
    def get(self, request: Request) -> Response:
        dataset = get_dataset("events")
        scope = request.research_scope
        people = access.people(scope)
        filters = parse_filters(request.query_params, dataset, people)
        after, before = _cursor(request)
        limit = CursorPagination().get_page_size(request)
        export = export_prepare(dataset, scope, filters, people, after=after, before=before)
        rows, more = export_page(export, limit=limit)
        key = dataset.key
        following = preceding = None
        if rows:
            if more or before is not None:
                following = _link(request, "a", rows[-1][key])
            if (more and before is not None) or after is not None:
                preceding = _link(request, "b", rows[0][key])
        elif before is not None:
            following = remove_query_param(request.build_absolute_uri(), "cursor")
        return Response({"results": rows, "next": following, "previous": preceding})


class ExportApi(APIView):
    """A dataset as a file, streamed: ``events``, ``submissions`` or ``decisions`` (and any
    other registered dataset) as ``csv``, ``jsonl`` or ``parquet``."""

    permission_classes = research_permissions()
    content_negotiation_class = _FirstRenderer
    format_is_a_path_parameter = True  # see audit.research.schema

    def get_format_suffix(self, **kwargs):
        return None  # ``format`` here names the file's format, not a renderer

    @extend_schema(
        operation_id="research_export",
        parameters=[
            OpenApiParameter("dataset", str, OpenApiParameter.PATH,
                             description="events, submissions, decisions, ..."),
            OpenApiParameter("format", str, OpenApiParameter.PATH, enum=list(FORMATS)),
            STUDY, SINCE, UNTIL, ACTION, COHORT, SUBJECT],
        responses={
            **{(200, CONTENT_TYPES[name].split(";")[0]): OpenApiResponse(
                OpenApiTypes.BINARY, description="The dataset as a file: CSV with a header row, "
                                                 "JSON Lines, or Apache Parquet.")
               for name in FORMATS},
            **errors(400, 401, 403, 404)})
    def get(self, request: Request, dataset: str, format: str) -> StreamingHttpResponse:
        found = get_dataset(dataset)
        if found is None:
            raise UnknownDataset()
        if format not in FORMATS:
            raise UnknownFormat()
        scope = request.research_scope
        people = access.people(scope)
        filters = parse_filters(request.query_params, found, people)
        with transaction.atomic():
            record("research.exported", actor=request.user, data={
                "dataset": found.name, "format": format, "study": scope.label,
                "filters": {name: request.query_params[name] for name in FILTERS
                            if request.query_params.get(name)}})
        export = export_prepare(found, scope, filters, people)
        response = StreamingHttpResponse(export_stream(export, format),
                                         content_type=CONTENT_TYPES[format])
        response["Content-Disposition"] = (
            f'attachment; filename="{scope.label}-{found.name}.{format}"')
        response["Cache-Control"] = "no-store"
        return response


urlpatterns = [
    path("events/", EventListApi.as_view(), name="research-events"),
    path("export/<slug:dataset>.<slug:format>", ExportApi.as_view(), name="research-export"),
]
