"""Every event data field that may hold free text, a person's id or another identifier has
been looked at: a new one fails here until it is classified in audit/research/redaction.py."""

import pytest

from audit import registry
from audit.research import redaction

LISTS = {
    "text": (redaction.TEXT_LIKE, redaction.FREE_TEXT, redaction.NOT_FREE_TEXT),
    "person": (redaction.PERSON_LIKE, redaction.PEOPLE, redaction.NOT_PEOPLE),
    "identifier": (redaction.IDENTIFIER_LIKE, redaction.IDENTIFYING, redaction.NOT_IDENTIFYING),
}


def _fields() -> set[tuple[str, str]]:
    return {(action.name, name) for action in registry.all_actions() for name in action.fields}


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_every_suspect_field_is_classified(kind):
    # given
    pattern, listed, cleared = LISTS[kind]

    # then: if this fails, add the field to the lists in audit/research/redaction.py
    suspects = {(action, name) for action, name in _fields() if pattern.search(name)}
    assert sorted(suspects - set(listed) - set(cleared)) == []


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_the_lists_name_only_registered_fields_once(kind):
    # given
    _, listed, cleared = LISTS[kind]

    # then
    assert sorted((set(listed) | set(cleared)) - _fields()) == []
    assert set(listed).isdisjoint(cleared)


@pytest.mark.parametrize(("name", "kind"), [
    ("note_to_tester", "text"), ("appeal_message", "text"), ("reason_text", "text"),
    ("comment", "text"), ("moderator_id", "person"), ("user_ids", "person"),
    ("owner", "person"), ("created_by", "person"), ("email", "identifier"),
    ("client_ip", "identifier"), ("token_fingerprint", "identifier"),
])
def test_the_patterns_catch_the_usual_names(name, kind):
    assert LISTS[kind][0].search(name)


@pytest.mark.parametrize("name", ["track", "outcome", "size_bytes", "sha256", "cohort",
                                  "held_s", "decision_id"])
def test_the_patterns_leave_plain_fields_alone(name):
    assert not any(pattern.search(name) for pattern, _, _ in LISTS.values())
