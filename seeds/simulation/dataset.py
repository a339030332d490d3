"""The ``ground_truth`` research dataset: what each simulated clip really was.

Registered into the research datasets (``audit.research.datasets``) when the app is ready, so
it is exported, documented and served like the platform's own datasets. In a real program the
table is empty; in a simulated one, join it to ``decisions`` or ``submissions`` on
``submission_id`` to measure how well the gate did.
"""

from __future__ import annotations

from audit.research.datasets import (
    BOOLEAN,
    TEXT,
    Column,
    Dataset,
    Query,
    QueryContext,
    register_dataset,
)


def _ground_truth(ctx: QueryContext) -> Query:
    truth, clips = ctx.table("seeds.GroundTruth"), ctx.table("submissions.Submission")
    select = {
        "submission_id": ctx.uuid_text("g.submission_id"),
        "violates": "g.violates",
        "category": "NULLIF(g.category, '')",
        "origin": "g.origin",
    }
    from_ = f"{truth} g JOIN {clips} s ON s.id = g.submission_id"
    where, params = ctx.clip_conditions("s.created_at", "g.submission_id")
    return Query(select=select, from_=from_, where=where, params=params,
                 order_by="s.created_at, s.id")


GROUND_TRUTH = Dataset(
    name="ground_truth",
    description=(
        "What each clip of a simulated program really was, as only the simulation knows it: "
        "whether it breaks the policy, under which reason code, and who made it. Moderators "
        "never see it. One row per clip, in the order of `submissions`; join on "
        "`submission_id`. Empty for a program run by real people."),
    columns=(
        Column("submission_id", TEXT, "The clip's id (a UUID), as in `submissions` and "
                                      "`decisions`."),
        Column("violates", BOOLEAN, "Whether the clip truly breaks the program's policy."),
        Column("category", TEXT, "The reason code it truly falls under (`likeness`, "
                                 "`copyright`, ...); empty when it does not violate."),
        Column("origin", TEXT, "`tester`: made by the tester who owns it; `outsider`: made "
                               "by an outsider through that tester's leaked token."),
    ),
    build=_ground_truth,
    filter_notes={
        "since": "Clips created at or after this time.",
        "until": "Clips created before this time.",
        "cohort": "Clips made in the cohort.",
        "subject_id": "Only this clip (a UUID).",
    },
)


def register() -> None:
    register_dataset(GROUND_TRUTH)
