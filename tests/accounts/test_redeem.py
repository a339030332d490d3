"""POST invitations/redeem/: an invitation code becomes an account and a token (API.md)."""

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Invitation, Program, Redemption, Role, User
from audit.models import ActorType, Event
from tests.factories import CohortFactory, InvitationFactory, UserFactory

REDEEM_URL = "/api/v1/invitations/redeem/"
CODE = "a-test-invitation-code-of-some-length"
NEW_PASSWORD = "a long enough password 1"
NEW_ACCOUNT = ["account.created", "invitation.redeemed", "terms.accepted", "token.created"]
INVITATION_INVALID = {
    "code": "invitation.invalid",
    "message": "This invitation code is not valid. Ask the program team for a new one.",
}


def redeem_body(**changes):
    return {"code": CODE, "username": "newbie", "email": "newbie@example.org",
            "password": NEW_PASSWORD, "accept_terms": True, **changes}


def test_redeem_creates_the_account_and_answers_its_token(anonymous_client, events,
                                                          frozen_now, db):
    # given a single-use invitation to the red team
    invitation = InvitationFactory(code=CODE, cohort=CohortFactory(slug="red-team"))

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(), format="json")

    # then
    assert response.status_code == 201
    user = User.objects.get(username="newbie")
    token = Token.objects.get(user=user)
    assert response.json() == {
        "user": {
            "id": user.pk,
            "username": "newbie",
            "email": "newbie@example.org",
            "roles": ["tester"],
            "cohort": "red-team",
            "terms_version_accepted": "2024-02",
        },
        "token": token.key,
    }
    assert user.check_password(NEW_PASSWORD)
    assert (user.cohort.slug, sorted(user.roles), user.is_active) == ("red-team", ["tester"],
                                                                      True)
    invitation.refresh_from_db()
    assert invitation.uses == 1
    assert list(Redemption.objects.values_list("invitation_id", "user_id", "redeemed_at")) == [
        (invitation.pk, user.pk, frozen_now)]
    assert events() == ["account.created", "invitation.redeemed", "terms.accepted",
                        "token.created"]
    created, redeemed, terms, token_created = Event.objects.order_by("id")
    assert all((e.actor_type, e.actor_id, e.actor_role) == (ActorType.USER, user.pk, "tester")
               for e in (created, redeemed, terms, token_created))
    assert (created.subject_type, created.subject_id) == ("accounts.user", str(user.pk))
    assert created.data == {"roles": ["tester"], "cohort": "red-team",
                            "invitation_id": str(invitation.pk), "superuser": False}
    assert (redeemed.subject_type, redeemed.subject_id) == ("accounts.invitation",
                                                            str(invitation.pk))
    assert redeemed.data == {"user_id": user.pk, "uses": 1, "max_uses": 1}
    assert redeemed.context == {"ip": "127.0.0.1", "user_agent": ""}
    assert terms.data == {"version": "2024-02"}
    assert token_created.data == {"via": "redemption"}
    assert CODE not in str([e.data for e in Event.objects.all()])


def test_redeemed_token_works(anonymous_client, events, event_mark, db):
    # given
    InvitationFactory(code=CODE)
    token = anonymous_client.post(REDEEM_URL, redeem_body(), format="json").json()["token"]
    mark = event_mark()

    # when
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/me/")

    # then
    assert response.status_code == 200
    assert response.json()["username"] == "newbie"
    assert events(since=mark) == []


def test_redeem_grants_the_invitations_role_and_cohort(anonymous_client, events, db):
    # given an invitation for a moderator in the moderation cohort
    InvitationFactory(code=CODE, role=Role.MODERATOR, cohort=CohortFactory(slug="moderation"))

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(), format="json")

    # then
    assert response.status_code == 201
    assert (response.json()["user"]["roles"], response.json()["user"]["cohort"]) == (
        ["moderator"], "moderation")
    user = User.objects.get(username="newbie")
    assert (sorted(user.roles), user.cohort.slug) == (["moderator"], "moderation")
    assert events() == NEW_ACCOUNT
    assert Event.objects.get(action="account.created").data["roles"] == ["moderator"]
    assert Event.objects.get(action="account.created").actor_role == "moderator"


def test_redeem_accepts_the_programs_current_terms_version(anonymous_client, events, db):
    # given terms at a newer version
    Program.objects.filter(pk=Program.SINGLETON_ID).update(terms_version="2025-06")
    InvitationFactory(code=CODE)

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(), format="json")

    # then
    assert response.json()["user"]["terms_version_accepted"] == "2025-06"
    assert list(User.objects.get(username="newbie").terms_acceptances.values_list(
        "version", flat=True)) == ["2025-06"]
    assert events() == NEW_ACCOUNT
    assert Event.objects.get(action="terms.accepted").data == {"version": "2025-06"}


