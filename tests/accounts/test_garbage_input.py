"""Garbage in: malformed bodies, wrong content types and methods, unknown paths. Every one
answers the documented JSON error, never a 500, and changes nothing."""

import pytest

from accounts.models import Program, ProgramStatus
from tests.factories import CohortFactory, InvitationFactory

MALFORMED = {"code": "request.malformed", "message": "The request body could not be parsed."}
NOT_FOUND = {"code": "not_found", "message": "Not found."}

# (path, caller): the JSON-body endpoints; "admin" posts as a program admin.
JSON_ENDPOINTS = [
    ("/api/v1/auth/token/", "anonymous"),
    ("/api/v1/invitations/redeem/", "anonymous"),
    ("/api/v1/invitations/", "admin"),
    ("/api/v1/program/suspend/", "admin"),
    ("/api/v1/program/pause/", "admin"),
    ("/api/v1/program/resume/", "admin"),
]
JSON_IDS = ["token", "redeem", "invitations", "suspend", "pause", "resume"]


@pytest.fixture
def caller(program_admin, client_of, anonymous_client):
    CohortFactory(slug="creative-partners")
    InvitationFactory(code="a-live-invitation-code")
    Program.objects.filter(pk=Program.SINGLETON_ID).update(status=ProgramStatus.PAUSED,
                                                           reason="Maintenance")
    return {"anonymous": anonymous_client, "admin": client_of(program_admin)}


@pytest.mark.parametrize(("path", "who"), JSON_ENDPOINTS, ids=JSON_IDS)
@pytest.mark.parametrize("body", ['{"oops', "{", '{"reason": "x",}', "\xff\xfe", "nul\x00l"],
                         ids=["unterminated", "brace", "trailing-comma", "bad-utf8", "nul"])
