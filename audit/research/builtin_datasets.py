"""The platform's own datasets: ``events``, ``submissions`` and ``decisions``.

Each is plain SQL over the platform's tables, written once for PostgreSQL and SQLite through
the helpers of ``QueryContext``; ``docs/datasets.md`` documents their columns.
"""
# ruff: noqa: S608  (SQL composed of table and field names from code; values are bound)

from __future__ import annotations

from audit.research import redaction
from audit.research.datasets import (
    BOOLEAN,
    FLOAT,
    INTEGER,
    JSON,
    TEXT,
    TIMESTAMP,
    Column,
    Dataset,
    Query,
    QueryContext,
    register_dataset,
)

USER_SUBJECT = "accounts.user"
CLIP_SUBJECT = "submissions.submission"


# -- events ---------------------------------------------------------------------------------

def _events(ctx: QueryContext) -> Query:
    events, seals = ctx.table("audit.Event"), ctx.table("audit.Seal")
    people = ctx.pseudonyms
    select = {
        "id": "e.id",
        "seq": "s.seq",
        "leaf_hash": "s.leaf_hash",
        "hash": "s.hash",
        "occurred_at": "e.occurred_at",
        "action": "e.action",
        "actor_type": "e.actor_type",
        "actor": ("CASE e.actor_type WHEN 'user' THEN actor.pseudonym "
                  "WHEN 'system' THEN NULLIF(e.actor_name, '') END"),
        "actor_role": "NULLIF(e.actor_role, '')",
        "subject_type": "NULLIF(e.subject_type, '')",
        # A person as subject is rare: looked up only then, rather than joined for every row.
        "subject_id": (f"CASE WHEN e.subject_type = '{USER_SUBJECT}' THEN (SELECT "
                       f"subject.pseudonym FROM {people} subject WHERE subject.user_ref = "
                       "e.subject_id) ELSE NULLIF(e.subject_id, '') END"),
        "data": redaction.data_expression(ctx, "e.data", "e.action"),
        "actor_username": "actor.username",
        "context": "e.context",
    }
    # A page's bounds apply to the seals too, or the join would read them from the start.
    seal_range, params = ctx.key_range("s.event_id")
    from_ = (f"{events} e LEFT JOIN {seals} s ON s.event_id = e.id AND {seal_range} "
             f"LEFT JOIN {people} actor ON actor.user_id = e.actor_id")
    where, time_params = ctx.time_range("e.occurred_at")
    params += time_params
    filters = ctx.filters
    if filters.action is not None:
        where.append("e.action = %s")
        params.append(filters.action)
    if filters.subject_unknown_person:
        where.append("1 = 0")
    elif filters.subject_user_id is not None:
        where.append(f"e.subject_type = '{USER_SUBJECT}' AND e.subject_id = %s")
        params.append(str(filters.subject_user_id))
    elif filters.subject_id is not None:
        where.append(f"e.subject_id = %s AND e.subject_type <> '{USER_SUBJECT}'")
        params.append(filters.subject_id)
    if filters.cohort_id is not None:
        users, clips = ctx.table("accounts.User"), ctx.table("submissions.Submission")
        where.append(f"(e.actor_id IN (SELECT u.id FROM {users} u WHERE u.cohort_id = %s) "
                     f"OR (e.subject_type = '{CLIP_SUBJECT}' AND e.subject_id IN ("
                     f"SELECT {ctx.uuid_text('c.id')} FROM {clips} c WHERE c.cohort_id = %s)))")
        params += [filters.cohort_id, filters.cohort_id]
    return Query(select=select, from_=from_, where=where, params=params, order_by="e.id")


