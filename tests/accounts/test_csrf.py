"""CSRF on the API: session requests must carry the token; token requests need none."""

import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Program, ProgramStatus
from accounts.urls_api import urlpatterns
from tests.factories import PASSWORD, InvitationFactory

CSRF_FAILED = {"code": "auth.csrf_failed",
               "message": "CSRF check failed: send the X-CSRFToken header with session requests."}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
LIVE_CODE = "a-live-invitation-code-for-csrf"

# (url name, METHOD) → (program status before, success status, events on success)
CSRF_ROWS = {
    ("auth-token", "POST"): (ProgramStatus.OPEN, 200, ["auth.sign_in_succeeded"]),
    ("auth-token", "DELETE"): (ProgramStatus.OPEN, 204, ["token.revoked"]),
    ("program-suspend", "POST"): (ProgramStatus.OPEN, 200, ["program.suspended"]),
    ("program-pause", "POST"): (ProgramStatus.OPEN, 200, ["program.paused"]),
    ("program-resume", "POST"): (ProgramStatus.PAUSED, 200, ["program.resumed"]),
    ("invitations", "POST"): (ProgramStatus.OPEN, 201, ["invitation.created"]),
    ("invitation-redeem", "POST"): (ProgramStatus.OPEN, 201, [
        "account.created", "invitation.redeemed", "terms.accepted", "token.created"]),
    ("invitation-revoke", "POST"): (ProgramStatus.OPEN, 200, ["invitation.revoked"]),
}
ROW_IDS = [f"{name}-{method}" for name, method in CSRF_ROWS]


def prepare(route, admin):
    """Put the world in the row's state; answer the request's path and JSON body."""
    name, _ = route
    program_status = CSRF_ROWS[route][0]
    Program.objects.filter(pk=Program.SINGLETON_ID).update(status=program_status, reason="r")
    Token.objects.get_or_create(user=admin)
    invitation = InvitationFactory(code=LIVE_CODE)
    body = {
        "auth-token": {"username": admin.username, "password": PASSWORD},
        "program-suspend": {"reason": "CSRF test"},
        "program-pause": {"reason": "CSRF test"},
        "program-resume": {},
        "invitations": {"cohort": "creative-partners"},
        "invitation-redeem": {"code": LIVE_CODE, "username": "newbie",
                              "email": "newbie@example.org",
                              "password": "a long enough password 1", "accept_terms": True},
        "invitation-revoke": {},
    }[name]
    kwargs = {"invitation_id": invitation.pk} if name == "invitation-revoke" else {}
    return reverse(name, kwargs=kwargs), body


def session_client(user):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def send(client, route, path, body, **headers):
    return client.generic(route[1], path, json.dumps(body), content_type="application/json",
                          **headers)


def test_every_unsafe_accounts_route_has_a_row(accounts_api_routes):
    unsafe = {route for route in accounts_api_routes if route[1] in UNSAFE}
    assert {name for name, _ in accounts_api_routes} == {p.name for p in urlpatterns}
    assert unsafe == set(CSRF_ROWS)


@pytest.mark.parametrize("route", list(CSRF_ROWS), ids=ROW_IDS)
def test_session_write_without_the_csrf_header_is_refused(route, admin, accounts_state):
    # given a real session, and the csrftoken cookie, but no header
    client = session_client(admin)
    client.get("/sign-in/")
    assert client.cookies["csrftoken"].value
    path, body = prepare(route, admin)
    before = accounts_state()

    # when
    response = send(client, route, path, body)

    # then
    assert response.status_code == 403
    assert response.json() == CSRF_FAILED
    assert accounts_state() == before


@pytest.mark.parametrize("route", list(CSRF_ROWS), ids=ROW_IDS)
def test_session_write_with_a_wrong_csrf_token_is_refused(route, admin, accounts_state):
    # given
    client = session_client(admin)
    client.get("/sign-in/")
    path, body = prepare(route, admin)
    before = accounts_state()

    # when
    response = send(client, route, path, body, HTTP_X_CSRFTOKEN="x" * 32)

    # then
    assert response.status_code == 403
    assert response.json() == CSRF_FAILED
    assert accounts_state() == before


@pytest.mark.parametrize("route", list(CSRF_ROWS), ids=ROW_IDS)
def test_session_write_with_the_csrf_token_succeeds(route, admin, events, event_mark):
    # given the csrftoken cookie from a page
    client = session_client(admin)
    assert client.get("/sign-in/").status_code == 200
    token = client.cookies["csrftoken"].value
    path, body = prepare(route, admin)
    mark = event_mark()

    # when
    response = send(client, route, path, body, HTTP_X_CSRFTOKEN=token)

    # then
    assert response.status_code == CSRF_ROWS[route][1], response.content
    assert events(since=mark) == CSRF_ROWS[route][2]


@pytest.mark.parametrize("route", list(CSRF_ROWS), ids=ROW_IDS)
def test_token_write_needs_no_csrf_token(route, admin, events, event_mark):
    # given a client with an API token and no cookies at all
    path, body = prepare(route, admin)
    mark = event_mark()
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {admin.auth_token.key}")

    # when
    response = send(client, route, path, body)

    # then
    assert response.status_code == CSRF_ROWS[route][1], response.content
    assert events(since=mark) == CSRF_ROWS[route][2]
    assert not client.cookies


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/program/", "/api/v1/invitations/",
                                  "/api/v1/cohorts/"])
def test_session_reads_need_no_csrf_token(path, admin):
    # given
    client = session_client(admin)

    # when
    response = client.get(path)

    # then
    assert response.status_code == 200
