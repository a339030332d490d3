"""Production settings: HTTPS only, a secret key required, PostgreSQL and Redis expected."""

import base64

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production refuses to start without a secret key; "
        "see platform/.env.example for how to generate one."
    )
for _name in ("AUDIT_SIGNING_KEY", "RESEARCH_PSEUDONYM_KEY"):
    if not env(_name, default=""):
        raise ImproperlyConfigured(
            f"{_name} is not set. Production refuses to start without the audit log's "
            "signing key and the research pseudonym key; see platform/.env.example.")
try:
    if len(base64.b64decode(env("AUDIT_SIGNING_KEY"), validate=True)) != 32:
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(
        "AUDIT_SIGNING_KEY must be the base64 of a 32-byte Ed25519 private key; see "
        "platform/.env.example for how to generate one.") from None
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Gunicorn sits behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

STORAGES = {
    **STORAGES,  # noqa: F405  (local disk or S3 for media, as base decided)
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
