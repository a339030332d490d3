"""An upload processed by a real worker process through the real broker (Redis in CI)."""

import time

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import Event
from submissions.models import Submission, SubmissionStatus
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_takes_an_upload_to_pending_review(celery_worker_process, tiny_clip):
    # given a tester
    tester = UserFactory(roles=[Role.TESTER])
    client = APIClient()
    client.force_authenticate(tester)

    # when they upload a clip (the task is sent to the broker when the transaction commits)
    with tiny_clip.open("rb") as handle:
        response = client.post("/api/v1/submissions/", {"file": handle, "prompt": "fox"},
                               format="multipart")
    assert response.status_code == 201, response.json()
    submission_id = response.json()["id"]

    # then the worker processes it
    deadline = time.monotonic() + 60
    status = SubmissionStatus.RECEIVED
    while time.monotonic() < deadline and status in (SubmissionStatus.RECEIVED,
                                                      SubmissionStatus.PROCESSING):
        time.sleep(0.2)
        status = Submission.objects.values_list("status", flat=True).get(pk=submission_id)
    assert status == SubmissionStatus.PENDING_REVIEW
    actions = list(Event.objects.filter(subject_id=submission_id)
                   .values_list("action", "actor_name"))
    assert actions == [("submission.created", ""), ("submission.submitted", ""),
                       ("submission.processing_started", "media-worker"),
                       ("submission.processed", "media-worker")]
