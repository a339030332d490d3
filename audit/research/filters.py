"""The filters of research requests: parsed and checked before any row is read, so a bad
value is a 400 that names the field, never a half-sent file."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, time

from django.utils.dateparse import parse_date, parse_datetime

from audit import registry
from audit.research.access import Person
from audit.research.datasets import FILTERS, Dataset, Filters
from core.errors import InvalidInput

PSEUDONYM = re.compile(r"^u_[0-9a-f]{16}$")
MAX_SUBJECT_ID = 64


def _moment(text: str) -> datetime | None:
    """An ISO 8601 date-time (UTC unless it names an offset) or a date (its midnight, UTC)."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time()) if day else None
    except ValueError:  # well formed but impossible, such as 2025-02-30
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def parse_filters(params: Mapping[str, str], dataset: Dataset,
                  people: list[Person]) -> Filters:
    """The request's filters for ``dataset``, or ``InvalidInput`` naming every bad one.

    ``since`` and ``until`` take an ISO 8601 date-time or date; ``cohort`` a cohort's slug;
    ``action`` a registered action; ``subject_id`` an id, or a person's pseudonym in this
    study. A filter the dataset does not understand is refused rather than ignored, so a
    typo never returns more rows than asked for.
    """
    from django.apps import apps

    given = {name: params[name].strip() for name in FILTERS
             if name in params and params[name].strip()}
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for name in given:
        if name not in dataset.filters:
            errors[name] = [f"The {dataset.name} dataset has no {name} filter."]

    for name in ("since", "until"):
        if name in given and name not in errors:
            moment = _moment(given[name])
            if moment is None:
                errors[name] = ["Give an ISO 8601 date-time or date, such as "
                                "2025-03-04T05:06:07Z or 2025-03-04."]
            else:
                values[name] = moment
    if "since" in values and "until" in values and values["until"] <= values["since"]:
        errors["until"] = ["Must be later than since."]

    if "action" in given and "action" not in errors:
        try:
            values["action"] = registry.get(given["action"]).name
        except registry.UnknownAction:
            errors["action"] = ["No such action; see docs/audit-events.md."]

    if "cohort" in given and "cohort" not in errors:
        cohort = apps.get_model("accounts", "Cohort").objects.filter(
            slug=given["cohort"]).values_list("pk", "slug").first()
        if cohort is None:
            errors["cohort"] = ["No cohort with this slug."]
        else:
            values["cohort_id"], values["cohort"] = cohort

    if "subject_id" in given and "subject_id" not in errors:
        subject = given["subject_id"]
        if dataset.subject_id_type == "uuid":
            try:
                values["subject_id"] = str(uuid.UUID(subject))
            except ValueError:
                errors["subject_id"] = ["Must be a clip's id (a UUID)."]
        elif len(subject) > MAX_SUBJECT_ID:
            errors["subject_id"] = [f"At most {MAX_SUBJECT_ID} characters."]
        else:
            values["subject_id"] = subject
            if PSEUDONYM.match(subject):
                person = next((p for p in people if p.pseudonym == subject), None)
                if person is None:
                    values["subject_unknown_person"] = True
                else:
                    values["subject_user_id"] = person.user_id

    if errors:
        raise InvalidInput(fields=errors)
    return Filters(**values)
