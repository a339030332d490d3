"""POST and GET invitations/, and POST invitations/{id}/revoke/ (API.md)."""

import hashlib
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from accounts.models import Invitation, Role
from audit.models import ActorType, Event
from tests.factories import CohortFactory, InvitationFactory, UserFactory

INVITATIONS_URL = "/api/v1/invitations/"
REVOKE_URL = "/api/v1/invitations/{}/revoke/"
CREATED_FIELDS = {"id", "code", "url", "cohort", "role", "email", "expires_at", "max_uses",
                  "uses", "status", "revoked_at", "created_at", "created_by"}
LISTED_FIELDS = CREATED_FIELDS - {"code", "url"}


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def admin_client(program_admin, client_of):
    return client_of(program_admin)


def listed(invitation, status):
    """An invitation as GET invitations/ and revoke show it."""
    return {
        "id": str(invitation.pk),
        "cohort": invitation.cohort.slug,
        "role": invitation.role,
        "email": invitation.email,
        "expires_at": iso(invitation.expires_at),
        "max_uses": invitation.max_uses,
        "uses": invitation.uses,
        "status": status,
        "revoked_at": iso(invitation.revoked_at) if invitation.revoked_at else None,
        "created_at": iso(invitation.created_at),
        "created_by": invitation.created_by.username if invitation.created_by else None,
    }


# --- Create ---------------------------------------------------------------------------------


def test_create_with_defaults_answers_the_code_once(program_admin, admin_client, events,
                                                    frozen_now):
    # given
    CohortFactory(slug="red-team")

    # when
    response = admin_client.post(INVITATIONS_URL, {"cohort": "red-team"}, format="json")

    # then
    assert response.status_code == 201
    body = response.json()
    invitation = Invitation.objects.get()
    code = body["code"]
    assert body == {
        "id": str(invitation.pk),
        "code": code,
        "url": f"http://testserver/invite/{code}/",
        "cohort": "red-team",
        "role": "tester",
        "email": "",
        "expires_at": iso(frozen_now + timedelta(days=14)),
        "max_uses": 1,
        "uses": 0,
        "status": "active",
        "revoked_at": None,
        "created_at": iso(frozen_now),
        "created_by": program_admin.username,
    }
    assert set(body) == CREATED_FIELDS
    assert events() == ["invitation.created"]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_role) == (
        ActorType.USER, program_admin.pk, "program_admin")
    assert (event.subject_type, event.subject_id) == ("accounts.invitation", str(invitation.pk))
    assert event.data == {
        "cohort": "red-team", "role": "tester", "email_bound": False,
        "expires_at": iso(frozen_now + timedelta(days=14)), "max_uses": 1,
    }


def test_create_stores_only_the_hash_of_the_code(admin_client, events, db):
    # given
    CohortFactory(slug="red-team")

    # when
    code = admin_client.post(INVITATIONS_URL, {"cohort": "red-team"}, format="json").json()["code"]

    # then the code is long, stored only as its SHA-256, and nowhere else
    assert len(code) >= 32
    row = Invitation.objects.values().get()
    assert row["code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    assert [name for name, value in row.items() if code in str(value)] == []
    assert events() == ["invitation.created"]
    event = Event.objects.get()
    assert code not in json.dumps(event.data)
    assert code not in json.dumps(event.context)


def test_create_codes_differ_every_time(admin_client, events, db):
    # given
    CohortFactory(slug="red-team")

    # when
    codes = {admin_client.post(INVITATIONS_URL, {"cohort": "red-team"},
                               format="json").json()["code"] for _ in range(5)}

    # then
    assert len(codes) == 5
    assert len(set(Invitation.objects.values_list("code_hash", flat=True))) == 5
    assert events() == ["invitation.created"] * 5


def test_create_url_points_at_the_redeem_page_with_the_code(admin_client, events, db):
    # given
    CohortFactory(slug="red-team")

    # when
    body = admin_client.post(INVITATIONS_URL, {"cohort": "red-team"}, format="json").json()

    # then
    url = urlsplit(body["url"])
    match = resolve(url.path)
    assert (url.scheme, url.netloc, url.path) == ("http", "testserver",
                                                  f"/invite/{body['code']}/")
    assert (match.view_name, match.kwargs) == ("accounts:redeem_code", {"code": body["code"]})
    assert events() == ["invitation.created"]


def test_create_with_every_option(program_admin, admin_client, events, frozen_now):
    # given
    CohortFactory(slug="moderators")

    # when
    response = admin_client.post(INVITATIONS_URL, {
        "cohort": "moderators", "role": "moderator", "email": "Mia@Example.ORG",
        "expires_in_days": 90, "max_uses": 1}, format="json")

    # then the address is kept in lower case
    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("cohort", "role", "email", "expires_at", "max_uses")} == {
        "cohort": "moderators", "role": "moderator", "email": "mia@example.org",
        "expires_at": iso(frozen_now + timedelta(days=90)), "max_uses": 1,
    }
    assert Invitation.objects.get().email == "mia@example.org"
    assert events() == ["invitation.created"]
    assert Event.objects.get().data == {
        "cohort": "moderators", "role": "moderator", "email_bound": True,
        "expires_at": iso(frozen_now + timedelta(days=90)), "max_uses": 1,
    }


