"""The program switch: GET program/, suspend, pause and resume (API.md, "Accounts and the
program"), and what suspension and pausing do to everyone else."""

import pytest
from rest_framework.test import APIClient

from accounts.errors import ProgramPaused, ProgramSuspended
from accounts.models import Program, ProgramStatus, Role
from accounts.services.program import PROGRAM_TRANSITIONS, program_require_accepting_clips
from audit.models import ActorType, Event
from tests.factories import PASSWORD, InvitationFactory, UserFactory

PROGRAM_URL = "/api/v1/program/"
COMMAND_URL = "/api/v1/program/{}/"
EVENT_OF = {"suspend": "program.suspended", "pause": "program.paused",
            "resume": "program.resumed"}
DEFAULT_POLICY = {
    "max_duration_s": 20,
    "max_width": 1920,
    "max_height": 1080,
    "max_upload_bytes": 200 * 1024 * 1024,
    "allowed_video_codecs": ["h264", "hevc", "vp9", "av1"],
    "lease_seconds": 600,
    "second_opinion_rate": 0.05,
}

# The whole transition table, as the product decided it: (from, command) → new status, or
# None when the move is refused with 409 program.invalid_transition.
EXPECTED_TRANSITIONS = {
    (ProgramStatus.OPEN, "pause"): ProgramStatus.PAUSED,
    (ProgramStatus.OPEN, "suspend"): ProgramStatus.SUSPENDED,
    (ProgramStatus.OPEN, "resume"): None,
    (ProgramStatus.PAUSED, "pause"): None,
    (ProgramStatus.PAUSED, "suspend"): ProgramStatus.SUSPENDED,
    (ProgramStatus.PAUSED, "resume"): ProgramStatus.OPEN,
    (ProgramStatus.SUSPENDED, "pause"): None,
    (ProgramStatus.SUSPENDED, "suspend"): None,
    (ProgramStatus.SUSPENDED, "resume"): ProgramStatus.OPEN,
}
PAST_TENSE = {"pause": "paused", "suspend": "suspended", "resume": "resumed"}


def set_program(status, reason=""):
    Program.objects.filter(pk=Program.SINGLETON_ID).update(status=status, reason=reason)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def test_program_answers_its_status_terms_and_policy(tester, client_of, events):
    # when
    response = client_of(tester).get(PROGRAM_URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "open",
        "reason": "",
        "changed_at": None,
        "terms_version": "2024-02",
        "policy": DEFAULT_POLICY,
    }
    assert events() == []


def test_program_shows_a_changed_policy(tester, client_of):
    # given
    Program.objects.filter(pk=Program.SINGLETON_ID).update(max_duration_s=10, lease_seconds=90)

    # when
    response = client_of(tester).get(PROGRAM_URL)

    # then
    assert response.json()["policy"] == {**DEFAULT_POLICY, "max_duration_s": 10,
                                         "lease_seconds": 90}


def test_program_anonymous_is_not_authenticated(anonymous_client, db):
    # when
    response = anonymous_client.get(PROGRAM_URL)

    # then
    assert response.status_code == 401
    assert response.json() == {"code": "auth.not_authenticated", "message": "Sign in to do this."}
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("start", "command", "target"), [
    (ProgramStatus.OPEN, "suspend", ProgramStatus.SUSPENDED),
    (ProgramStatus.OPEN, "pause", ProgramStatus.PAUSED),
    (ProgramStatus.SUSPENDED, "resume", ProgramStatus.OPEN),
], ids=["suspend", "pause", "resume"])
def test_program_admin_switches_the_program(start, command, target, program_admin, client_of,
                                            events, frozen_now):
    # given
    set_program(start, "earlier reason")

    # when
    response = client_of(program_admin).post(
        COMMAND_URL.format(command), {"reason": "  Leak investigation  "}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": target.value,
        "reason": "Leak investigation",
        "changed_at": iso(frozen_now),
        "terms_version": "2024-02",
        "policy": DEFAULT_POLICY,
    }
    program = Program.objects.get()
    assert (program.status, program.reason, program.changed_at, program.changed_by) == (
        target, "Leak investigation", frozen_now, program_admin)
    assert events() == [EVENT_OF[command]]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_role) == (
        ActorType.USER, program_admin.pk, "program_admin")
    assert (event.subject_type, event.subject_id) == ("accounts.program", "1")
    assert event.occurred_at == frozen_now
    assert event.data == {"from_status": start.value, "reason": "Leak investigation"}


