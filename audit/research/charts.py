"""Charts for the research dashboard, drawn on the server as SVG geometry.

Each function returns plain numbers and strings (coordinates, labels) that the template
turns into ``<svg>`` elements: no script, no chart library, nothing fetched from elsewhere,
and the page's figures can be read (and tested) without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 26, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Band:
    """A stretch of time shaded across the plot (a suspension)."""

    x: float
    width: float
    label: str
    title: str


@dataclass(frozen=True)
class Marker:
    """A moment marked across the plot (a token anomaly)."""

    x: float
    title: str


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_width: int = PLOT_W
    plot_height: int = PLOT_H
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # polyline points, one per segment
    dots: list[Bar] = field(default_factory=list)  # points of the line, with their titles
    bands: list[Band] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    empty: bool = False

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    @property
    def right(self) -> int:
        return self.left + self.plot_width


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _moment_label(moment: datetime, bucket: str, span_days: float) -> str:
    if bucket == "day" or span_days > 3:
        return moment.strftime("%d %b")
    return moment.strftime("%d %b %H:%M")


class _TimeAxis:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.seconds = max((end - start).total_seconds(), 1.0)

    def x(self, moment: datetime) -> float:
        offset = (moment - self.start).total_seconds() / self.seconds
        return round(LEFT + min(max(offset, 0.0), 1.0) * PLOT_W, 1)

    def ticks(self, bucket: str, count: int = 6) -> list[Tick]:
        span_days = self.seconds / 86400
        return [Tick(self.x(moment), _moment_label(moment, bucket, span_days))
                for moment in (self.start + (self.end - self.start) * index / count
                               for index in range(count + 1))]


def _y(value: float, top: float) -> float:
    return round(TOP + PLOT_H - (value / top) * PLOT_H, 1)


def _events(chart: Chart, axis: _TimeAxis, suspensions: list[dict[str, Any]],
            anomalies: list[dict[str, Any]]) -> None:
    """Shade each suspension and mark each token anomaly inside the axis' span."""
    for suspension in suspensions:
        started = suspension["started_at"]
        ended = suspension["ended_at"] or axis.end
        if ended <= axis.start or started >= axis.end:
            continue
        x = axis.x(started)
        title = (f"Program suspended {started:%d %b %H:%M} to "
                 + (f"{ended:%d %b %H:%M} UTC" if suspension["ended_at"] else "now"))
        chart.bands.append(Band(x, max(axis.x(ended) - x, 2.0), "suspended", title))
    for anomaly in anomalies:
        if axis.start <= anomaly["at"] <= axis.end:
            chart.markers.append(Marker(axis.x(anomaly["at"]),
                                        f"Token anomaly {anomaly['at']:%d %b %H:%M} UTC"))


def _bucket_length(bucket: str) -> timedelta:
    return timedelta(days=1) if bucket == "day" else timedelta(hours=1)


def _span(points: list[dict[str, Any]], bucket: str) -> tuple[datetime, datetime]:
    """From the first bucket's start to the last one's end (the series has every bucket)."""
    return points[0]["at"], points[-1]["at"] + _bucket_length(bucket)


def approval_chart(rates: list[dict[str, Any]], bucket: str,
                   suspensions: list[dict[str, Any]],
                   anomalies: list[dict[str, Any]]) -> Chart:
    """The approval rate per bucket as a line (broken where a bucket had no verdicts)."""
    chart = Chart("Approval rate over time")
    if not any(point["rate"] is not None for point in rates):
        chart.empty = True
        return chart
    start, end = _span(rates, bucket)
    axis = _TimeAxis(start, end)
    chart.x_ticks = axis.ticks(bucket)
    chart.y_ticks = [Tick(_y(share, 1.0), f"{share:.0%}") for share in (0, 0.25, 0.5, 0.75, 1)]
    half = _bucket_length(bucket) / 2
    segment: list[str] = []
    for point in rates:
        if point["rate"] is None:
            if segment:
                chart.lines.append(" ".join(segment))
            segment = []
            continue
        x, y = axis.x(point["at"] + half), _y(point["rate"], 1.0)
        segment.append(f"{x},{y}")
        chart.dots.append(Bar(x, y, 0, 0, f"{point['at']:%d %b %H:%M}: {point['rate']:.0%} "
                                          f"({point['approved']} of "
                                          f"{point['approved'] + point['rejected']})"))
    if segment:
        chart.lines.append(" ".join(segment))
    _events(chart, axis, suspensions, anomalies)
    return chart


