"""The dataset registry: other apps add datasets of their own (a parameterised query and its
columns), and they are exported, filtered and refused like the platform's own."""

from datetime import UTC, datetime

import pytest

from audit.research import datasets
from audit.research.datasets import (
    BOOLEAN,
    FLOAT,
    TEXT,
    Column,
    Dataset,
    Query,
    QueryContext,
    all_datasets,
    get_dataset,
    register_dataset,
)
from tests.research.reading import export_url, fetch, pseudonyms


def _waits(ctx: QueryContext) -> Query:
    # Per clip: its owner, whether it was ever claimed, and its wait before the first claim.
    clips, claims = ctx.table("submissions.Submission"), ctx.table("review.Claim")
    where, params = ctx.time_range("s.created_at")
    where.append("s.status <> %s")
    params.append("withdrawn")
    if ctx.filters.subject_id is not None:
        where.append("s.id = %s")
        params.append(ctx.uuid_param(ctx.filters.subject_id))
    from_ = (f"{clips} s LEFT JOIN {ctx.pseudonyms} owner ON owner.user_id = s.owner_id "  # noqa: S608
             f"LEFT JOIN (SELECT submission_id, min(claimed_at) AS first FROM {claims} "
             "WHERE claimed_at >= %s GROUP BY submission_id) c ON c.submission_id = s.id")
    return Query(
        select={"submission_id": ctx.uuid_text("s.id"), "tester": "owner.pseudonym",
                "claimed": "(c.first IS NOT NULL)",
                "wait_s": ctx.seconds_between("s.processed_at", "c.first"),
                "title": "s.title"},
        from_=from_,
        where=where, params=[ctx.datetime_param(ctx.filters.since or _EPOCH), *params],
        order_by="s.created_at, s.id")


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

WAITS = Dataset(
    name="queue_waits", description="How long each clip waited for its first claim.",
    columns=(Column("submission_id", TEXT, "The clip."),
             Column("tester", TEXT, "Its tester's pseudonym."),
             Column("claimed", BOOLEAN, "Whether it was ever claimed."),
             Column("wait_s", FLOAT, "Seconds from entering the queue to the first claim."),
             Column("title", TEXT, "The clip's title.", grant="free_text")),
    build=_waits, filters=("since", "subject_id"))


@pytest.fixture
def waits():
    register_dataset(WAITS)
    yield WAITS
    datasets._datasets.pop(WAITS.name)


@pytest.mark.parametrize("format", ["csv", "jsonl", "parquet"])
def test_a_registered_dataset_is_exported_in_every_format(format, waits, history,
                                                          researcher_client):
    # when
    read = fetch(researcher_client, "queue_waits", format)

    # then: values bound in the FROM clause and the WHERE clause, in that order
    tess, rosa = pseudonyms(history.study)[history.tess.pk], pseudonyms(history.study)[
        history.rosa.pk]
    assert read.names == ["submission_id", "tester", "claimed", "wait_s"]
    assert read.rows == [
        {"submission_id": str(history.clip_a.pk), "tester": tess, "claimed": True,
         "wait_s": 480.0},
        {"submission_id": str(history.clip_b.pk), "tester": rosa, "claimed": True,
         "wait_s": 540.0},
        {"submission_id": str(history.clip_c.pk), "tester": tess, "claimed": False,
         "wait_s": None},
    ]


def test_a_registered_dataset_takes_only_its_filters(waits, history, researcher_client):
    # when
    filtered = fetch(researcher_client, "queue_waits", "csv", since="2025-03-04T09:30:00Z",
                     subject_id=str(history.clip_c.pk))
    refused = researcher_client.get(export_url("queue_waits", "csv"), {"cohort": "red-team"})

    # then
    assert [row["submission_id"] for row in filtered.rows] == [str(history.clip_c.pk)]
    assert refused.status_code == 400
    assert refused.json()["fields"] == {
        "cohort": ["The queue_waits dataset has no cohort filter."]}


def test_grants_apply_to_registered_datasets(waits, history, researcher_client):
    # given
    history.study.grant_free_text = True
    history.study.save()

    # when
    read = fetch(researcher_client, "queue_waits", "jsonl")

    # then
    assert read.names[-1] == "title"
    assert [row["title"] for row in read.rows] == ["fox", "fox", "fox"]


def test_the_registry_lists_the_platform_datasets_first():
    names = [dataset.name for dataset in all_datasets()]
    assert names[:3] == ["events", "submissions", "decisions"]
    assert names[3:] == sorted(names[3:])
    assert get_dataset("nothing") is None


def test_a_name_is_registered_once(waits):
    # when / then
    register_dataset(WAITS)  # the same definition again: harmless
    with pytest.raises(ValueError, match="'queue_waits' is already registered"):
        register_dataset(Dataset(name="queue_waits", description="Another.",
                                 columns=(Column("x", TEXT, "x"),), build=_waits))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Column("Bad Name", TEXT, "x"), "lower-case identifiers"),
    (lambda: Column("x", "money", "x"), "type must be one of"),
    (lambda: Column("x", TEXT, "x", grant="everything"), "grant must be one of"),
    (lambda: Dataset(name="d", description="", columns=(Column("x", TEXT, ""),) * 2,
                     build=_waits), "repeats a column name"),
    (lambda: Dataset(name="d", description="", columns=(Column("x", TEXT, ""),),
                     build=_waits, filters=("when",)), "unknown filters"),
    (lambda: Dataset(name="d", description="", columns=(Column("x", TEXT, ""),),
                     build=_waits, key="y"), "is not a column"),
])
def test_definitions_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_dataset_missing_sql_for_a_column_is_a_programming_error(history,
                                                                   researcher_client):
    # given
    from django.core.exceptions import ImproperlyConfigured

    from audit.research import exports
    from audit.research.access import ResearchScope, people

    broken = Dataset(name="broken", description="", build=_waits,
                     columns=(*WAITS.columns, Column("extra", TEXT, "")))
    scope = ResearchScope(history.study)

    # when / then
    with pytest.raises(ImproperlyConfigured, match=r"no SQL for \['extra'\]"):
        exports.export_prepare(broken, scope, datasets.Filters(), people(scope))
