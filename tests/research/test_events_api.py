"""``GET research/events/``: the events dataset, a page at a time, by cursor."""

import pytest

from audit.models import Event
from tests.research.reading import events_api


def test_a_page_has_the_events_fields_oldest_first(history, researcher_client):
    # when
    response = researcher_client.get("/api/v1/research/events/", {"page_size": 3})

    # then
    page = response.json()
    assert response.status_code == 200
    assert set(page) == {"results", "next", "previous"}
    assert page["previous"] is None
    assert [row["id"] for row in page["results"]] == list(
        Event.objects.order_by("id").values_list("id", flat=True)[:3])
    assert list(page["results"][0]) == [
        "id", "seq", "leaf_hash", "hash", "occurred_at", "action", "actor_type", "actor",
        "actor_role", "subject_type", "subject_id", "data"]
    assert page["results"][0]["occurred_at"] == "2025-03-04T09:00:00.000000Z"


def test_next_links_walk_the_whole_log_once(history, researcher_client):
    # when
    rows = events_api(researcher_client, page_size=4)

    # then
    assert [row["id"] for row in rows] == list(
        Event.objects.order_by("id").values_list("id", flat=True))


def test_previous_links_walk_back(history, researcher_client):
    # given
    first = researcher_client.get("/api/v1/research/events/", {"page_size": 4}).json()
    second = researcher_client.get(first["next"]).json()
    third = researcher_client.get(second["next"]).json()

    # when
    back = researcher_client.get(third["previous"]).json()
    start = researcher_client.get(back["previous"]).json()

    # then
    assert back["results"] == second["results"]
    assert start["results"] == first["results"]
    assert start["previous"] is None
    assert start["next"] is not None


def test_the_last_page_has_no_next(history, researcher_client):
    # when
    total = Event.objects.count()
    page = researcher_client.get("/api/v1/research/events/", {"page_size": total}).json()

    # then
    assert len(page["results"]) == total
    assert page["next"] is None


def test_new_events_do_not_shift_the_pages(history, researcher_client):
    # given: the first page read, then more happened
    from accounts.services.program import program_pause

    first = researcher_client.get("/api/v1/research/events/", {"page_size": 5}).json()
    program_pause(actor=history.pat, reason="Lunch.")

    # when
    rest = []
    url = first["next"]
    while url:
        page = researcher_client.get(url).json()
        rest += page["results"]
        url = page["next"]

    # then
    ids = [row["id"] for row in first["results"] + rest]
    assert ids == list(Event.objects.order_by("id").values_list("id", flat=True))
    assert rest[-1]["action"] == "program.paused"


@pytest.mark.parametrize("cursor", ["garbage", "eDox", "YTp4"])
def test_a_bad_cursor_is_not_found(cursor, history, researcher_client):
    # when: not base64, a bad direction ("x:1"), a bad key ("a:x")
    response = researcher_client.get("/api/v1/research/events/", {"cursor": cursor})

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}
