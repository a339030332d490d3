"""Who may read research data: the role matrix of every research data route."""

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import Event, Study
from audit.research import exports_api
from tests.factories import UserFactory

ROUTES = {
    "research-events": reverse("research-events"),
    "research-export": reverse("research-export", kwargs={"dataset": "events",
                                                          "format": "csv"}),
}

DENIED = {"code": "permission.denied", "message": "This needs the role researcher."}


def test_the_matrix_covers_every_route_of_the_module():
    assert {pattern.name for pattern in exports_api.urlpatterns} == set(ROUTES)
    assert {(pattern.name, "GET") for pattern in exports_api.urlpatterns
            if hasattr(pattern.callback.view_class, "get")} == {(name, "GET") for name in ROUTES}
    assert not any(hasattr(pattern.callback.view_class, method)
                   for pattern in exports_api.urlpatterns
                   for method in ("post", "put", "patch", "delete"))


@pytest.fixture
def state(history):
    def snapshot() -> dict:
        return {"events": list(Event.objects.order_by("id").values_list("id", "action")),
                "studies": list(Study.objects.order_by("pk").values()),
                "members": sorted(Study.researchers.through.objects.values_list(
                    "study_id", "user_id"))}

    return snapshot


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_anonymous_clients_must_sign_in(route, history, state, anonymous_client):
    # given
    before = state()

    # when
    response = anonymous_client.get(ROUTES[route])

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "auth.not_authenticated"
    assert state() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("who", ["tess", "mia", "pat"])
def test_testers_moderators_and_program_admins_are_refused(route, who, history, state,
                                                            as_user):
    # given: a tester, a moderator and a program admin (none of them a researcher)
    before = state()

    # when
    response = as_user(getattr(history, who)).get(ROUTES[route])

    # then
    assert response.status_code == 403
    assert response.json() == DENIED
    assert state() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_researcher_without_a_study_is_refused(route, history, state, as_user):
    # given
    loner = UserFactory(username="lone", roles=[Role.RESEARCHER])
    before = state()

    # when
    response = as_user(loner).get(ROUTES[route])

    # then
    assert response.status_code == 403
    assert response.json() == {
        "code": "research.no_study",
        "message": "You are not a researcher of any study; ask a program admin to add you."}
    assert state() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_researcher_of_two_studies_must_name_one(route, history, state, as_user):
    # given
    history.other.researchers.add(history.rita)
    before = state()

    # when
    response = as_user(history.rita).get(ROUTES[route])

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "research.study_required",
        "message": "You belong to several studies: name one with ?study=<slug>."}
    assert state() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_researcher_cannot_name_a_study_of_others(route, history, state, as_user):
    # given
    before = state()

    # when
    response = as_user(history.rita).get(ROUTES[route], {"study": "other-study"})

    # then
    assert response.status_code == 403
    assert response.json() == {"code": "research.not_in_study",
                               "message": "You are not a researcher of this study."}
    assert state() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_researcher_of_two_studies_reads_the_one_named(route, history, as_user):
    # given
    history.other.researchers.add(history.rita)

    # when
    response = as_user(history.rita).get(ROUTES[route], {"study": "other-study"})

    # then
    assert response.status_code == 200


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_researchers_keep_access_while_the_program_is_suspended(route, history, as_user):
    # given
    from accounts.services.program import program_suspend

    program_suspend(actor=history.pat, reason="A leak.")

    # when
    response = as_user(history.rita).get(ROUTES[route])

    # then
    assert response.status_code == 200


def test_the_openapi_schema_describes_both_routes():
    # given: the generator that keeps the export's ``.{format}`` path (audit.research.schema)
    from audit.research.schema import SchemaGenerator

    # when
    schema = SchemaGenerator().get_schema(request=None, public=True)

    # then
    export = schema["paths"]["/api/v1/research/export/{dataset}.{format}"]["get"]
    assert export["operationId"] == "research_export"
    assert {p["name"] for p in export["parameters"]} == {
        "dataset", "format", "study", "since", "until", "action", "cohort", "subject_id"}
    assert sorted(export["responses"]["200"]["content"]) == [
        "application/jsonl", "application/vnd.apache.parquet", "text/csv"]
    events = schema["paths"]["/api/v1/research/events/"]["get"]
    assert {p["name"] for p in events["parameters"]} == {
        "study", "since", "until", "action", "cohort", "subject_id", "cursor", "page_size"}
