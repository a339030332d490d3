"""The tester's clip pages: the dashboard with its upload and generate forms, a clip's page
with only the legal buttons and its failure message, and the moves it posts (with CSRF)."""

import html

import pytest

from accounts.models import ProgramStatus, Role
from audit.models import Event
from submissions.models import ShareLink, Submission, SubmissionStatus
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

S = SubmissionStatus
MOVES = ("submit", "withdraw", "share", "unshare")
GENERATE = {"generate-prompt": "a paper boat on a pond", "generate-title": "Boat",
            "generate-duration_s": "1", "generate-resolution": "480p", "generate-seed": "3"}


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _offered(response, clip) -> set[str]:
    page = response.content.decode()
    return {move for move in MOVES if f'action="/clips/{clip.pk}/{move}/"' in page}


def _actions() -> list[str]:
    return list(Event.objects.values_list("action", flat=True))


# --- The dashboard --------------------------------------------------------------------------


def test_the_dashboard_lists_only_the_testers_clips_with_their_status(
        web_client, tester, make_clip):
    # given
    draft = make_clip(tester, S.DRAFT, title="My draft")
    failed = make_clip(tester, S.FAILED, title="My failure")
    theirs = make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT, title="Their clip")

    # when
    response = web_client(tester).get("/clips/")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/clips/{draft.pk}/"' in page
    assert f'href="/clips/{failed.pk}/"' in page
    assert f'href="/clips/{theirs.pk}/"' not in page
    assert "Their clip" not in page
    assert '<span class="pill pill-draft">Draft</span>' in page
    assert '<span class="pill pill-failed">Failed</span>' in page
    assert page.count('class="pill pill-') == 2


def test_the_dashboard_has_the_upload_form_with_a_progress_bar_and_the_generate_form(
        web_client, tester):
    # when
    response = web_client(tester).get("/clips/")

    # then
    page = response.content.decode()
    assert 'id="upload-form"' in page
    assert 'data-api="/api/v1/submissions/"' in page
    assert 'enctype="multipart/form-data"' in page
    assert '<progress id="upload-progress" max="100" value="0" hidden ' \
           'data-testid="upload-progress"></progress>' in page
    assert 'data-testid="generate-form"' in page
    assert 'name="generate-prompt"' in page
    assert "No clips yet" in page


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.RESEARCHER, Role.PROGRAM_ADMIN])
def test_the_dashboard_is_for_testers_only(web_client, role):
    # when
    response = web_client(UserFactory(roles=[role])).get("/clips/")

    # then
    assert response.status_code == 403
    assert '<p data-testid="error-message">This page is for testers.</p>' in (
        response.content.decode())


