"""Uploading a clip (``POST /api/v1/submissions/``, multipart): the 201 shapes, what is stored
and under which name, and every refusal, each leaving nothing behind."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ProgramStatus, Role
from audit.models import Event
from submissions.models import Submission
from submissions.storage import media_storage
from tests.factories import UserFactory
from tests.submissions.conftest import sha256_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

UPLOAD_URL = "/api/v1/submissions/"
ORIGINAL_NAME = re.compile(r"originals/2025/03/[0-9a-f]{32}\.mp4")
NOT_A_VIDEO = ("This file is not a video we accept ({}). Upload an MP4, MOV, WebM or MKV clip.")


def _upload(client, content: bytes, *, filename="clip.mp4", **fields):
    fields.setdefault("prompt", "a red fox at dawn")
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(filename, content), **fields},
                       format="multipart")


def _raw_upload(client, content: bytes, filename: str):
    """A multipart body written by hand, so the filename reaches the server byte for byte
    (the test client would reduce it to its basename)."""
    boundary = "----early-access-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'
        "a red fox at dawn\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return client.generic("POST", UPLOAD_URL, body,
                          content_type=f"multipart/form-data; boundary={boundary}")


def _event_rows(since: int = 0) -> list[tuple[str, dict]]:
    return list(Event.objects.filter(id__gt=since).values_list("action", "data"))


# --- Accepted uploads ----------------------------------------------------------------------


def test_an_upload_is_received_stored_under_a_generated_name_and_queued(
        tester, client_of, tiny_clip, media_dirs, frozen_now,
        django_capture_on_commit_callbacks):
    # given
    content = tiny_clip.read_bytes()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = _upload(client_of(tester), content, filename="my holiday.mp4", title="Fox")

    # then
    assert response.status_code == 201, response.json()
    submission = Submission.objects.get()
    assert response.json() == {"id": str(submission.pk), "status": "received"}
    assert (submission.owner, submission.status, submission.source) == (tester, "received",
                                                                        "upload")
    assert (submission.prompt, submission.title) == ("a red fox at dawn", "Fox")
    assert submission.sha256 == sha256_of(tiny_clip)
    assert submission.size_bytes == len(content)
    assert (submission.created_at, submission.submitted_at, submission.queued_at) == (
        frozen_now, frozen_now, frozen_now)
    assert ORIGINAL_NAME.fullmatch(submission.original)
    with media_storage().open(submission.original, "rb") as stored:
        assert stored.read() == content
    assert media_dirs.stored() == [submission.original]
    assert media_dirs.leftovers() == []
    assert len(callbacks) == 1  # the processing task, sent once the upload commits
    assert _event_rows() == [
        ("submission.created", {"source": "upload", "cohort": "creative-partners",
                                "size_bytes": len(content), "sha256": sha256_of(tiny_clip),
                                "generation": None}),
        ("submission.submitted", {}),
    ]


@pytest.mark.parametrize("submit", ["false", "False", "0"])
def test_an_upload_with_submit_false_is_a_draft_and_sends_no_task(
        tester, client_of, tiny_clip, media_dirs, submit, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = _upload(client_of(tester), tiny_clip.read_bytes(), submit=submit)

    # then
    assert response.status_code == 201, response.json()
    submission = Submission.objects.get()
    assert response.json() == {"id": str(submission.pk), "status": "draft"}
    assert (submission.status, submission.submitted_at, submission.queued_at) == ("draft", None,
                                                                                  None)
    assert submission.sha256 == sha256_of(tiny_clip)
    assert submission.size_bytes == tiny_clip.stat().st_size
    assert media_dirs.stored() == [submission.original]
    assert callbacks == []
    assert [action for action, _ in _event_rows()] == ["submission.created"]


def test_an_upload_by_a_tester_without_a_cohort_records_no_cohort(client_of, tiny_clip):
    # given
    tester = UserFactory(roles=[Role.TESTER], cohort=None)

    # when
    response = _upload(client_of(tester), tiny_clip.read_bytes())

    # then
    assert response.status_code == 201, response.json()
    assert Submission.objects.get().cohort is None
    assert _event_rows()[0][1]["cohort"] is None
    assert client_of(tester).get(f"{UPLOAD_URL}{response.json()['id']}/").json()["cohort"] is None


def test_extra_file_fields_leave_no_scratch_file(tester, client_of, tiny_clip, media_dirs):
    # when
    response = client_of(tester).post(UPLOAD_URL, {
        "file": SimpleUploadedFile("clip.mp4", tiny_clip.read_bytes()),
        "another": SimpleUploadedFile("other.mp4", b"\0" * 5000),
        "prompt": "a red fox at dawn"}, format="multipart")

    # then
    assert response.status_code == 201, response.json()
    assert media_dirs.stored() == [Submission.objects.get().original]
    assert media_dirs.leftovers() == []


HOSTILE_FILENAMES = {
    "dot_dot_slash": "../../../etc/evilname.mp4",
    "nul": "evilname\x00.mp4.exe",
    "right_to_left_override": "evilname\u202e4pm.exe",
    "three_hundred_chars": "evilname" + "x" * 288 + ".mp4",
}


@pytest.mark.parametrize("filename", list(HOSTILE_FILENAMES.values()),
                         ids=list(HOSTILE_FILENAMES))
def test_the_clients_filename_is_never_used_nor_reflected(
        tester, client_of, tiny_clip, media_dirs, filename):
    # given
    client = client_of(tester)
    assert len(HOSTILE_FILENAMES["three_hundred_chars"]) == 300

    # when
    response = _raw_upload(client, tiny_clip.read_bytes(), filename)

    # then: accepted under a generated name, and the name appears nowhere
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert response.json() == {"id": str(submission.pk), "status": "received"}
    assert re.fullmatch(r"originals/\d{4}/\d{2}/[0-9a-f]{32}\.mp4", submission.original)
    detail = client.get(f"{UPLOAD_URL}{submission.pk}/")
    listing = client.get(UPLOAD_URL)
    original = client.get(f"{UPLOAD_URL}{submission.pk}/media/original/")
    recorded = [str(row) for row in Submission.objects.values()]
    recorded += [str(row) for row in Event.objects.values("data", "context")]
    for text in [response.content.decode(), detail.content.decode(), listing.content.decode(),
                 original["Content-Disposition"], *recorded, *media_dirs.stored()]:
        assert "evilname" not in text
        assert "\u202e" not in text
    assert original["Content-Disposition"] == (
        f'attachment; filename="{str(submission.pk)[:8]}-original"')
    assert media_dirs.leftovers() == []
    assert not (media_dirs.root.parent / "etc").exists()


# --- Refused uploads ---------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "problem"), [
    ({}, "This field is required."),
    ({"prompt": ""}, "This field may not be blank."),
    ({"prompt": "   \n\t "}, "This field may not be blank."),
    ({"prompt": "p" * 2001}, "Ensure this field has no more than 2000 characters."),
], ids=["missing", "empty", "blank", "too_long"])
def test_a_bad_prompt_is_refused_and_nothing_is_kept(
        tester, client_of, tiny_clip, submissions_state, fields, problem):
    # given
    before = submissions_state()

    # when
    response = client_of(tester).post(
        UPLOAD_URL, {"file": SimpleUploadedFile("clip.mp4", tiny_clip.read_bytes()), **fields},
        format="multipart")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"prompt": [problem]}}
    assert submissions_state() == before


def test_a_prompt_of_exactly_2000_characters_is_accepted(tester, client_of, tiny_clip):
    # when
    response = _upload(client_of(tester), tiny_clip.read_bytes(), prompt="p" * 2000)

    # then
    assert response.status_code == 201, response.json()
    assert Submission.objects.get().prompt == "p" * 2000


def test_a_title_too_long_is_refused_and_nothing_is_kept(
        tester, client_of, tiny_clip, submissions_state):
    # given
    before = submissions_state()

    # when
    response = _upload(client_of(tester), tiny_clip.read_bytes(), title="t" * 201)

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"title": [
                                   "Ensure this field has no more than 200 characters."]}}
    assert submissions_state() == before


def test_a_request_without_a_file_is_refused(tester, client_of, submissions_state):
    # given
    before = submissions_state()

    # when
    response = client_of(tester).post(UPLOAD_URL, {"prompt": "a fox"}, format="multipart")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"file": ["No file was submitted."]}}
    assert submissions_state() == before


def test_an_empty_file_is_refused_as_unsupported_type(tester, client_of, submissions_state):
    # given
    before = submissions_state()

    # when
    response = _upload(client_of(tester), b"")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "media.unsupported_type", "message": "The file is empty."}
    assert submissions_state() == before


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("readme.txt", "not a video\n" * 40)
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "looks_like"), [
    (b"Just some notes, not a video at all.\n" * 20, "it looks like a text file"),
    (_png(), "it looks like a PNG file"),
    (_zip(), "it looks like a ZIP file"),
], ids=["text", "png", "zip"])
def test_plainly_not_a_video_is_refused_before_any_processing(
        tester, client_of, submissions_state, content, looks_like,
        django_capture_on_commit_callbacks):
    # given
    before = submissions_state()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = _upload(client_of(tester), content)

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "media.unsupported_type",
                               "message": NOT_A_VIDEO.format(looks_like)}
    assert callbacks == []
    assert submissions_state() == before
    assert Submission.objects.count() == 0


def test_a_file_over_the_programs_limit_is_refused_with_413_and_no_partial_file(
        tester, client_of, tiny_clip, set_program, submissions_state):
    # given: a valid clip padded to one byte over a 1 MiB limit
    set_program(max_upload_bytes=1024 * 1024)
    content = tiny_clip.read_bytes()
    content += b"\0" * (1024 * 1024 + 1 - len(content))
    before = submissions_state()

    # when
    response = _upload(client_of(tester), content)

    # then
    assert response.status_code == 413
    assert response.json() == {"code": "media.too_large",
                               "message": "The file is larger than the program's limit of 1 MB."}
    assert submissions_state() == before


def test_a_file_of_exactly_the_programs_limit_is_accepted(
        tester, client_of, tiny_clip, set_program):
    # given
    set_program(max_upload_bytes=1024 * 1024)
    content = tiny_clip.read_bytes()
    content += b"\0" * (1024 * 1024 - len(content))

    # when
    response = _upload(client_of(tester), content)

    # then
    assert response.status_code == 201, response.json()
    assert Submission.objects.get().size_bytes == 1024 * 1024


def test_a_file_far_over_the_programs_limit_is_refused_with_413(
        tester, client_of, tiny_clip, set_program, submissions_state):
    # given: a 1 MiB limit and a 2 MiB upload (the declared length alone is too much)
    set_program(max_upload_bytes=1024 * 1024)
    content = tiny_clip.read_bytes()
    content += b"\0" * (2 * 1024 * 1024 - len(content))
    client = client_of(tester)
    client.raise_request_exception = False
    before = submissions_state()

    # when
    response = _upload(client, content)

    # then
    assert response.status_code == 413
    assert response.json() == {"code": "media.too_large",
                               "message": "The file is larger than the program's limit of 1 MB."}
    assert submissions_state() == before


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.RESEARCHER, Role.PROGRAM_ADMIN])
def test_only_testers_may_upload(client_of, tiny_clip, submissions_state, role):
    # given
    before = submissions_state()

    # when
    response = _upload(client_of(UserFactory(roles=[role])), tiny_clip.read_bytes())

    # then
    assert response.status_code == 403
    assert response.json() == {"code": "permission.denied",
                               "message": "You are not allowed to do this."}
    assert submissions_state() == before


def test_anonymous_uploads_are_refused(anonymous_client, tiny_clip, submissions_state):
    # given
    before = submissions_state()

    # when
    response = _upload(anonymous_client, tiny_clip.read_bytes())

    # then
    assert response.status_code == 401
    assert response.json() == {"code": "auth.not_authenticated", "message": "Sign in to do this."}
    assert submissions_state() == before


def test_a_paused_program_refuses_uploads_and_stores_nothing(
        tester, client_of, tiny_clip, set_program, submissions_state):
    # given
    set_program(status=ProgramStatus.PAUSED, reason="Quiet week")
    before = submissions_state()

    # when
    response = _upload(client_of(tester), tiny_clip.read_bytes())

    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "program.paused",
        "message": "The program is paused; new clips cannot be created or submitted: Quiet week"}
    assert submissions_state() == before


def test_a_suspended_program_refuses_uploads_and_stores_nothing(
        tester, client_of, tiny_clip, set_program, submissions_state):
    # given
    set_program(status=ProgramStatus.SUSPENDED, reason="Leak under investigation")
    before = submissions_state()

    # when
    response = _upload(client_of(tester), tiny_clip.read_bytes())

    # then
    assert response.status_code == 403
    assert response.json() == {"code": "program.suspended",
                               "message": "The program is suspended: Leak under investigation"}
    assert submissions_state() == before


# --- Uploads from the web page (session) and garbage requests ---------------------------------



def _session_upload(client, tiny_clip, **headers):
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile("c.mp4", tiny_clip.read_bytes()),
                                    "prompt": "a red fox at dawn"}, **headers)


def test_a_session_upload_with_the_csrf_header_is_accepted(web_client, tester, tiny_clip,
                                                           csrf_token, media_dirs):
    # given: the dashboard's script sends the page's token in X-CSRFToken
    client = web_client(tester)
    token = csrf_token(client, "/clips/")

    # when
    response = _session_upload(client, tiny_clip, HTTP_X_CSRFTOKEN=token)

    # then
    assert response.status_code == 201, response.json()
    assert response.json() == {"id": str(Submission.objects.get().pk), "status": "received"}
    assert media_dirs.leftovers() == []


@pytest.mark.parametrize("visited_a_page", [
    pytest.param(False, id="no_csrf_cookie"),
    # A browser that has opened any page holds the cookie: the check then reads the body.
    pytest.param(True, id="csrf_cookie_but_no_header"),
])
def test_a_session_upload_without_the_csrf_header_is_refused_and_leaves_nothing(
        web_client, tester, tiny_clip, csrf_token, submissions_state, visited_a_page):
    # given
    client = web_client(tester)
    if visited_a_page:
        csrf_token(client, "/clips/")
    before = submissions_state()

    # when
    response = _session_upload(client, tiny_clip)

    # then
    assert response.status_code == 403
    assert response.json() == {
        "code": "auth.csrf_failed",
        "message": "CSRF check failed: send the X-CSRFToken header with session requests."}
    assert submissions_state() == before


@pytest.mark.parametrize("who", ["moderator", "suspended_tester"])
def test_a_refused_session_upload_with_a_valid_csrf_token_leaves_nothing(
        web_client, tester, tiny_clip, csrf_token, set_program, submissions_state, who):
    # given
    user = UserFactory(roles=[Role.MODERATOR]) if who == "moderator" else tester
    client = web_client(user)
    token = csrf_token(client, "/home/")
    if who == "suspended_tester":
        set_program(status=ProgramStatus.SUSPENDED, reason="Leak")
    before = submissions_state()

    # when
    response = _session_upload(client, tiny_clip, HTTP_X_CSRFTOKEN=token)

    # then
    assert response.status_code == 403
    assert response.json()["code"] == ("permission.denied" if who == "moderator"
                                       else "program.suspended")
    assert submissions_state() == before


def _multipart(parts: list[tuple[str, str | None, bytes]], *, close=True) -> tuple[bytes, str]:
    boundary = "----early-access-test-boundary"
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename
                                                     else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    if close:
        body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_upload_cut_off_mid_file_is_refused_and_leaves_nothing(
        tester, client_of, tiny_clip, submissions_state):
    # given: the connection ends part way through the file, with no closing boundary
    body, content_type = _multipart([("prompt", None, b"a red fox"),
                                     ("file", "c.mp4", tiny_clip.read_bytes()[:5000])],
                                    close=False)
    body = body[:-2]  # not even the line break after the part
    before = submissions_state()

    # when
    response = client_of(tester).generic("POST", UPLOAD_URL, body, content_type=content_type)

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"file": ["No file was submitted."]}}
    assert submissions_state() == before


@pytest.mark.parametrize("file_first", [True, False], ids=["file_first", "prompt_first"])
def test_an_oversized_form_field_is_refused_and_leaves_nothing(
        tester, client_of, tiny_clip, submissions_state, file_first):
    # given: a 3 MB prompt (over Django's in-memory limit for form fields)
    parts = [("file", "c.mp4", tiny_clip.read_bytes()), ("prompt", None, b"p" * 3_000_000)]
    body, content_type = _multipart(parts if file_first else parts[::-1])
    client = client_of(tester)
    client.raise_request_exception = False
    before = submissions_state()

    # when
    response = client.generic("POST", UPLOAD_URL, body, content_type=content_type)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "request.invalid"
    assert submissions_state() == before


def test_null_characters_in_prompt_or_title_are_refused(tester, client_of, tiny_clip,
                                                        submissions_state):
    # given
    before = submissions_state()

    # when
    response = _upload(client_of(tester), tiny_clip.read_bytes(), prompt="a\x00b", title="t\x00")

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"prompt": ["Null characters are not allowed."],
                                          "title": ["Null characters are not allowed."]}}
    assert submissions_state() == before


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    (b'{"file": "abc", "prompt": "x"}', "application/json", 400, "request.invalid"),
    (b"garbage", "multipart/form-data", 400, "request.malformed"),
    (b"garbage", "text/plain", 415, "request.unsupported_media_type"),
], ids=["json", "multipart_without_boundary", "text"])
def test_a_request_that_is_not_a_multipart_upload_is_refused(
        tester, client_of, submissions_state, body, content_type, status, code):
    # given
    before = submissions_state()

    # when
    response = client_of(tester).generic("POST", UPLOAD_URL, body, content_type=content_type)

    # then
    assert response.status_code == status
    assert response.json()["code"] == code
    assert submissions_state() == before


def test_two_files_in_the_file_field_keep_only_the_last_and_leave_no_scratch_file(
        tester, client_of, tiny_clip, submissions_state):
    # given: a valid clip, then a text file under the same field name
    before = submissions_state()

    # when
    response = client_of(tester).post(UPLOAD_URL, {
        "file": [SimpleUploadedFile("a.mp4", tiny_clip.read_bytes()),
                 SimpleUploadedFile("b.mp4", b"hello " * 100)],
        "prompt": "a red fox at dawn"}, format="multipart")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "media.unsupported_type"
    assert submissions_state() == before
