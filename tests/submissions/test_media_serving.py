"""Serving a clip's files (``GET submissions/{id}/media/{kind}/``): 404 until a file exists,
safe headers on every kind, and HTTP Range requests for players that seek."""

import pytest

from submissions import tasks
from submissions.models import SubmissionStatus
from submissions.storage import media_storage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

URL = "/api/v1/submissions/"
NOT_FOUND = {"code": "not_found", "message": "Not found."}
# kind → (Content-Type, Content-Disposition type, server-chosen file name after the id prefix)
KINDS = {
    "original": ("application/octet-stream", "attachment", "original"),
    "thumbnail": ("image/jpeg", "inline", "poster.jpg"),
    "contact_sheet": ("image/jpeg", "inline", "contact-sheet.jpg"),
    "watermarked": ("video/mp4", "inline", "clip.mp4"),
}


@pytest.fixture
def processed(tester, make_clip, tiny_clip):
    """A tester's clip, processed into pending_review: every kind of file exists."""
    clip = make_clip(tester, SubmissionStatus.RECEIVED, original=tiny_clip)
    tasks.submission_process(str(clip.pk))
    clip.refresh_from_db()
    assert clip.status == SubmissionStatus.PENDING_REVIEW
    return clip


def _stored(clip, kind) -> bytes:
    with media_storage().open(clip.media_name(kind), "rb") as handle:
        return handle.read()


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_served_whole_with_safe_headers(client_of, tester, processed, kind):
    # given
    content_type, disposition, filename = KINDS[kind]
    expected = _stored(processed, kind)

    # when
    response = client_of(tester).get(f"{URL}{processed.pk}/media/{kind}/")

    # then
    assert response.status_code == 200
    assert _body(response) == expected
    assert response["Content-Type"] == content_type
    assert response["Content-Length"] == str(len(expected))
    assert response["Content-Disposition"] == (
        f'{disposition}; filename="{str(processed.pk)[:8]}-{filename}"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, max-age=0"
    assert response["Accept-Ranges"] == "bytes"
    assert not response.has_header("Content-Range")


def test_renditions_are_not_found_until_they_exist(client_of, tester, make_clip, tiny_clip):
    # given: stored but not processed yet
    clip = make_clip(tester, SubmissionStatus.RECEIVED, original=tiny_clip)
    client = client_of(tester)

    # when
    answers = {kind: client.get(f"{URL}{clip.pk}/media/{kind}/") for kind in KINDS}

    # then
    assert answers["original"].status_code == 200
    for kind in ("thumbnail", "contact_sheet", "watermarked"):
        assert answers[kind].status_code == 404, kind
        assert answers[kind].json() == NOT_FOUND


def test_a_clip_still_generating_has_no_original(client_of, tester, make_clip):
    # given
    clip = make_clip(tester, SubmissionStatus.GENERATING, source="generated")

    # when
    response = client_of(tester).get(f"{URL}{clip.pk}/media/original/")

    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("kind", ["poster", "ORIGINAL", "media_facts", "original.mp4", "sha256",
                                  "watermarked%2F..%2Foriginal"])
def test_an_unknown_kind_is_not_found(client_of, tester, processed, kind):
    # when
    response = client_of(tester).get(f"{URL}{processed.pk}/media/{kind}/")

    # then
    assert response.status_code == 404


# --- Range requests -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["watermarked", "original"])
@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-99", 0, 99),
    ("bytes=100-", 100, None),
    ("bytes=-100", -100, None),
    ("bytes=5-5", 5, 5),
    ("bytes=0-999999999", 0, None),
    ("bytes=-999999999", 0, None),
], ids=["first_100", "from_100", "last_100", "one_byte", "end_past_size", "suffix_past_size"])
def test_a_satisfiable_range_answers_206_with_exactly_those_bytes(
        client_of, tester, processed, kind, header, first, last):
    # given
    content = _stored(processed, kind)
    size = len(content)
    start = first % size
    end = size - 1 if last is None else last

    # when
    response = client_of(tester).get(f"{URL}{processed.pk}/media/{kind}/", HTTP_RANGE=header)

    # then
    assert response.status_code == 206
    assert _body(response) == content[start:end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Content-Type"] == KINDS[kind][0]
    assert response["Cache-Control"] == "private, max-age=0"


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{size}", "bytes=-0"])
def test_an_unsatisfiable_range_answers_416(client_of, tester, processed, header):
    # given
    size = len(_stored(processed, "watermarked"))

    # when
    response = client_of(tester).get(f"{URL}{processed.pk}/media/watermarked/",
                                      HTTP_RANGE=header.format(size=size))

    # then
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=", "bytes=-", "items=0-99",
                                    "bytes=0-1,5-6", "bytes=0-99, 200-299", "0-99",
                                    "bytes=0x10-20"])
def test_a_malformed_or_multiple_range_is_served_whole(client_of, tester, processed, header):
    # given
    content = _stored(processed, "watermarked")

    # when
    response = client_of(tester).get(f"{URL}{processed.pk}/media/watermarked/",
                                      HTTP_RANGE=header)

    # then
    assert response.status_code == 200
    assert _body(response) == content
    assert not response.has_header("Content-Range")
