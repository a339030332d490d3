"""Suspension on the web pages: testers are shut out on their next page, staff are not."""

import html
import re

import pytest

from accounts.models import Program, ProgramStatus, Role
from accounts.selectors import program_get
from audit.models import Event
from tests.factories import UserFactory

REASON = "Leak under investigation"


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _testid(response, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)<', response.content.decode(), re.S)
    assert found is not None, f"no data-testid={testid} on the page"
    return html.unescape(found.group(1)).strip()


@pytest.fixture
def suspended(db):
    program_get()
    Program.objects.update(status=ProgramStatus.SUSPENDED, reason=REASON)


def test_a_signed_in_tester_is_shut_out_on_their_next_page(web_client, csrf_token, tester,
                                                          events):
    # given: a tester browsing while the program is open, and an admin
    tester_client = web_client(tester)
    assert tester_client.get("/home/").status_code == 200
    admin_client = web_client(UserFactory(roles=[Role.PROGRAM_ADMIN]))
    token = csrf_token(admin_client, "/program/")

    # when: the admin suspends on the program page
    admin_client.post("/program/", {"switch-command": "suspend", "switch-reason": REASON,
                                    "csrfmiddlewaretoken": token})
    response = tester_client.get("/home/")

    # then
    assert response.status_code == 403
    assert response.templates[0].name == "accounts/suspended.html"
    assert _testid(response, "suspended-message") == f"The program is suspended: {REASON}"
    assert events() == ["program.suspended"]


@pytest.mark.parametrize("path", ["/home/", "/program/", "/invite/", "/sign-in/",
                                  "/no-such-page/"])
def test_every_page_answers_the_suspension(web_client, tester, suspended, path):
    # when
    response = web_client(tester).get(path)

    # then
    assert response.status_code == 403
    assert _testid(response, "suspended-message") == f"The program is suspended: {REASON}"


def test_a_suspended_tester_cannot_change_their_token(web_client, csrf_token, tester, suspended,
                                                      events):
    # given
    client = web_client(tester)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/account/api-token/", {"command": "issue",
                                                    "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 403
    assert events() == []


def test_a_suspended_tester_can_still_sign_out(web_client, csrf_token, tester, suspended,
                                               events):
    # given: the suspended page still carries the sign-out form
    client = web_client(tester)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/sign-out/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert "_auth_user_id" not in client.session
    assert client.get("/sign-in/").status_code == 200
    assert events() == ["auth.signed_out"]


@pytest.mark.parametrize(("role", "path", "testid"), [
    (Role.MODERATOR, "/home/", "moderator-home"),
    (Role.RESEARCHER, "/home/", "researcher-home"),
    (Role.PROGRAM_ADMIN, "/home/", "admin-home"),
    (Role.PROGRAM_ADMIN, "/program/", "program-status"),
])
def test_staff_pages_keep_working(web_client, suspended, role, path, testid):
    # when
    response = web_client(UserFactory(roles=[role])).get(path)

    # then
    assert response.status_code == 200
    assert f'data-testid="{testid}"' in response.content.decode()
    assert f"The program is <strong>suspended</strong>: {REASON}" in response.content.decode()


def test_anonymous_pages_keep_working(web_client, suspended):
    # when
    response = web_client().get("/sign-in/")

    # then
    assert response.status_code == 200


def test_resuming_lets_the_tester_back_in(web_client, csrf_token, tester, suspended, events):
    # given
    tester_client = web_client(tester)
    assert tester_client.get("/home/").status_code == 403
    admin_client = web_client(UserFactory(roles=[Role.PROGRAM_ADMIN]))
    token = csrf_token(admin_client, "/program/")

    # when
    admin_client.post("/program/", {"switch-command": "resume", "switch-reason": "",
                                    "csrfmiddlewaretoken": token})
    response = tester_client.get("/home/")

    # then
    assert response.status_code == 200
    assert 'data-testid="tester-home"' in response.content.decode()
    assert events() == ["program.resumed"]
    assert Event.objects.get().data == {"from_status": "suspended", "reason": ""}


def test_the_reason_is_shown_escaped(web_client, tester):
    # given
    program_get()
    Program.objects.update(status=ProgramStatus.SUSPENDED, reason="<script>alert(1)</script>")

    # when
    response = web_client(tester).get("/home/")

    # then
    page = response.content.decode()
    assert "<script>" not in page
    assert ("The program is suspended: &lt;script&gt;alert(1)&lt;/script&gt;" in page)


def test_pausing_does_not_shut_testers_out(web_client, tester):
    # given
    program_get()
    Program.objects.update(status=ProgramStatus.PAUSED, reason="Maintenance")

    # when
    response = web_client(tester).get("/home/")

    # then
    assert response.status_code == 200
    assert "The program is <strong>paused</strong>: Maintenance" in _text(response)
