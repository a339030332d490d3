"""Who may call each accounts endpoint: every route by each of {anonymous, tester, moderator,
researcher, program_admin}, with the exact answer, and nothing changed when refused."""

import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Program, ProgramStatus, Role
from tests.factories import PASSWORD, InvitationFactory, UserFactory

ROLES = ["anonymous", "tester", "moderator", "researcher", "program_admin"]
ANYONE = frozenset(ROLES)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMIN = frozenset({"program_admin"})
LIVE_CODE = "a-live-invitation-code-for-the-matrix"
NEW_ACCOUNT = ["account.created", "invitation.redeemed", "terms.accepted", "token.created"]

# (url name, METHOD) → (who may, success status, events on success, program status before)
MATRIX = {
    ("auth-token", "POST"): (ANYONE, 200, ["auth.sign_in_succeeded", "token.created"],
                             ProgramStatus.OPEN),
    ("auth-token", "DELETE"): (SIGNED_IN, 204, ["token.revoked"], ProgramStatus.OPEN),
    ("me", "GET"): (SIGNED_IN, 200, [], ProgramStatus.OPEN),
    ("program", "GET"): (SIGNED_IN, 200, [], ProgramStatus.OPEN),
    ("program-suspend", "POST"): (ADMIN, 200, ["program.suspended"], ProgramStatus.OPEN),
    ("program-pause", "POST"): (ADMIN, 200, ["program.paused"], ProgramStatus.OPEN),
    ("program-resume", "POST"): (ADMIN, 200, ["program.resumed"], ProgramStatus.PAUSED),
    ("invitations", "GET"): (ADMIN, 200, [], ProgramStatus.OPEN),
    ("invitations", "POST"): (ADMIN, 201, ["invitation.created"], ProgramStatus.OPEN),
    ("invitation-redeem", "POST"): (ANYONE, 201, NEW_ACCOUNT, ProgramStatus.OPEN),
    ("invitation-revoke", "POST"): (ADMIN, 200, ["invitation.revoked"], ProgramStatus.OPEN),
    ("cohorts", "GET"): (frozenset({"program_admin", "researcher"}), 200, [],
                         ProgramStatus.OPEN),
}
CASES = [(route, role) for route in MATRIX for role in ROLES]
CASE_IDS = [f"{name}-{method}-{role}" for (name, method), role in CASES]


def prepare(route, caller):
    """Put the world in the row's state; answer the request's path and JSON body."""
    name, _ = route
    Program.objects.filter(pk=Program.SINGLETON_ID).update(status=MATRIX[route][3], reason="r")
    invitation = InvitationFactory(code=LIVE_CODE)
    if caller is not None and route != ("auth-token", "POST"):
        Token.objects.create(user=caller)  # signing in, by contrast, creates one
    someone = caller or UserFactory(username="someone")
    body = {
        "auth-token": {"username": someone.username, "password": PASSWORD},
        "program-suspend": {"reason": "matrix"},
        "program-pause": {"reason": "matrix"},
        "invitations": {"cohort": "creative-partners"},
        "invitation-redeem": {"code": LIVE_CODE, "username": "newbie",
                              "email": "newbie@example.org",
                              "password": "a long enough password 1", "accept_terms": True},
    }.get(name, {})
    kwargs = {"invitation_id": invitation.pk} if name == "invitation-revoke" else {}
    return reverse(name, kwargs=kwargs), body


def test_matrix_covers_every_accounts_route(accounts_api_routes):
    assert set(MATRIX) == accounts_api_routes


@pytest.mark.parametrize(("route", "role"), CASES, ids=CASE_IDS)
def test_authorization(route, role, client_of, anonymous_client, accounts_state, events,
                       event_mark):
    # given a caller in this role, and the state the endpoint needs
    caller = None if role == "anonymous" else UserFactory(roles=[Role(role)])
    client = anonymous_client if caller is None else client_of(caller)
    path, body = prepare(route, caller)
    before, mark = accounts_state(), event_mark()
    allowed, success, success_events, _ = MATRIX[route]

    # when
    response = client.generic(route[1], path, json.dumps(body), content_type="application/json")

    # then
    if role in allowed:
        assert response.status_code == success, response.content
        assert events(since=mark) == success_events
    elif role == "anonymous":
        assert response.status_code == 401
        assert response.json() == {"code": "auth.not_authenticated",
                                   "message": "Sign in to do this."}
        assert response["WWW-Authenticate"] == "Token"
        assert accounts_state() == before
    else:
        assert response.status_code == 403
        assert response.json() == {"code": "permission.denied",
                                   "message": "You are not allowed to do this."}
        assert accounts_state() == before

