"""The clip list costs the same number of queries for one clip as for a page of them."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from core import clock
from submissions.models import Source, Submission, SubmissionStatus
from tests.factories import UserFactory


def _clips(owner, count):
    for index in range(count):
        Submission.objects.create(owner=owner, prompt=f"clip {index}", source=Source.UPLOAD,
                                  status=SubmissionStatus.REJECTED, created_at=clock.now())


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/submissions/", {"page_size": 50})
    assert response.status_code == 200
    return len(captured)


def test_listing_clips_does_not_query_per_clip(db, client_of):
    # given one tester with one clip, another with twenty
    few, many = UserFactory(roles=[Role.TESTER]), UserFactory(roles=[Role.TESTER])
    _clips(few, 1)
    _clips(many, 20)

    # then listing twenty costs what listing one does
    assert _queries_for_list(client_of(many)) == _queries_for_list(client_of(few))
