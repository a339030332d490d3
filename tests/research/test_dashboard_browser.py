"""The issue's acceptance story in Chromium: a researcher signs in, sees the gate's charts with
the suspension and the token anomaly marked, and downloads a CSV and a Parquet file."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect

from accounts.models import Role
from audit.models import Event, Study
from tests.conftest import sign_in
from tests.factories import UserFactory
from tests.research.test_metrics import People, record_morning

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))  # noqa: S108


def test_a_researcher_reads_the_charts_and_downloads_the_events(live_server, new_page):
    # given: a morning at the gate with a suspension and a token anomaly, and a researcher
    record_morning(People())
    researcher = UserFactory(username="rhea", roles=[Role.RESEARCHER], cohort=None)
    Study.objects.create(slug="gate", name="The gate").researchers.add(researcher)
    page = new_page()

    # when
    sign_in(page, live_server.url, "rhea")
    page.goto(live_server.url + "/research/")

    # then: the figures, the four charts, and the incidents plainly marked
    expect(page.get_by_test_id("figure-submissions")).to_have_text("6")
    expect(page.get_by_test_id("figure-approval-rate")).to_have_text("50%")
    for chart in ("chart-approval", "chart-queue", "chart-ttd", "chart-cohorts"):
        expect(page.get_by_test_id(chart).locator("svg")).to_be_visible()
    expect(page.get_by_test_id("chart-queue-line")).to_have_count(1)
    expect(page.get_by_test_id("chart-ttd-bar")).to_have_count(4)
    expect(page.get_by_test_id("chart-incident").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("suspension-band")).to_have_count(3)
    expect(page.get_by_test_id("anomaly-marker")).to_have_count(3)
    expect(page.get_by_test_id("incident-suspension")).to_contain_text(
        "Program suspended 2025-03-04 10:30 to 2025-03-04 11:30 UTC")
    page.screenshot(path=SCREENSHOTS / "research-dashboard.png", full_page=True)

    # when: the events as CSV
    with page.expect_download() as download:
        page.get_by_test_id("download-events-csv").click()
    with open(download.value.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))

    # then: one row per event (the researcher's sign-in and the export too), actors as
    # pseudonyms
    assert len(rows) == Event.objects.count()
    assert {row["action"] for row in rows} >= {"submission.created", "review.decided",
                                               "program.suspended"}
    assert not {"tess", "rosa", "ada", "bo"} & {row.get("actor") for row in rows}

    # when: the events as Parquet
    with page.expect_download() as download:
        page.get_by_test_id("download-events-parquet").click()
    table = pq.read_table(download.value.path())

    # then: the same events, and the second export's own
    assert table.num_rows == Event.objects.count() == len(rows) + 1
    assert table.column("id").to_pylist()[:len(rows)] == [int(row["id"]) for row in rows]
