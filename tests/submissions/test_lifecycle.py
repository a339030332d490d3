"""The owner's moves (submit, withdraw) as a table over every status, who sees which clip
(404 for "not yours"), what staff may read, and the list with its filters."""

import pytest
from django.core.files.base import ContentFile

from accounts.models import ProgramStatus, Role
from audit.models import Event
from submissions.models import ShareLink, Submission, SubmissionStatus
from submissions.storage import media_storage
from tests.factories import CohortFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

URL = "/api/v1/submissions/"
NOT_FOUND = {"code": "not_found", "message": "Not found."}
ROLE_REFUSED = {"code": "permission.denied", "message": "You are not allowed to do this."}
S = SubmissionStatus
BEFORE_A_DECISION = [S.GENERATING, S.DRAFT, S.RECEIVED, S.PROCESSING, S.PENDING_REVIEW,
                     S.FAILED]
AFTER_A_DECISION = [S.APPROVED, S.REJECTED, S.WITHDRAWN]
KINDS = ("original", "thumbnail", "contact_sheet", "watermarked")


def _event_rows(since: int = 0) -> list[tuple[str, int | None, dict]]:
    return list(Event.objects.filter(id__gt=since).values_list("action", "actor_id", "data"))


def _with_media(clip: Submission) -> Submission:
    """Give a clip a stored file for every media kind."""
    storage = media_storage()
    for kind in KINDS:
        setattr(clip, kind, storage.save(f"renditions/{clip.pk}/1/{kind}",
                                         ContentFile(f"{kind} bytes".encode())))
    clip.save()
    return clip


# --- Submit ---------------------------------------------------------------------------------


def test_submitting_a_draft_makes_it_received_and_queues_it(
        tester, client_of, make_clip, tiny_clip, frozen_now, django_capture_on_commit_callbacks):
    # given
    clip = make_clip(tester, S.DRAFT, original=tiny_clip)

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_of(tester).post(f"{URL}{clip.pk}/submit/")

    # then
    assert response.status_code == 200
    assert response.json() == {"detail": "Submitted: the clip is queued for processing and review.",
                               "status": "received"}
    clip.refresh_from_db()
    assert (clip.status, clip.submitted_at, clip.queued_at) == (S.RECEIVED, frozen_now,
                                                                frozen_now)
    assert len(callbacks) == 1
    assert _event_rows() == [("submission.submitted", tester.pk, {})]


@pytest.mark.parametrize("status", [status for status in S if status != S.DRAFT])
def test_submitting_from_any_other_status_is_a_conflict(
        tester, client_of, make_clip, submissions_state, status):
    # given
    clip = make_clip(tester, status)
    before = submissions_state()

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/submit/")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "submission.invalid_transition",
        "message": f"A clip that is {status.label.lower()} cannot be submitted."}
    assert submissions_state() == before


def test_a_paused_program_refuses_submitting(
        tester, client_of, make_clip, set_program, submissions_state):
    # given
    clip = make_clip(tester, S.DRAFT)
    set_program(status=ProgramStatus.PAUSED, reason="Quiet week")
    before = submissions_state()

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/submit/")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "program.paused",
        "message": "The program is paused; new clips cannot be created or submitted: Quiet week"}
    assert submissions_state() == before


# --- Withdraw -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", BEFORE_A_DECISION)
def test_withdrawing_before_a_decision_works(tester, client_of, make_clip, frozen_now, status):
    # given
    clip = make_clip(tester, status)

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/withdraw/")

    # then
    assert response.status_code == 200
    assert response.json() == {"detail": "Withdrawn.", "status": "withdrawn"}
    clip.refresh_from_db()
    assert (clip.status, clip.withdrawn_at) == (S.WITHDRAWN, frozen_now)
    assert _event_rows() == [("submission.withdrawn", tester.pk, {"from_status": status})]


@pytest.mark.parametrize("status", AFTER_A_DECISION)
def test_withdrawing_after_a_decision_is_a_conflict_and_changes_nothing(
        tester, client_of, make_clip, submissions_state, status):
    # given
    clip = make_clip(tester, status)
    before = submissions_state()

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/withdraw/")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "submission.invalid_transition",
        "message": f"A clip that is {status.label.lower()} cannot be withdrawn."}
    assert submissions_state() == before


