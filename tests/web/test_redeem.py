"""Redeeming an invitation on the web page: the account, its terms, its token and a session."""

import html

import pytest

from accounts.models import Invitation, Role, TermsAcceptance, User
from audit.models import Event
from tests.factories import CohortFactory, InvitationFactory

CODE = "web-invitation-code-0001"
NEW_PASSWORD = "a long enough password 1"


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def invitation(db):
    return InvitationFactory(code=CODE, cohort=CohortFactory(slug="red-team"), role=Role.TESTER)


def _form(token: str, **overrides) -> dict:
    return {"code": CODE, "username": "newbie", "email": "newbie@example.org",
            "password": NEW_PASSWORD, "accept_terms": "on", "csrfmiddlewaretoken": token,
            **overrides}


def test_the_invitation_link_prefills_the_code(web_client, invitation):
    # when
    response = web_client().get(f"/invite/{CODE}/")

    # then
    assert response.status_code == 200
    assert response.context["form"]["code"].value() == CODE
    assert f'value="{CODE}"' in _text(response)
    assert "Terms of participation (version 2024-02)" in _text(response)


def test_the_bare_redeem_page_asks_for_the_code(web_client, db):
    # when
    response = web_client().get("/invite/")

    # then
    assert response.status_code == 200
    assert response.context["form"]["code"].value() == ""


def test_redeeming_without_a_csrf_token_is_refused(web_client, invitation, accounts_state):
    # given
    before = accounts_state()

    # when
    response = web_client().post(f"/invite/{CODE}/", _form(token=""))

    # then
    assert response.status_code == 403
    assert accounts_state() == before


def test_redeeming_creates_the_account_and_signs_it_in(web_client, csrf_token, invitation,
                                                       events):
    # given
    client = web_client()
    token = csrf_token(client, f"/invite/{CODE}/")

    # when
    response = client.post(f"/invite/{CODE}/", _form(token))

    # then
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    user = User.objects.get(username="newbie")
    assert (user.email, user.cohort.slug, sorted(user.roles)) == (
        "newbie@example.org", "red-team", ["tester"])
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert list(TermsAcceptance.objects.values_list("user_id", "version")) == [
        (user.pk, "2024-02")]
    assert Invitation.objects.get().uses == 1
    assert events() == ["account.created", "invitation.redeemed", "terms.accepted",
                        "token.created"]
    assert set(Event.objects.values_list("actor_id", flat=True)) == {user.pk}
    redeemed = Event.objects.get(action="invitation.redeemed")
    assert redeemed.data == {"user_id": user.pk, "uses": 1, "max_uses": 1}
    assert Event.objects.get(action="token.created").data == {"via": "redemption"}

    # and the new tester lands on their page
    home = client.get("/home/")
    assert home.status_code == 200
    assert 'data-testid="tester-home"' in _text(home)
    assert "Welcome to the program, newbie." in _text(home)


def test_a_bad_code_is_refused_and_creates_no_user(web_client, csrf_token, invitation, events):
    # given
    client = web_client()
    token = csrf_token(client, "/invite/")

    # when
    response = client.post("/invite/", _form(token, code="not-a-real-code"))

    # then
    assert response.status_code == 400
    assert "This invitation code is not valid" in _text(response)
    assert not User.objects.exists()
    assert Invitation.objects.get().uses == 0
    assert "_auth_user_id" not in client.session
    assert events() == ["invitation.redemption_refused"]
    event = Event.objects.get()
    assert (event.actor_type, event.subject_type, event.subject_id, event.data) == (
        "anonymous", "accounts.invitation", "", {"reason": "unknown_code"})


def test_a_used_up_code_gives_the_same_answer(web_client, csrf_token, invitation, events):
    # given
    Invitation.objects.filter(pk=invitation.pk).update(uses=1)
    client = web_client()
    token = csrf_token(client, f"/invite/{CODE}/")

    # when
    response = client.post(f"/invite/{CODE}/", _form(token))

    # then
    assert response.status_code == 400
    assert "This invitation code is not valid" in _text(response)
    assert not User.objects.exists()
    assert events() == ["invitation.redemption_refused"]
    assert Event.objects.get().data == {"reason": "used_up"}


def test_unchecked_terms_are_refused(web_client, csrf_token, invitation, events):
    # given
    client = web_client()
    token = csrf_token(client, f"/invite/{CODE}/")
    form = _form(token)
    del form["accept_terms"]

    # when
    response = client.post(f"/invite/{CODE}/", form)

    # then
    assert response.status_code == 400
    assert "You must accept the program's terms to join." in _text(response)
    assert not User.objects.exists()
    assert Invitation.objects.get().uses == 0
    assert events() == ["invitation.redemption_refused"]
    assert Event.objects.get().data == {"reason": "terms_not_accepted"}


def test_redeeming_is_throttled_after_five_attempts(web_client, csrf_token, invitation,
                                                    events):
    # given: five wrong codes from one address (the test settings allow 5 a minute)
    client = web_client()
    token = csrf_token(client, "/invite/")
    statuses = [client.post("/invite/", _form(token, code=f"guess-{n}")).status_code
                for n in range(5)]
    assert statuses == [400] * 5

    # when: even the right code
    response = client.post("/invite/", _form(token))

    # then
    assert response.status_code == 429
    assert "Too many attempts; try again in" in _text(response)
    assert not User.objects.exists()
    assert Invitation.objects.get().uses == 0
    assert events() == ["invitation.redemption_refused"] * 5


def test_a_weak_password_is_shown_on_its_field(web_client, csrf_token, invitation, events):
    # given
    client = web_client()
    token = csrf_token(client, f"/invite/{CODE}/")

    # when
    response = client.post(f"/invite/{CODE}/", _form(token, password="123"))

    # then: nothing consumed, nothing recorded
    assert response.status_code == 400
    assert response.context["form"].errors["password"][0] == (
        "This password is too short. It must contain at least 8 characters.")
    assert not User.objects.exists()
    assert Invitation.objects.get().uses == 0
    assert events() == []