EVENTS = register_dataset(Dataset(
    name="events",
    description=(
        "One row per audit event, in the log's order: what happened, when, to what, and who "
        "did it (as a pseudonym). `docs/audit-events.md` describes every action and its data "
        "fields. `seq`, `leaf_hash` and `hash` place the event in the sealed hash chain, so an "
        "export can be checked against a signed checkpoint; they are empty for the few "
        "seconds before the sealer reaches a new event."),
    columns=(
        Column("id", INTEGER, "The event's id; ascending in the order events were written."),
        Column("seq", INTEGER, "Its sequence number in the sealed chain (1, 2, 3, ... without "
                               "gaps); empty until sealed."),
        Column("leaf_hash", TEXT, "Hex SHA-256 of the event's canonical JSON (the full event, "
                                  "identities included, as the chain holds it)."),
        Column("hash", TEXT, "Hex SHA-256 of the chain up to and including this event."),
        Column("occurred_at", TIMESTAMP, "When it happened."),
        Column("action", TEXT, "What happened: a registered action such as `review.decided`."),
        Column("actor_type", TEXT, "`user` (a person), `system` (the platform on its own) or "
                                   "`anonymous` (a client that was not signed in)."),
        Column("actor", TEXT, "Who acted: a person's pseudonym, the name of a system actor "
                              "(`sampler`, `lease-sweeper`, ...), or empty when anonymous."),
        Column("actor_role", TEXT, "The acting person's most privileged role when they acted: "
                                   "tester, moderator, researcher or program_admin."),
        Column("subject_type", TEXT, "The kind of thing acted on (`submissions.submission`, "
                                     "`accounts.user`, ...), or empty."),
        Column("subject_id", TEXT, "Its id; a pseudonym when the subject is a person."),
        Column("data", JSON, "The action's data fields (see docs/audit-events.md); ids of "
                             "people are pseudonyms and free-text fields are left out unless "
                             "the study is granted free text."),
        Column("actor_username", TEXT, "The acting person's username.", grant="identities"),
        Column("context", JSON, "Client facts kept with the event: `ip` and `user_agent`.",
               grant="client_context"),
    ),
    build=_events,
    filters=("since", "until", "action", "cohort", "subject_id"),
    key="id",
    subject_id_type="text",
    filter_notes={
        "since": "`occurred_at` at or after this time.",
        "until": "`occurred_at` before this time.",
        "action": "Only this action (a registered name such as `review.decided`).",
        "cohort": "Events whose actor is a member of the cohort, or whose subject is a clip "
                  "made in it.",
        "subject_id": "Events about this subject: a clip's id, a person's pseudonym, ...",
    },
))


# -- submissions ----------------------------------------------------------------------------

def _submissions(ctx: QueryContext) -> Query:
    clips, cohorts = ctx.table("submissions.Submission"), ctx.table("accounts.Cohort")
    claims, decisions = ctx.table("review.Claim"), ctx.table("review.Decision")
    appeals, links = ctx.table("review.Appeal"), ctx.table("submissions.ShareLink")
    select = {
        "submission_id": ctx.uuid_text("s.id"),
        "tester": "owner.pseudonym",
        "cohort": "co.slug",
        "source": "s.source",
        "status": "s.status",
        "failure_code": "NULLIF(s.failure_code, '')",
        "final_outcome": "ed.outcome",
        "appeal_result": "NULLIF(a.result, '')",
        "created_at": "s.created_at",
        "submitted_at": "s.submitted_at",
        "processed_at": "s.processed_at",
        "entered_queue_at": "s.processed_at",
        "first_claimed_at": "fc.first_claimed_at",
        "decided_at": "fd.decided_at",
        "appealed_at": "a.created_at",
        "appeal_decided_at": "ad.decided_at",
        "shared_at": "sh.shared_at",
        "withdrawn_at": "s.withdrawn_at",
        "appeal_message": "a.message",
        "tester_username": "owner.username",
    }
    from_ = (
        f"{clips} s LEFT JOIN {cohorts} co ON co.id = s.cohort_id "
        f"LEFT JOIN {ctx.pseudonyms} owner ON owner.user_id = s.owner_id "
        f"LEFT JOIN (SELECT submission_id, min(claimed_at) AS first_claimed_at FROM {claims} "
        "GROUP BY submission_id) fc ON fc.submission_id = s.id "
        f"LEFT JOIN (SELECT submission_id, min(decided_at) AS decided_at FROM {decisions} "
        "WHERE track <> 'second_opinion' AND outcome IN ('approve', 'reject') "
        "GROUP BY submission_id) fd ON fd.submission_id = s.id "
        f"LEFT JOIN {decisions} ed ON ed.submission_id = s.id AND ed.is_effective "
        f"LEFT JOIN {appeals} a ON a.submission_id = s.id "
        f"LEFT JOIN {decisions} ad ON ad.id = a.decision_id "
        f"LEFT JOIN (SELECT submission_id, min(created_at) AS shared_at FROM {links} "
        "GROUP BY submission_id) sh ON sh.submission_id = s.id")
    where, params = ctx.clip_conditions("s.created_at", "s.id")
    return Query(select=select, from_=from_, where=where, params=params,
                 order_by="s.created_at, s.id")


