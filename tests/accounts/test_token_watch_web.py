"""The token watch on the program page: its policy form, the recent anomalies, and revoking a
tester's token by hand."""

import html
import re
from datetime import UTC, datetime

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Program, Role
from accounts.selectors import program_get
from audit.models import ActorType, Event
from core import clock
from tests.factories import UserFactory

POLICY_FIELDS = ("token_max_addresses", "token_rate_factor", "token_rate_floor",
                 "token_anomaly_action")
DEFAULTS = {"token_max_addresses": 5, "token_rate_factor": 10.0, "token_rate_floor": 120,
            "token_anomaly_action": "alert"}
MOMENT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _policy() -> dict:
    return Program.objects.values(*POLICY_FIELDS).get()


def _policy_form(token: str, **values) -> dict:
    fields = {**DEFAULTS, **values}
    return {"policy-save": "1", "csrfmiddlewaretoken": token,
            **{f"policy-{name}": str(value) for name, value in fields.items()}}


def _anomaly_rows(response) -> list[list[str]]:
    """The anomalies table as text cells, row by row."""
    rows = re.findall(r'<tr data-testid="token-anomaly">(.*?)</tr>', response.content.decode(),
                      re.S)
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


@pytest.fixture
def now():
    with clock.use(lambda: MOMENT):
        yield MOMENT


@pytest.fixture
def leaked_token(now, token_client_of):
    """``leaked_token(user, addresses=6)``: the user's token used from that many addresses
    (one over the default limit): it raises an anomaly."""

    def use(user, addresses: int = 6):
        client = token_client_of(user)
        for number in range(addresses):
            assert client.get("/api/v1/me/", REMOTE_ADDR=f"198.51.100.{number}").status_code in (
                200, 401)
        return client

    return use


# --- The policy form ---------------------------------------------------------------------


def test_the_page_shows_the_policy_in_its_form(admin_client):
    # given
    program_get()
    Program.objects.update(token_max_addresses=7, token_anomaly_action="revoke")

    # when
    response = admin_client.get("/program/")

    # then
    assert response.status_code == 200
    form = response.context["policy_form"]
    assert {name: form[name].value() for name in POLICY_FIELDS} == {
        **DEFAULTS, "token_max_addresses": 7, "token_anomaly_action": "revoke"}
    assert 'data-testid="token-watch-policy"' in response.content.decode()


def test_an_admin_changes_the_policy(admin_client, admin, events):
    # given
    program_get()

    # when
    response = admin_client.post("/program/", _policy_form(
        admin_client.token, token_max_addresses=3, token_rate_factor=4.5,
        token_anomaly_action="revoke"))

    # then
    assert response.status_code == 302
    assert response["Location"] == "/program/"
    assert _policy() == {**DEFAULTS, "token_max_addresses": 3, "token_rate_factor": 4.5,
                         "token_anomaly_action": "revoke"}
    assert events() == ["program.policy_changed"]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_role) == (
        ActorType.USER, admin.pk, "program_admin")
    assert (event.subject_type, event.subject_id) == ("accounts.program", "1")
    assert event.data == {"changed": {
        "token_max_addresses": {"from": 5, "to": 3},
        "token_rate_factor": {"from": 10.0, "to": 4.5},
        "token_anomaly_action": {"from": "alert", "to": "revoke"},
    }}
    assert "The token watch policy is saved." in _text(admin_client.get("/program/"))


def test_saving_the_same_policy_records_nothing(admin_client, events):
    # given
    program_get()

    # when
    response = admin_client.post("/program/", _policy_form(admin_client.token))

    # then
    assert response.status_code == 302
    assert _policy() == DEFAULTS
    assert events() == []


@pytest.mark.parametrize(("values", "errors"), [
    ({"token_max_addresses": 0}, {"token_max_addresses": ["Give a whole number between 1 and "
                                                          "10,000."]}),
    ({"token_rate_factor": 0.5}, {"token_rate_factor": ["Give a number between 1 and 1,000."]}),
    ({"token_rate_floor": 2_000_000}, {"token_rate_floor": ["Give a whole number between 1 "
                                                            "and 1,000,000."]}),
    ({"token_anomaly_action": "ignore"}, {"token_anomaly_action": [
        "Select a valid choice. ignore is not one of the available choices."]}),
    ({"token_max_addresses": "many"}, {"token_max_addresses": ["Enter a whole number."]}),
], ids=["no_addresses", "factor_below_one", "floor_too_high", "unknown_action", "not_a_number"])
def test_a_bad_policy_is_refused_whole_with_its_errors(admin_client, events, values, errors):
    # given
    program_get()

    # when every field is sent, the others changed and valid, this one bad
    response = admin_client.post("/program/", _policy_form(
        admin_client.token, **{"token_max_addresses": 9, "token_rate_floor": 60, **values}))

    # then
    assert response.status_code == 400
    assert response.context["policy_form"].errors == errors
    assert _policy() == DEFAULTS
    assert events() == []


