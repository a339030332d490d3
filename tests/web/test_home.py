"""The home page: one section per role, and the tester's API-token form."""

import html

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Role
from audit.models import Event
from tests.factories import UserFactory

SECTIONS = {
    Role.TESTER: "tester-home",
    Role.MODERATOR: "moderator-home",
    Role.RESEARCHER: "researcher-home",
    Role.PROGRAM_ADMIN: "admin-home",
}


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _sections(response) -> set[str]:
    return {testid for testid in SECTIONS.values()
            if f'data-testid="{testid}"' in response.content.decode()}


@pytest.mark.parametrize("role", list(SECTIONS))
def test_each_role_sees_its_own_section_only(web_client, role):
    # given
    user = UserFactory(roles=[role])

    # when
    response = web_client(user).get("/home/")

    # then
    assert response.status_code == 200
    assert _sections(response) == {SECTIONS[role]}
    assert f"Welcome, {user.username}" in _text(response)


def test_someone_with_two_roles_sees_both_sections(web_client):
    # given
    user = UserFactory(roles=[Role.TESTER, Role.RESEARCHER])

    # when
    response = web_client(user).get("/home/")

    # then
    assert _sections(response) == {"tester-home", "researcher-home"}


def test_a_superuser_sees_every_section(web_client):
    # given
    user = UserFactory(roles=[], is_superuser=True, is_staff=True)

    # when
    response = web_client(user).get("/home/")

    # then
    assert _sections(response) == set(SECTIONS.values())


def test_only_program_admins_get_the_program_link(web_client):
    # when
    tester_page = web_client(UserFactory(roles=[Role.TESTER])).get("/home/")
    admin_page = web_client(UserFactory(roles=[Role.PROGRAM_ADMIN])).get("/home/")

    # then
    assert 'href="/program/"' not in tester_page.content.decode()
    assert 'href="/program/"' in admin_page.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(web_client, db):
    # when
    response = web_client().get("/home/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/home/"


def test_the_root_redirects_home(web_client, db):
    # when
    response = web_client().get("/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/home/"


def test_a_tester_issues_an_api_token_on_the_web(web_client, csrf_token, tester, events):
    # given
    client = web_client(tester)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/account/api-token/", {"command": "issue",
                                                    "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    key = Token.objects.get(user=tester).key
    home = client.get("/home/")
    assert f'<code class="secret" data-testid="api-token">{key}</code>' in _text(home)
    assert "Your API token is ready." in _text(home)
    assert events() == ["token.created"]
    event = Event.objects.get()
    assert (event.actor_id, event.subject_id, event.data) == (
        tester.pk, str(tester.pk), {"via": "web"})


def test_issuing_again_keeps_the_token_and_records_nothing(web_client, csrf_token, tester,
                                                           events):
    # given
    existing = Token.objects.create(user=tester)
    client = web_client(tester)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/account/api-token/", {"command": "issue",
                                                    "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert list(Token.objects.values_list("key", flat=True)) == [existing.key]
    assert events() == []


def test_a_tester_revokes_their_api_token_on_the_web(web_client, csrf_token, tester, events):
    # given
    Token.objects.create(user=tester)
    client = web_client(tester)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/account/api-token/", {"command": "revoke",
                                                    "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert not Token.objects.filter(user=tester).exists()
    home = client.get("/home/")
    assert 'data-testid="api-token"' not in home.content.decode()
    assert "Your API token is revoked; scripts using it stop working." in _text(home)
    assert events() == ["token.revoked"]
    assert Event.objects.get().data == {"via": "web"}


def test_the_token_form_refuses_a_post_without_csrf(web_client, tester, events):
    # given
    client = web_client(tester)

    # when
    response = client.post("/account/api-token/", {"command": "issue"})

    # then
    assert response.status_code == 403
    assert not Token.objects.exists()
    assert events() == []


def test_the_token_form_is_post_only(web_client, tester, events):
    # when
    response = web_client(tester).get("/account/api-token/")

    # then
    assert response.status_code == 405
    assert not Token.objects.exists()
    assert events() == []


def test_the_token_form_sends_anonymous_visitors_to_sign_in(web_client, csrf_token, db, events):
    # given
    client = web_client()
    token = csrf_token(client)

    # when
    response = client.post("/account/api-token/", {"command": "issue",
                                                    "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/account/api-token/"
    assert not Token.objects.exists()
    assert events() == []