def test_malformed_json_is_request_malformed(path, who, body, caller, accounts_state):
    # given
    before = accounts_state()

    # when
    response = caller[who].generic("POST", path, body.encode("latin-1"),
                                   content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json() == MALFORMED
    assert accounts_state() == before


@pytest.mark.parametrize(("path", "who"), JSON_ENDPOINTS, ids=JSON_IDS)
@pytest.mark.parametrize(("body", "fields"), [
    ("[]", {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ('[{"reason": "x"}]',
     {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ('"reason"', {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
    ("42", {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}),
    ("true", {"non_field_errors": ["Invalid data. Expected a dictionary, but got bool."]}),
    ("null", {"non_field_errors": ["No data provided"]}),
], ids=["empty-list", "list", "string", "number", "bool", "null"])
def test_json_that_is_not_an_object_is_request_invalid(path, who, body, fields, caller,
                                                       accounts_state):
    # given
    before = accounts_state()

    # when
    response = caller[who].generic("POST", path, body, content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": fields}
    assert accounts_state() == before


@pytest.mark.parametrize(("path", "who", "field", "value"), [
    ("/api/v1/auth/token/", "anonymous", "username", ["a", "b"]),
    ("/api/v1/auth/token/", "anonymous", "password", {"nested": "object"}),
    ("/api/v1/invitations/redeem/", "anonymous", "code", ["a-live-invitation-code"]),
    ("/api/v1/invitations/redeem/", "anonymous", "accept_terms", "perhaps"),
    ("/api/v1/invitations/", "admin", "cohort", {"slug": "creative-partners"}),
    ("/api/v1/invitations/", "admin", "expires_in_days", 1e300),
    ("/api/v1/program/suspend/", "admin", "reason", ["a", "list"]),
    ("/api/v1/program/resume/", "admin", "reason", {"an": "object"}),
], ids=["token-username-list", "token-password-object", "redeem-code-list",
        "redeem-accept-terms-text", "invitations-cohort-object", "invitations-huge-number",
        "suspend-reason-list", "resume-reason-object"])
def test_wrongly_typed_fields_are_named(path, who, field, value, caller, accounts_state):
    # given
    before = accounts_state()
    body = {"username": "someone", "password": "something", "code": "a-live-invitation-code",
            "email": "someone@example.org", "accept_terms": True, "cohort": "creative-partners",
            "reason": "because", field: value}

    # when
    response = caller[who].post(path, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "request.invalid"
    assert list(response.json()["fields"]) == [field]
    assert accounts_state() == before


@pytest.mark.parametrize(("path", "who"), JSON_ENDPOINTS, ids=JSON_IDS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/x-yaml"])
def test_unsupported_content_type_is_415(path, who, content_type, caller, accounts_state):
    # given
    before = accounts_state()

    # when
    response = caller[who].generic("POST", path, "reason=x", content_type=content_type)

    # then
    assert response.status_code == 415
    assert response.json() == {"code": "request.unsupported_media_type",
                               "message": "This content type is not accepted here."}
    assert accounts_state() == before


@pytest.mark.parametrize(("method", "path", "who", "allowed"), [
    ("GET", "/api/v1/program/suspend/", "admin", "POST, OPTIONS"),
    ("PUT", "/api/v1/program/", "admin", "GET, HEAD, OPTIONS"),
    ("DELETE", "/api/v1/program/", "admin", "GET, HEAD, OPTIONS"),
    ("PATCH", "/api/v1/me/", "admin", "GET, HEAD, OPTIONS"),
    ("GET", "/api/v1/invitations/redeem/", "anonymous", "POST, OPTIONS"),
    ("DELETE", "/api/v1/invitations/", "admin", "GET, POST, HEAD, OPTIONS"),
    ("GET", "/api/v1/invitations/00000000-0000-4000-8000-000000000000/revoke/", "admin",
     "POST, OPTIONS"),
    ("POST", "/api/v1/cohorts/", "admin", "GET, HEAD, OPTIONS"),
    ("PUT", "/api/v1/auth/token/", "admin", "POST, DELETE, OPTIONS"),
], ids=["get-suspend", "put-program", "delete-program", "patch-me", "get-redeem",
        "delete-invitations", "get-revoke", "post-cohorts", "put-token"])
def test_wrong_method_is_405(method, path, who, allowed, caller, accounts_state):
    # given
    before = accounts_state()

    # when
    response = caller[who].generic(method, path, "{}", content_type="application/json")

    # then
    assert response.status_code == 405
    assert response.json() == {"code": "request.method_not_allowed",
                               "message": "Method not allowed."}
    assert response["Allow"] == allowed
    assert accounts_state() == before


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/invitations/not-a-uuid/revoke/",
                                  "/api/v1/program/explode/", "/api/v2/me/"],
                         ids=["unknown", "bad-uuid", "unknown-command", "v2"])
@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_unknown_path_is_json_404(method, path, who, caller, accounts_state):
    # given
    before = accounts_state()

    # when
    response = caller[who].generic(method, path, "{}", content_type="application/json")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND
    assert accounts_state() == before


@pytest.mark.parametrize(("path", "who", "body", "field"), [
    ("/api/v1/auth/token/", "anonymous", {"username": "a\x00b", "password": "x"}, "username"),
    ("/api/v1/invitations/redeem/", "anonymous",
     {"code": "a-live-invitation-code\x00", "username": "newbie", "email": "n@example.org",
      "password": "a long enough password 1", "accept_terms": True}, "code"),
    ("/api/v1/invitations/redeem/", "anonymous",
     {"code": "a-live-invitation-code", "username": "new\x00bie", "email": "n@example.org",
      "password": "a long enough password 1", "accept_terms": True}, "username"),
    ("/api/v1/program/suspend/", "admin", {"reason": "nul\x00here"}, "reason"),
], ids=["token-username", "redeem-code", "redeem-username", "suspend-reason"])
def test_null_characters_are_refused_before_the_database(path, who, body, field, caller,
                                                         accounts_state):
    # PostgreSQL cannot store NUL in text; it must be a 400, not a 500.
    # given
    before = accounts_state()

    # when
    response = caller[who].post(path, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {field: ["Null characters are not allowed."]}}
    assert accounts_state() == before
