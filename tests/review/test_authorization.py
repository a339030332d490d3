"""Who may call each review endpoint: every route of ``review.urls_api`` by each of
{anonymous, the clip's tester, another tester, moderator, researcher, program_admin}, with the
exact answer, the exact events when allowed, and nothing changed when refused."""

import json

import pytest
from django.urls import reverse

from accounts.models import ProgramStatus, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "tester", "other_tester", "moderator", "researcher", "program_admin"]
UNAUTHENTICATED = (401, {"code": "auth.not_authenticated", "message": "Sign in to do this."})
FORBIDDEN = (403, {"code": "permission.denied", "message": "You are not allowed to do this."})
NOT_FOUND = (404, {"code": "not_found", "message": "Not found."})
NOT_YOURS = (404, {"code": "not_found", "message": "No such claim of yours."})

# (url name, METHOD) → (the given state, the body,
#                        {role: (success status, events)} for the roles that succeed,
#                        {role: refusal} for the signed-in roles refused otherwise than 403)
# The given state: "queued" a clip waiting; "held" the moderator's live claim on it;
# "rejected" the tester's clip rejected by another moderator.
MATRIX = {
    ("review-reasons", "GET"): ("queued", None, {"moderator": (200, []),
                                                 "program_admin": (200, [])}, {}),
    ("review-queue", "GET"): ("queued", None, {"moderator": (200, []),
                                               "program_admin": (200, [])}, {}),
    ("review-claims", "POST"): ("queued", None, {"moderator": (201, ["review.claimed"]),
                                                 "program_admin": (204, [])}, {}),
    ("review-claim-renew", "POST"): ("held", None, {"moderator": (200, ["review.renewed"])},
                                     {"program_admin": NOT_YOURS}),
    ("review-claim-release", "POST"): ("held", None,
                                       {"moderator": (204, ["review.released"])},
                                       {"program_admin": NOT_YOURS}),
    ("review-claim-decide", "POST"): ("held", {"outcome": "approve"},
                                      {"moderator": (201, ["review.decided"])},
                                      {"program_admin": NOT_YOURS}),
    ("submission-appeal", "POST"): ("rejected", {"message": "It is a fox."},
                                    {"tester": (200, ["submission.appealed"])},
                                    {"other_tester": NOT_FOUND}),
}
CASES = [(route, role) for route in MATRIX for role in ROLES]
CASE_IDS = [f"{name}-{method}-{role}" for (name, method), role in CASES]


def expected(route, role) -> tuple[int, dict | list | None]:
    """(status, the error body or the events on success)."""
    _, _, succeeds, refusals = MATRIX[route]
    if role == "anonymous":
        return UNAUTHENTICATED
    if role in succeeds:
        return succeeds[role]
    return refusals.get(role, FORBIDDEN)


def given(route, tester, holder, make_pending, hold, decided):
    """Put the world in the row's state; answer the request's path."""
    name, _ = route
    state = MATRIX[route][0]
    clip = make_pending(tester)
    kwargs = {}
    if state == "held":
        kwargs = {"claim_id": hold(holder, clip).pk}
    elif state == "rejected":
        decided(UserFactory(roles=[Role.MODERATOR]), clip, "reject")
        kwargs = {"submission_id": clip.pk}
    return reverse(name, kwargs=kwargs)


def test_matrix_covers_every_review_route(review_api_routes):
    assert set(MATRIX) == review_api_routes


@pytest.mark.parametrize(("route", "role"), CASES, ids=CASE_IDS)
def test_authorization(route, role, now, api, make_pending, hold, decided, review_state,
                       event_mark, events):
    # given the clip's tester, the moderator who holds claims, the state, and the caller
    tester = UserFactory(roles=[Role.TESTER])
    holder = UserFactory(roles=[Role.MODERATOR])
    path = given(route, tester, holder, make_pending, hold, decided)
    caller = {"anonymous": None, "tester": tester, "moderator": holder,
              "other_tester": UserFactory(roles=[Role.TESTER]),
              "researcher": UserFactory(roles=[Role.RESEARCHER]),
              "program_admin": UserFactory(roles=[Role.PROGRAM_ADMIN])}[role]
    body = MATRIX[route][1]
    before, mark = review_state(), event_mark()
    status, outcome = expected(route, role)

    # when
    response = api(caller).client.generic(route[1], path, json.dumps(body) if body else "",
                                          content_type="application/json")

    # then
    assert response.status_code == status, response.content
    if isinstance(outcome, dict):
        assert response.json() == outcome
        assert review_state() == before
        return
    assert events(since=mark) == outcome
    if not outcome:
        assert review_state() == before


@pytest.mark.parametrize("route", [route for route in MATRIX if route[0] != "submission-appeal"],
                         ids=[name for name, _ in MATRIX if name != "submission-appeal"])
def test_a_tester_calling_review_endpoints_gets_403_even_with_a_claim_id(
        route, now, api, make_pending, hold, review_state):
    # given a tester who is told the id of a live claim
    tester = UserFactory(roles=[Role.TESTER])
    claim = hold(UserFactory(roles=[Role.MODERATOR]), make_pending(UserFactory()))
    kwargs = {"claim_id": claim.pk} if "claim-" in route[0] else {}
    before = review_state()

    # when
    response = api(tester).client.generic(route[1], reverse(route[0], kwargs=kwargs),
                                          json.dumps({"outcome": "approve"}),
                                          content_type="application/json")

    # then
    assert (response.status_code, response.json()) == FORBIDDEN
    assert review_state() == before


def test_moderators_keep_working_while_the_program_is_suspended(now, api, make_pending, policy,
                                                                events, event_mark):
    # given a suspended program and a clip waiting
    moderator = UserFactory(roles=[Role.MODERATOR])
    make_pending(UserFactory(roles=[Role.TESTER]))
    policy(status=ProgramStatus.SUSPENDED, reason="Leak under investigation")
    mark = event_mark()

    # when
    claim = api(moderator).claim()
    decided = api(moderator).decide(claim.json()["id"], "reject", reasons=["confidentiality"])

    # then
    assert (claim.status_code, decided.status_code) == (201, 201)
    assert events(since=mark) == ["review.claimed", "review.decided"]


def test_an_inactive_moderator_is_refused(now, api, make_pending, review_state):
    # given a moderator whose account was deactivated (a forced session still carries them)
    moderator = UserFactory(roles=[Role.MODERATOR], is_active=False)
    make_pending(UserFactory(roles=[Role.TESTER]))
    before = review_state()

    # when
    response = api(moderator).claim()

    # then
    assert (response.status_code, response.json()) == FORBIDDEN
    assert review_state() == before
