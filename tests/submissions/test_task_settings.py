"""The task settings the pipeline's reliability depends on."""

from django.conf import settings

from config.celery_app import app
from submissions import tasks


def test_tasks_are_acknowledged_late_and_requeued_when_their_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_a_task_is_killed_before_the_broker_would_hand_it_to_another_worker():
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_time_limit < settings.BROKER_VISIBILITY_TIMEOUT_S


def test_redis_brokers_get_the_visibility_timeout(monkeypatch):
    # The transport options are built from the broker URL when settings load.
    import importlib

    from config.settings import base

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    reloaded = importlib.reload(base)
    try:
        assert reloaded.CELERY_BROKER_TRANSPORT_OPTIONS == {
            "visibility_timeout": reloaded.BROKER_VISIBILITY_TIMEOUT_S}
    finally:
        monkeypatch.undo()
        importlib.reload(base)


def test_another_worker_takes_over_only_after_the_hard_time_limit():
    assert app.conf.task_time_limit < settings.SUBMISSION_STALE_AFTER_S


def test_transient_faults_are_retried_a_bounded_number_of_times():
    for task in (tasks.submission_process, tasks.submission_render):
        assert task.max_retries == 3
        assert task.retry_backoff_max == 120


def test_the_sweep_runs_every_minute():
    assert app.conf.beat_schedule["submissions-sweep"] == {
        "task": "submissions.tasks.submissions_sweep", "schedule": 60.0}
