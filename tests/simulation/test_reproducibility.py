"""The same scenario, parameters and seed give the same research datasets."""

import io

import pytest
from django.core.management import call_command

from audit.models import Event
from audit.research.datasets import all_datasets
from tests.simulation.conftest import MEASURED_DATA_FIELDS, comparable, read_csv

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rerun_with_the_same_seed_gives_the_same_datasets(simulate):
    # given a run into a database that held an earlier program
    first, _, _ = simulate("first", fresh=True)
    events_of_first = Event.objects.count()

    # when it runs again into the same database, replaced
    again, _, _ = simulate("again", fresh=True)
    events_of_again = Event.objects.count()
    other, _, _ = simulate("other", fresh=True, seed=9)

    # then every dataset has the same rows, ids and pseudonyms included
    for dataset in all_datasets():
        name = f"{dataset.name}.csv"
        assert comparable(again / name) == comparable(first / name), name
    assert events_of_again == events_of_first == len(read_csv(first / "events.csv"))
    # ... which another seed does not give
    assert comparable(other / "events.csv") != comparable(first / "events.csv")
    assert comparable(other / "ground_truth.csv") != comparable(first / "ground_truth.csv")
    # ... and only what the machine measured was left out of the comparison
    measured = [row for row in read_csv(first / "events.csv")
                if any(f'"{field}"' in row["data"] for field in MEASURED_DATA_FIELDS)]
    assert {row["action"] for row in measured} == {"submission.processed",
                                                   "submission.generated"}


def test_the_parquet_files_hold_the_same_rows_as_the_csv_files(simulate):
    import pyarrow.parquet as pq

    # when
    folder, _, _ = simulate(fresh=True)

    # then
    for dataset in all_datasets():
        rows = read_csv(folder / f"{dataset.name}.csv")
        table = pq.read_table(folder / f"{dataset.name}.parquet")
        assert table.num_rows == len(rows), dataset.name
        assert table.column_names == list(rows[0]) if rows else True, dataset.name
    truth = pq.read_table(folder / "ground_truth.parquet").to_pylist()
    assert [(row["submission_id"], row["violates"], row["origin"]) for row in truth] == [
        (row["submission_id"], row["violates"] == "true", row["origin"])
        for row in read_csv(folder / "ground_truth.csv")]


def test_fresh_replaces_a_database_that_holds_a_program(simulate):
    # given
    simulate("first", fresh=True)

    # when
    _, _, stderr = simulate("again", fresh=True)

    # then
    assert stderr.startswith("Replacing the database: emptied ")
    assert Event.objects.filter(action="simulation.started").count() == 1
    verified = io.StringIO()
    call_command("audit_verify", stdout=verified)
    assert verified.getvalue().startswith("OK: ")