def test_multi_use_invitation_counts_its_uses(anonymous_client, events, db):
    # given an invitation for two
    invitation = InvitationFactory(code=CODE, max_uses=2)

    # when two people redeem it, and a third tries
    first = anonymous_client.post(REDEEM_URL, redeem_body(), format="json")
    second = anonymous_client.post(REDEEM_URL, redeem_body(
        username="second", email="second@example.org"), format="json")
    third = anonymous_client.post(REDEEM_URL, redeem_body(
        username="third", email="third@example.org"), format="json")

    # then
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 400)
    assert third.json() == INVITATION_INVALID
    invitation.refresh_from_db()
    assert invitation.uses == 2
    assert list(Event.objects.filter(action="invitation.redeemed").values_list(
        "data", flat=True)) == [
        {"user_id": User.objects.get(username="newbie").pk, "uses": 1, "max_uses": 2},
        {"user_id": User.objects.get(username="second").pk, "uses": 2, "max_uses": 2},
    ]
    assert events()[-1] == "invitation.redemption_refused"
    assert Event.objects.last().data == {"reason": "used_up"}
    assert not User.objects.filter(username="third").exists()


def test_email_bound_invitation_accepts_its_address_in_any_case(anonymous_client, events, db):
    # given
    InvitationFactory(code=CODE, email="newbie@example.org")

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(email="NewBie@Example.org"),
                                     format="json")

    # then
    assert response.status_code == 201
    assert events() == NEW_ACCOUNT


def test_code_with_surrounding_whitespace_is_accepted(anonymous_client, events, db):
    # given
    InvitationFactory(code=CODE)

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(code=f"  {CODE}\n"), format="json")

    # then
    assert response.status_code == 201
    assert events() == NEW_ACCOUNT


@pytest.mark.parametrize("reason", ["unknown_code", "expired", "used_up", "revoked",
                                    "email_mismatch"])
def test_every_bad_code_gets_the_same_answer_and_its_reason_is_recorded(
        reason, anonymous_client, events, accounts_state, frozen_now):
    # given an invitation that cannot be redeemed for this reason
    invitation = InvitationFactory(code=CODE, **{
        "unknown_code": {},
        "expired": {"expires_at": frozen_now - timedelta(seconds=1)},
        "used_up": {"uses": 1},
        "revoked": {"revoked_at": frozen_now - timedelta(minutes=1)},
        "email_mismatch": {"email": "someone.else@example.org"},
    }[reason])
    code = "a-code-nobody-issued" if reason == "unknown_code" else CODE
    before = accounts_state()

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(code=code), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == INVITATION_INVALID
    after = accounts_state()
    assert after["events"][:-1] == before["events"]
    assert {**after, "events": before["events"]} == before
    assert events() == ["invitation.redemption_refused"]
    refused = Event.objects.get()
    assert refused.data == {"reason": reason}
    assert (refused.actor_type, refused.actor_id) == (ActorType.ANONYMOUS, None)
    assert refused.subject_type == "accounts.invitation"
    assert refused.subject_id == ("" if reason == "unknown_code" else str(invitation.pk))
    assert refused.context == {"ip": "127.0.0.1", "user_agent": ""}
    assert not User.objects.filter(username="newbie").exists()


def test_expiry_is_exclusive(anonymous_client, frozen_now, db):
    # given an invitation that expires at this very instant
    InvitationFactory(code=CODE, expires_at=frozen_now)

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(), format="json")

    # then
    assert response.json() == INVITATION_INVALID
    assert Event.objects.get().data == {"reason": "expired"}


def test_refusing_the_terms_creates_nothing(anonymous_client, events, accounts_state, db):
    # given
    invitation = InvitationFactory(code=CODE)
    before = accounts_state()

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(accept_terms=False), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "terms.not_accepted",
                               "message": "You must accept the program's terms to join."}
    invitation.refresh_from_db()
    assert invitation.uses == 0
    assert not User.objects.filter(username="newbie").exists()
    assert events() == ["invitation.redemption_refused"]
    assert Event.objects.get().data == {"reason": "terms_not_accepted"}
    assert {**accounts_state(), "events": before["events"]} == before


