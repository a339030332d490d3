"""The token watch: notices an API token used the way a leaked one is, and acts on it.

Within a one-hour window (aligned to the hour on ``core.clock``, so it runs on simulated time
too) a token is anomalous when it is used

- from more distinct client addresses than the program's ``token_max_addresses``, or
- for more requests than ``max(token_rate_factor * usual_per_hour, token_rate_floor)``, where
  ``usual_per_hour`` is its owner's usual rate (``TokenUsage``).

The request that crosses a threshold records one ``security.token_anomaly`` event for that
user and window and, by the program's ``token_anomaly_action``, revokes the token (and that
very request is refused) or e-mails the program admins (and the token keeps working).

Cost on every request. The counting is shared by all worker processes through Django's cache
(Redis in production), under keys ``tw:<user id>:<hour number>:<part>``:

- ``count``: the window's requests, an atomic counter (``incr``, every request);
- ``limits``: the window's thresholds, computed when it opens;
- ``a0`` ... ``aN``: keyed digests of the client addresses seen, one per slot up to the limit
  plus one, each slot taken with an atomic ``add``; ``a0`` holds the token's usual address;
- ``flagged``: set once the window crossed a threshold (``add``).

``limits`` and ``a0`` never change within a window once set, so each process remembers them
per token: a request from the token's usual address makes one cache call (the count) and no
database query. Another address costs a read of the slots, and a new one an ``add``.

The database is read and written once per user and window, when the window opens (its first
request reads the policy, learns from the user's previous window and computes the limits),
and when an anomaly is recorded. Policy changes to the thresholds therefore apply from the
next window; the action is read when an anomaly is recorded, so it applies at once.

The usual rate is an exponentially weighted moving average of the request counts of the hours
the token was used in. Idle hours are not counted as zeros: testers work in sessions, so a
burst is measured against an ordinary hour of work. When a window opens, the previous window
the user was active in is folded in, read from its counter (kept in the cache for a week).
An hour that raised an anomaly is not learnt from, so a leak never teaches the watch that
leaks are usual.

Losing cache entries (eviction, a restart) only makes the watch see less: a lost counter
restarts at zero, a lost address slot is refilled. One event per user and window is
settled in the database (``TokenUsage.last_anomaly_window``); the cache only spares the
database the question. If the cache fails, the request goes on unwatched and a warning is
logged: the watch never refuses a request because of its own trouble.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache as memoize
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token

import audit
from accounts.models import TokenAnomalyAction, TokenUsage, User, token_fingerprint
from accounts.selectors import program_admin_emails, token_watch_policy
from accounts.services.auth import token_revoke_of
from audit.models import Event
from core import clock

logger = logging.getLogger(__name__)

TOKEN_WATCH = audit.SystemActor("token-watch")
WINDOW = timedelta(hours=1)
# The newest hour's weight in the usual rate: roughly the last ten hours of use count.
LEARNING_RATE = 0.2

_COUNTER_TTL_S = 7 * 24 * 3600  # the next window may open days later and still learn from it
_WINDOW_TTL_S = 2 * 3600  # an hour past the window's end, for servers whose clocks differ
_WARN_EVERY_S = 60.0


@dataclass(frozen=True)
class Crossing:
    """A threshold crossed in a window: the figures its event records."""

    reason: str  # "distinct_addresses" or "rate"
    observed: int
    threshold: int
    usual_per_hour: float


def observe_token_use(token: Token, *, client_ip: str, user_agent: str = "") -> str | None:
    """Count one request made with ``token`` from ``client_ip``, and act if it crosses a
    threshold of the program's policy.

    Called by the API's token authentication after each successful authentication, with the
    token's user loaded. Answers what was done on this very request: ``"revoked"`` (the caller
    must refuse the request), ``"alerted"``, or None (nothing to do, already done in this
    window, or the cache is unavailable).
    """
    start = window_start(clock.now())
    try:
        crossing = _count_and_check(token, start, client_ip)
    except _CacheUnavailable as failure:
        _warn_cache_unavailable(failure.__cause__)
        return None
    if crossing is None:
        return None
    return token_anomaly_record(token, window=start, crossing=crossing,
                                context={"ip": client_ip, "user_agent": user_agent[:256]})


def window_start(moment: datetime) -> datetime:
    """The start of the one-hour window holding ``moment`` (UTC, on the hour)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def token_anomaly_record(token: Token, *, window: datetime, crossing: Crossing,
                         context: dict[str, Any] | None = None) -> str | None:
    """Record the anomaly and act by the program's policy, once per user and window.

    Answers ``"revoked"`` or ``"alerted"``, or None when this window already had its anomaly.
    """
    policy = token_watch_policy()
    action = "revoked" if policy.action == TokenAnomalyAction.REVOKE else "alerted"
    with transaction.atomic():
        TokenUsage.objects.get_or_create(user_id=token.user_id)
        # A conditional update decides which request records the window's anomaly, on any
        # database and whatever the cache has lost.
        first = (TokenUsage.objects.filter(user_id=token.user_id)
                 .filter(Q(last_anomaly_window__isnull=True) | Q(last_anomaly_window__lt=window))
                 .update(last_anomaly_window=window))
        if not first:
            return None
        event = audit.record("security.token_anomaly", actor=TOKEN_WATCH, subject=token.user,
                             context=context, data={
                                 "token_fingerprint": token_fingerprint(token.key),
                                 "reason": crossing.reason,
                                 "observed": crossing.observed,
                                 "threshold": crossing.threshold,
                                 "usual_per_hour": crossing.usual_per_hour,
                                 "window_start": window,
                                 "window_s": int(WINDOW.total_seconds()),
                                 "action": action,
                             })
        if action == "revoked":
            token_revoke_of(actor=TOKEN_WATCH, owner=token.user, via="token_watch")
        else:
            from accounts.tasks import token_anomaly_alert

            event_id = event.pk
            transaction.on_commit(lambda: token_anomaly_alert.delay(event_id))
    return action