SUBMISSIONS = register_dataset(Dataset(
    name="submissions",
    description=(
        "One row per clip, with the time it reached every stage of the approval gate. A stage "
        "not (yet) reached is empty. Prompts, titles and media stay out: researchers study the "
        "gate, not the clips. Oldest clip first."),
    columns=(
        Column("submission_id", TEXT, "The clip's id (a UUID)."),
        Column("tester", TEXT, "The pseudonym of the tester who made it."),
        Column("cohort", TEXT, "The slug of the tester's cohort when the clip was made."),
        Column("source", TEXT, "`upload` or `generated`."),
        Column("status", TEXT, "Its status now: generating, draft, received, processing, "
                               "failed, pending_review, approved, rejected or withdrawn."),
        Column("failure_code", TEXT, "Why processing failed (`media.too_long`, ...), when it "
                                     "did."),
        Column("final_outcome", TEXT, "The outcome of its effective decision now: `approve` or "
                                      "`reject` (after an appeal, the appeal's)."),
        Column("appeal_result", TEXT, "`upheld` or `overturned` once an appeal was decided."),
        Column("created_at", TIMESTAMP, "Uploaded, or asked of the generator."),
        Column("submitted_at", TIMESTAMP, "Submitted to the approval gate."),
        Column("processed_at", TIMESTAMP, "Processing succeeded (probe, policy, renditions)."),
        Column("entered_queue_at", TIMESTAMP, "First entered the review queue (a processed "
                                              "clip enters it at once)."),
        Column("first_claimed_at", TIMESTAMP, "First claimed by a moderator."),
        Column("decided_at", TIMESTAMP, "First approved or rejected (an escalation is not a "
                                        "verdict; a second opinion never counts)."),
        Column("appealed_at", TIMESTAMP, "The tester appealed the rejection."),
        Column("appeal_decided_at", TIMESTAMP, "The appeal was decided."),
        Column("shared_at", TIMESTAMP, "First shared through a public link."),
        Column("withdrawn_at", TIMESTAMP, "Withdrawn by the tester."),
        Column("appeal_message", TEXT, "The tester's appeal message.", grant="free_text"),
        Column("tester_username", TEXT, "The tester's username.", grant="identities"),
    ),
    build=_submissions,
    filter_notes={
        "since": "`created_at` at or after this time.",
        "until": "`created_at` before this time.",
        "cohort": "Clips made in the cohort.",
        "subject_id": "Only this clip (a UUID).",
    },
))


# -- decisions ------------------------------------------------------------------------------

