"""GET me/: who the caller is (API.md, "Accounts and the program")."""

import pytest

from accounts.models import Role, TermsAcceptance
from tests.factories import CohortFactory, UserFactory

ME_URL = "/api/v1/me/"
ME_FIELDS = {"id", "username", "email", "roles", "cohort", "terms_version_accepted"}


def test_me_answers_exactly_the_documented_fields(client_of, events, db):
    # given a tester in a cohort who has not accepted any terms
    user = UserFactory(username="tess", email="tess@example.org",
                       cohort=CohortFactory(slug="red-team"), roles=[Role.TESTER])

    # when
    response = client_of(user).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "tess",
        "email": "tess@example.org",
        "roles": ["tester"],
        "cohort": "red-team",
        "terms_version_accepted": None,
    }
    assert set(response.json()) == ME_FIELDS
    assert events() == []


def test_me_shows_the_latest_terms_version_accepted(tester, client_of, frozen_now):
    # given a tester who accepted two versions of the terms
    TermsAcceptance.objects.create(user=tester, version="2024-02",
                                   accepted_at=frozen_now.replace(year=2024))
    TermsAcceptance.objects.create(user=tester, version="2025-01", accepted_at=frozen_now)

    # when
    response = client_of(tester).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["terms_version_accepted"] == "2025-01"


def test_me_lists_several_roles_sorted(client_of, db):
    # given a user with two roles
    user = UserFactory(roles=[Role.RESEARCHER, Role.MODERATOR])

    # when
    response = client_of(user).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["roles"] == ["moderator", "researcher"]


def test_superuser_holds_all_four_roles(client_of, db):
    # given a superuser without groups and without a cohort
    user = UserFactory(is_superuser=True, roles=[], cohort=None)

    # when
    response = client_of(user).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["roles"] == ["moderator", "program_admin", "researcher", "tester"]
    assert response.json()["cohort"] is None


def test_me_answers_by_token_too(tester, token_client_of):
    # when
    response = token_client_of(tester).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["id"] == tester.pk


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_me_anonymous_is_not_authenticated(method, anonymous_client, events, db):
    # when
    response = getattr(anonymous_client, method)(ME_URL)

    # then
    assert response.status_code == 401
    assert response.json() == {"code": "auth.not_authenticated", "message": "Sign in to do this."}
    assert response["WWW-Authenticate"] == "Token"
    assert events() == []