def _count_ticks(top: float) -> list[Tick]:
    """Ticks at whole numbers only: quarters, halves or just the ends of the scale."""
    parts = next(parts for parts in (4, 2, 1) if (top / parts).is_integer())
    return [Tick(_y(top * index / parts, top), f"{top * index / parts:g}")
            for index in range(parts + 1)]


def queue_chart(depth: list[dict[str, Any]], created: list[dict[str, Any]], bucket: str,
                suspensions: list[dict[str, Any]], anomalies: list[dict[str, Any]], *,
                title: str = "Queue depth and new clips") -> Chart:
    """New clips per bucket as bars, the queue's depth as a line."""
    chart = Chart(title)
    if not depth:
        chart.empty = True
        return chart
    start, end = _span(depth, bucket)
    axis = _TimeAxis(start, end)
    top = nice_ceiling(max(max(p["depth"] for p in depth), max(p["n"] for p in created), 1))
    chart.x_ticks = axis.ticks(bucket)
    chart.y_ticks = _count_ticks(top)
    width = max(PLOT_W / len(created) - 1, 1)
    for point in created:
        if point["n"]:
            y = _y(point["n"], top)
            chart.bars.append(Bar(axis.x(point["at"]), y, round(width, 1),
                                  round(TOP + PLOT_H - y, 1),
                                  f"{point['at']:%d %b %H:%M}: {point['n']} new clips"))
    half = _bucket_length(bucket) / 2
    chart.lines.append(" ".join(f"{axis.x(p['at'] + half)},{_y(p['depth'], top)}"
                                for p in depth))
    _events(chart, axis, suspensions, anomalies)
    return chart


def histogram_chart(bins: list[dict[str, Any]]) -> Chart:
    """How long clips waited for their first verdict, in bins of time."""
    chart = Chart("Time to decision")
    if not any(row["n"] for row in bins):
        chart.empty = True
        return chart
    top = nice_ceiling(max(row["n"] for row in bins))
    slot = PLOT_W / len(bins)
    chart.y_ticks = _count_ticks(top)
    for index, row in enumerate(bins):
        x = LEFT + index * slot
        chart.x_ticks.append(Tick(round(x + slot / 2, 1), row["label"]))
        if row["n"]:
            y = _y(row["n"], top)
            chart.bars.append(Bar(round(x + slot * 0.15, 1), y, round(slot * 0.7, 1),
                                  round(TOP + PLOT_H - y, 1),
                                  f"{row['label']}: {row['n']} clips"))
    return chart


def cohort_chart(by_cohort: dict[str, dict[str, Any]]) -> Chart:
    """Each cohort's approval rate as a bar."""
    chart = Chart("Approval rate by cohort")
    rated = [(name, row) for name, row in by_cohort.items() if row["approval_rate"] is not None]
    if not rated:
        chart.empty = True
        return chart
    slot = PLOT_W / len(rated)
    chart.y_ticks = [Tick(_y(share, 1.0), f"{share:.0%}") for share in (0, 0.5, 1)]
    for index, (name, row) in enumerate(rated):
        x = LEFT + index * slot
        chart.x_ticks.append(Tick(round(x + slot / 2, 1), name))
        y = _y(row["approval_rate"], 1.0)
        chart.bars.append(Bar(round(x + slot * 0.25, 1), y, round(slot * 0.5, 1),
                              round(TOP + PLOT_H - y, 1),
                              f"{name}: {row['approval_rate']:.0%} of "
                              f"{row['approved'] + row['rejected']} first verdicts"))
    return chart
