"""Audit events are append-only in Python: no save over a row, no update, no delete."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

import audit
from audit.models import AppendOnlyError, Event


@pytest.fixture
def event(db):
    with transaction.atomic():
        return audit.record("terms.accepted", actor=audit.SystemActor("seed"),
                            subject=("accounts.user", "7"), data={"version": "2024-02"})


def _row(event: Event) -> dict:
    return model_to_dict(Event.objects.get(pk=event.pk))


def test_saving_an_existing_event_is_refused(event):
    # given
    before = _row(event)
    event.action = "terms.withdrawn"
    event.data = {"version": "forged"}

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        event.save()
    assert _row(event) == before


def test_saving_an_existing_event_with_update_fields_is_refused(event):
    # given
    before = _row(event)
    event.occurred_at = datetime(2000, 1, 1, tzinfo=UTC)

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        event.save(update_fields=["occurred_at"])
    assert _row(event) == before


def test_deleting_an_event_is_refused(event):
    # given
    before = _row(event)

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        event.delete()
    assert _row(event) == before


def test_a_queryset_update_is_refused(event):
    # given
    before = _row(event)

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        Event.objects.filter(pk=event.pk).update(action="terms.withdrawn")
    assert _row(event) == before


def test_a_manager_update_is_refused(event):
    # given
    before = _row(event)

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        Event.objects.update(actor_name="someone else")
    assert _row(event) == before


def test_a_queryset_delete_is_refused(event):
    # given
    before = _row(event)

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        Event.objects.filter(pk=event.pk).delete()
    assert _row(event) == before


def test_deleting_every_event_is_refused(event):
    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        Event.objects.all().delete()
    assert Event.objects.count() == 1


def test_a_bulk_update_is_refused(event):
    # given
    before = _row(event)
    event.action = "terms.withdrawn"

    # when / then
    with pytest.raises(AppendOnlyError, match="append-only"):
        Event.objects.bulk_update([event], ["action"])
    assert _row(event) == before


def test_a_new_event_may_still_be_saved_once(db):
    # given: a fresh row (record() itself inserts this way)
    new = Event(occurred_at=datetime(2024, 2, 15, tzinfo=UTC), action="auth.signed_out",
                actor_type="anonymous")

    # when
    new.save(force_insert=True)

    # then
    assert list(Event.objects.values_list("action", flat=True)) == ["auth.signed_out"]
