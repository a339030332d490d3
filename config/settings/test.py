"""Settings for the test suite.

PostgreSQL and Redis are used when ``DATABASE_URL`` and ``CELERY_BROKER_URL`` are set (CI);
otherwise SQLite and eager Celery, so the suite also runs on a laptop with no services.
"""

import base64
import secrets
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env

SECRET_KEY = secrets.token_urlsafe(50)
AUDIT_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
RESEARCH_PSEUDONYM_KEY = secrets.token_urlsafe(32)
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

# A worker process started by a test shares the test's files through TEST_VAR_DIR.
VAR_DIR = Path(env("TEST_VAR_DIR", default="") or tempfile.mkdtemp(prefix="early-access-test-"))
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_SCRATCH_DIR = VAR_DIR / "tmp"
AUDIT_CHECKPOINT_LOG = VAR_DIR / "audit-checkpoints.jsonl"

if not env("DATABASE_URL", default=""):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Lets pytest-django empty the append-only audit table between browser tests; the
    # trigger honours it only in a database named test_* (see audit migration 0002).
    DATABASES["default"]["OPTIONS"] = {"options": "-c early_access.allow_test_flush=on"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

_broker = env("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = _broker or "memory://"
CELERY_TASK_ALWAYS_EAGER = not _broker
CELERY_TASK_EAGER_PROPAGATES = True

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"sign_in": "5/min", "redeem": "5/min"},
}
DEMO_SEED_ALLOWED = True
DEMO_SEED_CLIPS_PER_TESTER = 0  # rendering is slow; the seed's clip test asks for them

STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
