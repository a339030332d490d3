"""The platform's one source of time.

Services read the time from here rather than from ``timezone.now()`` directly, so the
simulation can run the whole program on a simulated clock without patching ``datetime``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_source: Callable[[], datetime] = timezone.now


def now() -> datetime:
    """The current time, aware and in UTC."""
    return _source()


@contextmanager
def use(source: Callable[[], datetime]) -> Iterator[None]:
    """Run a block with another time source (a simulated clock, a frozen test time)."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
