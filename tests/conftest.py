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


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would, and land on the home page."""
    from playwright.sync_api import expect

    page.goto(base_url + "/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + "/home/")


@pytest.fixture
def new_page(browser):
    """``new_page()``: a page in a browser context of its own (a person's own cookies), all
    closed when the test ends, so no page keeps renewing leases into the next test."""
    contexts = []

    def make():
        contexts.append(browser.new_context())
        return contexts[-1].new_page()

    yield make
    for context in contexts:
        context.close()


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


# --- Accounts API tests ------------------------------------------------------------------


@pytest.fixture
def frozen_now():
    """Services read ``core.clock`` at this fixed instant for the whole test; returns it."""
    from datetime import UTC, datetime

    from core import clock

    moment = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    with clock.use(lambda: moment):
        yield moment


@pytest.fixture
def token_client_of(db):
    """``token_client_of(user)``: an API client sending ``Authorization: Token <key>``."""
    from rest_framework.authtoken.models import Token

    def make(user, **defaults):
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient(**defaults)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def accounts_state(db):
    """``accounts_state()``: everything an accounts request may change, to compare before and
    after a refused one (program switch, invitations, tokens, accounts, the audit log)."""
    from rest_framework.authtoken.models import Token

    from accounts.models import Invitation, Program, TermsAcceptance, User

    def snapshot() -> dict:
        return {
            "program": list(Program.objects.values("status", "reason", "changed_at",
                                                   "changed_by")),
            "invitations": list(Invitation.objects.order_by("pk").values()),
            "tokens": sorted(Token.objects.values_list("key", "user_id")),
            "users": sorted(User.objects.values_list("pk", "username", "is_active")),
            "terms": sorted(TermsAcceptance.objects.values_list("user_id", "version")),
            "events": list(Event.objects.order_by("id").values_list("id", "action")),
        }

    return snapshot


# --- Web page tests ----------------------------------------------------------------------


@pytest.fixture
def web_client(db):
    """``web_client(user=None)``: Django's test client enforcing CSRF as a browser would,
    signed in as ``user`` when given (no sign-in event is recorded)."""
    from django.test import Client

    def make(user=None):
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def csrf_token():
    """``csrf_token(client, page="/sign-in/")``: GET ``page`` and return the token of the
    csrftoken cookie, as the page's forms would send it."""

    def token(client, page: str = "/sign-in/") -> str:
        client.get(page)
        return client.cookies["csrftoken"].value

    return token


def api_routes(urlconf: str) -> set[tuple[str, str]]:
    """``{(url name, METHOD)}`` for every route of the URL module ``urlconf`` as the URL
    resolver serves it, so a new route or method shows up in the tests that enumerate them."""
    from django.urls import URLResolver, get_resolver

    found = set()

    def walk(patterns, inside):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                module = getattr(entry.urlconf_name, "__name__", entry.urlconf_name)
                walk(entry.url_patterns, inside or module == urlconf)
            elif inside:
                view = entry.callback.view_class
                found.update((entry.name, method.upper())
                             for method in ("get", "post", "put", "patch", "delete")
                             if hasattr(view, method))

    walk(get_resolver().url_patterns, inside=False)
    return found


@pytest.fixture
def accounts_api_routes():
    return api_routes("accounts.urls_api")


# --- A real Celery worker ----------------------------------------------------------------

@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real worker process on the configured broker, sharing this test's database and
    files. Needs PostgreSQL and a broker (CI has both); skipped elsewhere."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from config.celery_app import app

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if connection.vendor != "postgresql" or not broker:
        skip_unless_ci("a real worker needs PostgreSQL (DATABASE_URL) and a broker "
                       "(CELERY_BROKER_URL)")
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "TEST_VAR_DIR": str(settings.VAR_DIR),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    app.control.purge()  # nothing left over from an earlier run
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--without-mingle", "--without-gossip", "--loglevel=WARNING"],
        cwd=Path(__file__).resolve().parent.parent, env=env)
    try:
        for _ in range(100):
            if app.control.ping(timeout=0.2):
                break
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}")
            time.sleep(0.1)
        else:
            pytest.fail("the worker did not answer a ping within 30 s")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


# --- Clips and tasks ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("clips")


def _render(folder, name: str, **options):
    from submissions.generator import render_clip

    path = folder / name
    if not path.exists():
        render_clip(out_path=path, watermark_text="TEST", **options)
    return path


@pytest.fixture(scope="session")
def tiny_clip(clip_dir):
    """A valid 1 s 320x180 H.264 MP4."""
    return _render(clip_dir, "tiny.mp4", prompt="a red fox at dawn", seed=7, duration_s=1,
                   width=320, height=180)


@pytest.fixture(scope="session")
def long_clip(clip_dir):
    """A valid clip longer than a 2 s policy (tests lower the program's limit)."""
    return _render(clip_dir, "long.mp4", prompt="a slow river", seed=3, duration_s=3,
                   width=320, height=180, fps=12)


@pytest.fixture
def eager_tasks(settings):
    """Run Celery tasks in-process as they are sent (on commit), whatever the broker."""
    from config.celery_app import app as celery_app

    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
