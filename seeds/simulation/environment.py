"""The conditions a run holds the platform in, and gives back afterwards.

- Time comes from the scheduler (``core.clock``).
- Ids: models whose primary key is a random UUID get UUIDs drawn from the run's seed, so a
  rerun creates the same clips, claims and decisions under the same ids. The platform keys
  some choices on them (``review.selectors.sampled_for_second_opinion`` samples by clip id),
  so without this a rerun would sample other clips for second opinions.
- Celery tasks run in-process, when they are sent (on commit): the renders, the media
  pipeline and the e-mails are the platform's own tasks, run at the simulated instant their
  service sent them. Nothing reaches a broker, so a worker serving the same database never
  sees the run's clips.
- E-mail stays in memory (``django.core.mail.outbox``): the program admins' alerts are read
  from there, and no tester's inbox receives thousands of messages.
- ``DEBUG`` is off, as in production: Django would otherwise keep every SQL statement.
- Passwords are hashed with PBKDF2 at 1 000 iterations: simulated people never sign in with
  a password, and at the default 1 000 000 iterations their accounts alone would take
  minutes. The hashes stay in Django's standard format (upgraded on a first sign-in).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from celery import current_app
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.core.cache import cache
from django.db import models
from django.test.utils import override_settings

from seeds.simulation.clock import Scheduler
from seeds.simulation.world import seeded

FAST_HASHER = "seeds.simulation.environment.SimulationPasswordHasher"


class SimulationPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 with few iterations, for accounts nobody signs in to with a password."""

    iterations = 1_000


def _random_uuid_fields() -> list[models.Field]:
    fields = []
    for model in apps.get_models():
        field = model._meta.pk
        if isinstance(field, models.UUIDField) and field.default is uuid.uuid4:
            fields.append(field)
    return fields


@contextmanager
def seeded_uuids(rng: random.Random) -> Iterator[None]:
    """Give every model whose primary key defaults to ``uuid.uuid4`` seeded UUIDs instead."""

    def draw() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    fields = _random_uuid_fields()
    for field in fields:
        field.default = draw
        field.__dict__.pop("_get_default", None)  # Field caches its default's callable
    try:
        yield
    finally:
        for field in fields:
            field.default = uuid.uuid4
            field.__dict__.pop("_get_default", None)


@contextmanager
def eager_tasks() -> Iterator[None]:
    conf = current_app.conf
    previous = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager = conf.task_eager_propagates = True
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = previous


@contextmanager
def quiet_loggers() -> Iterator[None]:
    """Keep the run's routine chatter (a line per task, a warning per refused request) out of
    the output; warnings of anything else still show."""
    levels = {"celery.app.trace": logging.WARNING, "django.request": logging.ERROR,
              "kombu.connection": logging.ERROR}
    previous = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def simulated(scheduler: Scheduler, *, seed: int) -> Iterator[None]:
    """Hold the platform in the run's conditions (above) for the duration of the block."""
    overrides: dict[str, Any] = {
        "DEBUG": False,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PASSWORD_HASHERS": [FAST_HASHER, *settings.PASSWORD_HASHERS],
    }
    # Counters kept in the cache (throttles, the token watch's windows) belong to whatever
    # the database held before; they would count this run's people under the same ids.
    cache.clear()
    with ExitStack() as stack:
        # Django's way to change settings for a block: it also tells the parts that cache a
        # setting (the password hashers) to read it again, on the way in and out.
        stack.enter_context(override_settings(**overrides))
        stack.enter_context(eager_tasks())
        stack.enter_context(quiet_loggers())
        stack.enter_context(seeded_uuids(seeded(f"{seed}/ids")))
        stack.enter_context(scheduler.installed())
        if not hasattr(mail, "outbox"):
            mail.outbox = []  # the locmem backend's; readers start from its current length
        yield
