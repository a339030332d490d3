"""Generates ``docs/datasets.md``, the data dictionary of the research datasets, from the
dataset registry and the redaction rules."""

from __future__ import annotations

from audit.research import redaction
from audit.research.datasets import Dataset, all_datasets

GRANT_TEXT = {
    "identities": "identities",
    "free_text": "free text",
    "client_context": "client context",
}

HEADER = """\
# Research datasets: the data dictionary

Generated from the dataset registry by `python manage.py datasets_docs`; do not edit by hand
(a test fails when this file and the registry disagree). The audit actions and their data
fields are described in [audit-events.md](audit-events.md).

## Getting the data

Researchers read the data through a **study**. Every request answers for one study: the only
one you belong to, or the one named with `?study=<slug>` when you belong to several.

- `GET /api/v1/research/export/{dataset}.{format}` streams a whole dataset as a file:
  `format` is `csv` (with a header row), `jsonl` (JSON Lines: one object per line) or
  `parquet` (Apache Parquet, zstd-compressed, in row groups of a few thousand rows). All three
  carry the same columns, in the same order, with the same values. Rows come in a fixed order,
  so two exports of the same data are identical.
- `GET /api/v1/research/events/` serves the `events` dataset page by page
  (`{"results": [...], "next": url, "previous": url}`; `page_size` up to 200), with the same
  values as the export.

```bash
curl -H "Authorization: Token $TOKEN" -o decisions.parquet \\
  "https://early-access.example.org/api/v1/research/export/decisions.parquet?since=2025-03-01"
```

```python
import pandas as pd
decisions = pd.read_parquet("decisions.parquet")
```

## Pseudonyms

Nobody appears by name, e-mail, address or account id. A person appears as a **pseudonym**:
`u_` followed by the first 16 hexadecimal digits of HMAC-SHA256(key, "<study id>:<user id>"),
where the key is a secret the platform never shares. So:

- the same person has the same pseudonym everywhere in one study: in every dataset, every
  format, every export, as actor, as subject and inside event data;
- two studies see the same person under two unrelated pseudonyms, so their data cannot be
  joined to follow a person across studies;
- without the key a pseudonym cannot be turned back into an account, not even by trying
  every account id.

Ids of people inside an event's data are replaced by pseudonyms as well:

@people@

Even so, pseudonymous data about a small group (a handful of moderators, say) can point to
the people behind it when combined with what else a reader knows; treat it as personal data.

## What a study may read

By default a study reads pseudonyms only. A program admin may grant a study more; each grant
adds the columns and fields listed here and nothing else.

| grant | adds |
|---|---|
@grants@

Without the free-text grant these data fields are left out of `data` (the key is absent):

@free_text@

Without the identities grant these data fields are left out of `data`, because they are the
same in every study and would link pseudonyms across studies:

@identifying@

## Types

| type | CSV | JSON Lines | Parquet |
|---|---|---|---|
| integer | digits | number | int64 |
| float | decimal (`12.5`) | number | double |
| text | text, quoted when needed | string | string (UTF-8) |
| boolean | `true` / `false` | `true` / `false` | boolean |
| timestamp | ISO 8601, UTC, microseconds: `2025-03-04T09:00:00.000000Z` | the same text | \
timestamp (µs, UTC) |
| json | the JSON text | the JSON value itself | string holding the JSON text |

An empty value (NULL) is an empty unquoted field in CSV, `null` in JSON Lines and a null in
Parquet; an empty string is `""` in CSV.

## Filters

Every filter is optional and may be combined with the others; a filter a dataset does not
take, or a value that cannot be read, is refused with `400 request.invalid` naming the field.

| filter | value |
|---|---|
| `since` | an ISO 8601 date-time (UTC unless it has an offset) or a date (its midnight, \
UTC); inclusive |
| `until` | the same; exclusive |
| `action` | a registered action, such as `review.decided` |
| `cohort` | a cohort's slug, such as `creative-partners` |
| `subject_id` | an id: a clip's UUID, or a person's pseudonym in this study |
"""


def _bullets(pairs: dict[tuple[str, str], str]) -> str:
    if not pairs:
        return "- (none)"
    return "\n".join(f"- `{action}`, field `{name}`: {about}"
                     for (action, name), about in sorted(pairs.items()))


def _people() -> str:
    kinds = {redaction.ONE: "a person", redaction.MANY: "a list of people"}
    return "\n".join(f"- `{action}`, field `{name}`: {kinds[kind]}"
                     for (action, name), kind in sorted(redaction.PEOPLE.items()))


def _grants(datasets: list[Dataset]) -> str:
    rows = []
    for grant, label in GRANT_TEXT.items():
        columns = [f"`{dataset.name}.{column.name}`" for dataset in datasets
                   for column in dataset.columns if column.grant == grant]
        extra = {"free_text": "; the free-text data fields below",
                 "identities": "; the identifying data fields below"}.get(grant, "")
        rows.append(f"| {label} | {', '.join(columns) or 'nothing yet'}{extra} |")
    return "\n".join(rows)


def _dataset(dataset: Dataset) -> list[str]:
    lines = [f"## `{dataset.name}`\n", f"{dataset.description}\n"]
    lines.append("| column | type | meaning |\n|---|---|---|")
    for column in dataset.columns:
        meaning = column.meaning
        if column.grant:
            meaning += f" *Only with the {GRANT_TEXT[column.grant]} grant.*"
        lines.append(f"| `{column.name}` | {column.type} | {meaning} |")
    lines.append("")
    lines.append("| filter | selects |\n|---|---|")
    lines.extend(f"| `{name}` | {dataset.filter_notes.get(name, '')} |"
                 for name in dataset.filters)
    lines.append("")
    return lines


def render() -> str:
    datasets = all_datasets()
    header = HEADER
    for name, text in (("people", _people()), ("grants", _grants(datasets)),
                       ("free_text", _bullets(redaction.FREE_TEXT)),
                       ("identifying", _bullets(redaction.IDENTIFYING))):
        header = header.replace(f"@{name}@", text)
    lines = [header]
    for dataset in datasets:
        lines.extend(_dataset(dataset))
    return "\n".join(lines).rstrip() + "\n"
