"""The review queue's policy on the program page: lease length and second-opinion rate, in
minutes and percent, saved through ``program_policy_update``."""

import html

import pytest

from accounts.models import Program, Role
from accounts.selectors import program_get
from accounts.services.program import program_policy_update
from audit.models import ActorType, Event
from core.errors import InvalidInput
from tests.factories import UserFactory

DEFAULTS = {"lease_seconds": 600, "second_opinion_rate": 0.05}


def _policy() -> dict:
    return Program.objects.values("lease_seconds", "second_opinion_rate").get()


def _review_form(token: str, **values) -> dict:
    fields = {"lease_minutes": 10, "second_opinion_percent": 5, **values}
    return {"review-save": "1", "csrfmiddlewaretoken": token,
            **{f"review-{name}": str(value) for name, value in fields.items()}}


def test_the_page_shows_the_review_policy_in_minutes_and_percent(admin_client):
    # given
    program_get()
    Program.objects.update(lease_seconds=900, second_opinion_rate=0.125)

    # when
    response = admin_client.get("/program/")

    # then
    assert response.status_code == 200
    form = response.context["review_form"]
    assert (form["lease_minutes"].value(), form["second_opinion_percent"].value()) == (15, 12.5)
    assert 'data-testid="review-policy"' in response.content.decode()


def test_a_whole_percentage_shows_without_decimals(admin_client):
    # given the default policy: 10 minutes, 5 %
    program_get()

    # when
    form = admin_client.get("/program/").context["review_form"]

    # then
    assert (form["lease_minutes"].value(), form["second_opinion_percent"].value()) == (10, 5)
    assert 'value="5"' in str(form["second_opinion_percent"])


def test_an_admin_changes_the_review_policy(admin_client, admin, events):
    # given
    program_get()

    # when
    response = admin_client.post("/program/", _review_form(
        admin_client.token, lease_minutes=15, second_opinion_percent="12.5"))

    # then
    assert response.status_code == 302
    assert response["Location"] == "/program/"
    assert _policy() == {"lease_seconds": 900, "second_opinion_rate": 0.125}
    assert events() == ["program.policy_changed"]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_role) == (
        ActorType.USER, admin.pk, "program_admin")
    assert event.data == {"changed": {
        "lease_seconds": {"from": 600, "to": 900},
        "second_opinion_rate": {"from": 0.05, "to": 0.125},
    }}
    assert "The review policy is saved." in html.unescape(
        admin_client.get("/program/").content.decode())


def test_saving_the_same_review_policy_records_nothing(admin_client, events):
    # given
    program_get()

    # when
    response = admin_client.post("/program/", _review_form(admin_client.token))

    # then
    assert response.status_code == 302
    assert _policy() == DEFAULTS
    assert events() == []


@pytest.mark.parametrize(("values", "errors"), [
    ({"lease_minutes": 0}, {"lease_minutes": ["Ensure this value is greater than or equal to "
                                              "1."]}),
    ({"lease_minutes": 1441}, {"lease_minutes": ["Ensure this value is less than or equal to "
                                                 "1440."]}),
    ({"lease_minutes": "ten"}, {"lease_minutes": ["Enter a whole number."]}),
    ({"second_opinion_percent": -1}, {"second_opinion_percent": [
        "Ensure this value is greater than or equal to 0."]}),
    ({"second_opinion_percent": "100.5"}, {"second_opinion_percent": [
        "Ensure this value is less than or equal to 100."]}),
    ({"second_opinion_percent": ""}, {"second_opinion_percent": ["This field is required."]}),
], ids=["no_lease", "lease_over_a_day", "lease_not_a_number", "negative_rate",
        "rate_over_all", "rate_missing"])
def test_a_bad_review_policy_is_refused_whole_with_its_errors(admin_client, events, values,
                                                              errors):
    # given
    program_get()

    # when the other field is changed and valid, this one bad
    response = admin_client.post("/program/", _review_form(
        admin_client.token, **{"lease_minutes": 30, "second_opinion_percent": 20, **values}))

    # then
    assert response.status_code == 400
    assert response.context["review_form"].errors == errors
    assert _policy() == DEFAULTS
    assert events() == []


@pytest.mark.parametrize("role", [Role.TESTER, Role.MODERATOR, Role.RESEARCHER])
def test_only_program_admins_change_the_review_policy(web_client, csrf_token, accounts_state,
                                                      role):
    # given
    program_get()
    client = web_client(UserFactory(roles=[role]))
    token = csrf_token(client, "/home/")
    before = accounts_state()

    # when
    response = client.post("/program/", _review_form(token, lease_minutes=1440,
                                                     second_opinion_percent=100))

    # then
    assert response.status_code == 403
    assert _policy() == DEFAULTS
    assert accounts_state() == before


@pytest.mark.parametrize(("values", "errors"), [
    ({"lease_seconds": 59}, {"lease_seconds": ["Give a whole number between 60 and 86,400."]}),
    ({"lease_seconds": 600.5}, {"lease_seconds": [
        "Give a whole number between 60 and 86,400."]}),
    ({"second_opinion_rate": 1.5}, {"second_opinion_rate": ["Give a number between 0 and 1."]}),
    ({"second_opinion_rate": True}, {"second_opinion_rate": ["Give a number between 0 and 1."]}),
], ids=["lease_too_short", "lease_fraction", "rate_over_one", "rate_boolean"])
def test_the_policy_service_checks_the_review_fields(program_admin, events, values, errors):
    # given
    program_get()

    # when
    with pytest.raises(InvalidInput) as refused:
        program_policy_update(actor=program_admin, **values)

    # then
    assert refused.value.fields == errors
    assert _policy() == DEFAULTS
    assert events() == []
