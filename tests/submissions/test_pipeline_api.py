"""Upload and generate through the API, process through the task, fetch the renditions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from submissions.models import Submission, SubmissionStatus
from tests.factories import UserFactory
from tests.submissions.conftest import sha256_of

UPLOAD_URL = "/api/v1/submissions/"


@pytest.fixture
def uploader(db, client_of):
    tester = UserFactory(roles=[Role.TESTER])
    return tester, client_of(tester)


def _upload(client, path, **fields):
    with path.open("rb") as handle:
        return client.post(UPLOAD_URL, {"file": handle, "prompt": "a red fox at dawn", **fields},
                           format="multipart")


def test_an_uploaded_clip_is_processed_into_pending_review(
        uploader, tiny_clip, eager_tasks, events, django_capture_on_commit_callbacks):
    _tester, client = uploader

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, tiny_clip, title="Fox")

    assert response.status_code == 201, response.json()
    submission = Submission.objects.get(pk=response.json()["id"])
    assert response.json() == {"id": str(submission.pk), "status": "received"}
    assert submission.status == SubmissionStatus.PENDING_REVIEW
    assert submission.sha256 == sha256_of(tiny_clip)
    assert submission.size_bytes == tiny_clip.stat().st_size
    assert events() == ["submission.created", "submission.submitted",
                        "submission.processing_started", "submission.processed"]
    detail = client.get(f"{UPLOAD_URL}{submission.pk}/").json()
    assert detail["status"] == "pending_review"
    assert detail["media"]["video_codec"] == "h264"
    assert (detail["media"]["width"], detail["media"]["height"]) == (320, 180)
    for kind in ("original", "thumbnail", "contact_sheet", "watermarked"):
        assert detail["urls"][kind].endswith(f"/media/{kind}/")
        media = client.get(detail["urls"][kind])
        assert media.status_code == 200, kind
        assert media["X-Content-Type-Options"] == "nosniff"
        assert media["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert media["Cache-Control"] == "private, max-age=0"


def test_a_draft_upload_waits_for_submit(uploader, tiny_clip, eager_tasks, events):
    _tester, client = uploader
    response = _upload(client, tiny_clip, submit="false")
    assert response.json()["status"] == "draft"
    assert events() == ["submission.created"]


def test_plainly_not_a_video_is_refused_before_any_work(uploader, events):
    _tester, client = uploader
    fake = SimpleUploadedFile("clip.mp4", b"hello, I am text pretending to be a clip" * 20)
    response = client.post(UPLOAD_URL, {"file": fake, "prompt": "p"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "media.unsupported_type"
    assert Submission.objects.count() == 0
    assert events() == []
