"""Formatting for the research dashboard: durations, shares and missing values, as people
read them."""

from __future__ import annotations

from django import template

register = template.Library()

DASH = "—"


@register.filter
def duration(seconds: float | None) -> str:
    """``90`` → ``1.5 min``; ``5400`` → ``1.5 h``; nothing → a dash."""
    if not isinstance(seconds, int | float):
        return DASH
    for limit, size, unit in ((60, 1, "s"), (3600, 60, "min"), (172800, 3600, "h")):
        if abs(seconds) < limit:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds / 86400:.3g} d"


@register.filter
def share(value: float | None) -> str:
    """``0.4567`` → ``45.7%``; nothing → a dash."""
    return f"{value * 100:.3g}%" if isinstance(value, int | float) else DASH


@register.filter
def or_dash(value: object) -> object:
    return DASH if value is None or value == "" else value
