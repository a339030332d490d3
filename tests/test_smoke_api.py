from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import CohortFactory, UserFactory


def test_program_admin_can_invite_and_someone_redeems(db, events):
    admin = UserFactory(roles=[Role.PROGRAM_ADMIN])
    CohortFactory(slug="red-team")
    client = APIClient()
    client.force_authenticate(admin)
    created = client.post("/api/v1/invitations/", {"cohort": "red-team"}, format="json")
    assert created.status_code == 201, created.json()
    code = created.json()["code"]
    redeemed = APIClient().post("/api/v1/invitations/redeem/", {
        "code": code, "username": "newbie", "email": "newbie@example.org",
        "password": "a long enough password 1", "accept_terms": True}, format="json")
    assert redeemed.status_code == 201, redeemed.json()
    assert redeemed.json()["user"]["roles"] == ["tester"]
    assert events() == ["invitation.created", "account.created", "invitation.redeemed",
                        "terms.accepted", "token.created"]