def test_withdrawing_still_works_while_the_program_is_paused(
        tester, client_of, make_clip, set_program):
    # given
    clip = make_clip(tester, S.PENDING_REVIEW)
    set_program(status=ProgramStatus.PAUSED, reason="Quiet week")

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/withdraw/")

    # then
    assert response.status_code == 200
    assert [action for action, _, _ in _event_rows()] == ["submission.withdrawn"]


# --- Someone else's clip ----------------------------------------------------------------------

# (method, path after the clip's URL, the clip's status: one where its owner would succeed)
OWNER_ENDPOINTS = [
    ("get", "", S.DRAFT),
    ("post", "submit/", S.DRAFT),
    ("post", "withdraw/", S.DRAFT),
    ("post", "share/", S.APPROVED),
    ("delete", "share/", S.APPROVED),
    *[("get", f"media/{kind}/", S.APPROVED) for kind in KINDS],
]
ENDPOINT_IDS = [f"{method}-{suffix or 'detail'}" for method, suffix, _ in OWNER_ENDPOINTS]


@pytest.mark.parametrize(("method", "suffix", "status"), OWNER_ENDPOINTS, ids=ENDPOINT_IDS)
def test_another_testers_clip_is_not_found_and_unchanged(
        tester, client_of, make_clip, submissions_state, method, suffix, status):
    # given: someone else's clip with every file and a live share link
    owner = UserFactory(roles=[Role.TESTER])
    clip = _with_media(make_clip(owner, status))
    ShareLink.objects.create(token="live-token", submission=clip, created_by=owner,
                             created_at=clip.created_at)
    before = submissions_state()

    # when
    response = getattr(client_of(tester), method)(f"{URL}{clip.pk}/{suffix}")

    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert submissions_state() == before


@pytest.mark.parametrize(("method", "suffix"), [
    ("get", ""), ("post", "submit/"), ("post", "withdraw/"), ("post", "share/"),
    ("delete", "share/"), ("get", "media/original/")])
def test_a_missing_clip_answers_exactly_like_someone_elses(client_of, tester, method, suffix):
    # when
    response = getattr(client_of(tester), method)(
        f"{URL}00000000-0000-4000-8000-000000000000/{suffix}")

    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- Staff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.PROGRAM_ADMIN])
def test_staff_read_every_clip_and_every_file_including_the_original(
        client_of, make_clip, role):
    # given
    staff = UserFactory(roles=[role])
    first, second = UserFactory(roles=[Role.TESTER]), UserFactory(roles=[Role.TESTER])
    older = _with_media(make_clip(first, S.PENDING_REVIEW))
    newer = make_clip(second, S.RECEIVED)
    client = client_of(staff)

    # when
    detail = client.get(f"{URL}{older.pk}/")
    listing = client.get(URL)
    files = {kind: client.get(f"{URL}{older.pk}/media/{kind}/") for kind in KINDS}

    # then
    assert detail.status_code == 200
    assert (detail.json()["id"], detail.json()["owner"]) == (str(older.pk), first.username)
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [str(newer.pk), str(older.pk)]
    for kind, response in files.items():
        assert response.status_code == 200, kind
        assert b"".join(response.streaming_content) == f"{kind} bytes".encode()
    assert files["original"]["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.PROGRAM_ADMIN])
@pytest.mark.parametrize("move", ["submit", "withdraw"])
def test_staff_without_the_tester_role_may_not_move_a_clip(
        client_of, make_clip, submissions_state, role, move):
    # given: a draft, which its owner could both submit and withdraw
    clip = make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT)
    before = submissions_state()

    # when
    response = client_of(UserFactory(roles=[role])).post(f"{URL}{clip.pk}/{move}/")

    # then: refused by role, before the clip is looked up, so nothing about it is revealed
    assert response.status_code == 403
    assert response.json() == ROLE_REFUSED
    assert submissions_state() == before


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.PROGRAM_ADMIN])
@pytest.mark.parametrize("move", ["submit", "withdraw"])
def test_staff_who_are_also_testers_cannot_move_someone_elses_clip(
        client_of, make_clip, submissions_state, role, move):
    # given
    clip = make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT)
    staff = UserFactory(roles=[role, Role.TESTER])
    before = submissions_state()

    # when
    response = client_of(staff).post(f"{URL}{clip.pk}/{move}/")

    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert submissions_state() == before