@pytest.mark.parametrize("role", [Role.TESTER, Role.MODERATOR, Role.RESEARCHER])
def test_only_program_admins_change_the_policy(web_client, csrf_token, accounts_state, role):
    # given
    program_get()
    client = web_client(UserFactory(roles=[role]))
    token = csrf_token(client, "/home/")
    before, policy_before = accounts_state(), _policy()

    # when
    response = client.post("/program/", _policy_form(
        token, token_max_addresses=500, token_anomaly_action="alert", token_rate_floor=99999))

    # then
    assert response.status_code == 403
    assert "This page is for program admins." in _text(response)
    assert _policy() == policy_before
    assert accounts_state() == before


def test_the_policy_form_needs_the_csrf_token(admin_client, accounts_state):
    # given
    program_get()
    before = accounts_state()
    form = _policy_form("", token_max_addresses=50)
    del form["csrfmiddlewaretoken"]

    # when
    response = admin_client.post("/program/", form)

    # then
    assert response.status_code == 403
    assert _policy() == DEFAULTS
    assert accounts_state() == before


def test_a_new_action_applies_to_the_next_anomaly(admin_client, tester, leaked_token, events):
    # given the admin switches to revoking
    program_get()
    admin_client.post("/program/", _policy_form(admin_client.token,
                                                token_anomaly_action="revoke"))

    # when the tester's token is used from six addresses
    leaked_token(tester)

    # then
    assert not Token.objects.filter(user=tester).exists()
    assert events() == ["program.policy_changed", "security.token_anomaly", "token.revoked"]


# --- Recent anomalies and revoking by hand -----------------------------------------------


def test_the_page_lists_recent_anomalies_newest_first(admin_client, leaked_token, now):
    # given two testers whose tokens were misused, one of them since revoked by the watch
    kim = UserFactory(username="kim", roles=[Role.TESTER])
    lee = UserFactory(username="lee", roles=[Role.TESTER])
    leaked_token(kim)
    program_get()
    Program.objects.update(token_anomaly_action="revoke")
    leaked_token(lee)

    # when
    response = admin_client.get("/program/")

    # then
    assert _anomaly_rows(response) == [
        ["2025-03-04 05:06", "lee", "client addresses", "6 / 5", "revoked", "none now", ""],
        ["2025-03-04 05:06", "kim", "client addresses", "6 / 5", "alerted", "still valid",
         "Revoke kim's token"],
    ]


def test_the_page_says_when_a_tester_has_a_new_token(admin_client, tester, leaked_token):
    # given an anomaly, then a new token for the same tester
    leaked_token(tester)
    Token.objects.filter(user=tester).delete()
    Token.objects.create(user=tester)

    # when
    rows = _anomaly_rows(admin_client.get("/program/"))

    # then
    assert rows[0][5:] == ["replaced by a new one", f"Revoke {tester.username}'s token"]


def test_the_page_says_when_there_are_no_anomalies(admin_client):
    # when
    response = admin_client.get("/program/")

    # then
    assert _anomaly_rows(response) == []
    assert "No token anomalies." in _text(response)


def test_an_admin_revokes_a_testers_token(admin_client, admin, tester, leaked_token, events,
                                          event_mark):
    # given a misused token
    client = leaked_token(tester)
    mark = event_mark()

    # when
    response = admin_client.post(f"/program/users/{tester.pk}/revoke-token/",
                                 {"csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/program/"
    assert not Token.objects.filter(user=tester).exists()
    assert events(since=mark) == ["token.revoked"]
    revoked = Event.objects.get(id__gt=mark)
    assert (revoked.actor_id, revoked.actor_role) == (admin.pk, "program_admin")
    assert (revoked.subject_type, revoked.subject_id) == ("accounts.user", str(tester.pk))
    assert revoked.data == {"via": "admin"}
    assert client.get("/api/v1/me/").status_code == 401
    page = admin_client.get("/program/")
    assert f"The API token of {tester.username} is revoked" in _text(page)
    assert _anomaly_rows(page)[0][5:] == ["none now", ""]


def test_revoking_a_tester_without_a_token_changes_nothing(admin_client, tester, events):
    # when
    response = admin_client.post(f"/program/users/{tester.pk}/revoke-token/",
                                 {"csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 302
    assert events() == []
    assert f"{tester.username} has no API token." in _text(admin_client.get("/program/"))


def test_revoking_an_unknown_user_is_not_found(admin_client, events):
    # when
    response = admin_client.post("/program/users/999999/revoke-token/",
                                 {"csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 404
    assert events() == []


@pytest.mark.parametrize("role", [Role.TESTER, Role.MODERATOR, Role.RESEARCHER])
def test_only_program_admins_revoke_tokens(web_client, csrf_token, accounts_state, role):
    # given someone else's token
    victim = UserFactory(roles=[Role.TESTER])
    Token.objects.create(user=victim)
    client = web_client(UserFactory(roles=[role]))
    token = csrf_token(client, "/home/")
    before = accounts_state()

    # when
    response = client.post(f"/program/users/{victim.pk}/revoke-token/",
                           {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 403
    assert accounts_state() == before


def test_revoking_by_hand_needs_a_post_with_the_csrf_token(admin_client, tester, accounts_state):
    # given
    Token.objects.create(user=tester)
    before = accounts_state()
    path = f"/program/users/{tester.pk}/revoke-token/"

    # when
    get = admin_client.get(path)
    without_token = admin_client.post(path)

    # then
    assert (get.status_code, without_token.status_code) == (405, 403)
    assert accounts_state() == before
