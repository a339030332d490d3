"""The program admin page: the switch (pause, suspend, resume) and invitations."""

import html
import re

import pytest

from accounts.models import Invitation, Program, Role
from accounts.selectors import program_get
from accounts.services.invitations import invitation_code_hash
from audit.models import Event
from tests.factories import CohortFactory, InvitationFactory, UserFactory


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _testid(response, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)<', response.content.decode(), re.S)
    assert found is not None, f"no data-testid={testid} on the page"
    return html.unescape(found.group(1)).strip()


def _invitation_form(token: str, **overrides) -> dict:
    return {"invite-cohort": "creative-partners", "invite-role": "tester", "invite-email": "",
            "invite-expires_in_days": "14", "invite-max_uses": "1",
            "csrfmiddlewaretoken": token, **overrides}


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", roles=[Role.PROGRAM_ADMIN], is_staff=True)


@pytest.fixture
def admin_client(web_client, csrf_token, admin):
    client = web_client(admin)
    client.token = csrf_token(client, "/program/")
    return client


def test_the_program_page_shows_the_status_and_invitations(admin_client, db):
    # given
    InvitationFactory(cohort=CohortFactory(slug="red-team"))

    # when
    response = admin_client.get("/program/")

    # then
    assert response.status_code == 200
    assert _testid(response, "program-status") == "open"
    assert [status for _invitation, status in response.context["invitations"]] == ["active"]
    assert "red-team" in _text(response)


@pytest.mark.parametrize("role", [Role.TESTER, Role.MODERATOR, Role.RESEARCHER])
def test_non_admins_are_refused_and_nothing_changes(web_client, csrf_token, accounts_state,
                                                    role):
    # given
    program_get()
    client = web_client(UserFactory(roles=[role]))
    token = csrf_token(client, "/home/")
    invitation = InvitationFactory()
    before = accounts_state()

    # when
    page = client.get("/program/")
    suspend = client.post("/program/", {"switch-command": "suspend", "switch-reason": "Leak",
                                        "csrfmiddlewaretoken": token})
    invite = client.post("/program/", _invitation_form(token))
    revoke = client.post(f"/program/invitations/{invitation.pk}/revoke/",
                         {"csrfmiddlewaretoken": token})

    # then
    assert [page.status_code, suspend.status_code, invite.status_code, revoke.status_code] == [
        403, 403, 403, 403]
    assert "This page is for program admins." in _text(page)
    assert accounts_state() == before


