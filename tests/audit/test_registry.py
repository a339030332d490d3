"""The action registry: well-formed names, one meaning per name."""

import pytest
from django.db import transaction

import audit
from audit import registry
from audit.models import Event
from audit.registry import UnknownAction


@pytest.fixture
def isolated_registry(monkeypatch):
    """A copy of the registry for tests that add actions, so the real one (and the generated
    data dictionary) never sees them."""
    monkeypatch.setattr(registry, "_actions", dict(registry._actions))


@pytest.mark.parametrize("name", [
    "nodots",
    "Program.paused",
    "program.Paused",
    "program-switch.paused",
    "program.paused2",
    "program..paused",
    ".paused",
    "program.",
    "program paused",
    "program.paused ",
    "",
])
def test_a_badly_formed_name_is_rejected(isolated_registry, name):
    # when / then
    with pytest.raises(ValueError, match="dotted lower-case words"):
        registry.register(name, description="Badly named.")
    assert name not in {action.name for action in registry.all_actions()}


def test_a_well_formed_name_registers_and_can_be_recorded(isolated_registry, db):
    # when
    action = registry.register("sample.thing_done", description="A sample.",
                               subject="accounts.user", fields={"size": "How big."})

    # then
    assert registry.get("sample.thing_done") == action
    assert action.namespace == "sample"
    with transaction.atomic():
        event = audit.record("sample.thing_done", actor=None, data={"size": 3})
    assert Event.objects.get().pk == event.pk


def test_registering_an_action_again_identically_is_accepted(isolated_registry):
    # given
    original = registry.get("program.suspended")

    # when: the same declaration again (a module imported twice)
    again = registry.register(original.name, description=original.description,
                              subject=original.subject, fields=dict(original.fields))

    # then
    assert again == original
    assert registry.get("program.suspended") == original


@pytest.mark.parametrize("change", [
    {"description": "Something else."},
    {"subject": "accounts.user"},
    {"fields": {"reason": "The reason given (shown to testers)."}},
    {"fields": {"from_status": "x", "reason": "y", "extra": "z"}},
])
def test_registering_an_action_again_differently_is_rejected(isolated_registry, change):
    # given
    original = registry.get("program.suspended")
    declaration = {"description": original.description, "subject": original.subject,
                   "fields": dict(original.fields), **change}

    # when / then
    with pytest.raises(ValueError, match=r"'program\.suspended' is already registered differently"):
        registry.register("program.suspended", **declaration)
    assert registry.get("program.suspended") == original


def test_an_unknown_name_is_a_lookup_error():
    # when / then
    with pytest.raises(UnknownAction, match=r"'nothing\.here' is not registered"):
        registry.get("nothing.here")
    assert issubclass(UnknownAction, LookupError)


def test_actions_are_listed_in_name_order():
    # when
    names = [action.name for action in registry.all_actions()]

    # then
    assert names == sorted(names)
    assert len(names) == len(set(names))
