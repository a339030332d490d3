"""The dataset exports: the same columns and values in CSV, JSON Lines and Parquet as in the
events API, nothing that identifies a person, streamed as attachments."""

from datetime import UTC, datetime

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from rest_framework.test import APIRequestFactory, force_authenticate

from audit.models import Event
from audit.research import exports
from audit.research.exports_api import ExportApi
from tests.research.conftest import IPS, T0
from tests.research.reading import body, events_api, export_url, fetch, pseudonyms

FORMATS = ["csv", "jsonl", "parquet"]
DATASETS = ["events", "submissions", "decisions"]

EVENT_COLUMNS = ["id", "seq", "leaf_hash", "hash", "occurred_at", "action", "actor_type",
                 "actor", "actor_role", "subject_type", "subject_id", "data"]


def at(minutes: float, seconds: float = 0) -> datetime:
    from datetime import timedelta

    return T0 + timedelta(minutes=minutes, seconds=seconds)


@pytest.mark.parametrize("format", FORMATS)
def test_every_format_reads_back_as_the_events_api(format, history, researcher_client):
    # when
    exported = fetch(researcher_client, "events", format)
    listed = events_api(researcher_client, page_size=7)

    # then
    assert exported.names == EVENT_COLUMNS
    assert exported.rows == listed
    assert [row["id"] for row in listed] == list(
        Event.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.parametrize("dataset", ["submissions", "decisions"])
def test_every_format_carries_the_same_rows(dataset, history, researcher_client):
    # when
    read = {format: fetch(researcher_client, dataset, format) for format in FORMATS}

    # then
    assert read["csv"] == read["jsonl"] == read["parquet"]


def test_the_submissions_dataset_times_every_stage(history, researcher_client):
    # when
    rows = fetch(researcher_client, "submissions", "csv").rows

    # then: oldest clip first; A rejected, appealed, overturned and shared; B approved; C waits
    tess, rosa = history.tess, history.rosa
    pseudonym = pseudonyms(history.study)
    assert rows == [
        {"submission_id": str(history.clip_a.pk), "tester": pseudonym[tess.pk],
         "cohort": "creative-partners", "source": "upload", "status": "approved",
         "failure_code": None, "final_outcome": "approve", "appeal_result": "overturned",
         "created_at": at(1), "submitted_at": at(1), "processed_at": at(2),
         "entered_queue_at": at(2), "first_claimed_at": at(10), "decided_at": at(11),
         "appealed_at": at(20), "appeal_decided_at": at(31), "shared_at": at(40),
         "withdrawn_at": None},
        {"submission_id": str(history.clip_b.pk), "tester": pseudonym[rosa.pk],
         "cohort": "red-team", "source": "upload", "status": "approved",
         "failure_code": None, "final_outcome": "approve", "appeal_result": None,
         "created_at": at(2), "submitted_at": at(2), "processed_at": at(3),
         "entered_queue_at": at(3), "first_claimed_at": at(12), "decided_at": at(13, 30),
         "appealed_at": None, "appeal_decided_at": None, "shared_at": None,
         "withdrawn_at": None},
        {"submission_id": str(history.clip_c.pk), "tester": pseudonym[tess.pk],
         "cohort": "creative-partners", "source": "upload", "status": "pending_review",
         "failure_code": None, "final_outcome": None, "appeal_result": None,
         "created_at": at(44), "submitted_at": at(44), "processed_at": at(45),
         "entered_queue_at": at(45), "first_claimed_at": None, "decided_at": None,
         "appealed_at": None, "appeal_decided_at": None, "shared_at": None,
         "withdrawn_at": None},
    ]


def test_the_decisions_dataset_is_a_statement_of_reasons(history, researcher_client):
    # when
    rows = fetch(researcher_client, "decisions", "parquet").rows

    # then: in the order made, each with its kind, grounds and timings
    pseudonym = pseudonyms(history.study)
    mia, bo = pseudonym[history.mia.pk], pseudonym[history.bo.pk]
    a, b = str(history.clip_a.pk), str(history.clip_b.pk)
    common = {"taxonomy_version": 1, "automated": False}
    assert rows == [
        {"decision_id": str(history.rejection.pk), "submission_id": a, "kind": "primary",
         "outcome": "reject", "reasons": ["likeness", "other"], **common, "effective": False,
         "moderator": mia, "cohort": "creative-partners", "queued_at": at(2),
         "claimed_at": at(10), "decided_at": at(11), "time_to_decision_s": 540.0,
         "handling_s": 60.0, "reviews_decision_id": None, "appeal_result": None},
        {"decision_id": str(history.approval.pk), "submission_id": b, "kind": "primary",
         "outcome": "approve", "reasons": [], **common, "effective": True,
         "moderator": mia, "cohort": "red-team", "queued_at": at(3),
         "claimed_at": at(12), "decided_at": at(13, 30), "time_to_decision_s": 630.0,
         "handling_s": 90.0, "reviews_decision_id": None, "appeal_result": None},
        {"decision_id": str(history.second.pk), "submission_id": b,
         "kind": "second_opinion", "outcome": "reject", "reasons": ["quality"], **common,
         "effective": False, "moderator": bo, "cohort": "red-team", "queued_at": at(13, 30),
         "claimed_at": at(15), "decided_at": at(16, 15), "time_to_decision_s": 165.0,
         "handling_s": 75.0, "reviews_decision_id": str(history.approval.pk),
         "appeal_result": None},
        {"decision_id": str(history.overturn.pk), "submission_id": a, "kind": "appeal",
         "outcome": "approve", "reasons": [], **common, "effective": True, "moderator": bo,
         "cohort": "creative-partners", "queued_at": at(20), "claimed_at": at(30),
         "decided_at": at(31), "time_to_decision_s": 660.0, "handling_s": 60.0,
         "reviews_decision_id": str(history.rejection.pk), "appeal_result": "overturned"},
    ]


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_no_export_holds_a_username_an_email_or_an_address(dataset, format, history,
                                                          researcher_client):
    # given: what identifies the seeded people (their account ids are checked as subjects)
    secrets = ([user.username for user in history.people]
               + [user.email for user in history.people] + list(IPS.values()))

    # when
    response = researcher_client.get(export_url(dataset, format))
    data = body(response)
    text = data.decode() if format != "parquet" else _parquet_text(data)

    # then
    assert response.status_code == 200
    assert [secret for secret in secrets if secret in text] == []


def test_the_events_api_holds_no_username_email_or_address(history, researcher_client):
    # when
    response = researcher_client.get("/api/v1/research/events/", {"page_size": 200})

    # then
    text = response.content.decode()
    secrets = ([user.username for user in history.people]
               + [user.email for user in history.people] + list(IPS.values()))
    assert response.status_code == 200
    assert [secret for secret in secrets if secret in text] == []


def _parquet_text(data: bytes) -> str:
    """Every value of a Parquet file as text (its pages are compressed, so bytes say little)."""
    import io

    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    return "\n".join(str(value) for column in table.columns for value in column.to_pylist())


def test_people_appear_only_as_pseudonyms_even_inside_data(history, researcher_client):
    # when
    rows = {row["action"]: row for row in fetch(researcher_client, "events", "jsonl").rows}

    # then: account ids as actor, subject and data fields are all pseudonyms
    pseudonym = pseudonyms(history.study)
    tess, rita = pseudonym[history.tess.pk], pseudonym[history.rita.pk]
    assert rows["invitation.redeemed"]["actor"] == tess
    assert rows["invitation.redeemed"]["data"] == {"user_id": tess, "uses": 1, "max_uses": 1}
    assert rows["terms.accepted"]["subject_type"] == "accounts.user"
    assert rows["terms.accepted"]["subject_id"] == tess
    assert rows["research.study_saved"]["data"]["researchers"] == [rita]
    assert rows["review.second_opinion_requested"]["actor_type"] == "system"
    assert rows["review.second_opinion_requested"]["actor"] == "sampler"


@pytest.mark.parametrize("format", FORMATS)
def test_an_export_is_a_streamed_attachment(format, history, researcher_client):
    # when
    response = researcher_client.get(export_url("decisions", format))

    # then
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == {
        "csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8",
        "parquet": "application/vnd.apache.parquet"}[format]
    assert response["Content-Disposition"] == (
        f'attachment; filename="gate-study-decisions.{format}"')
    assert response["Cache-Control"] == "no-store"


def test_an_export_answers_whatever_the_client_accepts(history, researcher_client):
    # when
    response = researcher_client.get(export_url("events", "csv"), HTTP_ACCEPT="text/csv")

    # then
    assert response.status_code == 200
    assert body(response).startswith(b"id,seq,leaf_hash,hash,")


@pytest.mark.parametrize(("path", "code", "message"), [
    ("/api/v1/research/export/clips.csv", "research.unknown_dataset",
     "No such dataset; see docs/datasets.md for the datasets there are."),
    ("/api/v1/research/export/events.xlsx", "research.unknown_format",
     "No such export format: use csv, jsonl or parquet."),
])
def test_unknown_datasets_and_formats_are_404(path, code, message, history,
                                              researcher_client):
    # when
    response = researcher_client.get(path)

    # then
    assert response.status_code == 404
    assert response.json() == {"code": code, "message": message}


def test_an_empty_export_still_has_its_columns(history, researcher_client):
    # when: nothing happened before the program began
    params = {"until": "2020-01-01"}
    csv = body(researcher_client.get(export_url("decisions", "csv"), params))
    jsonl = body(researcher_client.get(export_url("decisions", "jsonl"), params))
    parquet = fetch(researcher_client, "decisions", "parquet", **params)

    # then
    assert csv == (b"decision_id,submission_id,kind,outcome,reasons,taxonomy_version,"
                   b"automated,effective,moderator,cohort,queued_at,claimed_at,decided_at,"
                   b"time_to_decision_s,handling_s,reviews_decision_id,appeal_result\n")
    assert jsonl == b""
    assert parquet.rows == []
    assert parquet.names[:3] == ["decision_id", "submission_id", "kind"]


def test_sealing_columns_are_empty_until_the_sealer_reaches_an_event(history,
                                                                     researcher_client):
    # when
    rows = fetch(researcher_client, "events", "csv").rows

    # then: the fixture sealed the first five events
    assert [row["seq"] for row in rows[:6]] == [1, 2, 3, 4, 5, None]
    assert rows[0]["leaf_hash"] == f"{1:064x}"
    assert rows[0]["hash"] == f"{101:064x}"
    assert rows[5]["leaf_hash"] is None
    assert rows[5]["hash"] is None


def test_timestamps_are_utc_with_microseconds_in_every_text_format(history,
                                                                   researcher_client):
    # when
    csv = body(researcher_client.get(export_url("events", "csv"))).decode()
    jsonl = body(researcher_client.get(export_url("events", "jsonl"))).decode()

    # then
    first = "2025-03-04T09:00:00.000000Z"
    assert csv.split("\n")[1].split(",")[4] == first
    assert f'"occurred_at":"{first}"' in jsonl.split("\n")[0]
    assert datetime.fromisoformat(first) == T0.astimezone(UTC)


def test_a_client_that_leaves_mid_export_leaves_the_connection_clean(
        history, researcher_client, monkeypatch):
    # given: small chunks, so the export is many chunks long; the view called as a WSGI
    # server would, and one chunk sent
    monkeypatch.setattr(exports, "CHUNK_BYTES", 256)
    request = APIRequestFactory().get(export_url("events", "csv"))
    force_authenticate(request, user=history.rita)
    response = ExportApi.as_view()(request, dataset="events", format="csv")
    first = next(iter(response))

    # when: the client goes away and the server closes the response (the test keeps its
    # database connection, which holds the test's transaction)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    # then: no query left running, no pseudonym table left, and the next export is whole
    assert first.startswith(b"id,seq,")
    assert not _pseudonym_table_exists()
    again = fetch(researcher_client, "events", "csv").rows
    assert [row["id"] for row in again] == list(
        Event.objects.order_by("id").values_list("id", flat=True))


def _pseudonym_table_exists() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass('pg_temp.research_pseudonym') IS NOT NULL")
        else:
            cursor.execute("SELECT count(*) > 0 FROM sqlite_temp_master "
                           "WHERE name = 'research_pseudonym'")
        return bool(cursor.fetchone()[0])


def test_an_export_leaves_no_pseudonym_table_behind(history, researcher_client):
    # when
    body(researcher_client.get(export_url("events", "parquet")))
    researcher_client.get("/api/v1/research/events/")

    # then
    assert not _pseudonym_table_exists()


def test_an_export_is_recorded_in_the_log(history, researcher_client):
    # given
    before = Event.objects.order_by("-pk").values_list("pk", flat=True).first()

    # when
    response = researcher_client.get(
        export_url("events", "jsonl") + "?action=review.decided&since=2026-01-01")
    body(response)

    # then exactly one event says who read what
    assert response.status_code == 200
    recorded = list(Event.objects.filter(pk__gt=before).values_list(
        "action", "actor_id", "data"))
    assert recorded == [("research.exported", history.rita.pk, {
        "dataset": "events", "format": "jsonl", "study": "gate-study",
        "filters": {"action": "review.decided", "since": "2026-01-01"}})]


def test_a_refused_export_is_not_recorded(history, researcher_client):
    # given
    before = Event.objects.order_by("-pk").values_list("pk", flat=True).first()

    # when
    response = researcher_client.get(export_url("events", "csv") + "?since=yesterday")

    # then
    assert response.status_code == 400
    assert not Event.objects.filter(pk__gt=before).exists()
