"""Ground truth reaches researchers (its own dataset) and never moderators: nothing a
moderator reads changes when a clip's truth does."""

import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from audit import SystemActor
from audit.models import Study
from core import clock
from review.services.taxonomy import taxonomy_install_defaults
from seeds.models import GroundTruth, Origin
from submissions.models import Source, Submission, SubmissionStatus
from tests.factories import UserFactory

MOMENT = datetime(2024, 11, 12, 9, 30, tzinfo=UTC)
# Words only the truth would bring ("original" is a media kind, so whole words only).
TELLTALES = re.compile(r"\b(ground[ _]?truth|violates|outsider|origin)\b", re.IGNORECASE)


@pytest.fixture
def frozen(db):
    with clock.use(lambda: MOMENT):
        yield MOMENT


@pytest.fixture
def clip(frozen):
    """A clip waiting for review, with the simulation's truth about it."""
    taxonomy_install_defaults(actor=SystemActor("test-setup"))
    tester = UserFactory(username="tess", roles=[Role.TESTER])
    clip = Submission.objects.create(
        owner=tester, cohort=tester.cohort, prompt="a street interview with a familiar face",
        source=Source.UPLOAD, status=SubmissionStatus.PENDING_REVIEW,
        sha256=hashlib.sha256(b"clip").hexdigest(), size_bytes=4096, created_at=frozen,
        submitted_at=frozen, processed_at=frozen, review_entered_at=frozen)
    GroundTruth.objects.create(submission=clip, violates=True, category="likeness",
                               origin=Origin.TESTER)
    return clip


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _without_csrf_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _moderator_reads(moderator, clip) -> dict:
    """Everything a moderator reads about the clip without acting on it."""
    api, web = _client(moderator), APIClient()
    web.force_login(moderator)
    seen = {
        "detail": api.get(f"/api/v1/submissions/{clip.pk}/").json(),
        "list": api.get("/api/v1/submissions/").json(),
        "queue": api.get("/api/v1/review/queue/").json(),
        "page": _without_csrf_token(web.get(f"/clips/{clip.pk}/").content.decode()),
        "moderator page": _without_csrf_token(web.get("/review/").content.decode()),
    }
    assert seen["detail"]["id"] == str(clip.pk)
    return seen


def _moderator_claims(moderator) -> dict:
    """What a moderator is given with a claim (the item to judge), then gives it back."""
    api = _client(moderator)
    claimed = api.post("/api/v1/review/claims/").json()
    assert api.post(f"/api/v1/review/claims/{claimed.pop('id')}/release/").status_code == 204
    claimed.pop("expires_at")
    return claimed


def _truth(clip, **fields) -> None:
    GroundTruth.objects.filter(submission=clip).update(**fields)


FINE = {"violates": False, "category": "", "origin": Origin.OUTSIDER}
VIOLATING = {"violates": True, "category": "likeness", "origin": Origin.TESTER}


def test_nothing_a_moderator_reads_changes_with_the_truth(clip):
    # given
    moderator = UserFactory(username="mo", roles=[Role.MODERATOR])
    as_violating = _moderator_reads(moderator, clip)

    # when the truth says the opposite
    _truth(clip, **FINE)
    as_fine = _moderator_reads(moderator, clip)

    # then
    assert as_fine == as_violating
    assert TELLTALES.findall(json.dumps(as_violating)) == []


def test_a_claimed_item_does_not_change_with_the_truth(clip):
    # given
    moderator = UserFactory(username="mo", roles=[Role.MODERATOR])
    given_violating = _moderator_claims(moderator)

    # when
    _truth(clip, **FINE)
    given_fine = _moderator_claims(moderator)

    # then
    assert given_fine == given_violating
    assert given_fine["submission"]["id"] == str(clip.pk)
    assert TELLTALES.findall(json.dumps(given_fine)) == []


def test_researchers_read_the_truth_as_its_own_dataset_and_moderators_cannot(clip):
    # given
    researcher = UserFactory(username="rae", roles=[Role.RESEARCHER])
    study = Study.objects.create(slug="simulation", name="Simulation")
    study.researchers.add(researcher)
    moderator = UserFactory(username="mo", roles=[Role.MODERATOR])

    # when
    read = _client(researcher).get("/api/v1/research/export/ground_truth.csv")
    refused = _client(moderator).get("/api/v1/research/export/ground_truth.csv")

    # then
    assert read.status_code == 200
    assert b"".join(read.streaming_content).decode().splitlines() == [
        "submission_id,violates,category,origin", f"{clip.pk},true,likeness,tester"]
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission.denied"
