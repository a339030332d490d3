"""Generates the researchers' data dictionary of audit actions from the registry."""

from __future__ import annotations

from itertools import groupby

from audit import registry

HEADER = """\
# Audit events: the data dictionary

Generated from the action registry by `python manage.py audit_docs`; do not edit by hand
(a test fails when this file and the registry disagree).

Every event has: `id`, `occurred_at` (UTC), `action`, the actor (`actor_type` of `user`,
`system` or `anonymous`; `actor_id` for users, `actor_name` for system actors, and the
user's `actor_role` when it acted), the subject (`subject_type`, `subject_id`), `data`
(the fields listed below, all always present, possibly `null`) and `context` (the client's
IP address and user agent: personal data, never part of research views).
"""


def render() -> str:
    lines = [HEADER]
    for namespace, actions in groupby(registry.all_actions(), key=lambda a: a.namespace):
        lines.append(f"## `{namespace}`\n")
        for action in actions:
            lines.append(f"### `{action.name}`\n")
            lines.append(f"{action.description}\n")
            if action.subject:
                lines.append(f"Subject: `{action.subject}`.\n")
            if action.fields:
                lines.append("| field | meaning |\n|---|---|")
                lines.extend(f"| `{name}` | {meaning} |" for name, meaning in action.fields.items())
                lines.append("")
            else:
                lines.append("No data fields.\n")
    return "\n".join(lines).rstrip() + "\n"
