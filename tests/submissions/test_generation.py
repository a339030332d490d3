"""Asking the generator for a clip (``POST /api/v1/generations/``): the 202, the render
turning it into a draft, validation, the program switch, and a render that fails."""

import re

import pytest
from celery.exceptions import Retry

from accounts.models import ProgramStatus
from audit.models import Event
from submissions import tasks
from submissions.models import Submission, SubmissionStatus
from submissions.services import generation
from submissions.storage import media_storage
from tests.submissions.conftest import sha256_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

URL = "/api/v1/generations/"
SMALL = {"prompt": "a paper boat on a pond", "duration_s": 1, "resolution": "480p", "seed": 5}
INVALID = {"code": "request.invalid", "message": "Some fields are not valid."}
CREATED = ("submission.created", {
    "source": "generated", "cohort": "creative-partners", "size_bytes": None, "sha256": "",
    "generation": {"seed": 5, "duration_s": 1.0, "resolution": "480p",
                   "prompt_chars": len(SMALL["prompt"])}})
RENDER_FAILED = "The generator could not render this clip. Try again with another prompt."


def _event_rows(since: int = 0) -> list[tuple[str, dict]]:
    return list(Event.objects.filter(id__gt=since).values_list("action", "data"))


def _generate(client, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, {**SMALL, **body}, format="json")


def test_a_generation_is_accepted_as_generating_and_queued(
        tester, client_of, django_capture_on_commit_callbacks, frozen_now):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_of(tester).post(URL, SMALL, format="json")

    # then
    assert response.status_code == 202
    clip = Submission.objects.get()
    assert response.json() == {"id": str(clip.pk), "status": "generating"}
    assert (clip.status, clip.source, clip.prompt, clip.original) == (
        "generating", "generated", SMALL["prompt"], "")
    assert clip.generation_params == {"seed": 5, "duration_s": 1.0, "resolution": "480p"}
    assert clip.created_at == frozen_now
    assert len(callbacks) == 1
    assert _event_rows() == [CREATED]


def test_without_a_seed_one_is_chosen_and_recorded(tester, client_of):
    # when
    response = client_of(tester).post(URL, {**SMALL, "seed": None}, format="json")

    # then
    assert response.status_code == 202
    seed = Submission.objects.get().generation_params["seed"]
    assert isinstance(seed, int)
    assert 0 <= seed < 2**31


def test_the_render_makes_a_draft_that_can_be_submitted_into_review(
        tester, client_of, eager_tasks, django_capture_on_commit_callbacks, media_dirs):
    # given
    client = client_of(tester)

    # when: the render runs as the generation commits
    response = _generate(client, django_capture_on_commit_callbacks)

    # then
    assert response.status_code == 202
    clip = Submission.objects.get()
    assert clip.status == SubmissionStatus.DRAFT
    assert re.fullmatch(r"originals/\d{4}/\d{2}/[0-9a-f]{32}\.mp4", clip.original)
    with media_storage().open(clip.original, "rb") as handle:
        content = handle.read()
    assert content[4:8] == b"ftyp"
    assert (clip.size_bytes, clip.sha256) == (len(content), sha256_of(media_dirs.root
                                                                       / clip.original))
    rows = _event_rows()
    assert [action for action, _ in rows] == ["submission.created", "submission.generated"]
    assert {key: rows[1][1][key] for key in ("size_bytes", "sha256")} == {
        "size_bytes": clip.size_bytes, "sha256": clip.sha256}
    assert set(rows[1][1]) == {"size_bytes", "sha256", "render_s"}
    assert media_dirs.leftovers() == []

    # when: the owner submits the draft, and processing runs as the submit commits
    mark = Event.objects.last().pk
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(f"/api/v1/submissions/{clip.pk}/submit/")

    # then
    assert submitted.json() == {"detail": "Submitted: the clip is queued for processing and "
                                          "review.", "status": "received"}
    detail = client.get(f"/api/v1/submissions/{clip.pk}/").json()
    assert detail["status"] == "pending_review"
    assert detail["source"] == "generated"
    assert (detail["media"]["width"], detail["media"]["height"]) == (854, 480)
    assert [action for action, _ in _event_rows(since=mark)] == [
        "submission.submitted", "submission.processing_started", "submission.processed"]
    assert media_dirs.leftovers() == []


def test_the_same_prompt_and_seed_give_the_same_clip(
        tester, client_of, eager_tasks, django_capture_on_commit_callbacks):
    # given
    client = client_of(tester)

    # when
    first = _generate(client, django_capture_on_commit_callbacks)
    second = _generate(client, django_capture_on_commit_callbacks)
    other_seed = _generate(client, django_capture_on_commit_callbacks, seed=6)

    # then
    hashes = {row["id"]: row["media"]["sha256"]
              for row in client.get("/api/v1/submissions/").json()["results"]}
    assert hashes[first.json()["id"]] == hashes[second.json()["id"]]
    assert hashes[first.json()["id"]] != hashes[other_seed.json()["id"]]
    assert Submission.objects.get(pk=first.json()["id"]).original != Submission.objects.get(
        pk=second.json()["id"]).original


