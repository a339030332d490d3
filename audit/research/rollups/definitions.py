"""What the rollups keep: the status and queue rules read from the events, the measures and
histograms kept per hour and day, and the few SQL spellings PostgreSQL and SQLite differ in."""

from __future__ import annotations

from dataclasses import dataclass

SUBMISSION = "submissions.submission"

# The status a clip has after each event (DESIGN.md §4); events missing here leave it as is.
# A decision changes it only when effective (approve or reject on a tester-facing track).
STATUS_AFTER = {
    "submission.generated": "draft",
    "submission.submitted": "received",
    "submission.processing_started": "processing",
    "submission.processing_interrupted": "received",
    "submission.processed": "pending_review",
    "submission.failed": "failed",
    "submission.appealed": "pending_review",
    "submission.withdrawn": "withdrawn",
}

# The events that put a clip into the review queue, and the track they put it on. A decision
# to escalate both ends an entry and begins the escalation entry.
ENTRY_TRACK = {
    "submission.processed": "primary",
    "submission.appealed": "appeal",
    "review.second_opinion_requested": "second_opinion",
}


GATE_TRACKS = ("primary", "appeal", "escalation")
_GATE = "(" + ", ".join(f"'{track}'" for track in GATE_TRACKS) + ")"
CLIP_FACTS, ENTRY_FACTS = "audit_rollup_submission", "audit_rollup_queue_entry"


# Time to decision as people read it: (upper bound in seconds, label); the last is open.
TTD_BANDS = ((60, "< 1 min"), (300, "1–5 min"), (900, "5–15 min"),  # noqa: RUF001
             (3600, "15–60 min"), (4 * 3600, "1–4 h"), (12 * 3600, "4–12 h"),  # noqa: RUF001
             (24 * 3600, "12–24 h"), (3 * 86400, "1–3 d"), (None, "≥ 3 d"))  # noqa: RUF001
_TTD_BAND = "CASE " + " ".join(
    f"WHEN f.time_to_decision_s < {upper} THEN '{index}'"
    for index, (upper, _label) in enumerate(TTD_BANDS) if upper is not None
) + f" ELSE '{len(TTD_BANDS) - 1}' END"


@dataclass(frozen=True)
class Measure:
    """A count (and a sum) over one fact table by one of its times, split by a key: kept per
    hour and per day in ``CountRollup``, counted from the facts (alias ``f``) for the minutes
    at the edges of a window."""

    name: str
    table: str
    time: str
    key: str = "''"
    condition: str = "1 = 1"
    total: str = "CAST(NULL AS FLOAT)"
    moderator: str = "0"


MEASURES = {measure.name: measure for measure in (
    # Clips by creation, split by their status now.
    Measure("clips", CLIP_FACTS, "created_at", key="f.status"),
    # First effective decisions, by outcome; the total sums the times to decision.
    Measure("first_decisions", CLIP_FACTS, "decided_at", key="f.outcome",
            condition="f.outcome <> ''", total="f.time_to_decision_s"),
    # The same, by band of time to decision (the index into TTD_BANDS).
    Measure("ttd_bands", CLIP_FACTS, "decided_at", key=_TTD_BAND,
            condition="f.time_to_decision_s IS NOT NULL"),
    # The gate's entries and exits, by track (the daily series of the queue's depth).
    Measure("gate_entered", ENTRY_FACTS, "entered_at", key="f.track",
            condition=f"f.track IN {_GATE}"),
    Measure("gate_exited", ENTRY_FACTS, "exited_at", key="f.track",
            condition=f"f.track IN {_GATE}"),
    Measure("appeals", ENTRY_FACTS, "entered_at", condition="f.track = 'appeal'"),
    Measure("appeal_results", ENTRY_FACTS, "exited_at", key="f.appeal_result",
            condition="f.appeal_result <> ''"),
    # Blind second opinions: "<first outcome>|<second outcome>".
    Measure("pairs", ENTRY_FACTS, "exited_at", key="f.compared_outcome || '|' || f.outcome",
            condition="f.track = 'second_opinion' AND f.exit_reason = 'decided' "
                      "AND f.compared_outcome <> ''"),
    # Every decision per moderator: "<track>|<outcome>"; the total sums the review times.
    Measure("decisions", ENTRY_FACTS, "exited_at", key="f.track || '|' || f.outcome",
            condition="f.exit_reason = 'decided' AND f.moderator_id IS NOT NULL",
            total="f.held_s", moderator="f.moderator_id"),
)}


@dataclass(frozen=True)
class Histogram:
    """A duration kept as counts per bin, hour and day in ``HistogramRollup``."""

    name: str
    table: str
    time: str
    value: str
    bin: str
    condition: str = "1 = 1"


HISTOGRAMS = {histogram.name: histogram for histogram in (
    Histogram("time_to_decision", CLIP_FACTS, "decided_at", "time_to_decision_s",
              "time_to_decision_bin"),
    Histogram("queue_wait", ENTRY_FACTS, "entered_at", "wait_s", "wait_bin",
              condition=f"f.track IN {_GATE}"),
)}


@dataclass(frozen=True)
class Dialect:
    """The few expressions that PostgreSQL and SQLite spell differently."""

    vendor: str

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    def text(self, key: str) -> str:
        """A data field as text (strings unquoted)."""
        return f"(e.data ->> '{key}')" if self.postgres else f"(e.data ->> '$.{key}')"

    def flag(self, key: str) -> str:
        return f"({self.text(key)} = 'true')" if self.postgres else f"({self.text(key)} = 1)"

    def number(self, key: str) -> str:
        if self.postgres:
            return f"({self.text(key)})::double precision"
        return f"CAST({self.text(key)} AS REAL)"

    def seconds(self, start: str, end: str) -> str:
        """Seconds from ``start`` to ``end``, to the millisecond (null if either is)."""
        if self.postgres:
            return f"ROUND(EXTRACT(EPOCH FROM ({end} - {start})), 3)::double precision"
        return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)"

    def hour(self, moment: str) -> str:
        if self.postgres:
            return f"date_trunc('hour', {moment})"
        return f"strftime('%%Y-%%m-%%d %%H:00:00', {moment})"

    def hour_end(self, moment: str) -> str:
        if self.postgres:
            return f"(date_trunc('hour', {moment}) + interval '1 hour')"
        return f"strftime('%%Y-%%m-%%d %%H:00:00', {moment}, '+1 hour')"

    def day(self, moment: str) -> str:
        if self.postgres:
            return f"date_trunc('day', {moment})"
        return f"strftime('%%Y-%%m-%%d 00:00:00', {moment})"

    def day_end(self, moment: str) -> str:
        if self.postgres:
            return f"(date_trunc('day', {moment}) + interval '1 day')"
        return f"strftime('%%Y-%%m-%%d 00:00:00', {moment}, '+1 day')"

    @staticmethod
    def bin(value: str) -> str:
        """The histogram bin of a duration: 8 bins per doubling (see HistogramRollup)."""
        return f"CAST(FLOOR(8 * LN({value} + 1) / LN(2)) AS INTEGER)"


def case(column: str, mapping: dict[str, str], default: str = "NULL") -> str:
    whens = " ".join(f"WHEN '{key}' THEN '{value}'" for key, value in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def group_by(*expressions: str) -> str:
    # Constants stay out of GROUP BY: SQLite reads a number there as a column position.
    return ", ".join(e for e in expressions if not (e.isdigit() or e.startswith("'")))
