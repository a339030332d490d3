"""docs/audit-events.md, the researchers' data dictionary, is generated from the registry."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit import registry
from audit.docs import render

DOCS = Path(settings.BASE_DIR) / "docs" / "audit-events.md"

# The accounts app's actions (other apps add their own).
ACCOUNTS_ACTIONS = [
    "account.changed", "account.created",
    "auth.sign_in_failed", "auth.sign_in_succeeded", "auth.signed_out",
    "cohort.created",
    "invitation.created", "invitation.redeemed", "invitation.redemption_refused",
    "invitation.revoked",
    "program.paused", "program.policy_changed", "program.resumed", "program.suspended",
    "security.token_anomaly",
    "terms.accepted",
    "token.created", "token.revoked",
]



def test_the_committed_data_dictionary_is_current():
    # then: if this fails, run `python manage.py audit_docs` and commit the file
    assert DOCS.read_text() == render()


def test_the_registry_holds_every_accounts_action():
    names = [action.name for action in registry.all_actions()]
    assert [name for name in names if name in ACCOUNTS_ACTIONS] == ACCOUNTS_ACTIONS


def test_the_data_dictionary_describes_every_action_and_field():
    # given
    text = DOCS.read_text()

    # then
    for action in registry.all_actions():
        assert f"### `{action.name}`\n\n{action.description}\n" in text
        for name, meaning in action.fields.items():
            assert f"| `{name}` | {meaning} |" in text


def test_audit_docs_check_passes_on_the_committed_file(capsys):
    # when
    call_command("audit_docs", "--check")

    # then
    assert capsys.readouterr().out == "docs/audit-events.md is current.\n"


def test_audit_docs_check_fails_on_a_stale_file_and_writes_nothing(settings, tmp_path):
    # given
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    stale = tmp_path / "docs" / "audit-events.md"
    stale.write_text("# Audit events\n\nOut of date.\n")

    # when / then
    with pytest.raises(CommandError, match=r"is stale: run `python manage\.py audit_docs`"):
        call_command("audit_docs", "--check")
    assert stale.read_text() == "# Audit events\n\nOut of date.\n"


def test_audit_docs_check_fails_when_the_file_is_missing(settings, tmp_path):
    # given
    settings.BASE_DIR = tmp_path

    # when / then
    with pytest.raises(CommandError, match="is stale"):
        call_command("audit_docs", "--check")
    assert not (tmp_path / "docs" / "audit-events.md").exists()


def test_audit_docs_writes_the_rendered_dictionary(settings, tmp_path, capsys):
    # given
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()

    # when
    call_command("audit_docs")

    # then
    written = tmp_path / "docs" / "audit-events.md"
    assert written.read_text() == render()
    assert capsys.readouterr().out == f"Wrote {written}.\n"
