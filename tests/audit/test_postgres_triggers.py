"""Append-only in PostgreSQL itself: triggers refuse UPDATE, DELETE and TRUNCATE on event rows,
even for code that bypasses the model (raw SQL, replication mode)."""

import pytest
from django.db import Error, connection, models, transaction
from django.forms.models import model_to_dict

import audit
from audit.models import Event

STATEMENTS = {
    "UPDATE": "UPDATE audit_event SET action = 'program.resumed'",
    "DELETE": "DELETE FROM audit_event",
    "TRUNCATE": "TRUNCATE audit_event",
}


@pytest.fixture
def event(postgres):
    with transaction.atomic():
        return audit.record("program.suspended", actor=audit.SystemActor("test"),
                            subject=("accounts.program", "1"),
                            data={"from_status": "open", "reason": "Leak"})


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0]


def _refused(sql: str) -> str:
    """Run ``sql`` in its own savepoint; return the database's refusal."""
    with pytest.raises(Error) as refusal, transaction.atomic():
        _execute(sql)
    return str(refusal.value)


def _rows() -> list[dict]:
    return [model_to_dict(event) for event in Event.objects.order_by("pk")]


def test_the_test_session_allows_flushing_the_audit_table(postgres):
    # then: config/settings/test.py turns the hatch on for pytest-django's flush
    assert _setting("early_access.allow_test_flush") == "on"


@pytest.mark.parametrize("statement", ["UPDATE", "DELETE"])
def test_raw_update_and_delete_are_refused(event, statement):
    # given
    before = _rows()

    # when
    refusal = _refused(STATEMENTS[statement] + f" WHERE id = {event.pk}")

    # then
    assert f"audit events are append-only: {statement} on audit_event refused" in refusal
    assert _rows() == before


def test_raw_truncate_is_refused_without_the_test_flush_hatch(event):
    # given
    before = _rows()
    _execute("SET early_access.allow_test_flush = 'off'")  # undone when the test rolls back

    # when
    refusal = _refused(STATEMENTS["TRUNCATE"])

    # then
    assert "audit events are append-only: TRUNCATE on audit_event refused" in refusal
    assert _rows() == before


@pytest.mark.parametrize("statement", ["UPDATE", "DELETE", "TRUNCATE"])
def test_replication_mode_does_not_skip_the_triggers(event, statement):
    # given: replica mode skips ordinary triggers; ours are ENABLE ALWAYS
    before = _rows()
    _execute("SET early_access.allow_test_flush = 'off'")
    _execute("SET session_replication_role = replica")
    assert _setting("session_replication_role") == "replica"

    # when
    refusal = _refused(STATEMENTS[statement])

    # then
    assert f"audit events are append-only: {statement} on audit_event refused" in refusal
    assert _rows() == before


def test_the_flush_hatch_lets_truncate_through_only_in_a_test_database(event):
    # given: this is pytest-django's test_* database with the hatch on
    assert connection.settings_dict["NAME"].startswith("test_")

    # when: truncate in a savepoint, count, then roll the savepoint back
    counts = []

    def truncate_and_roll_back() -> None:
        with transaction.atomic():
            _execute(STATEMENTS["TRUNCATE"])
            counts.append(Event.objects.count())
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        truncate_and_roll_back()

    # then
    assert counts == [0]
    assert Event.objects.count() == 1


def test_the_triggers_are_enabled_always(postgres):
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal ORDER BY tgname")
        triggers = cursor.fetchall()

    # then: 'A' is ENABLE ALWAYS (fires under any session_replication_role)
    assert triggers == [("audit_event_append_only", "A"), ("audit_event_no_truncate", "A")]


def test_an_orm_update_that_bypasses_the_model_is_refused_by_the_database(event):
    # given
    before = _rows()

    # when / then: Django's own QuerySet.update, skipping the model's Python refusal
    with pytest.raises(Error, match="append-only"), transaction.atomic():
        models.QuerySet.update(Event.objects.filter(pk=event.pk), action="program.resumed")
    assert _rows() == before