def test_create_unbound_invitation_for_many(admin_client, events, db):
    # given
    CohortFactory(slug="red-team")

    # when
    response = admin_client.post(INVITATIONS_URL, {
        "cohort": "red-team", "role": "researcher", "expires_in_days": 1, "max_uses": 1000},
        format="json")

    # then
    assert response.status_code == 201
    assert (response.json()["role"], response.json()["max_uses"]) == ("researcher", 1000)
    assert events() == ["invitation.created"]
    assert Event.objects.get().data["max_uses"] == 1000


@pytest.mark.parametrize(("body", "fields"), [
    ({"cohort": "no-such-cohort"}, {"cohort": ["No cohort has this slug."]}),
    ({}, {"cohort": ["This field is required."]}),
    ({"cohort": "red team!"},
     {"cohort": ['Enter a valid "slug" consisting of letters, numbers, underscores or '
                 "hyphens."]}),
    ({"cohort": "red-team", "role": "owner"}, {"role": ['"owner" is not a valid choice.']}),
    ({"cohort": "red-team", "expires_in_days": 0},
     {"expires_in_days": ["Ensure this value is greater than or equal to 1."]}),
    ({"cohort": "red-team", "expires_in_days": 91},
     {"expires_in_days": ["Ensure this value is less than or equal to 90."]}),
    ({"cohort": "red-team", "max_uses": 0},
     {"max_uses": ["Ensure this value is greater than or equal to 1."]}),
    ({"cohort": "red-team", "max_uses": 1001},
     {"max_uses": ["Ensure this value is less than or equal to 1000."]}),
    ({"cohort": "red-team", "email": "one@example.org", "max_uses": 2},
     {"max_uses": ["An invitation bound to one e-mail address can be used once."]}),
    ({"cohort": "red-team", "email": "not-an-address"},
     {"email": ["Enter a valid email address."]}),
    ({"cohort": "red-team", "max_uses": "many"}, {"max_uses": ["A valid integer is required."]}),
], ids=["unknown-cohort", "no-cohort", "bad-slug", "bad-role", "expires-0", "expires-91",
        "max-uses-0", "max-uses-1001", "email-bound-twice", "bad-email", "max-uses-text"])
def test_create_refuses_bad_fields(body, fields, admin_client, accounts_state):
    # given
    CohortFactory(slug="red-team")
    before = accounts_state()

    # when
    response = admin_client.post(INVITATIONS_URL, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "request.invalid", "message": "Some fields are not valid.", "fields": fields}
    assert accounts_state() == before


# --- List -----------------------------------------------------------------------------------


def test_list_shows_every_invitation_newest_first_without_codes(program_admin, admin_client,
                                                               events, frozen_now):
    # given one invitation in each status
    made = {
        "active": InvitationFactory(created_by=program_admin,
                                    created_at=frozen_now - timedelta(hours=1)),
        "used_up": InvitationFactory(uses=1, created_at=frozen_now - timedelta(hours=2)),
        "expired": InvitationFactory(expires_at=frozen_now - timedelta(seconds=1),
                                     created_at=frozen_now - timedelta(days=15)),
        "revoked": InvitationFactory(revoked_at=frozen_now - timedelta(minutes=5),
                                     role=Role.MODERATOR, email="mo@example.org",
                                     created_at=frozen_now - timedelta(hours=3)),
    }

    # when
    response = admin_client.get(INVITATIONS_URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "results": [listed(made[status], status)
                    for status in ("active", "used_up", "revoked", "expired")],
        "next": None,
        "previous": None,
    }
    assert all(set(item) == LISTED_FIELDS for item in response.json()["results"])
    assert "code" not in response.content.decode()
    assert events() == []


def test_list_is_empty_without_invitations(admin_client, db):
    # when
    response = admin_client.get(INVITATIONS_URL)

    # then
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None, "previous": None}


def test_list_pages_with_a_cursor(admin_client, frozen_now):
    # given two invitations
    older = InvitationFactory(created_at=frozen_now - timedelta(hours=2))
    newer = InvitationFactory(created_at=frozen_now - timedelta(hours=1))

    # when
    first = admin_client.get(INVITATIONS_URL, {"page_size": 1})
    second = admin_client.get(first.json()["next"])

    # then
    assert first.status_code == 200
    assert [item["id"] for item in first.json()["results"]] == [str(newer.pk)]
    assert first.json()["previous"] is None
    assert first.json()["next"].startswith("http://testserver/api/v1/invitations/?cursor=")
    assert second.status_code == 200
    assert [item["id"] for item in second.json()["results"]] == [str(older.pk)]
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None


