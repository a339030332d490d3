"""``GET /api/v1/research/metrics/``: who may read it, its filters, its shape and freshness."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import Event, RollupState, Study, SubmissionRollup
from audit.research import rollups
from audit.research.access import pseudonym
from tests.factories import UserFactory
from tests.research.test_metrics import GateHistory, People, record_morning

URL = "/api/v1/research/metrics/"


@pytest.fixture
def people(db):
    return People()


@pytest.fixture
def study_researcher(db):
    researcher = UserFactory(username="rhea", roles=[Role.RESEARCHER], cohort=None)
    study = Study.objects.create(slug="gate", name="The gate")
    study.researchers.add(researcher)
    return researcher


def client_of(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(("role", "status", "code"), [
    (None, 401, "auth.not_authenticated"),
    (Role.TESTER, 403, "permission.denied"),
    (Role.MODERATOR, 403, "permission.denied"),
    ("researcher without a study", 403, "research.no_study"),
])
def test_who_may_not_read_the_metrics(db, role, status, code):
    # given
    user = None
    if role == "researcher without a study":
        user = UserFactory(roles=[Role.RESEARCHER])
    elif role is not None:
        user = UserFactory(roles=[role])
    events_before = Event.objects.count()

    # when
    response = client_of(user).get(URL)

    # then: refused, and the refusal folded nothing
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Event.objects.count() == events_before
    assert not RollupState.objects.exists()


@pytest.mark.parametrize("who", ["researcher", "program_admin"])
def test_researchers_and_program_admins_read_the_metrics(people, study_researcher, who):
    # given
    record_morning(people)
    user = study_researcher if who == "researcher" else UserFactory(
        roles=[Role.PROGRAM_ADMIN])

    # when
    response = client_of(user).get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["submissions"]["total"], body["approval_rate"]) == (6, 0.5)


def test_the_answer_has_every_field_the_contract_names(people, study_researcher):
    # given
    record_morning(people)

    # when
    body = client_of(study_researcher).get(URL).json()

    # then: API.md's fields, then the additions
    assert {"submissions", "approval_rate", "time_to_decision_s", "queue_wait_s", "by_cohort",
            "by_moderator", "appeals"} <= set(body)
    assert set(body["submissions"]) >= {"by_status"}
    assert set(body["time_to_decision_s"]) >= {"p50", "p90", "p99"}
    assert set(body["queue_wait_s"]) >= {"p50", "p90"}
    assert set(body["appeals"]) >= {"count", "overturned"}
    assert {"queue_depth", "approval_rate_over_time", "agreement", "suspensions",
            "token_anomalies", "as_of"} <= set(body)
    assert body["queue_depth"][0] == {"at": "2025-03-04T09:00:00Z", "depth": 1, "entered": 7,
                                      "exited": 6}


def test_moderators_appear_only_as_the_studys_pseudonyms(people, study_researcher):
    # given
    record_morning(people)
    study = Study.objects.get(slug="gate")

    # when
    response = client_of(study_researcher).get(URL)

    # then
    assert set(response.json()["by_moderator"]) == {
        pseudonym(str(study.pk), user.pk) for user in (people.ada, people.bo, people.admin)}
    text = response.content.decode()
    for user in (people.ada, people.bo, people.admin, people.tess, people.rosa):
        assert f'"{user.username}"' not in text  # quoted: "ada" may be part of a hex digest
        assert user.email not in text


def test_a_study_granted_identities_also_sees_usernames(people, study_researcher):
    # given
    record_morning(people)
    Study.objects.filter(slug="gate").update(grant_identities=True)

    # when
    by_moderator = client_of(study_researcher).get(URL).json()["by_moderator"]

    # then
    assert sorted(entry["username"] for entry in by_moderator.values()) == [
        "ada", "admin", "bo"]


def test_filters_narrow_the_figures(people, study_researcher):
    # given
    record_morning(people)

    # when
    body = client_of(study_researcher).get(
        URL, {"since": "2025-03-04T09:30:00Z", "cohort": "red-team"}).json()

    # then
    assert body["submissions"] == {"total": 1, "by_status": {"pending_review": 1}}
    assert body["filters"] == {"since": "2025-03-04T09:30:00Z", "until": None,
                               "cohort": "red-team"}


@pytest.mark.parametrize(("query", "field"), [
    ({"since": "yesterday"}, "since"),
    ({"until": "2025-13-01"}, "until"),
    ({"since": "2025-03-04T10:00:00Z", "until": "2025-03-04T09:00:00Z"}, "until"),
    ({"cohort": "not a slug!"}, "cohort"),
    ({"bucket": "week"}, "bucket"),
])
def test_a_bad_filter_is_refused_naming_the_field(study_researcher, query, field):
    # when
    response = client_of(study_researcher).get(URL, query)

    # then
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["fields"])) == ("request.invalid", [field])
    assert not RollupState.objects.exists()


def test_the_endpoint_folds_the_newest_events_itself(people, study_researcher):
    # given: the rollups were refreshed, then a clip arrived that no refresh has seen
    record_morning(people)
    rollups.refresh()
    GateHistory().clip(people.rosa, 200)
    assert SubmissionRollup.objects.count() == 6

    # when
    body = client_of(study_researcher).get(URL).json()

    # then
    assert body["submissions"]["total"] == 7
    assert body["as_of"]["through_event"] == Event.objects.order_by("-id").first().pk


def test_a_researcher_of_several_studies_names_one(people, study_researcher):
    # given
    other = Study.objects.create(slug="other", name="Other")
    other.researchers.add(study_researcher)
    record_morning(people)

    # when
    unnamed = client_of(study_researcher).get(URL)
    named = client_of(study_researcher).get(URL, {"study": "other"})

    # then
    assert (unnamed.status_code, unnamed.json()["code"]) == (400, "research.study_required")
    assert named.status_code == 200
    assert pseudonym(str(other.pk), people.ada.pk) in named.json()["by_moderator"]