def token_anomaly_notify(event_id: int) -> bool:
    """E-mail the program admins about a ``security.token_anomaly`` event; False if there is
    nothing to send (no such event, or no admin with an e-mail address).

    Sent at least once: a retry after the mail server accepted the message but before the
    task was acknowledged sends it again.
    """
    event = Event.objects.filter(pk=event_id, action="security.token_anomaly").first()
    recipients = program_admin_emails()
    if event is None or not recipients:
        return False
    context = {
        "data": event.data,
        "owner": User.objects.filter(pk=event.subject_id).first(),
        "window_start": parse_datetime(event.data["window_start"]),
        "page": settings.SITE_URL.rstrip("/") + reverse("accounts:program_admin"),
    }
    send_mail(
        subject=render_to_string("accounts/email_token_anomaly_subject.txt", context).strip(),
        message=render_to_string("accounts/email_token_anomaly.txt", context),
        from_email=None, recipient_list=recipients)
    return True


# --- Counting in the cache ------------------------------------------------------------


class _CacheUnavailable(Exception):
    """The cache failed; the request goes on unwatched."""


class _Counters:
    """One user's counters for one window, in the cache. Every failure of the cache becomes
    ``_CacheUnavailable``."""

    def __init__(self, user_id: int, start: datetime):
        # Short keys: backends check every character of every key on every call.
        self.prefix = f"tw:{user_id}:{int(start.timestamp()) // 3600}:"
        # Resolved once: the ``cache`` proxy's lookup costs as much as a local-memory get.
        self.backend = caches["default"]

    def _call(self, operation: str, *args: Any) -> Any:
        try:
            return getattr(self.backend, operation)(*args)
        except ValueError:  # ``incr`` of a missing key: not a failure
            raise
        except Exception as error:  # any backend's connection or protocol error
            raise _CacheUnavailable from error

    def requests(self) -> int | None:
        return self._call("get", self.prefix + "count")

    def count_request(self) -> int:
        key = self.prefix + "count"
        try:
            return self._call("incr", key)
        except ValueError:  # the window's first request (or its counter was evicted)
            if self._call("add", key, 1, _COUNTER_TTL_S):
                return 1
            return self._call("incr", key)  # another process made it first

    def limits_and_first_address(self) -> tuple[dict[str, Any] | None, str | None]:
        """The window's limits and the address in its first slot, in one call (each call
        costs a round trip, and more: Django's Redis backend builds a client per call)."""
        found = self._call("get_many", [self.prefix + "limits", self.prefix + "a0"])
        return found.get(self.prefix + "limits"), found.get(self.prefix + "a0")

    def set_limits(self, limits: dict[str, Any]) -> None:
        self._call("set", self.prefix + "limits", limits, _WINDOW_TTL_S)

    def address_beyond_limit(self, address: str, max_addresses: int,
                             first_address: str | None) -> bool:
        """Whether ``address`` is new to the window and one more than ``max_addresses``.

        The window keeps up to ``max_addresses + 1`` addresses in as many slots, each taken
        with an atomic ``add``, so concurrent requests from new addresses each get a slot of
        their own and exactly one of them takes the last. A slot lost to eviction is taken
        again by the next new address: the watch may then count one address fewer, never one
        more.
        """
        slots = [f"{self.prefix}a{slot}" for slot in range(max_addresses + 1)]
        # Most tokens are used from one address, which then holds the first slot.
        if first_address == address:
            return False
        taken = {slots[0]: first_address} if first_address is not None else {}
        taken.update(self._call("get_many", slots[1:]))
        if address in taken.values():
            return False
        for slot in slots:
            if slot in taken:
                continue
            if self._call("add", slot, address, _WINDOW_TTL_S):
                return slot == slots[-1]
            if self._call("get", slot) == address:  # the same address, in a concurrent request
                return False
        return True  # every slot holds another address: beyond the limit, already crossed

    def flag(self, reason: str) -> bool:
        """Mark the window as having crossed a threshold; False if it already was."""
        return self._call("add", self.prefix + "flagged", reason, _WINDOW_TTL_S)