def test_list_cursor_is_stable_under_inserts(admin_client, frozen_now):
    # given a first page read before a new invitation arrives
    older = InvitationFactory(created_at=frozen_now - timedelta(hours=2))
    InvitationFactory(created_at=frozen_now - timedelta(hours=1))
    first = admin_client.get(INVITATIONS_URL, {"page_size": 1})
    InvitationFactory(created_at=frozen_now)

    # when
    second = admin_client.get(first.json()["next"])

    # then
    assert [item["id"] for item in second.json()["results"]] == [str(older.pk)]


def test_list_refuses_a_forged_cursor(admin_client, db):
    # when
    response = admin_client.get(INVITATIONS_URL, {"cursor": "not-a-cursor"})

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


# --- Revoke ---------------------------------------------------------------------------------


def test_revoke_answers_the_revoked_invitation(program_admin, admin_client, events,
                                               frozen_now):
    # given an invitation used once out of three
    invitation = InvitationFactory(max_uses=3, uses=1, created_by=program_admin,
                                   created_at=frozen_now - timedelta(days=1))

    # when
    response = admin_client.post(REVOKE_URL.format(invitation.pk))

    # then
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.revoked_at == frozen_now
    assert response.json() == listed(invitation, "revoked")
    assert response.json()["revoked_at"] == iso(frozen_now)
    assert events() == ["invitation.revoked"]
    event = Event.objects.get()
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        program_admin.pk, "accounts.invitation", str(invitation.pk))
    assert event.data == {"uses": 1}


def test_revoke_twice_is_a_conflict(admin_client, accounts_state, frozen_now):
    # given an invitation revoked earlier
    invitation = InvitationFactory(revoked_at=frozen_now - timedelta(hours=1))
    before = accounts_state()

    # when
    response = admin_client.post(REVOKE_URL.format(invitation.pk))

    # then
    assert response.status_code == 409
    assert response.json() == {"code": "invitation.already_revoked",
                               "message": "This invitation is already revoked."}
    assert accounts_state() == before


def test_revoke_through_the_api_twice(admin_client, events, db):
    # given
    invitation = InvitationFactory()
    assert admin_client.post(REVOKE_URL.format(invitation.pk)).status_code == 200

    # when
    response = admin_client.post(REVOKE_URL.format(invitation.pk))

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "invitation.already_revoked"
    assert events() == ["invitation.revoked"]


@pytest.mark.parametrize("status", ["expired", "used_up"])
def test_revoke_works_on_dead_invitations_too(status, admin_client, events, frozen_now):
    # given
    invitation = InvitationFactory(**(
        {"expires_at": frozen_now - timedelta(days=1)} if status == "expired" else {"uses": 1}))

    # when
    response = admin_client.post(REVOKE_URL.format(invitation.pk))

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert events() == ["invitation.revoked"]


def test_revoke_unknown_invitation_is_not_found(admin_client, accounts_state):
    # given
    InvitationFactory()
    before = accounts_state()

    # when
    response = admin_client.post(REVOKE_URL.format("00000000-0000-4000-8000-000000000000"))

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}
    assert accounts_state() == before


def test_revoke_with_a_malformed_id_is_not_found(admin_client, db):
    # when
    response = admin_client.post(REVOKE_URL.format("not-a-uuid"))

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_an_admin_sees_invitations_made_by_other_admins(client_of, db):
    # given an invitation made by another admin
    other = UserFactory(roles=[Role.PROGRAM_ADMIN])
    invitation = InvitationFactory(created_by=other)

    # when
    response = client_of(UserFactory(roles=[Role.PROGRAM_ADMIN])).get(INVITATIONS_URL)

    # then
    assert [item["id"] for item in response.json()["results"]] == [str(invitation.pk)]
    assert response.json()["results"][0]["created_by"] == other.username


def test_paging_visits_invitations_made_at_the_same_instant_exactly_once(admin_client,
                                                                        frozen_now):
    # Ties are routine under the simulator's clock (core.clock) and for invitations made in a
    # batch; without a unique tie-breaker in the ordering, PostgreSQL returns tied rows in
    # whatever order each page's sort produces, and the cursor skips some and repeats others.

    # given forty invitations made at one instant
    made = sorted(str(InvitationFactory(created_at=frozen_now).pk) for _ in range(40))

    # when an admin follows the cursor through pages of seven
    seen = []
    page = admin_client.get(INVITATIONS_URL, {"page_size": 7}).json()
    seen += [item["id"] for item in page["results"]]
    while page["next"]:
        page = admin_client.get(page["next"]).json()
        seen += [item["id"] for item in page["results"]]

    # then every invitation appears once
    assert sorted(seen) == made
