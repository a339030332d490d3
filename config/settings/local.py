"""Settings for a developer's laptop and ``make demo``: SQLite, the filesystem broker, DEBUG on."""

import base64
import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])


def _local_secret(name: str, make) -> str:
    """A random secret kept in var/, so it survives restarts without being committed."""
    path = VAR_DIR / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or _local_secret(
    "secret_key", lambda: secrets.token_urlsafe(50))
AUDIT_SIGNING_KEY = env("AUDIT_SIGNING_KEY", default="") or _local_secret(
    "audit_signing_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode())
RESEARCH_PSEUDONYM_KEY = env("RESEARCH_PSEUDONYM_KEY", default="") or _local_secret(
    "research_pseudonym_key", lambda: secrets.token_urlsafe(32))
DEMO_SEED_ALLOWED = True

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # kombu's filesystem transport expects its folders to exist.
    for _folder in ("out", "processed", "control"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)

# Serve static files straight from the apps, so the demo needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
