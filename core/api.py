"""The API's shared machinery: one error shape and cursor pagination.

Every error leaves the API as ``{"code", "message", "fields"?}`` (API.md, Conventions).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

# DRF's own exceptions, mapped to the codes API.md promises.
_DRF_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ParseError: ("request.malformed", "The request body could not be parsed."),
    exceptions.NotAuthenticated: ("auth.not_authenticated", "Sign in to do this."),
    exceptions.AuthenticationFailed: (
        "auth.authentication_failed",
        "Your credentials were not accepted; sign in again.",
    ),
    exceptions.PermissionDenied: ("permission.denied", "You are not allowed to do this."),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("request.method_not_allowed", "Method not allowed."),
    exceptions.NotAcceptable: ("request.not_acceptable", "No acceptable representation."),
    exceptions.UnsupportedMediaType: (
        "request.unsupported_media_type",
        "This content type is not accepted here.",
    ),
    exceptions.Throttled: ("request.throttled", "Too many requests; try again later."),
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def _messages(detail: Any) -> list[str]:
    """Plain messages from DRF's error detail, however nested (a list field reports
    ``{index: [errors]}``; a nested serializer ``{field: [errors]}``)."""
    if isinstance(detail, dict):
        return [message if isinstance(key, int) else f"{key}: {message}"
                for key, value in detail.items() for message in _messages(value)]
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in _messages(item)]
    return [str(detail)]


def _flatten_fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(name): _messages(messages) for name, messages in detail.items()}
    return {"non_field_errors": _messages(detail)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn every refusal into the documented JSON error; leave real bugs to the 500 handler."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)  # sets WWW-Authenticate, Retry-After
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "request.invalid", "Some fields are not valid.", _flatten_fields(exc.detail)
        )
        return response

    code, message = next(
        (pair for kind, pair in _DRF_CODES.items() if isinstance(exc, kind)),
        ("error", "The request could not be carried out."),
    )
    detail = getattr(exc, "detail", None)
    # Permission classes and our own APIExceptions carry a dotted code and a specific message.
    if isinstance(detail, exceptions.ErrorDetail) and "." in str(detail.code):
        code, message = str(detail.code), str(detail)
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        message = f"Too many requests; try again in {math.ceil(exc.wait)} seconds."
    response.data = error_body(code, message)
    return response


class ErrorSerializer(serializers.Serializer):
    """The error shape, for the OpenAPI schema."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   required=False)


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination (stable under inserts) answering ``{"results", "next", "previous"}``."""

    # A unique tie-breaker: rows made at the same instant (a batch, the simulated clock)
    # must still come in one fixed order, or pages would skip and repeat them.
    ordering = ("-created_at", "-pk")
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()}
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
            },
        }


def errors(*statuses: int) -> dict[int, Any]:
    """OpenAPI responses for the error statuses an endpoint may answer."""
    return dict.fromkeys(statuses, ErrorSerializer)
