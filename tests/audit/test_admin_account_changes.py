"""Account edits made in the Django admin are audited (field names, never values)."""

from datetime import UTC, datetime

from django.contrib.auth.models import Group

from accounts.models import Role
from audit.models import Event
from tests.factories import UserFactory


def _form_data(user) -> dict:
    return {
        "username": user.username, "first_name": "", "last_name": "", "email": user.email,
        "is_active": "on", "groups": [group.pk for group in user.groups.all()],
        "cohort": user.cohort_id, "last_login_0": "", "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        # The form carries the date's initial value in hidden fields and compares with it.
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }


def test_an_admin_edit_records_the_changed_field_names(db, client):
    # given a superuser and a tester
    staff = UserFactory(username="root", roles=[], is_staff=True, is_superuser=True)
    tester = UserFactory(username="tess", roles=[Role.TESTER])
    tester.date_joined = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # whole seconds, as posted
    tester.save(update_fields=["date_joined"])
    moderators = Group.objects.get_or_create(name=Role.MODERATOR)[0]
    client.force_login(staff)

    # when the superuser gives her the moderator role and a new e-mail address
    data = {**_form_data(tester), "email": "tess.new@example.org",
            "groups": [*_form_data(tester)["groups"], moderators.pk]}
    response = client.post(f"/admin/accounts/user/{tester.pk}/change/", data)

    # then the change is saved and recorded once, by name only
    assert response.status_code == 302, response.context["adminform"].form.errors
    tester.refresh_from_db()
    assert tester.email == "tess.new@example.org"
    events = list(Event.objects.filter(action="account.changed").values_list(
        "actor_id", "subject_id", "data"))
    assert events == [(staff.pk, str(tester.pk), {"changed": ["email", "groups"]})]