@pytest.mark.parametrize(("body", "fields"), [
    ({"resolution": "4k"}, {"resolution": ['"4k" is not a valid choice.']}),
    ({"duration_s": 0}, {"duration_s": ["Ensure this value is greater than or equal to 0.5."]}),
    ({"duration_s": 11}, {"duration_s": ["Ensure this value is less than or equal to 10."]}),
    ({"prompt": None}, {"prompt": ["This field may not be null."]}),
    ({"prompt": "  "}, {"prompt": ["This field may not be blank."]}),
    ({"seed": -1}, {"seed": ["Ensure this value is greater than or equal to 0."]}),
], ids=["resolution", "duration_0", "duration_11", "prompt_null", "prompt_blank", "seed"])
def test_bad_generation_input_names_the_field(tester, client_of, submissions_state, body,
                                             fields):
    # given
    before = submissions_state()

    # when
    response = client_of(tester).post(URL, {**SMALL, **body}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {**INVALID, "fields": fields}
    assert submissions_state() == before


def test_a_missing_prompt_is_refused(tester, client_of, submissions_state):
    # given
    before = submissions_state()

    # when
    response = client_of(tester).post(URL, {"duration_s": 1, "resolution": "480p"},
                                      format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {**INVALID, "fields": {"prompt": ["This field is required."]}}
    assert submissions_state() == before


@pytest.mark.parametrize(("program", "status", "body"), [
    (ProgramStatus.PAUSED, 409, {
        "code": "program.paused",
        "message": "The program is paused; new clips cannot be created or submitted: Quiet"}),
    (ProgramStatus.SUSPENDED, 403, {"code": "program.suspended",
                                    "message": "The program is suspended: Quiet"}),
])
def test_the_program_switch_refuses_generations(tester, client_of, set_program,
                                                submissions_state, program, status, body):
    # given
    set_program(status=program, reason="Quiet")
    before = submissions_state()

    # when
    response = client_of(tester).post(URL, SMALL, format="json")

    # then
    assert response.status_code == status
    assert response.json() == body
    assert submissions_state() == before


def test_a_render_that_fails_leaves_a_failed_clip_with_a_clear_message(
        tester, client_of, eager_tasks, django_capture_on_commit_callbacks, monkeypatch,
        media_dirs):
    # given
    def broken(**kwargs):
        raise RuntimeError("the renderer fell over")

    monkeypatch.setattr(generation, "render_clip", broken)
    client = client_of(tester)

    # when
    response = _generate(client, django_capture_on_commit_callbacks)

    # then
    assert response.status_code == 202
    detail = client.get(f"/api/v1/submissions/{response.json()['id']}/").json()
    assert detail["status"] == "failed"
    assert detail["failure"] == {"code": "generation.failed", "message": RENDER_FAILED}
    assert _event_rows() == [
        CREATED,
        ("submission.failed", {"code": "generation.failed", "stage": "generation",
                               "attempt": 0}),
    ]
    assert media_dirs.stored() == []
    assert media_dirs.leftovers() == []


def test_a_transient_render_fault_is_retried_and_the_last_try_fails_the_clip(
        tester, client_of, django_capture_on_commit_callbacks, monkeypatch, media_dirs):
    # given: a generating clip whose render keeps hitting a disk error
    def flaky(**kwargs):
        raise OSError("disk hiccup")

    monkeypatch.setattr(generation, "render_clip", flaky)
    with django_capture_on_commit_callbacks():
        clip_id = client_of(tester).post(URL, SMALL, format="json").json()["id"]
    last = tasks.submission_render.max_retries

    # when: a try with retries left asks Celery to retry
    with pytest.raises(Retry):
        tasks.submission_render.apply(args=[clip_id], retries=last - 1, throw=True)

    # then
    assert Submission.objects.get(pk=clip_id).status == "generating"
    assert [action for action, _ in _event_rows()] == ["submission.created"]

    # when: the last allowed try fails too
    with pytest.raises(OSError, match="disk hiccup"):
        tasks.submission_render.apply(args=[clip_id], retries=last, throw=True)

    # then
    clip = Submission.objects.get(pk=clip_id)
    assert (clip.status, clip.failure_code, clip.failure_message) == (
        "failed", "generation.failed", RENDER_FAILED)
    assert [action for action, _ in _event_rows()] == ["submission.created", "submission.failed"]
    assert media_dirs.stored() == []
    assert media_dirs.leftovers() == []


def test_rendering_twice_changes_nothing_the_second_time(
        tester, client_of, submissions_state, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks():
        response = client_of(tester).post(URL, SMALL, format="json")
    clip_id = response.json()["id"]
    assert generation.submission_render(clip_id) is True
    before = submissions_state()

    # when
    again = generation.submission_render(clip_id)

    # then
    assert again is False
    assert submissions_state() == before


def test_a_clip_withdrawn_while_it_renders_keeps_no_file(
        tester, client_of, monkeypatch, media_dirs, django_capture_on_commit_callbacks):
    # given: a generating clip whose owner withdraws it while the generator is rendering
    client = client_of(tester)
    with django_capture_on_commit_callbacks():
        clip_id = client.post(URL, SMALL, format="json").json()["id"]
    render = generation.render_clip

    def withdrawn_meanwhile(**kwargs):
        assert client.post(f"/api/v1/submissions/{clip_id}/withdraw/").status_code == 200
        render(**kwargs)

    monkeypatch.setattr(generation, "render_clip", withdrawn_meanwhile)

    # when
    applied = generation.submission_render(clip_id)

    # then
    assert applied is False
    clip = Submission.objects.get(pk=clip_id)
    assert (clip.status, clip.original, clip.sha256, clip.size_bytes) == ("withdrawn", "", "",
                                                                          None)
    assert media_dirs.stored() == []
    assert media_dirs.leftovers() == []
    assert [action for action, _ in _event_rows()] == ["submission.created",
                                                       "submission.withdrawn"]