def test_a_program_admin_cannot_share_someone_elses_clip(client_of, make_clip, program_admin,
                                                         submissions_state):
    # given
    clip = make_clip(UserFactory(roles=[Role.TESTER]), S.APPROVED)
    before = submissions_state()

    # when
    response = client_of(program_admin).post(f"{URL}{clip.pk}/share/")

    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert submissions_state() == before


# --- Detail and list ------------------------------------------------------------------------


def test_the_detail_has_the_documented_shape(tester, client_of, make_clip, tiny_clip,
                                             frozen_now):
    # given
    clip = make_clip(tester, S.DRAFT, original=tiny_clip, title="Fox")

    # when
    response = client_of(tester).get(f"{URL}{clip.pk}/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": str(clip.pk), "owner": tester.username, "cohort": "creative-partners",
        "title": "Fox", "prompt": "a red fox at dawn", "source": "upload", "status": "draft",
        "failure": None,
        "media": {"sha256": clip.sha256, "size_bytes": tiny_clip.stat().st_size,
                  "container": None, "video_codec": None, "width": None, "height": None,
                  "fps": None, "duration_s": None, "has_audio": None},
        "urls": {"original": f"http://testserver{URL}{clip.pk}/media/original/",
                 "thumbnail": None, "contact_sheet": None, "watermarked": None},
        "decision": None, "appealed": False,
        "created_at": "2025-03-04T05:06:07Z", "submitted_at": None, "decided_at": None,
    }


def test_a_failed_clip_shows_its_failure(tester, client_of, make_clip):
    # given
    clip = make_clip(tester, S.FAILED, failure_code="media.too_long",
                     failure_message="The clip is 3.0 s long; clips may be at most 2 s.")

    # when
    response = client_of(tester).get(f"{URL}{clip.pk}/")

    # then
    assert response.json()["failure"] == {
        "code": "media.too_long", "message": "The clip is 3.0 s long; clips may be at most 2 s."}


def test_testers_list_only_their_own_clips_newest_first(tester, client_of, make_clip):
    # given
    other = UserFactory(roles=[Role.TESTER])
    mine = [make_clip(tester, S.DRAFT), make_clip(tester, S.RECEIVED)]
    make_clip(other, S.DRAFT)
    make_clip(other, S.PENDING_REVIEW)

    # when
    response = client_of(tester).get(URL)

    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(mine[1].pk),
                                                                 str(mine[0].pk)]
    assert response.json()["next"] is None


def test_the_list_is_paginated_by_cursor(tester, client_of, make_clip):
    # given
    clips = [make_clip(tester, S.DRAFT) for _ in range(3)]
    client = client_of(tester)

    # when
    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    # then
    newest_first = [str(clip.pk) for clip in reversed(clips)]
    assert [row["id"] for row in first["results"]] == newest_first[:2]
    assert [row["id"] for row in second["results"]] == newest_first[2:]
    assert second["next"] is None


def test_the_status_filter(tester, client_of, make_clip):
    # given
    draft = make_clip(tester, S.DRAFT)
    make_clip(tester, S.RECEIVED)
    make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT)

    # when
    response = client_of(tester).get(URL, {"status": "draft"})

    # then
    assert [row["id"] for row in response.json()["results"]] == [str(draft.pk)]


def test_the_cohort_filter(client_of, moderator, tester, make_clip):
    # given
    red_team = UserFactory(roles=[Role.TESTER], cohort=CohortFactory(slug="red-team"))
    theirs = make_clip(red_team, S.PENDING_REVIEW)
    mine = make_clip(tester, S.PENDING_REVIEW)

    # when
    for_moderator = client_of(moderator).get(URL, {"cohort": "red-team"})
    for_tester = client_of(tester).get(URL, {"cohort": "red-team"})
    own_cohort = client_of(tester).get(URL, {"cohort": "creative-partners"})

    # then: the filter narrows what the caller may see, and never widens it
    assert [row["id"] for row in for_moderator.json()["results"]] == [str(theirs.pk)]
    assert for_tester.json()["results"] == []
    assert [row["id"] for row in own_cohort.json()["results"]] == [str(mine.pk)]


def test_a_bad_status_filter_is_refused(tester, client_of):
    # when
    response = client_of(tester).get(URL, {"status": "bogus"})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "request.invalid", "message": "Some fields are not valid.",
        "fields": {"status": ["Select a valid choice. bogus is not one of the available choices."]}}
