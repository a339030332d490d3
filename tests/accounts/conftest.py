import pytest

from accounts.models import Role
from tests.factories import UserFactory


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", roles=[Role.PROGRAM_ADMIN])


@pytest.fixture
def admin_client(web_client, csrf_token, admin):
    """``admin`` signed in to the web pages; ``.token`` is the program page's CSRF token."""
    client = web_client(admin)
    client.token = csrf_token(client, "/program/")
    return client
