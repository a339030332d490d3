"""docs/datasets.md, the researchers' dictionary of datasets, is generated from the registry."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit.research import redaction
from audit.research.datasets import all_datasets
from audit.research.dictionary import render

DOCS = Path(settings.BASE_DIR) / "docs" / "datasets.md"


def test_the_committed_dictionary_is_current():
    # then: if this fails, run `python manage.py datasets_docs` and commit the file
    assert DOCS.read_text() == render()


def test_the_dictionary_explains_every_column_its_type_and_meaning():
    # given
    text = DOCS.read_text()

    # then
    for dataset in all_datasets():
        assert f"## `{dataset.name}`\n\n{dataset.description}\n" in text
        for column in dataset.columns:
            assert f"| `{column.name}` | {column.type} | {column.meaning}" in text


def test_the_dictionary_explains_pseudonyms_and_what_is_withheld():
    # given
    text = DOCS.read_text()

    # then
    assert 'HMAC-SHA256(key, "<study id>:<user id>")' in text
    for action, name in [*redaction.FREE_TEXT, *redaction.IDENTIFYING, *redaction.PEOPLE]:
        assert f"- `{action}`, field `{name}`: " in text


def test_datasets_docs_check_passes_on_the_committed_file(capsys):
    # when
    call_command("datasets_docs", "--check")

    # then
    assert capsys.readouterr().out == "docs/datasets.md is current.\n"


def test_datasets_docs_check_fails_on_a_stale_file_and_writes_nothing(settings, tmp_path):
    # given
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    stale = tmp_path / "docs" / "datasets.md"
    stale.write_text("# Datasets\n\nOut of date.\n")

    # when / then
    with pytest.raises(CommandError, match=r"is stale: run `python manage\.py datasets_docs`"):
        call_command("datasets_docs", "--check")
    assert stale.read_text() == "# Datasets\n\nOut of date.\n"


def test_datasets_docs_check_fails_when_the_file_is_missing(settings, tmp_path):
    # given
    settings.BASE_DIR = tmp_path

    # when / then
    with pytest.raises(CommandError, match="is stale"):
        call_command("datasets_docs", "--check")
    assert not (tmp_path / "docs" / "datasets.md").exists()


def test_datasets_docs_writes_the_rendered_dictionary(settings, tmp_path, capsys):
    # given
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()

    # when
    call_command("datasets_docs")

    # then
    written = tmp_path / "docs" / "datasets.md"
    assert written.read_text() == render()
    assert capsys.readouterr().out == f"Wrote {written}.\n"
