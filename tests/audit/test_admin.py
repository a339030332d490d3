"""The audit log in the Django admin: staff may read it, nobody may add, change or delete."""

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

import audit
from audit.models import Event
from tests.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(roles=[], is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def event(superuser):
    with transaction.atomic():
        return audit.record("auth.signed_out", actor=superuser, subject=superuser)


def _state() -> list[dict]:
    return [model_to_dict(event) for event in Event.objects.order_by("pk")]


def test_staff_can_list_events(admin_client, event):
    # when
    response = admin_client.get(reverse("admin:audit_event_changelist"))

    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [event]
    assert reverse("admin:audit_event_add") not in response.content.decode()


def test_staff_can_read_one_event(admin_client, event):
    # when
    response = admin_client.get(reverse("admin:audit_event_change", args=[event.pk]))

    # then: a read-only page without a save button
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()
    assert "auth.signed_out" in response.content.decode()


def test_adding_an_event_is_refused(admin_client, event):
    # given
    before = _state()

    # when
    get = admin_client.get(reverse("admin:audit_event_add"))
    post = admin_client.post(reverse("admin:audit_event_add"), {
        "occurred_at_0": "2024-02-15", "occurred_at_1": "09:30:00",
        "action": "program.suspended", "actor_type": "anonymous",
        "data": "{}", "context": "{}"})

    # then
    assert (get.status_code, post.status_code) == (403, 403)
    assert _state() == before


def test_changing_an_event_is_refused(admin_client, event):
    # given
    before = _state()

    # when
    response = admin_client.post(reverse("admin:audit_event_change", args=[event.pk]), {
        "occurred_at_0": "2000-01-01", "occurred_at_1": "00:00:00",
        "action": "program.resumed", "actor_type": "system", "actor_name": "forger",
        "data": "{}", "context": "{}", "_save": "Save"})

    # then
    assert response.status_code == 403
    assert _state() == before


def test_deleting_an_event_is_refused(admin_client, event):
    # given
    before = _state()

    # when
    get = admin_client.get(reverse("admin:audit_event_delete", args=[event.pk]))
    post = admin_client.post(reverse("admin:audit_event_delete", args=[event.pk]),
                             {"post": "yes"})

    # then
    assert (get.status_code, post.status_code) == (403, 403)
    assert _state() == before


def test_bulk_delete_from_the_list_is_refused(admin_client, event):
    # given: the changelist offers no actions at all
    before = _state()

    # when
    response = admin_client.post(reverse("admin:audit_event_changelist"), {
        "action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})

    # then: the list is shown again, unchanged
    assert response.status_code == 200
    assert _state() == before


def test_non_staff_cannot_read_the_log(db, event):
    # given
    client = Client()
    client.force_login(UserFactory())

    # when
    response = client.get(reverse("admin:audit_event_changelist"))

    # then: the admin sends non-staff to its login page
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