def _decisions(ctx: QueryContext) -> Query:
    decisions, clips = ctx.table("review.Decision"), ctx.table("submissions.Submission")
    claims, cohorts = ctx.table("review.Claim"), ctx.table("accounts.Cohort")
    appeals, seconds = ctx.table("review.Appeal"), ctx.table("review.SecondOpinion")
    escalations = ctx.table("review.Escalation")
    queued = ("CASE d.track WHEN 'primary' THEN s.processed_at "
              "WHEN 'appeal' THEN a.created_at "
              "WHEN 'second_opinion' THEN so.created_at "
              f"WHEN 'escalation' THEN (SELECT max(x.created_at) FROM {escalations} x "
              "WHERE x.submission_id = d.submission_id AND x.created_at <= d.decided_at) END")
    select = {
        "decision_id": ctx.uuid_text("d.id"),
        "submission_id": ctx.uuid_text("d.submission_id"),
        "kind": "d.track",
        "outcome": "d.outcome",
        "reasons": "d.reasons",
        "taxonomy_version": "d.taxonomy_version",
        "automated": "FALSE",
        "effective": "d.is_effective",
        "moderator": "moderator.pseudonym",
        "cohort": "co.slug",
        "queued_at": queued,
        "claimed_at": "cl.claimed_at",
        "decided_at": "d.decided_at",
        "time_to_decision_s": ctx.seconds_between(queued, "d.decided_at"),
        "handling_s": ctx.seconds_between("cl.claimed_at", "d.decided_at"),
        "reviews_decision_id": (
            f"CASE d.track WHEN 'appeal' THEN {ctx.uuid_text('a.rejection_id')} "
            f"WHEN 'second_opinion' THEN {ctx.uuid_text('so.first_decision_id')} END"),
        "appeal_result": "CASE WHEN a.decision_id = d.id THEN NULLIF(a.result, '') END",
        "note_to_tester": "NULLIF(d.note_to_tester, '')",
        "internal_note": "NULLIF(d.internal_note, '')",
        "moderator_username": "moderator.username",
    }
    from_ = (
        f"{decisions} d JOIN {clips} s ON s.id = d.submission_id "
        f"JOIN {claims} cl ON cl.id = d.claim_id "
        f"LEFT JOIN {cohorts} co ON co.id = s.cohort_id "
        f"LEFT JOIN {ctx.pseudonyms} moderator ON moderator.user_id = d.moderator_id "
        f"LEFT JOIN {appeals} a ON a.submission_id = d.submission_id "
        f"LEFT JOIN {seconds} so ON so.decision_id = d.id")
    where, params = ctx.clip_conditions("d.decided_at", "d.submission_id")
    return Query(select=select, from_=from_, where=where, params=params,
                 order_by="d.decided_at, d.id")


DECISIONS = register_dataset(Dataset(
    name="decisions",
    description=(
        "One row per decision, in the shape of a statement of reasons: what was decided about "
        "which clip, on what grounds (reason codes of a versioned taxonomy), by whom (a "
        "pseudonym), whether automated, and how long it took. A clip has one effective "
        "decision at a time; appeals, escalations and second opinions add rows. In the order they "
        "were made."),
    columns=(
        Column("decision_id", TEXT, "The decision's id (a UUID)."),
        Column("submission_id", TEXT, "The clip decided (a UUID)."),
        Column("kind", TEXT, "`primary` (first review), `appeal`, `escalation` (a program "
                             "admin's decision on an escalated clip) or `second_opinion` (a "
                             "blind second review, for agreement only)."),
        Column("outcome", TEXT, "`approve`, `reject` or `escalate`."),
        Column("reasons", JSON, "The reason codes given, as a JSON array (empty for "
                                "approvals)."),
        Column("taxonomy_version", INTEGER, "The version of the reason taxonomy in force; "
                                            "codes mean what that version says."),
        Column("automated", BOOLEAN, "Whether the decision was made by software: always false "
                                     "here, people make every decision."),
        Column("effective", BOOLEAN, "Whether it is the clip's effective decision now."),
        Column("moderator", TEXT, "The pseudonym of the person who decided."),
        Column("cohort", TEXT, "The slug of the clip's cohort."),
        Column("queued_at", TIMESTAMP, "When the clip entered the queue for this decision: "
                                       "processed (primary), appealed (appeal), escalated "
                                       "(escalation), sampled (second_opinion)."),
        Column("claimed_at", TIMESTAMP, "When the moderator claimed it."),
        Column("decided_at", TIMESTAMP, "When the decision was made."),
        Column("time_to_decision_s", FLOAT, "Seconds from `queued_at` to `decided_at`."),
        Column("handling_s", FLOAT, "Seconds from `claimed_at` to `decided_at`."),
        Column("reviews_decision_id", TEXT, "The earlier decision this one reviews: the "
                                            "rejection appealed against (appeal), the decision "
                                            "compared (second_opinion)."),
        Column("appeal_result", TEXT, "For the decision that settled an appeal: `upheld` or "
                                      "`overturned`."),
        Column("note_to_tester", TEXT, "The note sent to the tester.", grant="free_text"),
        Column("internal_note", TEXT, "The moderator's note for other staff.",
               grant="free_text"),
        Column("moderator_username", TEXT, "The moderator's username.", grant="identities"),
    ),
    build=_decisions,
    filter_notes={
        "since": "`decided_at` at or after this time.",
        "until": "`decided_at` before this time.",
        "cohort": "Decisions on clips made in the cohort.",
        "subject_id": "Decisions on this clip (a UUID).",
    },
))
