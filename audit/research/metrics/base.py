"""The metrics' filters and the small helpers every figure shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.research.rollups import reads
from core.errors import InvalidInput

BUCKETS = ("auto", "hour", "day")
NO_COHORT = "(none)"


@dataclass(frozen=True)
class MetricFilters:
    since: datetime | None = None
    until: datetime | None = None
    cohort: str | None = None
    bucket: str = "auto"


def metric_filters(*, since: datetime | None = None, until: datetime | None = None,
                   cohort: str | None = None, bucket: str = "auto") -> MetricFilters:
    """Checked filters; a window that ends before it starts names ``until``."""
    if since and until and until <= since:
        raise InvalidInput(fields={"until": ["Must be later than since."]})
    if bucket not in BUCKETS:
        raise InvalidInput(fields={"bucket": [f"One of {', '.join(BUCKETS)}."]})
    return MetricFilters(since=since, until=until, cohort=cohort or None, bucket=bucket)


def cohort_key(cohort: str) -> str:
    return cohort or NO_COHORT


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def count_of(counts: list[reads.Count], **match: Any) -> int:
    """The total of the counts whose fields equal ``match`` (all of them if none given)."""
    return sum(count.n for count in counts
               if all(getattr(count, name) == value for name, value in match.items()))
