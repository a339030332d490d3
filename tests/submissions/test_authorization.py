"""Who may call each submissions endpoint: every route by each of {anonymous, the owner,
another tester, moderator, researcher, program_admin}, with the exact answer, the exact audit
events when allowed, and nothing changed when refused."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import ProgramStatus, Role
from audit.models import Event
from submissions.models import ShareLink, SubmissionStatus
from submissions.storage import media_storage
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

S = SubmissionStatus
ROLES = ["anonymous", "owner", "other_tester", "moderator", "researcher", "program_admin"]
UNAUTHENTICATED = (401, {"code": "auth.not_authenticated", "message": "Sign in to do this."})
FORBIDDEN = (403, {"code": "permission.denied", "message": "You are not allowed to do this."})
NOT_FOUND = (404, {"code": "not_found", "message": "Not found."})

# (url name, METHOD) → (the clip's status beforehand, events on success,
#                        {role: success status} for the roles that succeed,
#                        {role: refusal} for the signed-in roles refused otherwise than by role)
MATRIX = {
    ("submissions", "GET"): (S.PENDING_REVIEW, [],
                             {"owner": 200, "other_tester": 200, "moderator": 200,
                              "program_admin": 200}, {}),
    ("submissions", "POST"): (S.PENDING_REVIEW, ["submission.created", "submission.submitted"],
                              {"owner": 201, "other_tester": 201}, {}),
    ("submission", "GET"): (S.PENDING_REVIEW, [],
                            {"owner": 200, "moderator": 200, "program_admin": 200},
                            {"other_tester": NOT_FOUND}),
    ("submission-submit", "POST"): (S.DRAFT, ["submission.submitted"], {"owner": 200},
                                    {"other_tester": NOT_FOUND}),
    ("submission-withdraw", "POST"): (S.DRAFT, ["submission.withdrawn"], {"owner": 200},
                                      {"other_tester": NOT_FOUND}),
    ("submission-share", "POST"): (S.APPROVED, ["submission.shared"], {"owner": 201},
                                   {"other_tester": NOT_FOUND, "program_admin": NOT_FOUND}),
    ("submission-share", "DELETE"): (S.APPROVED, ["submission.share_revoked"],
                                     {"owner": 204, "program_admin": 204},
                                     {"other_tester": NOT_FOUND}),
    ("submission-media", "GET"): (S.PENDING_REVIEW, [],
                                  {"owner": 200, "moderator": 200, "program_admin": 200},
                                  {"other_tester": NOT_FOUND}),
    ("generations", "POST"): (S.PENDING_REVIEW, ["submission.created"],
                              {"owner": 202, "other_tester": 202}, {}),
}
CASES = [(route, role) for route in MATRIX for role in ROLES]
CASE_IDS = [f"{name}-{method}-{role}" for (name, method), role in CASES]


def expected(route, role) -> tuple[int, dict | None]:
    """(status, error body or None on success) for ``role`` calling ``route``."""
    _, _, succeeds, refusals = MATRIX[route]
    if role == "anonymous":
        return UNAUTHENTICATED
    if role in succeeds:
        return succeeds[role], None
    return refusals.get(role, FORBIDDEN)


def _given_clip(owner, status, make_clip, *, live_link=False):
    """The owner's clip with every media file stored, and a live share link if asked."""
    clip = make_clip(owner, status)
    for kind in ("original", "thumbnail", "contact_sheet", "watermarked"):
        setattr(clip, kind, media_storage().save(f"renditions/{clip.pk}/1/{kind}",
                                                 ContentFile(kind.encode())))
    clip.save()
    if live_link:
        ShareLink.objects.create(token="matrix-token", submission=clip, created_by=owner,
                                 created_at=clip.created_at)
    return clip


def _request(client, route, clip, tiny_clip):
    name, method = route
    if name == "submissions" and method == "POST":
        return client.post(reverse(name), {
            "file": SimpleUploadedFile("clip.mp4", tiny_clip.read_bytes()),
            "prompt": "a red fox at dawn"}, format="multipart")
    if name == "generations":
        return client.post(reverse(name), {"prompt": "a paper boat", "duration_s": 1,
                                           "resolution": "480p", "seed": 1}, format="json")
    if name == "submissions":
        return client.get(reverse(name))
    kwargs = {"submission_id": clip.pk}
    if name == "submission-media":
        kwargs["kind"] = "original"
    return client.generic(method, reverse(name, kwargs=kwargs))


def test_matrix_covers_every_submissions_route(submissions_api_routes):
    assert set(MATRIX) == submissions_api_routes


@pytest.mark.parametrize(("route", "role"), CASES, ids=CASE_IDS)
def test_authorization(route, role, client_of, anonymous_client, make_clip, tiny_clip,
                       submissions_state, django_capture_on_commit_callbacks):
    # given: the owner's clip in the state where the owner's call succeeds, and the caller
    owner = UserFactory(roles=[Role.TESTER])
    clip = _given_clip(owner, MATRIX[route][0], make_clip, live_link=route[1] == "DELETE")
    if role == "anonymous":
        client = anonymous_client
    elif role == "owner":
        client = client_of(owner)
    else:
        role_held = Role.TESTER if role == "other_tester" else Role(role)
        client = client_of(UserFactory(roles=[role_held]))
    before = submissions_state()
    status, error = expected(route, role)

    # when (tasks the call sends are captured, not run)
    with django_capture_on_commit_callbacks():
        response = _request(client, route, clip, tiny_clip)

    # then
    assert response.status_code == status, response.content
    if error is not None:
        assert response.json() == error
        assert submissions_state() == before
        return
    assert before["events"] == []  # the given state is written without events
    assert list(Event.objects.values_list("action", flat=True)) == MATRIX[route][1]
    if not MATRIX[route][1]:
        assert submissions_state() == before


@pytest.mark.parametrize("route", list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_a_suspended_program_refuses_its_testers_on_every_route(
        route, client_of, make_clip, tiny_clip, set_program, submissions_state):
    # given
    owner = UserFactory(roles=[Role.TESTER])
    clip = _given_clip(owner, MATRIX[route][0], make_clip, live_link=route[1] == "DELETE")
    set_program(status=ProgramStatus.SUSPENDED, reason="Leak under investigation")
    before = submissions_state()

    # when
    response = _request(client_of(owner), route, clip, tiny_clip)

    # then
    assert response.status_code == 403
    assert response.json() == {"code": "program.suspended",
                               "message": "The program is suspended: Leak under investigation"}
    assert submissions_state() == before


@pytest.mark.parametrize("route", [("submissions", "GET"), ("submission", "GET"),
                                   ("submission-media", "GET")])
@pytest.mark.parametrize("role", [Role.MODERATOR, Role.PROGRAM_ADMIN])
def test_staff_keep_reading_while_the_program_is_suspended(
        route, role, client_of, make_clip, tiny_clip, set_program):
    # given
    clip = _given_clip(UserFactory(roles=[Role.TESTER]), S.PENDING_REVIEW, make_clip)
    set_program(status=ProgramStatus.SUSPENDED, reason="Leak under investigation")

    # when
    response = _request(client_of(UserFactory(roles=[role])), route, clip, tiny_clip)

    # then
    assert response.status_code == 200
