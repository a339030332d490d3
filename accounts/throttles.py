"""Rate limits on password and invitation guessing, shared by the API and the web pages.

They count requests per client address in the cache. They slow guessing down; they are not
the protection itself (codes carry 192 random bits, passwords are hashed slowly).
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class _ClientThrottle(SimpleRateThrottle):
    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInThrottle(_ClientThrottle):
    scope = "sign_in"


class RedeemThrottle(_ClientThrottle):
    scope = "redeem"


def throttle_wait(throttle_class: type[_ClientThrottle], request: Any) -> float | None:
    """For web views: None if the request may proceed, else seconds to wait."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return throttle.wait() or 1.0
