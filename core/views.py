"""Error pages and the health check: JSON under /api/, HTML elsewhere."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from core.api import error_body


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code, message), status=status)
    context = {"status": status, "message": message}
    if status >= 500:
        # Rendered without the request's context processors: they read the database, which
        # may be the very thing that failed.
        return HttpResponse(render_to_string("core/error.html", context), status=status)
    return render(request, "core/error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "request.invalid", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission.denied", "You are not allowed to do this.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server.error", "Something went wrong on our side.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        "auth.csrf_failed",
        "This form expired or was sent from elsewhere. Reload the page and try again.",
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for load balancers and compose: answers when the database does."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
