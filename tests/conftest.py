"""Shared fixtures: API clients per role, audit helpers, and the rule that CI never skips."""

import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import Event
from tests.factories import PASSWORD, UserFactory

# Browser tests run Playwright's sync API inside pytest's event loop, next to the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_unless_ci(reason: str) -> None:
    """Skip on a laptop that lacks a service; in CI the same gap is a failure."""
    if IN_CI:
        pytest.fail(f"CI must not skip: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; every test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        skip_unless_ci("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def password():
    return PASSWORD


def _client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def tester(db):
    return UserFactory(roles=[Role.TESTER])


@pytest.fixture
def moderator(db):
    return UserFactory(roles=[Role.MODERATOR])


@pytest.fixture
def researcher(db):
    return UserFactory(roles=[Role.RESEARCHER])


@pytest.fixture
def program_admin(db):
    return UserFactory(roles=[Role.PROGRAM_ADMIN])


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def client_of():
    """``client_of(user)``: an API client authenticated as ``user`` (CSRF not enforced)."""
    return _client_for


@pytest.fixture
def events():
    """``events()``: the actions recorded so far, in order; ``events(since=id)`` after a mark."""

    def actions(since: int = 0) -> list[str]:
        return list(Event.objects.filter(id__gt=since).values_list("action", flat=True))

    return actions


@pytest.fixture
def event_mark(db):
    """The id of the latest event now, to compare what a step recorded afterwards."""
    def mark() -> int:
        last = Event.objects.order_by("-id").values_list("id", flat=True).first()
        return last or 0

    return mark


# --- Browser tests -----------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        skip_unless_ci(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"],
    }