def test_resume_without_a_reason_clears_it(program_admin, client_of, events):
    # given
    set_program(ProgramStatus.PAUSED, "Maintenance")

    # when
    response = client_of(program_admin).post(COMMAND_URL.format("resume"), {}, format="json")

    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("open", "")
    assert events() == ["program.resumed"]
    assert Event.objects.get().data == {"from_status": "paused", "reason": ""}


def test_program_get_shows_the_switch_after_a_change(program_admin, tester, client_of,
                                                     frozen_now):
    # given
    client_of(program_admin).post(COMMAND_URL.format("pause"), {"reason": "Maintenance"},
                                  format="json")

    # when
    response = client_of(tester).get(PROGRAM_URL)

    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"],
            response.json()["changed_at"]) == ("paused", "Maintenance", iso(frozen_now))


@pytest.mark.parametrize("command", ["suspend", "pause"])
@pytest.mark.parametrize(("body", "message"), [
    ({}, "This field is required."),
    ({"reason": ""}, "This field may not be blank."),
    ({"reason": "   \n\t "}, "This field may not be blank."),
    ({"reason": None}, "This field may not be null."),
    ({"reason": "x" * 2001}, "Ensure this field has no more than 2000 characters."),
], ids=["missing", "empty", "blank", "null", "too-long"])
def test_suspend_and_pause_need_a_reason(command, body, message, program_admin, client_of,
                                         accounts_state):
    # given
    before = accounts_state()

    # when
    response = client_of(program_admin).post(COMMAND_URL.format(command), body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "request.invalid",
        "message": "Some fields are not valid.",
        "fields": {"reason": [message]},
    }
    assert accounts_state() == before


@pytest.mark.parametrize(("start", "command"), [
    (ProgramStatus.PAUSED, "pause"),
    (ProgramStatus.OPEN, "resume"),
    (ProgramStatus.SUSPENDED, "suspend"),
    (ProgramStatus.SUSPENDED, "pause"),
], ids=["pause-when-paused", "resume-when-open", "suspend-when-suspended",
        "pause-when-suspended"])
def test_illegal_moves_are_conflicts(start, command, program_admin, client_of, accounts_state):
    # given
    set_program(start, "the reason in force")
    before = accounts_state()

    # when
    response = client_of(program_admin).post(
        COMMAND_URL.format(command), {"reason": "again"}, format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "program.invalid_transition",
        "message": f"The program is {start.value}; it cannot be {PAST_TENSE[command]}.",
    }
    assert accounts_state() == before


def test_expected_table_covers_every_status_and_command():
    assert set(EXPECTED_TRANSITIONS) == {
        (status, command) for status in ProgramStatus for command in PROGRAM_TRANSITIONS}


def test_service_table_agrees_with_the_expected_table():
    actual = {
        (status, command): (target if status in sources else None)
        for command, (sources, target) in PROGRAM_TRANSITIONS.items()
        for status in ProgramStatus
    }
    assert actual == EXPECTED_TRANSITIONS


@pytest.mark.parametrize(("start", "command"), list(EXPECTED_TRANSITIONS),
                         ids=[f"{s.value}-{c}" for s, c in EXPECTED_TRANSITIONS])
