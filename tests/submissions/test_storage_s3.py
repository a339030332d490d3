"""The pipeline against an S3-compatible store (moto's server mode, started by the test)."""

import boto3
import pytest
from moto.server import ThreadedMotoServer

from accounts.models import Role
from submissions.models import Submission, SubmissionStatus
from tests.factories import UserFactory

BUCKET = "early-access-test-media"


@pytest.fixture
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, settings):
    credentials = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret",
                   "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, **credentials)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": s3_endpoint,
                    "access_key": credentials["aws_access_key_id"],
                    "secret_key": credentials["aws_secret_access_key"],
                    "region_name": "us-east-1", "default_acl": "private",
                    "file_overwrite": False},
    }}
    return client


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in
                  client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_the_pipeline_stores_and_serves_every_file_through_s3(
        db, s3_bucket, tiny_clip, eager_tasks, client_of, settings,
        django_capture_on_commit_callbacks):
    # given a tester
    tester = UserFactory(roles=[Role.TESTER])
    client = client_of(tester)

    # when they upload a clip and the worker processes it
    with django_capture_on_commit_callbacks(execute=True), tiny_clip.open("rb") as handle:
        response = client.post("/api/v1/submissions/", {"file": handle, "prompt": "fox"},
                               format="multipart")

    # then the original and the three renditions are objects in the bucket
    assert response.status_code == 201, response.json()
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.status == SubmissionStatus.PENDING_REVIEW
    names = [submission.original, submission.thumbnail, submission.contact_sheet,
             submission.watermarked]
    assert _keys(s3_bucket) == sorted(names)
    assert s3_bucket.get_object(Bucket=BUCKET, Key=submission.original)["Body"].read() == (
        tiny_clip.read_bytes())
    # and they are served from there, with ranges
    video = client.get(f"/api/v1/submissions/{submission.pk}/media/watermarked/",
                       HTTP_RANGE="bytes=0-99")
    assert video.status_code == 206
    assert b"".join(video.streaming_content) == s3_bucket.get_object(
        Bucket=BUCKET, Key=submission.watermarked)["Body"].read()[:100]
    # and the worker left no local copies behind
    assert list(settings.MEDIA_SCRATCH_DIR.iterdir()) == []
