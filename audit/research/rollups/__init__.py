"""Research rollups: the log folded into small fact tables that the metrics read.

``refresh()`` reads the events it has not folded yet and rebuilds, from all of their events,
the facts of every clip they touch (one row per clip, one per queue entry) and the counts
and histograms of every hour and day those facts fall in. Everything is set-based SQL
(``INSERT ... SELECT`` over the events), the same on PostgreSQL and SQLite.

Why rebuild per clip rather than add increments: a rebuild is a pure function of the
committed events, so folding an event twice changes nothing, and an event that commits late
(its id is lower than ids already folded) is folded when it shows up, with the clip's facts
rebuilt around it.

Which events are new: everything above a watermark (``RollupState.folded_through``) that is
not listed as folded already (``RollupFoldedEvent``). On PostgreSQL the watermark moves up
over folded ids as long as they are consecutive. A missing id may belong to a transaction
that has not committed yet, so it holds the watermark back until every transaction that was
writing when the previous refresh ended has ended (the id was then a rollback's; this needs
the sessions of the platform's database role visible in ``pg_stat_activity``, as they are to
that role), and at the latest until a grace period has passed. On SQLite one writer at a
time commits its ids in order, so the watermark follows the highest folded id.

Concurrency: a refresh locks the state row for its transaction, so two refreshes at once
run one after the other, and the second finds nothing left to do.
"""

from audit.research.rollups.definitions import GATE_TRACKS, HISTOGRAMS, MEASURES, TTD_BANDS
from audit.research.rollups.fold import refresh, refresh_tail, rollup_state

__all__ = ["GATE_TRACKS", "HISTOGRAMS", "MEASURES", "TTD_BANDS", "refresh", "refresh_tail",
           "rollup_state"]