def test_transition_table_through_the_api(start, command, program_admin, client_of, events):
    # given
    set_program(start, "before")
    target = EXPECTED_TRANSITIONS[(start, command)]

    # when
    response = client_of(program_admin).post(
        COMMAND_URL.format(command), {"reason": "table"}, format="json")

    # then
    program = Program.objects.get()
    if target is None:
        assert response.status_code == 409
        assert response.json()["code"] == "program.invalid_transition"
        assert (program.status, program.reason) == (start, "before")
        assert events() == []
    else:
        assert response.status_code == 200
        assert response.json()["status"] == target.value
        assert (program.status, program.reason) == (target, "table")
        assert events() == [EVENT_OF[command]]
        assert Event.objects.get().data == {"from_status": start.value, "reason": "table"}


# --- Suspension: testers are shut out, by token and by session alike ----------------------


def _suspended_message(reason):
    return {"code": "program.suspended", "message": f"The program is suspended: {reason}"}


@pytest.fixture(params=["token", "session"])
def suspended_tester_client(request, tester, token_client_of):
    """A tester's client (by API token, or by a real session login), then the suspension."""
    if request.param == "token":
        client = token_client_of(tester)
    else:
        client = APIClient()
        assert client.login(username=tester.username, password=PASSWORD)
    set_program(ProgramStatus.SUSPENDED, "Leak investigation")
    return client


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/api/v1/cohorts/", None),
    ("delete", "/api/v1/auth/token/", None),
    ("get", "/api/v1/invitations/", None),
    ("post", "/api/v1/invitations/", {"cohort": "creative-partners"}),
    ("post", "/api/v1/program/resume/", {}),
    ("put", "/api/v1/me/", {}),
], ids=["cohorts", "revoke-token", "list-invitations", "create-invitation", "resume",
        "put-me"])
def test_suspended_program_refuses_testers(method, path, body, suspended_tester_client,
                                           accounts_state):
    # given
    before = accounts_state()

    # when
    response = getattr(suspended_tester_client, method)(path, body, format="json")

    # then
    assert response.status_code == 403
    assert response.json() == _suspended_message("Leak investigation")
    assert accounts_state() == before


def test_suspended_program_refuses_testers_redeeming(suspended_tester_client, accounts_state):
    # given a live invitation, and a suspended program
    InvitationFactory(code="live-code-for-a-friend")
    before = accounts_state()

    # when the suspended tester redeems it
    response = suspended_tester_client.post("/api/v1/invitations/redeem/", {
        "code": "live-code-for-a-friend", "username": "sockpuppet",
        "email": "sockpuppet@example.org", "password": "a long enough password 1",
        "accept_terms": True}, format="json")

    # then
    assert response.status_code == 403
    assert response.json() == _suspended_message("Leak investigation")
    assert accounts_state() == before


@pytest.mark.parametrize("path", ["/api/v1/program/", "/api/v1/me/"])
def test_suspended_testers_may_still_read_program_and_me(path, suspended_tester_client, events):
    # when
    response = suspended_tester_client.get(path)

    # then
    assert response.status_code == 200
    assert events() == []


def test_suspended_testers_learn_the_reason_from_program(suspended_tester_client):
    # when
    response = suspended_tester_client.get(PROGRAM_URL)

    # then
    assert (response.json()["status"], response.json()["reason"]) == (
        "suspended", "Leak investigation")


def test_suspension_without_a_reason_says_so(tester, token_client_of):
    # given a suspension recorded without a reason (e.g. by an operator in the admin)
    set_program(ProgramStatus.SUSPENDED, "")

    # when
    response = token_client_of(tester).get("/api/v1/cohorts/")

    # then
    assert response.status_code == 403
    assert response.json() == {"code": "program.suspended",
                               "message": "The program is suspended."}


def test_suspension_shuts_out_accounts_without_any_role(token_client_of, db):
    # given an account with no role at all, and a suspended program
    nobody = UserFactory(roles=[])
    set_program(ProgramStatus.SUSPENDED, "Leak investigation")

    # when
    response = token_client_of(nobody).delete("/api/v1/auth/token/")

    # then
    assert response.status_code == 403
    assert response.json() == _suspended_message("Leak investigation")


