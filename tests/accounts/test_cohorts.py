"""GET cohorts/: every cohort with the number of its active testers (API.md)."""

import pytest

from accounts.models import Role
from tests.factories import CohortFactory, UserFactory

COHORTS_URL = "/api/v1/cohorts/"


@pytest.mark.parametrize("role", [Role.PROGRAM_ADMIN, Role.RESEARCHER])
def test_cohorts_list_every_cohort_with_its_active_testers(role, client_of, events, db):
    # given two cohorts: one with testers, staff and a deactivated tester, one empty
    red = CohortFactory(slug="red-team", name="Red team")
    CohortFactory(slug="blue-team", name="Blue team")
    UserFactory(cohort=red, roles=[Role.TESTER])
    UserFactory(cohort=red, roles=[Role.TESTER, Role.MODERATOR])
    UserFactory(cohort=red, roles=[Role.TESTER], is_active=False)
    UserFactory(cohort=red, roles=[Role.MODERATOR])
    UserFactory(cohort=red, roles=[], is_superuser=True)
    caller = UserFactory(cohort=None, roles=[role])

    # when
    response = client_of(caller).get(COHORTS_URL)

    # then
    assert response.status_code == 200
    assert response.json() == [
        {"slug": "blue-team", "name": "Blue team", "size": 0},
        {"slug": "red-team", "name": "Red team", "size": 2},
    ]
    assert events() == []


def test_cohorts_empty(client_of, db):
    # when
    response = client_of(UserFactory(cohort=None, roles=[Role.RESEARCHER])).get(COHORTS_URL)

    # then
    assert response.status_code == 200
    assert response.json() == []
