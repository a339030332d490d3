"""Gunicorn settings for the web role (read by `gunicorn -c`; never imported as a module)."""

import os


def _default_workers() -> int:
    # The usual 2 x cores + 1, counting the cores this process may run on (a cpuset-limited
    # container sees fewer than the host has). Capped because each sync worker holds a
    # full Django process and a database connection.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2 * (cores or 1) + 1, 8)


# All interfaces inside the container; the published port decides what the host exposes.
bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"

# `or` rather than a get() default: an empty WEB_CONCURRENCY means "compute it".
workers = int(os.environ.get("WEB_CONCURRENCY") or _default_workers())

# The worker heartbeat file is touched constantly; on a disk-backed /tmp (an overlay
# filesystem in Docker) that can block workers, so keep it in memory.
worker_tmp_dir = "/dev/shm"  # noqa: S108

# A request still running after 60 s is stuck; uploads and long work go to Celery.
timeout = 60
# On SIGTERM, in-flight requests get 30 s to finish before workers are killed
# (compose's stop_grace_period for web is longer than this).
graceful_timeout = 30

# Access log to stdout, so the container runtime collects it with everything else.
accesslog = "-"

# X-Forwarded-* headers are trusted only from these addresses (the reverse proxy that
# terminates TLS); anything else could claim to be https or spoof its address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"

# limit_request_line keeps gunicorn's default (4094 bytes): no URL here needs more.

# Recycle each worker after about 1000 requests, to bound slow memory growth; the jitter
# keeps all workers from restarting at the same moment.
max_requests = 1000
max_requests_jitter = 100

# gunicorn >= 25 opens a control socket under $HOME by default; nothing in a container
# uses it, and it would fail on a read-only root filesystem.
control_socket_disable = True
