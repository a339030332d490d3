"""POST and DELETE auth/token/: a password for an API token, and revoking it (API.md)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Role
from audit.models import ActorType, Event
from tests.factories import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"
INVALID_CREDENTIALS = {
    "code": "auth.invalid_credentials",
    "message": "The username or password is not correct.",
}
AUTHENTICATION_FAILED = {
    "code": "auth.authentication_failed",
    "message": "Your credentials were not accepted; sign in again.",
}
CLIENT_CONTEXT = {"ip": "127.0.0.1", "user_agent": ""}


@pytest.fixture
def throttle_clock(monkeypatch):
    """DRF throttles read ``time.time``; a fixed instant makes their wait exact."""
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: 1_000_000.0))


def test_right_password_issues_a_token_and_records_the_sign_in(tester, anonymous_client,
                                                               events):
    # given a tester without a token
    assert not Token.objects.filter(user=tester).exists()

    # when
    response = anonymous_client.post(
        TOKEN_URL, {"username": tester.username, "password": PASSWORD}, format="json")

    # then
    token = Token.objects.get(user=tester)
    assert response.status_code == 200
    assert response.json() == {"token": token.key}
    assert events() == ["auth.sign_in_succeeded", "token.created"]
    signed_in, created = Event.objects.order_by("id")
    assert (signed_in.actor_type, signed_in.actor_id, signed_in.actor_role) == (
        ActorType.USER, tester.pk, "tester")
    assert (signed_in.subject_type, signed_in.subject_id) == ("accounts.user", str(tester.pk))
    assert signed_in.data == {"method": "token"}
    assert signed_in.context == CLIENT_CONTEXT
    assert (created.actor_id, created.subject_id) == (tester.pk, str(tester.pk))
    assert created.data == {"via": "sign_in"}


def test_second_sign_in_returns_the_same_token_without_creating_one(tester, anonymous_client,
                                                                    events):
    # given a tester who already has a token
    token = Token.objects.create(user=tester)

    # when
    response = anonymous_client.post(
        TOKEN_URL, {"username": tester.username, "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {"token": token.key}
    assert list(Token.objects.values_list("key", flat=True)) == [token.key]
    assert events() == ["auth.sign_in_succeeded"]


@pytest.mark.parametrize(("reason", "username", "password"), [
    ("bad_password", "known", "not the password"),
    ("unknown_user", "nobody-by-this-name", PASSWORD),
    ("inactive", "inactive", PASSWORD),
], ids=["bad_password", "unknown_user", "inactive"])
def test_refused_sign_in_answers_one_error_and_records_why(reason, username, password,
                                                           anonymous_client, events, db):
    # given an active user "known" and an inactive one, both with the test password
    known = UserFactory(username="known")
    inactive = UserFactory(username="inactive", is_active=False)
    named = {"bad_password": known, "unknown_user": None, "inactive": inactive}[reason]

    # when
    response = anonymous_client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json")

    # then the same answer for every reason, the real reason only in the audit log
    assert response.status_code == 400
    assert response.json() == INVALID_CREDENTIALS
    assert Token.objects.count() == 0
    assert events() == ["auth.sign_in_failed"]
    failed = Event.objects.get()
    assert failed.data == {"method": "token", "reason": reason}
    assert failed.context == CLIENT_CONTEXT
    if named is None:
        assert (failed.actor_type, failed.actor_id) == (ActorType.ANONYMOUS, None)
        assert (failed.subject_type, failed.subject_id) == ("", "")
        assert username not in str(failed.data)
    else:
        assert (failed.actor_type, failed.actor_id) == (ActorType.USER, named.pk)
        assert (failed.subject_type, failed.subject_id) == ("accounts.user", str(named.pk))


def test_sign_in_without_fields_names_them(anonymous_client, events, db):
    # when
    response = anonymous_client.post(TOKEN_URL, {}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "request.invalid",
        "message": "Some fields are not valid.",
        "fields": {"username": ["This field is required."],
                   "password": ["This field is required."]},
    }
    assert events() == []


def test_sign_in_is_throttled_after_the_test_rate(tester, anonymous_client, events,
                                                  throttle_clock):
    # given five attempts in the same minute (the test rate is 5/min)
    for _ in range(5):
        refused = anonymous_client.post(
            TOKEN_URL, {"username": tester.username, "password": "wrong"}, format="json")
        assert refused.status_code == 400
    before = events()

    # when the sixth comes, even with the right password
    response = anonymous_client.post(
        TOKEN_URL, {"username": tester.username, "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 429
    assert response.json() == {
        "code": "request.throttled",
        "message": "Too many requests; try again in 60 seconds.",
    }
    assert response["Retry-After"] == "60"
    assert before == ["auth.sign_in_failed"] * 5
    assert events() == before
    assert not Token.objects.filter(user=tester).exists()


def test_sign_in_throttle_counts_per_client_address(tester, anonymous_client, events,
                                                    event_mark, throttle_clock):
    # given one address that used up its attempts
    for _ in range(5):
        anonymous_client.post(TOKEN_URL, {"username": "x", "password": "y"}, format="json")
    assert anonymous_client.post(
        TOKEN_URL, {"username": "x", "password": "y"}, format="json").status_code == 429

    mark = event_mark()

    # when another address signs in
    response = APIClient(REMOTE_ADDR="203.0.113.9").post(
        TOKEN_URL, {"username": tester.username, "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 200
    assert events(since=mark) == ["auth.sign_in_succeeded", "token.created"]
    assert Event.objects.get(action="auth.sign_in_succeeded").context == {
        "ip": "203.0.113.9", "user_agent": ""}



def test_sign_in_throttle_ignores_a_forged_forwarded_for(tester, anonymous_client,
                                                         throttle_clock):
    # given five attempts, each claiming another address in X-Forwarded-For (no proxy is
    # configured, so the header is not to be trusted)
    for number in range(5):
        anonymous_client.post(TOKEN_URL, {"username": "x", "password": "y"}, format="json",
                              HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")

    # when
    response = anonymous_client.post(
        TOKEN_URL, {"username": tester.username, "password": PASSWORD}, format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.99")

    # then
    assert response.status_code == 429
    assert response.json()["code"] == "request.throttled"

def test_token_authenticates_requests(tester, anonymous_client):
    # given
    token = Token.objects.create(user=tester)
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    # when
    response = anonymous_client.get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["username"] == tester.username


def test_delete_revokes_the_token_and_the_token_stops_working(tester, token_client_of, events):
    # given a tester using their token
    client = token_client_of(tester)

    # when
    response = client.delete(TOKEN_URL)

    # then
    assert response.status_code == 204
    assert response.content == b""
    assert not Token.objects.filter(user=tester).exists()
    assert events() == ["token.revoked"]
    revoked = Event.objects.get()
    assert (revoked.actor_id, revoked.subject_id) == (tester.pk, str(tester.pk))
    assert revoked.data == {"via": "api"}

    # and the revoked token is refused from now on
    again = client.get(ME_URL)
    assert again.status_code == 401
    assert again.json() == AUTHENTICATION_FAILED
    assert again["WWW-Authenticate"] == "Token"
    assert events() == ["token.revoked"]


def test_delete_without_a_token_answers_204_and_records_nothing(tester, client_of, events):
    # given a session user who never had a token
    client = client_of(tester)

    # when
    response = client.delete(TOKEN_URL)

    # then
    assert response.status_code == 204
    assert events() == []


def test_delete_anonymous_is_not_authenticated(anonymous_client, events, db):
    # when
    response = anonymous_client.delete(TOKEN_URL)

    # then
    assert response.status_code == 401
    assert response.json() == {"code": "auth.not_authenticated", "message": "Sign in to do this."}
    assert response["WWW-Authenticate"] == "Token"
    assert events() == []


@pytest.mark.parametrize("header", ["Token not-a-real-key", "Token", "Token a b"])
def test_bad_token_header_is_refused(header, anonymous_client, events, db):
    # given
    anonymous_client.credentials(HTTP_AUTHORIZATION=header)

    # when
    response = anonymous_client.get(ME_URL)

    # then
    assert response.status_code == 401
    assert response.json() == AUTHENTICATION_FAILED
    assert events() == []


def test_token_of_a_deactivated_user_is_refused(token_client_of, events):
    # given a user whose account was deactivated after the token was issued
    user = UserFactory(roles=[Role.TESTER])
    client = token_client_of(user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    # when
    response = client.get(ME_URL)

    # then
    assert response.status_code == 401
    assert response.json() == AUTHENTICATION_FAILED
    assert events() == []
