"""OpenAPI extensions, so the schema describes the platform's own authentication classes."""

from drf_spectacular.authentication import SessionScheme


class PlatformSessionScheme(SessionScheme):
    target_class = "core.authentication.SessionAuthentication"
