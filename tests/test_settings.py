"""Settings are secure by default: no committed secret, DEBUG off, production refuses to start
without a secret key and passes Django's deployment checks."""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_DIR = ROOT / "config" / "settings"

# Variables that would make the checked configuration depend on the machine running the tests
# (DJANGO_ALLOW_ASYNC_UNSAFE is set by tests/conftest.py for the browser tests only).
_MACHINE_VARIABLES = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                      "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS",
                      "DJANGO_ALLOW_ASYNC_UNSAFE", "AUDIT_SIGNING_KEY",
                      "RESEARCH_PSEUDONYM_KEY", "AUDIT_CHECKPOINT_LOG"}

# An assignment of a non-empty string literal to a secret setting.
LITERAL_SECRET = re.compile(
    r"""^\s*(SECRET_KEY|\w*PASSWORD|\w*_TOKEN|\w*_KEY)\s*=\s*(['"])[^'"]+\2""", re.MULTILINE)


def _production_secrets(**overrides: str) -> dict[str, str]:
    """Fresh values for the three secrets production requires."""
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "RESEARCH_PSEUDONYM_KEY": secrets.token_urlsafe(32), **overrides}


def _run(code_or_args: list[str], tmp_path: Path, **variables: str):
    env = {name: value for name, value in os.environ.items() if name not in _MACHINE_VARIABLES}
    env.update(VAR_DIR=str(tmp_path), **variables)
    return subprocess.run([sys.executable, *code_or_args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_production_passes_the_deployment_checks(tmp_path):
    # given: the data volume as platform/entrypoint.sh prepares it
    (tmp_path / "tmp").mkdir()

    # when
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path,
                  DJANGO_SETTINGS_MODULE="config.settings.production",
                  DJANGO_ALLOWED_HOSTS="example.org", **_production_secrets())

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    # when
    result = _run(["manage.py", "check", "--deploy"], tmp_path,
                  DJANGO_SETTINGS_MODULE="config.settings.production",
                  DJANGO_ALLOWED_HOSTS="example.org")

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set." in result.stderr


def test_production_refuses_an_empty_secret_key(tmp_path):
    # when
    result = _run(["manage.py", "check"], tmp_path,
                  DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY="",
                  DJANGO_ALLOWED_HOSTS="example.org")

    # then
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("name", ["AUDIT_SIGNING_KEY", "RESEARCH_PSEUDONYM_KEY"])
def test_production_refuses_to_start_without_the_audit_and_research_keys(tmp_path, name):
    # when
    result = _run(["manage.py", "check"], tmp_path,
                  DJANGO_SETTINGS_MODULE="config.settings.production",
                  DJANGO_ALLOWED_HOSTS="example.org", **_production_secrets(**{name: ""}))

    # then
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} is not set." in result.stderr


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_production_refuses_a_malformed_signing_key(tmp_path, value):
    # when
    result = _run(["manage.py", "check"], tmp_path,
                  DJANGO_SETTINGS_MODULE="config.settings.production",
                  DJANGO_ALLOWED_HOSTS="example.org",
                  **_production_secrets(AUDIT_SIGNING_KEY=value))

    # then
    assert result.returncode != 0
    assert "AUDIT_SIGNING_KEY must be the base64 of a 32-byte Ed25519 private key" in result.stderr


def test_production_keeps_debug_off_even_when_asked(tmp_path):
    # when
    result = _run(["-c", "import config.settings.production as s; print(s.DEBUG)"], tmp_path,
                  DJANGO_DEBUG="true", **_production_secrets())

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == "False\n"


def test_base_settings_default_to_debug_off_and_no_secret(tmp_path):
    # when
    result = _run(["-c", "import config.settings.base as s; "
                         "print(repr(s.DEBUG), repr(s.SECRET_KEY), repr(s.ALLOWED_HOSTS))"],
                  tmp_path)

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == "False '' []\n"


def test_the_settings_files_are_the_expected_ones():
    assert sorted(path.name for path in SETTINGS_DIR.glob("*.py")) == [
        "__init__.py", "base.py", "local.py", "production.py", "test.py"]


def test_the_literal_secret_pattern_catches_a_committed_key():
    # a guard on the guard: the pattern finds what it is meant to find
    assert LITERAL_SECRET.search('SECRET_KEY = "django-insecure-abc123"\n')
    assert LITERAL_SECRET.search("EMAIL_HOST_PASSWORD = 'hunter2'\n")
    assert not LITERAL_SECRET.search('SECRET_KEY = env("DJANGO_SECRET_KEY", default="")\n')
    assert not LITERAL_SECRET.search('SECRET_KEY = ""\n')


def test_no_settings_file_holds_a_literal_secret():
    # when
    found = {path.name: [match.group(0).strip() for match in LITERAL_SECRET.finditer(
        path.read_text())] for path in SETTINGS_DIR.glob("*.py")}

    # then
    assert {name: matches for name, matches in found.items() if matches} == {}
