"""What of an event's ``data`` a study may read.

The action registry (``audit.registry``) says what each data field means; this module says
which fields need care before a researcher sees them:

- free text typed by a person (a reason given for suspending the program, say) is left out
  unless the study is granted free text;
- ids of people (an account id inside the data) are replaced by the study's pseudonyms, like
  the actor;
- other identifiers that are the same in every study (a fingerprint of a person's API token)
  are left out unless the study is granted identities, or they would link pseudonyms across
  studies.

Fields whose names suggest either but are neither (a reason *code* from a fixed list, a
message's *length*) are listed too, with why, so that a test can insist that every field
named like text or like a person has been looked at (tests/research/test_redaction.py).
"""
# ruff: noqa: S608  (SQL composed of table and field names from code; values are bound)

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.research.datasets import QueryContext

# (action, field) → what the text is. Removed from ``data`` unless the study has free text.
FREE_TEXT: dict[tuple[str, str], str] = {
    ("program.paused", "reason"): "the reason a program admin typed, shown to testers",
    ("program.resumed", "reason"): "the reason a program admin typed, shown to testers",
    ("program.suspended", "reason"): "the reason a program admin typed, shown to testers",
}

# (action, field) → why it is not free text although its name suggests it.
NOT_FREE_TEXT: dict[tuple[str, str], str] = {
    ("auth.sign_in_failed", "reason"): "a code: bad_password, unknown_user or inactive",
    ("review.decided", "reasons"): "reason codes of the taxonomy",
    ("security.token_anomaly", "reason"): "a code: distinct_addresses or rate",
    ("invitation.redemption_refused", "reason"): "a code from a fixed list",
    ("submission.appealed", "message_chars"): "the message's length, not its text",
    ("submission.processing_interrupted", "error"): "the kind of fault, named by the platform",
}

ONE, MANY = "one", "many"

# (action, field) → ONE (a user id) or MANY (a list of user ids). Replaced by pseudonyms.
PEOPLE: dict[tuple[str, str], str] = {
    ("invitation.redeemed", "user_id"): ONE,
    ("research.study_saved", "researchers"): MANY,
}

# (action, field) → why it is not a person's id although its name suggests it.
NOT_PEOPLE: dict[tuple[str, str], str] = {}

# (action, field) → what it identifies. Removed from ``data`` unless the study has identities.
IDENTIFYING: dict[tuple[str, str], str] = {
    ("security.token_anomaly", "token_fingerprint"): "a person's API token, in every study alike",
}

# (action, field) → why it identifies no person although its name suggests it.
NOT_IDENTIFYING: dict[tuple[str, str], str] = {
    ("invitation.created", "email_bound"): "whether an address was bound, not the address",
}

# Field names that make a field suspect: the redaction test fails until each such registered
# field is listed in FREE_TEXT or NOT_FREE_TEXT (or PEOPLE or NOT_PEOPLE).
TEXT_LIKE = re.compile(r"note|message|text|reason|comment|prompt|title|description|error|"
                       r"explanation|feedback|body|summary|why")
PERSON_LIKE = re.compile(r"(^|_)(user|users|actor|actors|owner|owners|moderator|moderators|"
                         r"researcher|researchers|tester|testers|person|people|member|members|"
                         r"admin|admins|by)(_ids?)?$|user_id")
IDENTIFIER_LIKE = re.compile(r"token|fingerprint|e_?mail|username|login|(^|_)ip($|_)|address|"
                             r"phone|device|session|cookie")


def data_expression(ctx: QueryContext, data: str, action: str) -> str:
    """SQL for an event's data as this study may read it: ``data`` is the JSON column,
    ``action`` the action column of the same row."""
    steps: dict[str, list[tuple[str, str]]] = {}
    if not ctx.granted("free_text"):
        for action_name, name in FREE_TEXT:
            steps.setdefault(action_name, []).append(("drop", name))
    if not ctx.granted("identities"):
        for action_name, name in IDENTIFYING:
            steps.setdefault(action_name, []).append(("drop", name))
    for (action_name, name), kind in PEOPLE.items():
        steps.setdefault(action_name, []).append((kind, name))
    if not steps:
        return data
    branches = []
    for action_name in sorted(steps):
        expression = data
        for kind, name in steps[action_name]:
            expression = _step(ctx, expression, kind, name)
        branches.append(f"WHEN {_literal(action_name)} THEN {expression}")
    return f"CASE {action} {' '.join(branches)} ELSE {data} END"


def _literal(text: str) -> str:
    # Only ever called with registry names (dotted lower-case words) and field names.
    if not re.fullmatch(r"[a-z0-9_.]+", text):
        raise ValueError(f"not a plain name: {text!r}")
    return f"'{text}'"


def _step(ctx: QueryContext, expression: str, kind: str, name: str) -> str:
    key, table = _literal(name), ctx.pseudonyms
    if ctx.postgres:
        if kind == "drop":
            return f"({expression} - {key})"
        if kind == ONE:
            return (f"jsonb_set({expression}, ARRAY[{key}], coalesce(("
                    f"SELECT to_jsonb(p.pseudonym) FROM {table} p "
                    f"WHERE p.user_ref = ({expression}) ->> {key}), 'null'::jsonb))")
        return (f"jsonb_set({expression}, ARRAY[{key}], CASE WHEN jsonb_typeof(({expression}) "
                f"-> {key}) = 'array' THEN coalesce((SELECT jsonb_agg(to_jsonb(p.pseudonym) "
                f"ORDER BY r.n) FROM jsonb_array_elements_text(({expression}) -> {key}) "
                f"WITH ORDINALITY AS r(ref, n) LEFT JOIN {table} p ON p.user_ref = r.ref), "
                f"'[]'::jsonb) ELSE 'null'::jsonb END)")
    path = f"'$.{name}'"
    if kind == "drop":
        return f"json_remove({expression}, {path})"
    if kind == ONE:
        return (f"json_set({expression}, {path}, (SELECT p.pseudonym FROM {table} p "
                f"WHERE p.user_ref = CAST(json_extract({expression}, {path}) AS TEXT)))")
    return (f"json_set({expression}, {path}, CASE WHEN json_type({expression}, {path}) = "
            f"'array' THEN json((SELECT json_group_array((SELECT p.pseudonym FROM {table} p "
            f"WHERE p.user_ref = CAST(r.value AS TEXT))) FROM json_each({expression}, {path}) "
            f"r)) ELSE json('null') END)")