# Per process, for each token: its current window's limits and first address. Neither changes
# within a window once set, so a request from a token's usual address costs one cache call
# (the count) instead of two. Keyed by the token's key, so a new token starts afresh.
_known_windows: dict[str, tuple[str, dict[str, Any], str]] = {}
_KNOWN_WINDOWS_MAX = 10_000


def _count_and_check(token: Token, start: datetime, client_ip: str) -> Crossing | None:
    """Count the request in its window; the crossing it makes, if it is the first to make
    one in this window as far as the cache knows."""
    counters = _Counters(token.user_id, start)
    requests = counters.count_request()
    address = _address_digest(client_ip)
    known = _known_windows.get(token.key)
    if known is not None and known[0] == counters.prefix and known[2] == address:
        limits, beyond = known[1], False
    else:
        limits, first_address = counters.limits_and_first_address()
        if limits is None:
            limits = _window_open(token.user_id, start)
            counters.set_limits(limits)
        beyond = counters.address_beyond_limit(address, limits["max_addresses"], first_address)
        if first_address == address:
            if len(_known_windows) >= _KNOWN_WINDOWS_MAX:
                _known_windows.clear()
            _known_windows[token.key] = (counters.prefix, limits, address)

    max_addresses, usual = limits["max_addresses"], limits["usual_per_hour"]
    if beyond:
        crossing = Crossing("distinct_addresses", max_addresses + 1, max_addresses, usual)
    elif requests > limits["rate_limit"]:
        crossing = Crossing("rate", requests, limits["rate_limit"], usual)
    else:
        return None
    # Later requests of a flagged window stop here, without asking the database.
    return crossing if counters.flag(crossing.reason) else None


def _window_open(user_id: int, start: datetime) -> dict[str, Any]:
    """The first request of a window: learn from the user's previous window, and compute this
    window's limits. Idempotent: only the first process to open a window learns."""
    policy = token_watch_policy()
    with transaction.atomic():
        usage, _ = TokenUsage.objects.select_for_update().get_or_create(user_id=user_id)
        if usage.current_window is None or usage.current_window < start:
            previous = usage.current_window
            if previous is not None and previous != usage.last_anomaly_window:
                _learn(usage, _Counters(user_id, previous).requests())
            usage.current_window = start
            usage.save(update_fields=["usual_per_hour", "hours_learned", "current_window"])
    usual = usage.usual_per_hour
    # Rounded before the ceiling, or float error would add one (2.2 * 25 is 55.00000000000001).
    rate_limit = max(math.ceil(round(policy.rate_factor * usual, 6)), policy.rate_floor)
    return {"rate_limit": rate_limit, "max_addresses": policy.max_addresses,
            "usual_per_hour": round(usual, 2)}


def _learn(usage: TokenUsage, requests: int | None) -> None:
    """Fold one hour of use into the usual rate (the first hour sets it)."""
    if not requests:  # the counter is gone: nothing to learn from
        return
    if usage.hours_learned == 0:
        usage.usual_per_hour = float(requests)
    else:
        usage.usual_per_hour += LEARNING_RATE * (requests - usage.usual_per_hour)
    usage.hours_learned += 1


@memoize
def _digest_key() -> bytes:
    return hashlib.sha256(b"token-watch:" + settings.SECRET_KEY.encode()).digest()


def _address_digest(client_ip: str) -> str:
    # Keyed, so the cache never holds a value that hashing every IPv4 address would undo.
    return hashlib.blake2b(client_ip.encode(), key=_digest_key(), digest_size=8).hexdigest()


_last_warning = -math.inf


def _warn_cache_unavailable(error: BaseException | None) -> None:
    # At most once a minute per process (real time, not the program's clock): an outage
    # would otherwise log a line per request.
    global _last_warning
    moment = time.monotonic()
    if moment - _last_warning >= _WARN_EVERY_S:
        _last_warning = moment
        logger.warning("Token watch skipped: the cache is unavailable (%r).", error)
