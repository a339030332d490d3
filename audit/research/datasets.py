"""The research datasets: named, documented tables that researchers export and page through.

A dataset is a list of columns (name, type, meaning) and a function that writes its SQL for
one request: a ``Query`` of one expression per column, a FROM clause with its joins, the
conditions of the request's filters, and the order of the rows. The export machinery
(``audit.research.exports``) wraps that query to stream CSV, JSON Lines and Parquet; on
PostgreSQL it runs inside ``COPY ... TO STDOUT``, so rows never pass through the ORM.

People appear only as pseudonyms. The SQL reaches them through ``ctx.pseudonyms``, a
temporary relation the export fills for the request's study, with the columns
``user_id`` (bigint), ``user_ref`` (the same id as text, to join ids kept in text columns),
``pseudonym`` and ``username`` (NULL unless the study is granted identities).

Other apps add datasets with ``register_dataset`` (from their ``AppConfig.ready``); the data
dictionary ``docs/datasets.md`` is generated from this registry by ``manage.py datasets_docs``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.research.access import ResearchScope

# The column types, and what each becomes in every format (docs/datasets.md explains them).
INTEGER, FLOAT, TEXT, BOOLEAN, TIMESTAMP, JSON = (
    "integer", "float", "text", "boolean", "timestamp", "json")
TYPES = (INTEGER, FLOAT, TEXT, BOOLEAN, TIMESTAMP, JSON)

# What a study may be granted beyond pseudonyms (``audit.models.Study.grant_*``).
GRANTS = ("identities", "free_text", "client_context")

# The filters a request may carry; each dataset says which of them it understands.
FILTERS = ("since", "until", "action", "cohort", "subject_id")
STANDARD_FILTERS = ("since", "until", "cohort", "subject_id")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    """One column: its name, type (one of ``TYPES``) and meaning for the data dictionary.

    ``grant`` names the study grant the column needs (one of ``GRANTS``); without it the
    column is left out of the dataset altogether, so nothing withheld is ever sent.
    """

    name: str
    type: str
    meaning: str
    grant: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"column names are lower-case identifiers, not {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"column {self.name!r}: type must be one of {TYPES}")
        if self.grant is not None and self.grant not in GRANTS:
            raise ValueError(f"column {self.name!r}: grant must be one of {GRANTS}")


@dataclass(frozen=True)
class Filters:
    """A request's validated filters (``audit.research.filters`` parses them).

    ``since`` is inclusive and ``until`` exclusive; ``cohort_id`` is the cohort named by
    its slug. ``subject_user_id`` is set when ``subject_id`` is a person's pseudonym of
    this study (``subject_unknown_person`` when it looks like one but matches nobody).
    """

    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    cohort_id: int | None = None
    cohort: str | None = None
    subject_id: str | None = None
    subject_user_id: int | None = None
    subject_unknown_person: bool = False


@dataclass(frozen=True)
class QueryContext:
    """What a dataset's SQL may depend on: the database, the study's scope and grants, the
    filters, and small helpers that hide the differences between PostgreSQL and SQLite."""

    vendor: str
    scope: ResearchScope
    filters: Filters = field(default_factory=Filters)
    pseudonyms: str = "research_pseudonym"
    # When a page of a keyed dataset is read: the key's bounds (exclusive), which the query
    # may also apply to joined tables so that the database starts reading at the page.
    after: Any = None
    before: Any = None

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    def granted(self, grant: str) -> bool:
        return bool(getattr(self.scope, grant))

    def table(self, label: str) -> str:
        """The quoted table of a model, by ``"app_label.Model"``."""
        from django.apps import apps
        from django.db import connection

        return connection.ops.quote_name(apps.get_model(label)._meta.db_table)

    def uuid_text(self, expression: str) -> str:
        """A UUID column as text in its usual 8-4-4-4-12 form (SQLite keeps 32 hex digits)."""
        if self.postgres:
            return f"({expression})::text"
        return (f"(substr({expression}, 1, 8) || '-' || substr({expression}, 9, 4) || '-' || "
                f"substr({expression}, 13, 4) || '-' || substr({expression}, 17, 4) || '-' || "
                f"substr({expression}, 21))")

    def uuid_param(self, value: Any) -> Any:
        """A UUID as a query parameter for a UUID column."""
        import uuid

        value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        return value if self.postgres else value.hex

    def datetime_param(self, value: datetime) -> Any:
        from django.db import connection

        return connection.ops.adapt_datetimefield_value(value)

    def seconds_between(self, start: str, end: str) -> str:
        """``end - start`` in seconds, rounded to the millisecond (NULL if either is NULL)."""
        if self.postgres:
            return f"round(extract(epoch FROM ({end}) - ({start}))::numeric, 3)::float8"
        return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"

    def key_range(self, expression: str) -> tuple[str, list[Any]]:
        """A condition (``TRUE`` when unbounded) and parameters keeping ``expression`` within
        the page's key bounds."""
        conditions, params = [], []
        if self.after is not None:
            conditions.append(f"{expression} > %s")
            params.append(self.after)
        if self.before is not None:
            conditions.append(f"{expression} < %s")
            params.append(self.before)
        return " AND ".join(conditions) or "TRUE", params

    def time_range(self, expression: str) -> tuple[list[str], list[Any]]:
        """Conditions and parameters for ``since`` (inclusive) and ``until`` (exclusive)."""
        conditions, params = [], []
        if self.filters.since is not None:
            conditions.append(f"{expression} >= %s")
            params.append(self.datetime_param(self.filters.since))
        if self.filters.until is not None:
            conditions.append(f"{expression} < %s")
            params.append(self.datetime_param(self.filters.until))
        return conditions, params

    def clip_conditions(self, time: str, clip: str) -> tuple[list[str], list[Any]]:
        """Conditions and parameters of a dataset with one row per clip or per decision on
        one: ``since``/``until`` on the ``time`` expression, ``cohort`` on the clip's cohort
        (the FROM clause names the clip table ``s``), ``subject_id`` on the ``clip`` id."""
        conditions, params = self.time_range(time)
        if self.filters.cohort_id is not None:
            conditions.append("s.cohort_id = %s")
            params.append(self.filters.cohort_id)
        if self.filters.subject_id is not None:
            conditions.append(f"{clip} = %s")
            params.append(self.uuid_param(self.filters.subject_id))
        return conditions, params