@pytest.mark.parametrize(("field", "existing", "value", "message"), [
    ("username", {"username": "Alice"}, "aLiCe", "This username is taken."),
    ("email", {"username": "bob", "email": "Taken@Example.org"}, "taken@EXAMPLE.org",
     "An account with this e-mail address exists."),
], ids=["username", "email"])
def test_duplicate_account_fields_consume_nothing(field, existing, value, message,
                                                  anonymous_client, accounts_state, db):
    # given an existing account, and a live invitation
    UserFactory(**existing)
    invitation = InvitationFactory(code=CODE)
    before = accounts_state()

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(**{field: value}), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {field: [message]}}
    invitation.refresh_from_db()
    assert invitation.uses == 0
    assert accounts_state() == before


@pytest.mark.parametrize(("password", "messages"), [
    ("xq7#vZ", ["This password is too short. It must contain at least 8 characters."]),
    ("12345678901", ["This password is too common.", "This password is entirely numeric."]),
    ("password", ["This password is too common."]),
    ("newbie@example.org", ["The password is too similar to the email address."]),
], ids=["short", "numeric", "common", "like-email"])
def test_weak_password_is_refused(password, messages, anonymous_client, accounts_state, db):
    # given
    InvitationFactory(code=CODE)
    before = accounts_state()

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(password=password), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"password": messages}}
    assert accounts_state() == before


@pytest.mark.parametrize(("changes", "fields"), [
    ({"username": "has space"}, {"username": [
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ "
        "characters."]}),
    ({"email": "not-an-address"}, {"email": ["Enter a valid email address."]}),
    ({"accept_terms": None}, {"accept_terms": ["This field may not be null."]}),
    ({"code": ""}, {"code": ["This field may not be blank."]}),
], ids=["username", "email", "accept-terms", "code"])
def test_malformed_fields_are_named(changes, fields, anonymous_client, accounts_state, db):
    # given
    InvitationFactory(code=CODE)
    before = accounts_state()

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(**changes), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": fields}
    assert accounts_state() == before


def test_missing_fields_are_named(anonymous_client, events, db):
    # when
    response = anonymous_client.post(REDEEM_URL, {}, format="json")

    # then
    required = ["This field is required."]
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"code": required, "username": required,
                                          "email": required, "password": required,
                                          "accept_terms": required}}
    assert events() == []


def test_redeem_is_throttled_after_the_test_rate(anonymous_client, events, accounts_state,
                                                 monkeypatch, db):
    # given five guesses in the same minute (the test rate is 5/min), then a real code
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: 1_000_000.0))
    for number in range(5):
        guess = anonymous_client.post(REDEEM_URL, redeem_body(code=f"guess-{number}"),
                                      format="json")
        assert guess.json() == INVITATION_INVALID
    InvitationFactory(code=CODE)
    before = accounts_state()

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(), format="json")

    # then
    assert response.status_code == 429
    assert response.json() == {"code": "request.throttled",
                               "message": "Too many requests; try again in 60 seconds."}
    assert response["Retry-After"] == "60"
    assert accounts_state() == before
    assert events() == ["invitation.redemption_refused"] * 5


def test_redeem_twice_with_a_single_use_code(anonymous_client, events, db):
    # given a code redeemed once
    invitation = InvitationFactory(code=CODE)
    assert anonymous_client.post(REDEEM_URL, redeem_body(), format="json").status_code == 201

    # when someone else tries the same code
    response = anonymous_client.post(REDEEM_URL, redeem_body(
        username="latecomer", email="latecomer@example.org"), format="json")

    # then
    assert response.json() == INVITATION_INVALID
    assert Invitation.objects.get(pk=invitation.pk).uses == 1
    assert User.objects.filter(username="latecomer").exists() is False
    assert events()[-1] == "invitation.redemption_refused"
    assert Event.objects.last().data == {"reason": "used_up"}


def test_code_from_the_create_answer_redeems(program_admin, client_of, anonymous_client,
                                             events):
    # given an invitation a program admin made through the API
    CohortFactory(slug="red-team")
    created = client_of(program_admin).post("/api/v1/invitations/", {"cohort": "red-team"},
                                            format="json")
    assert created.status_code == 201

    # when
    response = anonymous_client.post(REDEEM_URL, redeem_body(code=created.json()["code"]),
                                     format="json")

    # then
    assert response.status_code == 201
    assert (response.json()["user"]["roles"], response.json()["user"]["cohort"]) == (
        ["tester"], "red-team")
    assert events() == ["invitation.created", "account.created", "invitation.redeemed",
                        "terms.accepted", "token.created"]
