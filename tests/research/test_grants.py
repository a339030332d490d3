"""What a study reads beyond pseudonyms: nothing, unless a program admin granted it."""

import pytest

from tests.research.conftest import IPS, TRICKY_MESSAGE, TRICKY_NOTE, TRICKY_REASON
from tests.research.reading import events_api, fetch

FORMATS = ["csv", "jsonl", "parquet"]


def _grant(study, **grants) -> None:
    for name, value in grants.items():
        setattr(study, f"grant_{name}", value)
    study.save()


def _by_action(rows) -> dict[str, dict]:
    return {row["action"]: row for row in rows}


@pytest.mark.parametrize("format", FORMATS)
def test_by_default_there_are_no_notes_messages_reasons_addresses_or_names(
        format, history, researcher_client):
    # when
    events = fetch(researcher_client, "events", format)
    submissions = fetch(researcher_client, "submissions", format)
    decisions = fetch(researcher_client, "decisions", format)

    # then: the granted columns are absent, and free text is out of the events' data
    assert "context" not in events.names
    assert "actor_username" not in events.names
    assert "appeal_message" not in submissions.names
    assert "tester_username" not in submissions.names
    assert not {"note_to_tester", "internal_note", "moderator_username"} & set(decisions.names)
    suspended = _by_action(events.rows)["program.suspended"]
    assert suspended["data"] == {"from_status": "open"}
    assert _by_action(events.rows)["program.resumed"]["data"] == {"from_status": "suspended"}


@pytest.mark.parametrize("format", FORMATS)
def test_free_text_adds_notes_messages_and_reasons(format, history, researcher_client):
    # given
    _grant(history.study, free_text=True)

    # when
    events = fetch(researcher_client, "events", format)
    submissions = fetch(researcher_client, "submissions", format)
    decisions = fetch(researcher_client, "decisions", format)

    # then: every tricky character survives the format
    assert _by_action(events.rows)["program.suspended"]["data"] == {
        "from_status": "open", "reason": TRICKY_REASON}
    assert [row["appeal_message"] for row in submissions.rows] == [TRICKY_MESSAGE, None, None]
    assert [(row["note_to_tester"], row["internal_note"]) for row in decisions.rows] == [
        (TRICKY_NOTE, 'internal, "quoted"'), (None, None),
        # the service fills a rejection's empty note with the reason's canned response
        (history.second.note_to_tester, None), (None, None)]
    assert "context" not in events.names
    assert "moderator_username" not in decisions.names


@pytest.mark.parametrize("format", FORMATS)
def test_client_context_adds_addresses_and_user_agents(format, history, researcher_client):
    # given
    _grant(history.study, client_context=True)

    # when
    events = fetch(researcher_client, "events", format)

    # then
    assert events.names[-1] == "context"
    contexts = [row["context"] for row in events.rows if row["context"]]
    assert contexts == [
        {"ip": IPS["tess"], "user_agent": "curl/8.5"},
        {"ip": IPS["rosa"], "user_agent": "httpie"},
        {"ip": IPS["mia"], "user_agent": "Firefox"}]
    assert _by_action(events.rows)["program.suspended"]["data"] == {"from_status": "open"}


@pytest.mark.parametrize("format", FORMATS)
def test_identities_add_usernames_beside_pseudonyms(format, history, researcher_client):
    # given
    _grant(history.study, identities=True)

    # when
    events = fetch(researcher_client, "events", format)
    submissions = fetch(researcher_client, "submissions", format)
    decisions = fetch(researcher_client, "decisions", format)

    # then
    assert _by_action(events.rows)["submission.shared"]["actor_username"] == "tess"
    assert [row["tester_username"] for row in submissions.rows] == ["tess", "rosa", "tess"]
    assert [row["moderator_username"] for row in decisions.rows] == ["mia", "mia", "bo", "bo"]
    assert decisions.rows[0]["moderator"].startswith("u_")


def test_the_events_api_follows_the_grants(history, researcher_client):
    # given
    before = events_api(researcher_client)
    _grant(history.study, client_context=True, free_text=True)

    # when
    after = events_api(researcher_client)

    # then
    assert "context" not in before[0]
    assert _by_action(after)["invitation.redeemed"]["context"] == {
        "ip": IPS["tess"], "user_agent": "curl/8.5"}
    assert _by_action(after)["account.created"]["context"] == {}
    assert _by_action(after)["program.suspended"]["data"]["reason"] == TRICKY_REASON
