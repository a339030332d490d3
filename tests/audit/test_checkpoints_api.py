"""``GET /api/v1/research/checkpoints/latest/``: the newest signed checkpoint with its public
key, for researchers of a study; everyone else is refused and nothing changes."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from accounts.models import Role
from audit import signing
from audit.models import Checkpoint, Event, Seal, Study
from tests.audit.conftest import record, seal
from tests.factories import UserFactory

URL = "/api/v1/research/checkpoints/latest/"


@pytest.fixture
def study_researcher(researcher):
    study = Study.objects.create(slug="gate", name="The approval gate")
    study.researchers.add(researcher)
    return researcher


def _state() -> dict:
    return {"events": list(Event.objects.order_by("id").values_list("id", "action")),
            "seals": list(Seal.objects.values_list("seq", "hash")),
            "checkpoints": list(Checkpoint.objects.values_list("seq", "head_hash"))}


def test_the_route_is_named_and_served_under_research():
    assert reverse("research-checkpoint-latest") == URL


def test_a_researcher_gets_the_latest_checkpoint_with_its_public_key(
        study_researcher, client_of, public_key):
    # given: two sealing runs
    record()
    seal()
    record()
    record()
    seal()
    latest = Checkpoint.objects.get(seq=3)

    # when
    response = client_of(study_researcher).get(URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "seq": 3,
        "head_hash": Seal.objects.get(seq=3).hash,
        "created_at": signing.timestamp(latest.created_at),
        "signature": latest.signature,
        "key_id": signing.key_id(public_key),
        "public_key": base64.b64encode(public_key).decode(),
    }


def test_the_answer_verifies_on_its_own(study_researcher, client_of):
    # given
    record()
    seal()

    # when
    body = client_of(study_researcher).get(URL).json()

    # then: the documented message, checked with nothing but the answer
    message = f"early-access-checkpoint\n{body['seq']}\n{body['head_hash']}\n{body['created_at']}"
    key = base64.b64decode(body["public_key"])
    assert signing.key_id(key) == body["key_id"]
    assert signing.signature_valid(key, message.encode(), body["signature"])
    assert not signing.signature_valid(key, message.replace("\n1\n", "\n2\n").encode(),
                                       body["signature"])


def test_a_researcher_of_several_studies_names_one(study_researcher, client_of):
    # given
    record()
    seal()
    Study.objects.create(slug="second", name="Second").researchers.add(study_researcher)
    client = client_of(study_researcher)

    # when
    unnamed = client.get(URL)
    named = client.get(URL, {"study": "second"})

    # then
    assert (unnamed.status_code, unnamed.json()["code"]) == (400, "research.study_required")
    assert (named.status_code, named.json()["seq"]) == (200, 1)


def test_nothing_sealed_yet_is_404(study_researcher, client_of):
    # given
    record()

    # when
    response = client_of(study_researcher).get(URL)

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "research.no_checkpoint",
                               "message": "Nothing has been sealed yet, so there is no "
                                          "checkpoint."}


@pytest.mark.parametrize(("roles", "code"), [
    ([Role.TESTER], "permission.denied"),
    ([Role.MODERATOR], "permission.denied"),
    ([Role.PROGRAM_ADMIN], "permission.denied"),
    ([Role.RESEARCHER], "research.no_study"),
])
def test_everyone_else_is_refused_and_nothing_changes(db, client_of, roles, code):
    # given
    record()
    seal()
    user = UserFactory(roles=roles)
    before = _state()

    # when
    response = client_of(user).get(URL)

    # then
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert _state() == before


def test_anonymous_is_asked_to_sign_in(db, anonymous_client):
    # given
    record()
    seal()
    before = _state()

    # when
    response = anonymous_client.get(URL)

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "auth.not_authenticated"
    assert _state() == before


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_is_read_only(study_researcher, client_of, method):
    # given
    record()
    seal()
    before = _state()

    # when
    response = getattr(client_of(study_researcher), method)(URL)

    # then
    assert response.status_code == 405
    assert _state() == before
