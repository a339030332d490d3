"""The gate end to end through the API: claim, reject, appeal, overturn, share."""

from accounts.models import Role
from audit.models import Event
from submissions.models import SubmissionStatus
from tests.factories import UserFactory
from tests.submissions.test_pipeline_api import _upload


def test_reject_appeal_overturn(db, client_of, tiny_clip, eager_tasks,
                                django_capture_on_commit_callbacks, mailoutbox):
    tester = UserFactory(roles=[Role.TESTER])
    ada, bo = UserFactory(roles=[Role.MODERATOR]), UserFactory(roles=[Role.MODERATOR])
    tester_api, ada_api, bo_api = client_of(tester), client_of(ada), client_of(bo)
    with django_capture_on_commit_callbacks(execute=True):
        clip_id = _upload(tester_api, tiny_clip).json()["id"]

    claim = ada_api.post("/api/v1/review/claims/")
    assert claim.status_code == 201, claim.content
    assert claim.json()["submission"]["id"] == clip_id
    assert claim.json()["track"] == "primary"
    assert bo_api.post("/api/v1/review/claims/").status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        decided = ada_api.post(f"/api/v1/review/claims/{claim.json()['id']}/decide/",
                               {"outcome": "reject", "reasons": ["likeness"]}, format="json")
    assert decided.status_code == 201, decided.json()
    again = ada_api.post(f"/api/v1/review/claims/{claim.json()['id']}/decide/",
                         {"outcome": "approve"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "review.lease_lost"
    detail = tester_api.get(f"/api/v1/submissions/{clip_id}/").json()
    assert detail["status"] == "rejected"
    assert detail["decision"]["reasons"] == ["likeness"]
    assert len(mailoutbox) == 1

    appealed = tester_api.post(f"/api/v1/submissions/{clip_id}/appeal/",
                               {"message": "It is a fox, not a person."}, format="json")
    assert appealed.status_code == 200, appealed.json()
    assert ada_api.post("/api/v1/review/claims/").status_code == 204  # she decided it already
    claim = bo_api.post("/api/v1/review/claims/").json()
    assert claim["track"] == "appeal"
    assert claim["appeal_message"] == "It is a fox, not a person."
    with django_capture_on_commit_callbacks(execute=True):
        bo_api.post(f"/api/v1/review/claims/{claim['id']}/decide/", {"outcome": "approve"},
                    format="json")
    detail = tester_api.get(f"/api/v1/submissions/{clip_id}/").json()
    assert (detail["status"], detail["appealed"]) == (SubmissionStatus.APPROVED, True)
    shared = tester_api.post(f"/api/v1/submissions/{clip_id}/share/")
    assert shared.status_code == 201
    decided_events = Event.objects.filter(action="review.decided").values_list("data", flat=True)
    assert [(d["outcome"], d["track"], d["appeal_result"]) for d in decided_events] == [
        ("reject", "primary", None), ("approve", "appeal", "overturned")]
