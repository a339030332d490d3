"""The bad-input corpus through the HTTP API, processed by the real task in-process: every
case ends with exactly its documented outcome, never a 500, never stuck in ``processing``,
and no temporary file is left behind."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import Event
from submissions.media import TOO_LARGE, UNSUPPORTED_TYPE
from submissions.models import Submission
from tests.submissions.corpus import ACCEPTED, CASE_NAMES, HTML, build_corpus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs", "eager_tasks")]

UPLOAD_URL = "/api/v1/submissions/"
RENDITIONS = ("contact_sheet", "thumbnail", "watermarked")


@pytest.fixture(scope="session")
def corpus_cases(tmp_path_factory):
    return {case.name: case for case in build_corpus(tmp_path_factory.mktemp("http-corpus"))}


@pytest.fixture
def upload_case(corpus_cases, tester, client_of, set_program,
                django_capture_on_commit_callbacks):
    """``upload_case(name)``: the case's policy on the program row, then its file uploaded
    (under the corpus's own ``.mp4`` name) and processed on commit; returns the response."""
    client = client_of(tester)
    client.raise_request_exception = False  # a 500 must show as a response, not an exception

    def upload(name):
        case = corpus_cases[name]
        policy = case.policy
        set_program(max_duration_s=policy.max_duration_s, max_width=policy.max_width,
                    max_height=policy.max_height, max_upload_bytes=policy.max_upload_bytes,
                    allowed_video_codecs=list(policy.allowed_video_codecs))
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(UPLOAD_URL, {
                "file": SimpleUploadedFile(case.path.name, case.path.read_bytes()),
                "prompt": f"corpus case {name}"}, format="multipart")

    return client, upload


def _refused_at_upload(case) -> bool:
    return case.stage == "sniff" or case.expected == TOO_LARGE


CASE_PARAMS = CASE_NAMES


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_corpus_case_ends_with_its_documented_outcome(name, corpus_cases, upload_case,
                                                      media_dirs):
    # given
    case = corpus_cases[name]
    client, upload = upload_case

    # when
    response = upload(name)

    # then
    assert media_dirs.leftovers() == []
    if _refused_at_upload(case):
        assert response.status_code == (413 if case.expected == TOO_LARGE else 400)
        body = response.json()
        assert (body["code"], set(body)) == (case.expected, {"code", "message"})
        assert body["message"].endswith(".")
        assert Submission.objects.count() == 0
        assert list(Event.objects.values_list("action", flat=True)) == []
        assert media_dirs.stored() == []
        return
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    detail = client.get(f"{UPLOAD_URL}{submission.pk}/").json()
    actions = list(Event.objects.values_list("action", flat=True))
    if case.expected == ACCEPTED:
        assert (detail["status"], detail["failure"]) == ("pending_review", None)
        assert actions == ["submission.created", "submission.submitted",
                           "submission.processing_started", "submission.processed"]
        assert all(detail["urls"][kind] for kind in ("original", *RENDITIONS))
        assert sorted(media_dirs.stored()) == sorted(
            [submission.original,
             *(f"renditions/{submission.pk}/1/{file}"
               for file in ("poster.jpg", "sheet.jpg", "watermarked.mp4"))])
    else:
        assert detail["status"] == "failed"
        assert detail["failure"]["code"] == case.expected
        message = detail["failure"]["message"]
        assert message.endswith("."), message
        assert "media." not in message  # a sentence for the tester, not the code again
        assert actions == ["submission.created", "submission.submitted",
                           "submission.processing_started", "submission.failed"]
        assert Event.objects.last().data == {"code": case.expected, "stage": "processing",
                                             "attempt": 1}
        assert [detail["urls"][kind] for kind in RENDITIONS] == [None, None, None]
        assert media_dirs.stored() == [submission.original]


def test_every_sniff_refusal_is_unsupported_type(corpus_cases):
    # The HTTP test above relies on this: what sniff refuses, the upload refuses with 400.
    assert {case.expected for case in corpus_cases.values() if case.stage == "sniff"} == {
        UNSUPPORTED_TYPE}


def _served(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(("name", "payload"), [
    ("polyglot_html", b"<script>"), ("polyglot_html", HTML),
    ("polyglot_zip", b"PK\x03\x04"), ("polyglot_zip", b"payload.html"),
])
def test_a_polyglots_payload_never_reaches_the_served_rendition(name, payload, upload_case):
    # given
    client, upload = upload_case
    response = upload(name)
    assert response.status_code == 201, response.content
    detail = client.get(f"{UPLOAD_URL}{response.json()['id']}/").json()
    assert detail["status"] == "pending_review"

    # when
    watermarked = _served(client, detail["urls"]["watermarked"])
    original = _served(client, detail["urls"]["original"])

    # then: the original keeps its bytes (downloaded only as an attachment); the rendition
    # that moderators watch and the public sees has none of them
    assert payload in original
    assert payload not in watermarked
    assert b"<script>" not in watermarked
    assert b"PK\x03\x04" not in watermarked
