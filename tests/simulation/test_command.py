"""``manage.py simulate`` refuses what it cannot run, precisely, and changes nothing then."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.models import Event
from tests.factories import UserFactory

REPO = Path(__file__).resolve().parents[2]


def _nothing_written() -> bool:
    return not Event.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize(("arguments", "message"), [
    ({"testers": 0}, "--testers must be between 1 and 5000 (got 0)."),
    ({"testers": 5001}, "--testers must be between 1 and 5000 (got 5001)."),
    ({"moderators": 0}, "--moderators must be between 1 and 500 (got 0)."),
    ({"days": 1}, "--days must be between 2 and 120 (got 1)."),
    ({"second_opinion_rate": 1.5}, "--second-opinion-rate must be between 0 and 1 (got 1.5)."),
    ({"second_opinion_rate": float("nan")},
     "--second-opinion-rate must be between 0 and 1 (got nan)."),
    ({"lease_minutes": 0}, "--lease-minutes must be between 1 and 240 (got 0)."),
    ({"seed": -1}, "--seed must be between 0 and 9223372036854775807 (got -1)."),
    ({"activity": -0.5}, "--activity must be between 0 and 20 (got -0.5)."),
    ({"testers": 2.5}, "--testers must be a whole number (got 2.5)."),
    ({"media": "huge"}, "--media must be one of tiny, full (got 'huge')."),
    ({"scenario": "sora-2025"}, "Unknown scenario 'sora-2025'; choose one of: sora-2024."),
])
def test_bad_parameters_are_refused_with_a_precise_message(db, arguments, message):
    # when
    with pytest.raises(CommandError) as refused:
        call_command("simulate", no_progress=True, **arguments)

    # then
    assert str(refused.value) == message
    assert _nothing_written()


def test_a_value_that_is_not_a_number_is_refused_by_the_parser(db):
    with pytest.raises(CommandError) as refused:
        call_command("simulate", "--testers", "many", "--no-progress")

    assert str(refused.value) == "Error: argument --testers: invalid int value: 'many'"
    assert _nothing_written()


def test_an_output_folder_with_files_in_it_is_refused(db, tmp_path):
    # given
    (tmp_path / "events.csv").write_text("an older run\n")

    # when
    with pytest.raises(CommandError) as refused:
        call_command("simulate", out=tmp_path, no_progress=True)

    # then
    assert str(refused.value) == f"--out {tmp_path} is not empty; give a new or empty folder."
    assert (tmp_path / "events.csv").read_text() == "an older run\n"
    assert _nothing_written()


def test_an_output_path_that_is_a_file_is_refused(db, tmp_path):
    target = tmp_path / "results"
    target.write_text("")

    with pytest.raises(CommandError) as refused:
        call_command("simulate", out=target, no_progress=True)

    assert str(refused.value) == f"--out {target} is a file; give a folder."


def test_a_database_that_holds_a_program_is_refused(db):
    # given
    UserFactory(username="someone")

    # when
    with pytest.raises(CommandError) as refused:
        call_command("simulate", no_progress=True)

    # then
    assert str(refused.value) == (
        "The database already holds a program (accounts: 1, clips: 0, audit events: 0). "
        "Simulate into an empty database (point DATABASE_URL at a new one), or pass --fresh "
        "to replace this one.")
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]
    assert not Event.objects.exists()


def test_settings_without_demo_data_refuse_to_simulate(db, settings):
    # given: production settings leave DEMO_SEED_ALLOWED off
    settings.DEMO_SEED_ALLOWED = False

    # when
    with pytest.raises(CommandError) as refused:
        call_command("simulate", fresh=True, no_progress=True)

    # then
    assert str(refused.value).startswith("Refusing to simulate under these settings:")
    assert _nothing_written()


def test_the_command_exits_non_zero_with_the_message():
    # when
    done = subprocess.run(
        [sys.executable, "manage.py", "simulate", "--days", "0", "--no-progress"], cwd=REPO,
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.test"})

    # then
    assert done.returncode == 1
    assert done.stderr.strip() == "CommandError: --days must be between 2 and 120 (got 0)."
    assert done.stdout == ""