@pytest.mark.parametrize(("roles", "method", "path", "expected", "recorded"), [
    ([Role.MODERATOR], "delete", "/api/v1/auth/token/", 204, ["token.revoked"]),
    ([Role.RESEARCHER], "get", "/api/v1/cohorts/", 200, []),
    ([Role.PROGRAM_ADMIN], "get", "/api/v1/invitations/", 200, []),
    ([Role.PROGRAM_ADMIN], "post", "/api/v1/invitations/", 201, ["invitation.created"]),
    ([Role.TESTER, Role.MODERATOR], "delete", "/api/v1/auth/token/", 204, ["token.revoked"]),
], ids=["moderator", "researcher", "program_admin-list", "program_admin-invite",
        "tester-and-moderator"])
def test_program_staff_keep_access_while_suspended(roles, method, path, expected, recorded,
                                                   token_client_of, events, db):
    # given
    staff = UserFactory(roles=roles)
    client = token_client_of(staff)
    set_program(ProgramStatus.SUSPENDED, "Leak investigation")

    # when
    response = getattr(client, method)(path, {"cohort": "creative-partners"}, format="json")

    # then
    assert response.status_code == expected
    assert events() == recorded


def test_suspension_and_resume_take_effect_on_the_next_request(tester, program_admin,
                                                               token_client_of, client_of,
                                                               events):
    # given a tester with a token, and an admin who suspends the program
    tester_client = token_client_of(tester)
    admin = client_of(program_admin)
    assert admin.post(COMMAND_URL.format("suspend"), {"reason": "Leak"},
                      format="json").status_code == 200
    refused = tester_client.delete("/api/v1/auth/token/")
    assert refused.status_code == 403
    assert refused.json() == _suspended_message("Leak")

    # when the admin resumes
    resumed = admin.post(COMMAND_URL.format("resume"), {}, format="json")

    # then the same token works again
    assert resumed.status_code == 200
    assert tester_client.get("/api/v1/me/").status_code == 200
    assert tester_client.delete("/api/v1/auth/token/").status_code == 204
    assert events() == ["program.suspended", "program.resumed", "token.revoked"]


# --- Paused: testers keep access; only new clips are refused ------------------------------


def test_paused_program_keeps_testers_in(tester, token_client_of, events):
    # given
    client = token_client_of(tester)
    set_program(ProgramStatus.PAUSED, "Maintenance")

    # when
    me = client.get("/api/v1/me/")
    revoked = client.delete("/api/v1/auth/token/")

    # then
    assert me.status_code == 200
    assert revoked.status_code == 204
    assert events() == ["token.revoked"]


def test_accepting_clips_when_open_returns_the_program(db):
    # when
    program = program_require_accepting_clips()

    # then
    assert (program.pk, program.status) == (Program.SINGLETON_ID, ProgramStatus.OPEN)


def test_accepting_clips_when_paused_raises_program_paused(db):
    # given
    set_program(ProgramStatus.PAUSED, "Maintenance")

    # when
    with pytest.raises(ProgramPaused) as raised:
        program_require_accepting_clips()

    # then
    assert (raised.value.code, raised.value.status) == ("program.paused", 409)
    assert raised.value.message == (
        "The program is paused; new clips cannot be created or submitted: Maintenance")


def test_accepting_clips_when_suspended_raises_program_suspended(db):
    # given
    set_program(ProgramStatus.SUSPENDED, "Leak")

    # when
    with pytest.raises(ProgramSuspended) as raised:
        program_require_accepting_clips()

    # then
    assert (raised.value.code, raised.value.status) == ("program.suspended", 403)
    assert raised.value.message == "The program is suspended: Leak"


def test_suspended_program_refuses_signed_in_testers_asking_for_a_token(
        tester, suspended_tester_client, accounts_state):
    # given a suspended program and a signed-in tester
    before = accounts_state()

    # when
    response = suspended_tester_client.post(
        "/api/v1/auth/token/", {"username": tester.username, "password": PASSWORD},
        format="json")

    # then
    assert response.status_code == 403
    assert response.json() == _suspended_message("Leak investigation")
    assert accounts_state() == before
