"""The researcher dashboard (``/research/``): who sees it, and what it shows of a history."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from audit.models import Checkpoint, Event, Study
from audit.registry import all_actions
from audit.research.access import pseudonym
from audit.research.datasets import all_datasets
from tests.factories import UserFactory
from tests.research.test_metrics import People, at, record_morning

URL = "/research/"


@pytest.fixture
def people(db):
    return People()


@pytest.fixture
def researcher(db):
    user = UserFactory(username="rhea", roles=[Role.RESEARCHER], cohort=None)
    Study.objects.create(slug="gate", name="The gate").researchers.add(user)
    return user


def page_of(user, **query):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(URL, query)


def test_the_page_has_its_name():
    assert reverse("research-dashboard") == URL


@pytest.mark.parametrize("role", [Role.TESTER, Role.MODERATOR])
def test_testers_and_moderators_may_not_see_the_dashboard(db, role):
    # when
    response = page_of(UserFactory(roles=[role]))

    # then
    assert response.status_code == 403
    assert b"This page is for researchers and program admins." in response.content


def test_anonymous_visitors_are_sent_to_sign_in(db):
    # when
    response = page_of(None)

    # then
    assert (response.status_code, response["Location"]) == (302, "/sign-in/?next=/research/")


def test_a_researcher_without_a_study_is_told_so(db):
    # when
    response = page_of(UserFactory(roles=[Role.RESEARCHER]))

    # then
    assert response.status_code == 403
    assert b"You are not a researcher of any study" in response.content


@pytest.mark.parametrize("who", ["researcher", "program_admin"])
def test_researchers_and_program_admins_see_the_figures(people, researcher, who):
    # given
    record_morning(people)
    user = researcher if who == "researcher" else UserFactory(roles=[Role.PROGRAM_ADMIN])

    # when
    response = page_of(user)

    # then: the figures of the morning (see test_metrics)
    assert response.status_code == 200
    html = response.content.decode()
    assert _testid(html, "figure-submissions") == "6"
    assert _testid(html, "figure-approval-rate") == "50%"
    assert _testid(html, "figure-ttd") == "13 min"  # 780 s
    assert _testid(html, "figure-appeals") == "1"


def _testid(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, testid
    return found.group(1).strip()


def test_the_charts_mark_the_suspension_and_the_token_anomaly(people, researcher):
    # given
    record_morning(people)

    # when
    html = page_of(researcher).content.decode()

    # then: both time charts and the chart around the suspension shade it (10:30 to 11:30)
    # and mark the anomaly at 10:25
    assert html.count('data-testid="chart-incident"') == 1
    assert "Around the suspension of 04 Mar 2025 10:30 UTC" in html
    assert html.count('data-testid="suspension-band"') == 3
    assert html.count('data-testid="anomaly-marker"') == 3
    assert html.count('data-testid="chart-queue-line"') == 1
    assert html.count('data-testid="chart-ttd-bar"') == 4
    assert html.count('data-testid="chart-cohorts-bar"') == 2
    assert "Program suspended 04 Mar 10:30 to 04 Mar 11:30 UTC" in html
    assert "Token anomaly 04 Mar 10:25 UTC" in html
    assert 'data-testid="incident-suspension"' in html
    assert "1 token anomaly</strong>" in html


def test_moderators_appear_as_the_studys_pseudonyms(people, researcher):
    # given
    record_morning(people)
    study = Study.objects.get(slug="gate")

    # when
    html = page_of(researcher).content.decode()

    # then
    assert pseudonym(str(study.pk), people.ada.pk) in html
    for user in (people.ada, people.bo, people.tess, people.rosa):
        assert f">{user.username}<" not in html
        assert user.email not in html


def test_every_dataset_can_be_downloaded_in_every_format(people, researcher):
    # when
    html = page_of(researcher, cohort="red-team").content.decode()

    # then: one link per dataset and format, carrying the page's filters
    names = [dataset.name for dataset in all_datasets()]
    assert {"events", "submissions", "decisions"} <= set(names)
    for name in names:
        for fmt in ("csv", "jsonl", "parquet"):
            link = re.search(rf'href="([^"]+)" download data-testid="download-{name}-{fmt}"',
                             html)
            assert link, (name, fmt)
            assert link.group(1) == f"/api/v1/research/export/{name}.{fmt}?cohort=red-team"


def test_the_latest_checkpoint_and_the_data_dictionary(people, researcher):
    # given
    Checkpoint.objects.create(seq=41, head_hash="ab" * 32, created_at=at(0),
                              signature="00" * 64, key_id="k" * 16)
    Checkpoint.objects.create(seq=42, head_hash="cd" * 32, created_at=at(1),
                              signature="00" * 64, key_id="k" * 16)

    # when
    html = page_of(researcher).content.decode()

    # then
    assert _testid(html, "checkpoint-seq") == "42"
    assert _testid(html, "checkpoint-hash") == "cd" * 32
    for action in all_actions():
        assert f"<code>{action.name}</code>" in html
    for dataset in all_datasets():
        for column in dataset.columns:
            if column.grant is None:
                assert f"<code>{column.name}</code>" in html


def test_filters_narrow_the_page(people, researcher):
    # given
    record_morning(people)

    # when
    html = page_of(researcher, since="2025-03-04 09:30", cohort="red-team").content.decode()

    # then
    assert _testid(html, "figure-submissions") == "1"


def test_a_researcher_of_several_studies_picks_one(people, researcher):
    # given
    record_morning(people)
    other = Study.objects.create(slug="other", name="Other study")
    other.researchers.add(researcher)

    # when
    first = page_of(researcher).content.decode()
    chosen = page_of(researcher, study="other").content.decode()

    # then: the first study by slug, until another is chosen; the exports follow
    assert "Study <strong>The gate</strong>" in first
    assert "/api/v1/research/export/events.csv?study=gate" in first
    assert "Study <strong>Other study</strong>" in chosen
    assert pseudonym(str(other.pk), people.ada.pk) in chosen
    assert "/api/v1/research/export/events.csv?study=other" in chosen


@pytest.mark.parametrize(("query", "message"), [
    ({"since": "yesterday"}, "Enter a valid date/time."),
    ({"since": "2025-03-04 10:00", "until": "2025-03-04 09:00"}, "Must be later than since."),
])
def test_a_bad_filter_is_shown_on_the_form(researcher, query, message):
    # when
    response = page_of(researcher, **query)

    # then
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_demo_researcher_reads_the_dashboard_through_the_demo_study(db):
    # given
    call_command("seed")
    researcher = User.objects.get(username="researcher")

    # when
    response = page_of(researcher)

    # then
    assert response.status_code == 200
    assert "Study <strong>Demo study</strong>" in response.content.decode()
    study = Study.objects.get()
    assert (study.slug, study.name, list(study.researchers.all())) == (
        "demo", "Demo study", [researcher])
    event = Event.objects.get(action="research.study_saved")
    assert (event.actor_name, event.subject_id, event.data) == ("seed", str(study.pk), {
        "created": True, "researchers": [researcher.pk],
        "grants": {"identities": False, "free_text": False, "client_context": False}})
