"""Session authentication whose CSRF failures carry their own error code.

Kept apart from ``core.api``: DRF imports authentication classes while ``rest_framework.views``
is still loading, so this module may import nothing from there.
"""

from typing import Any

from rest_framework import authentication, exceptions


class CsrfFailed(exceptions.PermissionDenied):
    default_code = "auth.csrf_failed"


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, with CSRF failures reported under their own code."""

    def enforce_csrf(self, request: Any) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as denied:
            raise CsrfFailed(
                "CSRF check failed: send the X-CSRFToken header with session requests.",
                code="auth.csrf_failed",
            ) from denied
