"""API token authentication that has every token-authenticated request counted by the token
watch (``accounts.services.token_watch``)."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions

from accounts.services.token_watch import observe_token_use
from core.request import client_ip


class TokenRevoked(exceptions.AuthenticationFailed):
    default_code = "auth.token_revoked"


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, watched: the request that makes the watch revoke its
    token is refused at once (401 ``auth.token_revoked``), like every later one."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        authenticated = super().authenticate(request)
        if authenticated is None:
            return None
        _user, token = authenticated
        action = observe_token_use(token, client_ip=client_ip(request),
                                   user_agent=request.META.get("HTTP_USER_AGENT", ""))
        if action == "revoked":
            raise TokenRevoked(
                "This API token was revoked: it was used the way a shared or leaked token is. "
                "Sign in again for a new one.", code="auth.token_revoked")
        return authenticated