def test_anonymous_visitors_are_sent_to_sign_in(web_client, db):
    # when
    response = web_client().get("/program/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/program/"


def test_an_admin_pauses_the_program_with_a_reason(admin_client, admin, events):
    # when
    response = admin_client.post("/program/", {
        "switch-command": "pause", "switch-reason": "  Moving to new servers  ",
        "csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/program/"
    program = Program.objects.get()
    assert (program.status, program.reason, program.changed_by) == (
        "paused", "Moving to new servers", admin)
    assert events() == ["program.paused"]
    event = Event.objects.get()
    assert (event.actor_id, event.actor_role, event.subject_type, event.subject_id) == (
        admin.pk, "program_admin", "accounts.program", "1")
    assert event.data == {"from_status": "open", "reason": "Moving to new servers"}
    page = admin_client.get("/program/")
    assert _testid(page, "program-status") == "paused"
    assert "The program is now paused." in _text(page)
    assert ("The program is <strong>paused</strong>: Moving to new servers"
            in page.content.decode())


@pytest.mark.parametrize("reason", ["", "   "])
def test_suspending_without_a_reason_shows_the_error(admin_client, events, reason):
    # given
    program_get()

    # when
    response = admin_client.post("/program/", {
        "switch-command": "suspend", "switch-reason": reason,
        "csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 400
    assert response.context["switch_form"].errors == {
        "reason": ["Give a reason; testers will see it."]}
    assert "Give a reason; testers will see it." in _text(response)
    assert Program.objects.get().status == "open"
    assert events() == []


def test_an_admin_suspends_and_resumes(admin_client, events):
    # given
    program_get()

    # when
    suspend = admin_client.post("/program/", {
        "switch-command": "suspend", "switch-reason": "Leak under investigation",
        "csrfmiddlewaretoken": admin_client.token})
    resume = admin_client.post("/program/", {
        "switch-command": "resume", "switch-reason": "",
        "csrfmiddlewaretoken": admin_client.token})

    # then
    assert (suspend.status_code, resume.status_code) == (302, 302)
    assert (Program.objects.get().status, Program.objects.get().reason) == ("open", "")
    assert events() == ["program.suspended", "program.resumed"]
    assert [event.data for event in Event.objects.all()] == [
        {"from_status": "open", "reason": "Leak under investigation"},
        {"from_status": "suspended", "reason": ""},
    ]


def test_an_illegal_move_is_refused_with_409(admin_client, events):
    # given: the program is open
    program_get()

    # when
    response = admin_client.post("/program/", {
        "switch-command": "resume", "switch-reason": "", "csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 409
    assert "The program is open; it cannot be resumed." in _text(response)
    assert Program.objects.get().status == "open"
    assert events() == []


def test_an_unknown_command_is_a_400(admin_client, events):
    # given
    program_get()

    # when
    response = admin_client.post("/program/", {
        "switch-command": "explode", "switch-reason": "x",
        "csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 400
    assert Program.objects.get().status == "open"
    assert events() == []


def test_the_switch_refuses_a_post_without_csrf(web_client, admin, events):
    # given
    program_get()

    # when
    response = web_client(admin).post("/program/", {"switch-command": "suspend",
                                                    "switch-reason": "Leak"})

    # then
    assert response.status_code == 403
    assert Program.objects.get().status == "open"
    assert events() == []


def test_creating_an_invitation_shows_its_code_once(admin_client, admin, events):
    # when
    response = admin_client.post("/program/", _invitation_form(admin_client.token))

    # then
    assert response.status_code == 200
    code = _testid(response, "invitation-code")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", code)
    assert _testid(response, "invitation-url") == f"http://testserver/invite/{code}/"
    invitation = Invitation.objects.get()
    assert (invitation.cohort.slug, invitation.role, invitation.email, invitation.max_uses,
            invitation.created_by) == ("creative-partners", "tester", "", 1, admin)
    assert invitation.code_hash == invitation_code_hash(code)
    assert events() == ["invitation.created"]
    event = Event.objects.get()
    assert (event.subject_type, event.subject_id) == ("accounts.invitation", str(invitation.pk))

    # the code is stored nowhere, and the next page view does not show it
    stored = [*Invitation.objects.values(), *Event.objects.values()]
    assert code not in repr(stored)
    assert code not in admin_client.get("/program/").content.decode()


def test_an_invalid_invitation_form_shows_the_errors(admin_client, events):
    # when
    response = admin_client.post("/program/", _invitation_form(
        admin_client.token, **{"invite-cohort": "no-such-cohort", "invite-max_uses": "0"}))

    # then
    assert response.status_code == 400
    assert sorted(response.context["invitation_form"].errors) == ["cohort", "max_uses"]
    assert 'data-testid="invitation-code"' not in response.content.decode()
    assert not Invitation.objects.exists()
    assert events() == []


def test_an_invitation_bound_to_an_email_can_be_used_once(admin_client, events):
    # when
    response = admin_client.post("/program/", _invitation_form(
        admin_client.token, **{"invite-email": "one@example.org", "invite-max_uses": "3"}))

    # then: the service's refusal lands on the field
    assert response.status_code == 400
    assert response.context["invitation_form"].errors == {
        "max_uses": ["An invitation bound to one e-mail address can be used once."]}
    assert not Invitation.objects.exists()
    assert events() == []


def test_an_admin_revokes_an_invitation_from_the_page(admin_client, admin, events):
    # given
    invitation = InvitationFactory()

    # when
    response = admin_client.post(f"/program/invitations/{invitation.pk}/revoke/",
                                 {"csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/program/"
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert events() == ["invitation.revoked"]
    event = Event.objects.get()
    assert (event.actor_id, event.subject_id, event.data) == (
        admin.pk, str(invitation.pk), {"uses": 0})
    page = admin_client.get("/program/")
    assert "The invitation is revoked." in _text(page)
    assert [status for _invitation, status in page.context["invitations"]] == ["revoked"]


def test_revoking_twice_shows_the_error_and_records_nothing(admin_client, events):
    # given
    invitation = InvitationFactory()
    admin_client.post(f"/program/invitations/{invitation.pk}/revoke/",
                      {"csrfmiddlewaretoken": admin_client.token})
    revoked_at = Invitation.objects.get().revoked_at

    # when
    response = admin_client.post(f"/program/invitations/{invitation.pk}/revoke/",
                                 {"csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 302
    assert Invitation.objects.get().revoked_at == revoked_at
    assert "This invitation is already revoked." in _text(admin_client.get("/program/"))
    assert events() == ["invitation.revoked"]


def test_revoking_an_unknown_invitation_is_a_404(admin_client, events):
    # when
    response = admin_client.post(
        "/program/invitations/00000000-0000-0000-0000-000000000000/revoke/",
        {"csrfmiddlewaretoken": admin_client.token})

    # then
    assert response.status_code == 404
    assert events() == []


def test_revoke_is_post_only(admin_client, events):
    # given
    invitation = InvitationFactory()

    # when
    response = admin_client.get(f"/program/invitations/{invitation.pk}/revoke/")

    # then
    assert response.status_code == 405
    assert Invitation.objects.get().revoked_at is None
    assert events() == []
