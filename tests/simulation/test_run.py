"""A small ``sora-2024`` run from end to end, through the real services, on simulated time."""

import io
import json
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import ProgramStatus, User
from accounts.selectors import program_get
from audit.models import Event
from audit.research.datasets import all_datasets
from seeds.models import GroundTruth, Origin
from submissions.models import Source, Submission, SubmissionStatus
from tests.simulation.conftest import SMALL, read_csv

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2024, 11, 11, tzinfo=UTC)
END = datetime(2024, 11, 13, tzinfo=UTC)


def _first(action: str) -> Event:
    return Event.objects.filter(action=action).order_by("id").first()


def test_a_small_run_tells_the_whole_story_in_the_audit_log(simulate):
    # when
    folder, stdout, stderr = simulate(fresh=True)

    # then: the story's steps, in this order
    started, decided = _first("simulation.started"), _first("review.decided")
    appealed, anomaly = _first("submission.appealed"), _first("security.token_anomaly")
    suspended, resumed = _first("program.suspended"), _first("program.resumed")
    revoked = Event.objects.get(action="token.revoked")
    assert started.pk == Event.objects.order_by("id").first().pk
    assert started.data == {"scenario": "sora-2024", "seed": SMALL["seed"], "parameters": {
        "scenario": "sora-2024", "seed": 8, "testers": 12, "moderators": 2, "days": 2,
        "second_opinion_rate": 0.05, "lease_minutes": 10, "media": "tiny", "activity": 6.0}}
    assert started.pk < decided.pk < anomaly.pk < suspended.pk < revoked.pk < resumed.pk
    assert appealed is not None
    assert Event.objects.filter(action="review.decided", data__track="appeal").exists()
    assert Event.objects.filter(action="program.suspended").count() == 1
    assert Event.objects.filter(action="program.resumed").count() == 1
    assert program_get().status == ProgramStatus.OPEN

    # the token watch saw the outsiders, and the admins acted on its alert
    victim = User.objects.get(pk=int(anomaly.subject_id))
    assert anomaly.actor_name == "token-watch"
    assert anomaly.data["reason"] == "distinct_addresses"
    assert anomaly.data["action"] == "alerted"
    assert revoked.subject_id == str(victim.pk)
    assert revoked.data == {"via": "admin"}
    assert revoked.actor_role == "program_admin"
    alerts = [message for message in mail.outbox if "admin-1@sim.example.org" in message.to]
    assert len(alerts) == Event.objects.filter(action="security.token_anomaly").count()

    # every event happened on simulated time, inside the run
    assert Event.objects.filter(occurred_at__lt=START).count() == 0
    assert Event.objects.filter(occurred_at__gte=END).count() == 0

    # every clip has its truth; the outsiders' clips were made through the victim's token
    assert GroundTruth.objects.count() == Submission.objects.count()
    outsider_clips = Submission.objects.filter(
        pk__in=GroundTruth.objects.filter(origin=Origin.OUTSIDER).values("submission_id"))
    assert set(outsider_clips.values_list("owner_id", "source", "status")) == {
        (victim.pk, Source.GENERATED, SubmissionStatus.DRAFT)}
    assert outsider_clips.count() == Event.objects.filter(
        action="submission.generated").count()

    # the summary agrees with the log
    summary = json.loads((folder / "summary.json").read_text())
    leak = summary["leak"]
    assert leak["suspended_at"] == suspended.occurred_at.isoformat().replace("+00:00", "Z")
    assert leak["first_anomaly_at"] == anomaly.occurred_at.isoformat().replace("+00:00", "Z")
    assert 0 < leak["minutes_to_first_anomaly"] < leak["minutes_to_suspension"]
    assert leak["admins_noticed_by"] == "alert"
    assert leak["outsider_generations"] == outsider_clips.count()
    assert summary["sealed_events"] == Event.objects.count()
    assert sum(summary["periods"][period]["token_anomalies"]
               for period in ("before", "during", "after")) == Event.objects.filter(
        action="security.token_anomaly").count()

    # the files: every research dataset in CSV and Parquet, and the summary
    expected = {f"{dataset.name}.{format}" for dataset in all_datasets()
                for format in ("csv", "parquet")} | {"summary.json", "summary.txt"}
    assert {path.name for path in folder.iterdir()} == expected
    truth = read_csv(folder / "ground_truth.csv")
    assert len(truth) == GroundTruth.objects.count()
    assert {row["origin"] for row in truth} == {"tester", "outsider"}
    assert stdout.endswith(f"Wrote {len(expected)} files to {folder}.\n")
    assert "before      during       after" in stdout
    assert stderr.startswith("Replacing the database: emptied ")
    assert stderr.count("100.0%") == 1  # the progress bar finished

    # and the sealed log verifies
    verified = io.StringIO()
    call_command("audit_verify", stdout=verified)
    assert verified.getvalue().startswith("OK: ")
