"""Signing in and out on the web pages: CSRF, audit events, safe redirects, throttling."""

import html
import re

import pytest

from accounts.models import Role
from audit.models import Event
from tests.factories import PASSWORD, UserFactory


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.fixture
def user(db):
    return UserFactory(username="tess", roles=[Role.TESTER])


def test_the_sign_in_page_shows_the_form(web_client):
    # when
    response = web_client().get("/sign-in/")

    # then
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/sign_in.html"
    assert 'name="username"' in _text(response)
    assert 'name="password"' in _text(response)
    assert "csrftoken" in response.cookies


def test_sign_in_without_a_csrf_token_is_refused(web_client, user, events):
    # given: an anonymous visitor who never loaded the form
    client = web_client()

    # when
    response = client.post("/sign-in/", {"username": "tess", "password": PASSWORD})

    # then
    assert response.status_code == 403
    assert "This form expired or was sent from elsewhere." in _text(response)
    assert "sessionid" not in response.cookies
    assert _signed_in_as(client) is None
    assert events() == []


def test_sign_in_with_a_stale_csrf_token_is_refused(web_client, csrf_token, user, events):
    # given: a token from another browser
    client = web_client()
    csrf_token(client)
    other_token = csrf_token(web_client())

    # when
    response = client.post("/sign-in/", {"username": "tess", "password": PASSWORD,
                                         "csrfmiddlewaretoken": other_token})

    # then
    assert response.status_code == 403
    assert _signed_in_as(client) is None
    assert events() == []


def test_sign_in_with_the_right_password_goes_home(web_client, csrf_token, user, events):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/sign-in/", {"username": "tess", "password": PASSWORD,
                                         "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert _signed_in_as(client) == str(user.pk)
    assert events() == ["auth.sign_in_succeeded"]
    event = Event.objects.get()
    assert (event.actor_id, event.actor_role, event.subject_type, event.subject_id) == (
        user.pk, "tester", "accounts.user", str(user.pk))
    assert event.data == {"method": "session"}
    assert event.context["ip"] == "127.0.0.1"


def test_sign_in_with_a_wrong_password_shows_the_error(web_client, csrf_token, user, events):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/sign-in/", {"username": "tess", "password": "not it",
                                         "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 400
    assert "The username or password is not correct." in _text(response)
    assert _signed_in_as(client) is None
    assert events() == ["auth.sign_in_failed"]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id) == ("user", user.pk)
    assert event.data == {"method": "session", "reason": "bad_password"}


def test_sign_in_as_nobody_shows_the_same_error(web_client, csrf_token, db, events):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/sign-in/", {"username": "nobody", "password": PASSWORD,
                                         "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 400
    assert "The username or password is not correct." in _text(response)
    assert events() == ["auth.sign_in_failed"]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id) == ("anonymous", None)
    assert event.data == {"method": "session", "reason": "unknown_user"}


def test_an_empty_sign_in_form_is_a_400_without_an_event(web_client, csrf_token, db, events):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/sign-in/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 400
    assert "This field is required." in _text(response)
    assert events() == []


@pytest.mark.parametrize("next_url", [
    "https://evil.example/phish",
    "http://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/\\evil.example/",
    "\\\\evil.example/",
])
def test_a_next_to_another_host_is_ignored(web_client, csrf_token, user, next_url):
    # given
    client = web_client()
    token = csrf_token(client, f"/sign-in/?next={next_url}")

    # when
    response = client.post(f"/sign-in/?next={next_url}", {
        "username": "tess", "password": PASSWORD, "csrfmiddlewaretoken": token,
        "next": next_url})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/home/"


def test_the_form_carries_a_local_next_and_it_is_honoured(web_client, csrf_token, user):
    # given: sent to sign in by the login_required redirect
    client = web_client()
    form = client.get("/sign-in/?next=/program/")
    assert 'name="next" value="/program/"' in _text(form)
    token = client.cookies["csrftoken"].value

    # when
    response = client.post("/sign-in/", {"username": "tess", "password": PASSWORD,
                                         "next": "/program/", "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/program/"


def test_the_form_drops_a_next_to_another_host(web_client):
    # when
    form = web_client().get("/sign-in/?next=https://evil.example/")

    # then
    assert 'name="next" value=""' in _text(form)


def test_a_local_next_is_escaped_in_the_form(web_client):
    # when
    form = web_client().get('/sign-in/?next=/home/%22%3E%3Cscript%3Ealert(1)%3C/script%3E')

    # then
    assert "<script>alert(1)</script>" not in form.content.decode()
    assert 'value="/home/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in (
        form.content.decode())


def test_pages_carry_the_security_headers(web_client, db):
    # when
    response = web_client().get("/sign-in/")

    # then
    assert {name: response.get(name) for name in (
        "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
        "Cross-Origin-Opener-Policy")} == {
        "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin"}
    cookie = response.cookies["csrftoken"]
    assert (cookie["httponly"], cookie["samesite"]) == (True, "Lax")


def test_signing_in_sets_an_http_only_session_cookie(web_client, csrf_token, user):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/sign-in/", {"username": "tess", "password": PASSWORD,
                                         "csrfmiddlewaretoken": token})

    # then
    cookie = response.cookies["sessionid"]
    assert (cookie["httponly"], cookie["samesite"]) == (True, "Lax")


def test_sign_in_is_throttled_after_five_attempts(web_client, csrf_token, user, events):
    # given: five wrong passwords from one address (the test settings allow 5 a minute)
    client = web_client()
    token = csrf_token(client)
    statuses = [
        client.post("/sign-in/", {"username": "tess", "password": f"guess {n}",
                                  "csrfmiddlewaretoken": token}).status_code
        for n in range(5)
    ]
    assert statuses == [400] * 5

    # when: even the right password
    response = client.post("/sign-in/", {"username": "tess", "password": PASSWORD,
                                         "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 429
    assert re.search(r"Too many attempts; try again in \d+ seconds\.", _text(response))
    assert _signed_in_as(client) is None
    assert events() == ["auth.sign_in_failed"] * 5


def test_sign_out_is_post_only(web_client, user, events):
    # given
    client = web_client(user)

    # when
    response = client.get("/sign-out/")

    # then
    assert response.status_code == 405
    assert _signed_in_as(client) == str(user.pk)
    assert events() == []


def test_sign_out_without_a_csrf_token_is_refused(web_client, user, events):
    # given
    client = web_client(user)

    # when
    response = client.post("/sign-out/")

    # then
    assert response.status_code == 403
    assert _signed_in_as(client) == str(user.pk)
    assert events() == []


def test_sign_out_ends_the_session_and_is_recorded(web_client, csrf_token, user, events):
    # given
    client = web_client(user)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/sign-out/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert _signed_in_as(client) is None
    assert client.get("/home/")["Location"] == "/sign-in/?next=/home/"
    assert events() == ["auth.signed_out"]
    event = Event.objects.get()
    assert (event.actor_id, event.subject_type, event.subject_id, event.data) == (
        user.pk, "accounts.user", str(user.pk), {})


def test_signing_out_when_signed_out_records_nothing(web_client, csrf_token, db, events):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/sign-out/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert events() == []
