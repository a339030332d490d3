"""``audit.record``: the one write path refuses what the registry does not declare, names the
actor and subject, takes its time from ``core.clock`` and lives or dies with its transaction."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

import audit
from accounts.models import Role
from audit.models import Event
from audit.registry import UnknownAction
from audit.services import OutsideTransaction, write
from core import clock
from tests.factories import InvitationFactory, UserFactory


def test_an_unregistered_action_is_refused(db):
    # when / then
    with transaction.atomic(), pytest.raises(UnknownAction,
                                             match=r"'program\.exploded' is not registered"):
        audit.record("program.exploded", actor=None)
    assert Event.objects.count() == 0


def test_a_missing_data_field_is_refused(db):
    # given: terms.accepted declares exactly one field, version
    # when / then
    with transaction.atomic(), pytest.raises(ValueError, match=r"missing \['version'\]"):
        audit.record("terms.accepted", actor=None, data={})
    assert Event.objects.count() == 0


def test_an_undeclared_data_field_is_refused(db):
    # when / then
    with transaction.atomic(), pytest.raises(ValueError, match=r"undeclared \['email'\]"):
        audit.record("terms.accepted", actor=None,
                     data={"version": "2024-02", "email": "someone@example.org"})
    assert Event.objects.count() == 0


def test_data_on_an_action_without_fields_is_refused(db):
    # given: auth.signed_out declares no data fields
    # when / then
    with transaction.atomic(), pytest.raises(ValueError, match=r"undeclared \['why'\]"):
        audit.record("auth.signed_out", actor=None, data={"why": "bored"})
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_call_outside_a_transaction_is_refused():
    # when / then: no atomic block is open (transactional test, autocommit)
    with pytest.raises(OutsideTransaction, match=r"must run inside transaction.atomic\(\)"):
        audit.record("auth.signed_out", actor=None)
    assert Event.objects.count() == 0


def test_a_user_actor_is_recorded_with_id_and_role(db):
    # given
    moderator = UserFactory(roles=[Role.MODERATOR])

    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=moderator, subject=moderator)

    # then
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_name, event.actor_role) == (
        "user", moderator.pk, "", "moderator")


@pytest.mark.parametrize(("roles", "recorded"), [
    ([Role.TESTER], "tester"),
    ([Role.RESEARCHER], "researcher"),
    ([Role.TESTER, Role.MODERATOR], "moderator"),
    ([Role.RESEARCHER, Role.MODERATOR], "moderator"),
    ([Role.TESTER, Role.PROGRAM_ADMIN], "program_admin"),
    ([], ""),
])
def test_the_recorded_role_is_the_most_privileged_one_held(db, roles, recorded):
    # given
    user = UserFactory(roles=roles)

    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=user, subject=user)

    # then
    assert Event.objects.get().actor_role == recorded


def test_a_superuser_is_recorded_as_program_admin(db):
    # given: a superuser holds every role without belonging to any group
    user = UserFactory(roles=[], is_superuser=True, is_staff=True)

    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=user, subject=user)

    # then
    assert Event.objects.get().actor_role == "program_admin"


def test_a_system_actor_is_recorded_by_name(db):
    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=audit.SystemActor("x"))

    # then
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_name, event.actor_role) == (
        "system", None, "x", "")


def test_no_actor_is_recorded_as_anonymous(db):
    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=None)

    # then
    event = Event.objects.get()
    assert (event.actor_type, event.actor_id, event.actor_name, event.actor_role) == (
        "anonymous", None, "", "")


def test_a_model_subject_is_recorded_by_label_and_primary_key(db):
    # given
    user = UserFactory()

    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=user, subject=user)

    # then
    event = Event.objects.get()
    assert (event.subject_type, event.subject_id) == ("accounts.user", str(user.pk))


def test_a_uuid_subject_is_recorded_as_its_string(db):
    # given
    invitation = InvitationFactory()

    # when
    with transaction.atomic():
        audit.record("invitation.revoked", actor=None, subject=invitation, data={"uses": 0})

    # then
    event = Event.objects.get()
    assert (event.subject_type, event.subject_id) == ("accounts.invitation", str(invitation.pk))


def test_a_subject_given_as_a_pair_is_recorded_as_is(db):
    # when
    with transaction.atomic():
        audit.record("invitation.redemption_refused", actor=None,
                     subject=("accounts.invitation", ""), data={"reason": "unknown_code"})

    # then
    event = Event.objects.get()
    assert (event.subject_type, event.subject_id) == ("accounts.invitation", "")


def test_no_subject_leaves_it_blank(db):
    # when
    with transaction.atomic():
        audit.record("auth.signed_out", actor=None)

    # then
    event = Event.objects.get()
    assert (event.subject_type, event.subject_id) == ("", "")


def test_the_time_comes_from_core_clock(db):
    # given
    moment = datetime(2024, 2, 15, 9, 30, 0, 123456, tzinfo=UTC)

    # when
    with clock.use(lambda: moment), transaction.atomic():
        audit.record("auth.signed_out", actor=None)

    # then
    assert Event.objects.get().occurred_at == moment


def test_a_time_in_another_zone_is_stored_as_the_same_instant(db):
    # given
    moment = datetime(2024, 2, 15, 11, 30, tzinfo=timezone(timedelta(hours=2)))

    # when
    with clock.use(lambda: moment), transaction.atomic():
        audit.record("auth.signed_out", actor=None)

    # then
    stored = Event.objects.get().occurred_at
    assert stored == datetime(2024, 2, 15, 9, 30, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_the_returned_event_is_the_stored_row(db):
    # given
    user = UserFactory()

    # when
    with transaction.atomic():
        event = audit.record("terms.accepted", actor=user, subject=user,
                             data={"version": "2024-02"}, context={"ip": "192.0.2.1"})

    # then
    assert model_to_dict(event) == model_to_dict(Event.objects.get())
    assert event._state.adding is False


def test_data_and_context_are_stored_as_given(db):
    # given
    moment = datetime(2024, 2, 15, 9, 30, tzinfo=UTC)

    # when
    with transaction.atomic():
        audit.record("invitation.created", actor=None, subject=("accounts.invitation", "x"),
                     data={"cohort": "red-team", "role": "tester", "email_bound": False,
                           "expires_at": moment, "max_uses": 3},
                     context={"ip": "192.0.2.1", "user_agent": "pytest"})

    # then: datetimes go through DjangoJSONEncoder
    event = Event.objects.get()
    assert event.data == {"cohort": "red-team", "role": "tester", "email_bound": False,
                          "expires_at": "2024-02-15T09:30:00Z", "max_uses": 3}
    assert event.context == {"ip": "192.0.2.1", "user_agent": "pytest"}


def _record_then_fail() -> None:
    with transaction.atomic():
        audit.record("auth.signed_out", actor=None)
        raise RuntimeError("the change failed")


def test_an_event_rolls_back_with_its_transaction(db):
    # when: the business transaction fails after recording
    with pytest.raises(RuntimeError, match="the change failed"):
        _record_then_fail()

    # then
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_event_commits_with_its_transaction():
    # when
    with transaction.atomic():
        event = audit.record("auth.signed_out", actor=None)

    # then
    assert list(Event.objects.values_list("pk", "action")) == [(event.pk, "auth.signed_out")]


def test_prepared_and_ordinary_inserts_write_the_same_row(postgres, settings):
    # given one event written as a prepared statement and one through the ordinary cursor
    from django.db import connection

    from core import sql

    user = UserFactory(roles=[Role.TESTER])
    rows = []
    for prepared in (True, False):
        settings.DB_PREPARED_STATEMENTS = prepared
        assert sql.prepares(connection) is prepared
        with transaction.atomic():
            event = audit.record("cohort.created", actor=user, subject=("accounts.cohort", 7),
                                 data={"slug": "ünï \\ 'quoted'", "name": "A\nB"},
                                 context={"ip": "203.0.113.9"})
        rows.append(model_to_dict(Event.objects.get(pk=event.pk), exclude=["id", "occurred_at"]))

    # then both rows hold exactly the same values
    assert rows[0] == rows[1]
    assert rows[0]["data"] == {"slug": "ünï \\ 'quoted'", "name": "A\nB"}


def test_events_are_built_in_the_models_field_order():
    # audit.prepare builds an Event positionally (Django's quick path), in _COLUMNS order
    from audit.services import _COLUMNS

    assert [field.attname for field in Event._meta.concrete_fields] == ["id", *_COLUMNS]


def test_a_prepared_event_is_written_as_record_writes_it(db):
    # given
    user = UserFactory(roles=[Role.TESTER])

    # when: one event recorded, one prepared and written later in its transaction
    with transaction.atomic():
        recorded = audit.record("terms.accepted", actor=user, subject=user,
                                data={"version": "2024-02"}, context={"ip": "192.0.2.1"})
        prepared = audit.prepare("terms.accepted", actor=user, subject=user,
                                 data={"version": "2024-02"}, context={"ip": "192.0.2.1"})
        assert prepared.event.pk is None  # nothing written yet
        assert Event.objects.count() == 1
        written = write(prepared)

    # then: the same row but for id and time
    rows = [model_to_dict(Event.objects.get(pk=event.pk), exclude=["id", "occurred_at"])
            for event in (recorded, written)]
    assert rows[0] == rows[1]
    assert written.pk == Event.objects.latest("pk").pk


@pytest.mark.django_db(transaction=True)
def test_preparing_outside_a_transaction_is_refused():
    with pytest.raises(OutsideTransaction, match=r"must run inside transaction.atomic\(\)"):
        audit.prepare("auth.signed_out", actor=None)
    assert Event.objects.count() == 0