def test_anonymous_visitors_are_sent_to_sign_in(web_client):
    # when
    response = web_client().get("/clips/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/clips/"


def test_the_generate_form_makes_a_generating_clip_and_opens_its_page(
        web_client, tester, csrf_token, django_capture_on_commit_callbacks):
    # given
    client = web_client(tester)
    token = csrf_token(client, "/clips/")

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/clips/", {**GENERATE, "csrfmiddlewaretoken": token})

    # then
    clip = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/clips/{clip.pk}/"
    assert (clip.owner, clip.status, clip.source, clip.title) == (tester, S.GENERATING,
                                                                  "generated", "Boat")
    assert clip.generation_params == {"seed": 3, "duration_s": 1.0, "resolution": "480p"}
    assert len(callbacks) == 1
    assert _actions() == ["submission.created"]
    page = client.get(response["Location"])
    assert "The generator is rendering this clip" in _text(page)
    assert "The generator is rendering your clip." in _text(page)


def test_a_bad_generate_form_is_shown_again_with_its_errors(
        web_client, tester, csrf_token, submissions_state):
    # given
    client = web_client(tester)
    token = csrf_token(client, "/clips/")
    before = submissions_state()

    # when
    response = client.post("/clips/", {**GENERATE, "generate-duration_s": "11",
                                       "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 10." in _text(response)
    assert submissions_state() == before


def test_a_paused_program_refuses_the_generate_form(
        web_client, tester, csrf_token, set_program, submissions_state):
    # given
    client = web_client(tester)
    token = csrf_token(client, "/clips/")
    set_program(status=ProgramStatus.PAUSED, reason="Quiet week")
    before = submissions_state()

    # when
    response = client.post("/clips/", {**GENERATE, "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 409
    assert ("The program is paused; new clips cannot be created or submitted: Quiet week"
            in _text(response))
    assert submissions_state() == before


def test_the_generate_form_without_csrf_is_refused(web_client, tester, submissions_state):
    # given
    before = submissions_state()

    # when
    response = web_client(tester).post("/clips/", GENERATE)

    # then
    assert response.status_code == 403
    assert submissions_state() == before


# --- A clip's page --------------------------------------------------------------------------


def test_a_failed_clips_page_shows_why(web_client, tester, make_clip):
    # given
    clip = make_clip(tester, S.FAILED, failure_code="media.too_long",
                     failure_message="The clip is 3.0 s long; clips may be at most 2 s.")

    # when
    response = web_client(tester).get(f"/clips/{clip.pk}/")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="failure"' in page
    assert "<strong>The clip is 3.0 s long; clips may be at most 2 s.</strong>" in page
    assert "<code>media.too_long</code>" in page


@pytest.mark.parametrize(("status", "offered"), [
    (S.GENERATING, {"withdraw"}),
    (S.DRAFT, {"submit", "withdraw"}),
    (S.RECEIVED, {"withdraw"}),
    (S.PROCESSING, {"withdraw"}),
    (S.FAILED, {"withdraw"}),
    (S.PENDING_REVIEW, {"withdraw"}),
    (S.APPROVED, {"share"}),
    (S.REJECTED, set()),
    (S.WITHDRAWN, set()),
])
def test_only_the_legal_moves_are_offered(web_client, tester, make_clip, status, offered):
    # given
    clip = make_clip(tester, status)

    # when
    response = web_client(tester).get(f"/clips/{clip.pk}/")

    # then
    assert response.status_code == 200
    assert _offered(response, clip) == offered


def test_an_approved_clip_with_a_live_link_offers_to_revoke_it(web_client, tester, make_clip):
    # given
    clip = make_clip(tester, S.APPROVED)
    ShareLink.objects.create(token="the-live-token", submission=clip, created_by=tester,
                             created_at=clip.created_at)

    # when
    response = web_client(tester).get(f"/clips/{clip.pk}/")

    # then
    assert _offered(response, clip) == {"unshare"}
    assert ('<a href="/s/the-live-token/" data-testid="share-link">/s/the-live-token/</a>'
            in response.content.decode())


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.PROGRAM_ADMIN])
def test_staff_see_a_clip_but_are_offered_no_moves(web_client, make_clip, role):
    # given
    clip = make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT)

    # when
    response = web_client(UserFactory(roles=[role])).get(f"/clips/{clip.pk}/")

    # then
    assert response.status_code == 200
    assert _offered(response, clip) == set()


@pytest.mark.parametrize("role", [Role.TESTER, Role.RESEARCHER])
def test_someone_elses_clip_page_is_not_found(web_client, make_clip, role):
    # given
    clip = make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT, title="Secret title")

    # when
    response = web_client(UserFactory(roles=[role])).get(f"/clips/{clip.pk}/")

    # then
    assert response.status_code == 404
    assert "Secret title" not in _text(response)


# --- Moves posted by the page ---------------------------------------------------------------


def test_a_move_with_csrf_is_applied_and_shown(web_client, tester, make_clip, csrf_token):
    # given
    clip = make_clip(tester, S.DRAFT)
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{clip.pk}/")

    # when
    response = client.post(f"/clips/{clip.pk}/withdraw/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/clips/{clip.pk}/"
    assert Submission.objects.get(pk=clip.pk).status == S.WITHDRAWN
    assert list(Event.objects.values_list("action", "data")) == [
        ("submission.withdrawn", {"from_status": "draft"})]
    assert "Withdrawn." in _text(client.get(response["Location"]))


@pytest.mark.parametrize("move", MOVES)
def test_a_move_without_csrf_is_refused_and_changes_nothing(
        web_client, tester, make_clip, submissions_state, move):
    # given: a clip on which the move would be legal
    status = {"submit": S.DRAFT, "withdraw": S.DRAFT}.get(move, S.APPROVED)
    clip = make_clip(tester, status)
    if move == "unshare":
        ShareLink.objects.create(token="the-live-token", submission=clip, created_by=tester,
                                 created_at=clip.created_at)
    before = submissions_state()

    # when
    response = web_client(tester).post(f"/clips/{clip.pk}/{move}/")

    # then
    assert response.status_code == 403
    assert submissions_state() == before


def test_an_illegal_move_from_the_page_changes_nothing_and_says_why(
        web_client, tester, make_clip, csrf_token, submissions_state):
    # given
    clip = make_clip(tester, S.APPROVED)
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{clip.pk}/")
    before = submissions_state()

    # when
    response = client.post(f"/clips/{clip.pk}/withdraw/", {"csrfmiddlewaretoken": token},
                           follow=True)

    # then
    assert response.status_code == 200
    assert "A clip that is approved cannot be withdrawn." in _text(response)
    assert submissions_state() == before


@pytest.mark.parametrize("move", [*MOVES, "approve", "delete"])
def test_another_testers_moves_are_not_found(web_client, make_clip, csrf_token,
                                             submissions_state, move):
    # given
    clip = make_clip(UserFactory(roles=[Role.TESTER]), S.DRAFT)
    intruder = web_client(UserFactory(roles=[Role.TESTER]))
    token = csrf_token(intruder, "/clips/")
    before = submissions_state()

    # when
    response = intruder.post(f"/clips/{clip.pk}/{move}/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 404
    assert submissions_state() == before


def test_an_unknown_move_on_ones_own_clip_is_not_found(web_client, tester, make_clip,
                                                       csrf_token, submissions_state):
    # given
    clip = make_clip(tester, S.PENDING_REVIEW)
    client = web_client(tester)
    token = csrf_token(client, "/clips/")
    before = submissions_state()

    # when
    response = client.post(f"/clips/{clip.pk}/approve/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 404
    assert submissions_state() == before


def test_titles_and_prompts_are_escaped_on_every_page(web_client, tester, make_clip):
    # given
    script = "<script>alert(1)</script>"
    clip = make_clip(tester, S.APPROVED, title=script, prompt=f"{script}\nsecond line")
    ShareLink.objects.create(token="the-live-token", submission=clip, created_by=tester,
                             created_at=clip.created_at)
    client = web_client(tester)

    # when
    pages = [client.get("/clips/"), client.get(f"/clips/{clip.pk}/"),
             web_client().get("/s/the-live-token/")]

    # then
    for page in pages:
        assert page.status_code == 200
        assert script not in page.content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content.decode()