@dataclass(frozen=True)
class Query:
    """The SQL of one dataset for one request.

    ``select`` maps every column name to its SQL expression (columns whose grant the study
    lacks may be left out). ``from_`` is the FROM clause with its joins, ``where`` the
    conditions (joined with AND), ``params`` the values of the ``%s`` placeholders in
    ``from_`` and then ``where``, in order (write ``%%`` for a literal ``%``). ``order_by``
    fixes the rows' order; it must be unique, so two exports of the same data are identical.
    """

    select: Mapping[str, str]
    from_: str
    order_by: str
    where: Sequence[str] = ()
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class Dataset:
    """A named research dataset.

    ``build(ctx)`` returns its ``Query``. ``filters`` lists the request filters it
    understands (others are refused with 400). ``key`` names a column that is unique and
    ascending in ``order_by`` (it must be that column's expression): with one, the dataset
    can be paged through by keyset, as ``research/events/`` does. ``subject_id_type`` says what
    the ``subject_id`` filter takes: ``"uuid"`` (the default: a clip's id, checked to be a
    UUID before the query runs) or ``"text"`` (any id up to 64 characters, or a pseudonym).
    ``filter_notes`` says what each filter selects, for the data dictionary.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    build: Callable[[QueryContext], Query]
    filters: tuple[str, ...] = STANDARD_FILTERS
    key: str | None = None
    subject_id_type: str = "uuid"
    filter_notes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"dataset names are lower-case identifiers, not {self.name!r}")
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset {self.name!r} repeats a column name")
        unknown = set(self.filters) - set(FILTERS)
        if unknown:
            raise ValueError(f"dataset {self.name!r}: unknown filters {sorted(unknown)}")
        if self.key is not None and self.key not in names:
            raise ValueError(f"dataset {self.name!r}: key {self.key!r} is not a column")
        if self.subject_id_type not in ("text", "uuid"):
            raise ValueError(f"dataset {self.name!r}: subject_id_type is text or uuid")

    def columns_for(self, scope: ResearchScope) -> list[Column]:
        """The columns this scope may read: those without a grant, and those it holds."""
        return [column for column in self.columns
                if column.grant is None or getattr(scope, column.grant)]


_datasets: dict[str, Dataset] = {}
_builtins_loaded = False


def register_dataset(dataset: Dataset) -> Dataset:
    """Add a dataset to the registry; registering the same name twice is an error unless it
    is the very same definition (so a module imported twice does no harm)."""
    if _datasets.get(dataset.name, dataset) != dataset:
        raise ValueError(f"dataset {dataset.name!r} is already registered")
    _datasets[dataset.name] = dataset
    return dataset


def _load_builtins() -> None:
    # The built-in datasets read other apps' tables, so they are defined in their own module
    # and loaded on first use, never while Django is still loading apps.
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from audit.research import builtin_datasets  # noqa: F401  (registers them)


def get_dataset(name: str) -> Dataset | None:
    """The dataset named ``name``, or None."""
    _load_builtins()
    return _datasets.get(name)


def all_datasets() -> list[Dataset]:
    """Every registered dataset: the built-in ones first, in their order, then the others by
    name."""
    _load_builtins()
    builtin = [name for name in ("events", "submissions", "decisions") if name in _datasets]
    others = sorted(set(_datasets) - set(builtin))
    return [_datasets[name] for name in (*builtin, *others)]
