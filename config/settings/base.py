"""Settings shared by every environment.

Configuration comes only from environment variables (see ``platform/.env.example``).
These defaults are the safe ones: DEBUG is off and there is no secret key, so a
deployment that forgets to configure itself fails loudly instead of running insecurely.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()

# Everything the platform writes at run time (SQLite database, media, broker folders,
# checkpoints) lives under one directory, so a laptop run stays out of the source tree.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "audit",
    "accounts",
    "submissions",
    "review",
    "seeds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ProgramAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.program",
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; a busy
    # timeout turns brief lock contention into a short wait instead of an error.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The rollups' covering indexes (INCLUDE columns, for PostgreSQL's index-only scans)
    # are plain indexes on SQLite, which is all the demo needs: no warning on every command.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign_in"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Collected at image build time, outside VAR_DIR, which is a volume at run time.
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploads stream here before they are stored, and workers decode here; on the media disk so
# storing an upload is a rename, not a copy. Created on first use.
MEDIA_SCRATCH_DIR = VAR_DIR / "tmp"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if env("DJANGO_STORAGE", default="local") == "s3":
    # Clips in an S3-compatible bucket, so web servers and workers on different machines
    # share them. Objects stay private; the platform serves them through permission checks.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            "file_overwrite": False,
        },
    }

# Secure defaults that hold everywhere; production adds HTTPS-only settings.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="early-access@localhost")
# The platform's public address, for links in e-mails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# The audit log's sealing key (base64 of a 32-byte Ed25519 private key) and the research
# pseudonym key (any long random string). Both are secrets; production refuses to start
# without them, local and test settings make their own. Checkpoints are also appended to a
# file outside the database, so a copy of the chain's head survives whatever happens to it.
AUDIT_SIGNING_KEY = env("AUDIT_SIGNING_KEY", default="")
RESEARCH_PSEUDONYM_KEY = env("RESEARCH_PSEUDONYM_KEY", default="")
AUDIT_CHECKPOINT_LOG = Path(env("AUDIT_CHECKPOINT_LOG", default="")
                            or VAR_DIR / "audit-checkpoints.jsonl")
# How long a transaction may stay open and still have its events sealed by the next ordinary
# run; older stragglers wait for the full sweep each sealer makes once per margin.
AUDIT_SEAL_MARGIN_S = env.int("AUDIT_SEAL_MARGIN_S", default=600)

# The hot statements (audit insert, review claim and decision) run prepared on PostgreSQL;
# turn this off behind a transaction-mode pooler that cannot keep them (PgBouncer < 1.21).
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)

REST_FRAMEWORK = {
    # Token first, so an unauthenticated request gets 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "core.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.ProgramAccess",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "sign_in": env("THROTTLE_SIGN_IN", default="10/min"),
        "redeem": env("THROTTLE_REDEEM", default="10/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    # Keeps `research/export/{dataset}.{format}` in the schema (DRF's generator drops paths
    # ending in a `.{format}` suffix).
    "DEFAULT_GENERATOR_CLASS": "audit.research.schema.SchemaGenerator",
    "TITLE": "Early Access API",
    "DESCRIPTION": (
        "Invitations, the program switch, clip submissions, the approval gate and the "
        "research audit log. Errors are JSON: {code, message, fields?}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "accounts.models.Role"},
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "out"),
        "data_folder_out": str(_broker_folder / "out"),
        "processed_folder": str(_broker_folder / "processed"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only when it finished, so a worker that dies mid-clip leaves the
# message to be redelivered; one message per worker process at a time, so a slow clip does
# not hold others hostage. The hard time limit stays below the broker's visibility timeout,
# or Redis would hand a long-running task to a second worker while the first still runs.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
BROKER_VISIBILITY_TIMEOUT_S = 3600
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT_S}
CELERY_BEAT_SCHEDULE = {
    "submissions-sweep": {"task": "submissions.tasks.submissions_sweep", "schedule": 60.0},
    "leases-expire": {"task": "review.tasks.leases_expire", "schedule": 30.0},
    "audit-seal": {"task": "audit.tasks.audit_seal", "schedule": 5.0},
    "research-rollups": {"task": "audit.tasks.research_rollups", "schedule": 30.0},
}

# The media pipeline's recovery: another worker may take over an attempt once it is older
# than the hard time limit (so two never run at once); a received clip whose task was sent
# this long ago without being picked up is sent again; a clip gets this many attempts.
SUBMISSION_STALE_AFTER_S = CELERY_TASK_TIME_LIMIT + 60
SUBMISSION_REQUEUE_AFTER_S = 300
SUBMISSION_MAX_ATTEMPTS = 3
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The demo seed writes accounts with published passwords; only local and test allow it.
DEMO_SEED_ALLOWED = False
DEMO_SEED_CLIPS_PER_TESTER = 2
