"""Boot Django against a throwaway test database for a benchmark."""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


@contextmanager
def django_database():
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def postgres_url() -> str | None:
    """DATABASE_URL if it names PostgreSQL, else None (the script then says it is skipped)."""
    from urllib.parse import urlparse

    url = os.environ.get("DATABASE_URL", "")
    return url if urlparse(url).scheme in {"postgres", "postgresql", "pgsql"} else None


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_gunicorn(db_url: str, scratch: Path, port: int, *, workers: int, timeout: int,
                   **env: str):
    """gunicorn on ``config.wsgi`` with the production settings, throwaway secrets and the
    in-memory broker (``env`` adds or overrides variables), once it answers /healthz/."""
    import base64
    import http.client
    import secrets
    import subprocess
    import time

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50, "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "DJANGO_SECURE_SSL_REDIRECT": "false", "VAR_DIR": str(scratch),
           # Throwaway keys: production settings refuse to start without them.
           "AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "RESEARCH_PSEUDONYM_KEY": secrets.token_urlsafe(32),
           "DATABASE_URL": db_url, "CELERY_BROKER_URL": "memory://",
           "DJANGO_LOG_LEVEL": "ERROR", **env}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", str(timeout),
         "--log-level", "warning"], cwd=Path(__file__).resolve().parent.parent, env=env)
    for _ in range(200):
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            probe.request("GET", "/healthz/")
            probe.getresponse().read()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")
