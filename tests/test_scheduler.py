"""The scheduler: its table, the file sweep it sends, and the real scheduler process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest
import redis
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlmodel import Session

import workers
from clipgen.config import PROJECT_ROOT, get_settings
from clipgen.models import JobStatus, ProcessingJob, Video
from clipgen.services.auth import service as auth
from tests.jobs.conftest import broker_url  # noqa: F401  (a private Redis database)
from tests.support.aio import run_coroutine
from workers import maintenance
from workers.clips import recover_stale_renders
from workers.email import recover_stale_emails
from workers.embedded import in_process_worker, start_in_process_worker
from workers.generation import recover_stale_jobs
from workers.maintenance import purge_expired_sessions, sweep_abandoned_uploads, sweep_work_files
from workers.market import (
    auto_approve_submissions,
    close_due_campaigns,
    expire_claims,
    warn_expiring_claims,
)
from workers.money import reconcile_stripe, recover_stripe_events, release_matured_earnings
from workers.publishing import recover_stale_uploads, sync_views
from workers.scheduler import (
    SCHEDULE,
    build_scheduler,
    embedded_scheduler,
    parse_trigger,
    stop_embedded_scheduler,
)

HOUR = 3600


@pytest.fixture(autouse=True)
def _default_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from the built-in timings, whatever the caller's environment says."""
    monkeypatch.delenv("SCHEDULE", raising=False)
    get_settings.cache_clear()


# --- the table --------------------------------------------------------------------------


def _fires(trigger, after: datetime, count: int = 2) -> list[datetime]:
    times, previous = [], None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous or after)
        times.append(previous)
    return times


def test_the_schedule_lists_every_periodic_actor_with_its_trigger() -> None:
    assert [(entry.actor, entry.default_timing) for entry in SCHEDULE] == [
        (recover_stale_jobs, "every 1m"),
        (purge_expired_sessions, "5 * * * *"),
        (sweep_work_files, "35 * * * *"),
        (recover_stale_renders, "every 5m"),
        (sweep_abandoned_uploads, "20 * * * *"),
        (release_matured_earnings, "50 * * * *"),
        (expire_claims, "every 5m"),
        (warn_expiring_claims, "every 5m"),
        (auto_approve_submissions, "every 15m"),
        (close_due_campaigns, "every 15m"),
        (recover_stale_uploads, "every 5m"),
        (recover_stripe_events, "every 5m"),
        (reconcile_stripe, "30 3 * * *"),
        (recover_stale_emails, "every 5m"),
        (sync_views, "0 4 * * *"),
    ]
    scheduler = build_scheduler(BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "recover_stale_jobs",
        "purge_expired_sessions",
        "sweep_work_files",
        "recover_stale_renders",
        "sweep_abandoned_uploads",
        "release_matured_earnings",
        "expire_claims",
        "warn_expiring_claims",
        "auto_approve_submissions",
        "close_due_campaigns",
        "recover_stale_uploads",
        "recover_stripe_events",
        "reconcile_stripe",
        "recover_stale_emails",
        "sync_views",
    }

    recover = jobs["recover_stale_jobs"]
    assert isinstance(recover.trigger, IntervalTrigger)
    assert recover.trigger.interval == timedelta(minutes=1)
    start = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)
    assert _fires(jobs["purge_expired_sessions"].trigger, start) == [
        datetime(2026, 3, 1, 10, 5, tzinfo=UTC),
        datetime(2026, 3, 1, 11, 5, tzinfo=UTC),
    ]
    assert _fires(jobs["sweep_work_files"].trigger, start) == [
        datetime(2026, 3, 1, 10, 35, tzinfo=UTC),
        datetime(2026, 3, 1, 11, 35, tzinfo=UTC),
    ]
    # The Stripe reconciliation: daily at 03:30 UTC, the message good for a day.
    assert _fires(jobs["reconcile_stripe"].trigger, start) == [
        datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
        datetime(2026, 3, 3, 3, 30, tzinfo=UTC),
    ]
    assert jobs["reconcile_stripe"].args == (reconcile_stripe, 24 * HOUR * 1000)
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    # Each job sends its actor; the message expires after one period (a minute at least).
    assert recover.args == (recover_stale_jobs, 60_000)
    assert jobs["purge_expired_sessions"].args == (purge_expired_sessions, HOUR * 1000)
    assert jobs["sweep_work_files"].args == (sweep_work_files, HOUR * 1000)
    # The marketplace lines: claims every 5 minutes, reviews and deadlines every 15.
    for actor, minutes in (
        (expire_claims, 5),
        (warn_expiring_claims, 5),
        (auto_approve_submissions, 15),
        (close_due_campaigns, 15),
    ):
        job = jobs[actor.actor_name]
        assert job.trigger.interval == timedelta(minutes=minutes)
        assert job.args == (actor, minutes * 60_000)
        assert actor.queue_name == "maintenance"


def test_the_market_lines_send_argument_free_messages_that_expire_after_one_period() -> None:
    """What the scheduler sends for each marketplace line: the actor, no arguments."""
    broker = workers.broker
    assert isinstance(broker, StubBroker)
    market = tuple(entry for entry in SCHEDULE if entry.actor.fn.__module__ == "workers.market")
    assert [entry.name for entry in market] == [
        "expire_claims",
        "warn_expiring_claims",
        "auto_approve_submissions",
        "close_due_campaigns",
    ]
    broker.flush("maintenance")
    scheduler = build_scheduler(BackgroundScheduler, schedule=market, overrides={})
    try:
        for job in scheduler.get_jobs():
            job.func(*job.args)
    finally:
        scheduler.remove_all_jobs()
    queue = broker.queues["maintenance"]
    sent = [dramatiq.Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
    broker.flush("maintenance")
    assert [(m.actor_name, m.args, m.kwargs) for m in sent] == [
        (entry.name, (), {}) for entry in market
    ]
    assert [m.options["max_age"] for m in sent] == [300_000, 300_000, 900_000, 900_000]


def test_the_schedule_setting_overrides_a_line_and_refuses_typos(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHEDULE", json.dumps({"sweep_work_files": "every 2h"}))
    get_settings.cache_clear()
    jobs = {job.id: job for job in build_scheduler(BackgroundScheduler).get_jobs()}
    assert jobs["sweep_work_files"].trigger.interval == timedelta(hours=2)
    assert jobs["sweep_work_files"].args[1] == 2 * HOUR * 1000
    assert jobs["recover_stale_jobs"].trigger.interval == timedelta(minutes=1)

    with pytest.raises(ValueError, match="recover_stale_job,"):
        build_scheduler(BackgroundScheduler, overrides={"recover_stale_job": "every 1m"})
    with pytest.raises(ValueError, match="purge_expired_sessions"):
        build_scheduler(BackgroundScheduler, overrides={"purge_expired_sessions": "hourly"})
    assert parse_trigger("every 30s").interval == timedelta(seconds=30)
    assert parse_trigger("every 1d").interval == timedelta(days=1)
    for bad in ("every 0m", "every 5 weeks", "61 * * * *", "* * *"):
        with pytest.raises(ValueError):
            parse_trigger(bad)


def test_missed_runs_coalesce_into_one_send() -> None:
    """A scheduler stalled for an hour sends one recovery, not sixty (with a control)."""
    broker = workers.broker
    assert isinstance(broker, StubBroker)
    entry = next(entry for entry in SCHEDULE if entry.name == "recover_stale_jobs")

    def sends_after_an_hour_missed(coalesce: bool) -> list[dramatiq.Message]:
        broker.flush("maintenance")
        scheduler = build_scheduler(BackgroundScheduler, schedule=(entry,), overrides={})
        ran = threading.Event()
        scheduler.add_listener(lambda _event: ran.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start(paused=True)
        try:
            scheduler.modify_job(
                entry.name,
                coalesce=coalesce,
                next_run_time=datetime.now(UTC) - timedelta(hours=1),
            )
            scheduler.resume()
            assert ran.wait(30), "the missed runs were never run"
        finally:
            scheduler.shutdown(wait=True)
        queue = broker.queues["maintenance"]
        messages = [dramatiq.Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
        broker.flush("maintenance")
        return messages

    sent = sends_after_an_hour_missed(coalesce=True)
    assert len(sent) == 1
    assert sent[0].actor_name == "recover_stale_jobs"
    assert (sent[0].args, sent[0].kwargs) == ((), {})
    assert sent[0].options["max_age"] == 60_000
    # Control: the same stall without coalescing would have sent one per missed minute.
    assert len(sends_after_an_hour_missed(coalesce=False)) > 50


# --- the sweep --------------------------------------------------------------------------


def _job(session: Session, user_id: int, video_id: int, status: JobStatus) -> int:
    job = ProcessingJob(user_id=user_id, video_id=video_id, status=status)
    session.add(job)
    session.flush()
    return job.id


def _age(path: Path, seconds: float) -> None:
    """Make `path` and everything in it look untouched for `seconds`."""
    when = time.time() - seconds
    for inner in [*path.rglob("*"), path] if path.is_dir() else [path]:
        os.utime(inner, (when, when))


def _folder(path: Path) -> Path:
    (path / "stages").mkdir(parents=True)
    (path / "stages" / "transcribe.json").write_text("{}")
    (path / "source.mp4").write_bytes(b"\0" * 1024)
    return path


def test_the_sweep_removes_only_what_nothing_will_use(
    session: Session, isolated_settings: Path
) -> None:
    user = auth.register(
        session=session,
        email="ada@example.com",
        display_name="Ada",
        password="a sturdy passphrase",
        role="clipper",
    )
    video = Video(owner_id=user.id, original_filename="talk.mp4", storage_key="v/1", status="ready")
    session.add(video)
    session.flush()
    ids = {status: _job(session, user.id, video.id, status) for status in JobStatus}
    session.commit()
    gone = max(ids.values()) + 1000

    uploads, work = isolated_settings / "uploads", isolated_settings / "work"
    uploads.mkdir(parents=True)
    old_part, fresh_part = uploads / "old.part", uploads / "fresh.part"
    old_part.write_bytes(b"abandoned")
    fresh_part.write_bytes(b"still streaming")
    _age(old_part, 7 * HOUR)
    _age(fresh_part, 5 * HOUR)  # slow, but within the 6 hours an upload may be quiet
    not_a_part = uploads / "notes.txt"
    not_a_part.write_text("not ours")
    _age(not_a_part, 100 * HOUR)

    job_folders = {status: _folder(work / f"job-{job_id}") for status, job_id in ids.items()}
    missing_job_folder = _folder(work / f"job-{gone}")
    for folder in job_folders.values():
        _age(folder, 100 * HOUR)  # age does not matter for a job's folder: its job does
    old_render = _folder(work / "clip-5-v2-abc123")
    _age(old_render, 3 * HOUR)
    busy_render = _folder(work / "clip-6-v3-def456")
    _age(busy_render, 3 * HOUR)
    (busy_render / "out").mkdir()  # a render still writing
    leftover = _folder(work / ".sweep-job-1-0badf00d")  # an interrupted earlier sweep

    removed = maintenance.sweep_files()

    assert removed == {"upload_parts": 1, "job_folders": 4, "clip_folders": 1}
    assert not old_part.exists()
    assert fresh_part.exists() and not_a_part.exists()
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        assert (job_folders[status] / "stages" / "transcribe.json").exists(), status
    for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        assert not job_folders[status].exists(), status
    assert not missing_job_folder.exists()
    assert not old_render.exists() and busy_render.exists()
    assert not leftover.exists()
    assert sorted(path.name for path in work.iterdir()) == sorted(
        [
            f"job-{ids[JobStatus.QUEUED]}",
            f"job-{ids[JobStatus.RUNNING]}",
            "clip-6-v3-def456",
        ]
    )

    # Safe to run twice: nothing more to do, nothing kept is touched.
    assert maintenance.sweep_files() == {"upload_parts": 0, "job_folders": 0, "clip_folders": 0}
    assert fresh_part.exists() and (job_folders[JobStatus.RUNNING] / "source.mp4").exists()


def test_the_sweep_of_an_empty_data_dir_does_nothing(database_url: str) -> None:
    assert maintenance.sweep_files() == {"upload_parts": 0, "job_folders": 0, "clip_folders": 0}


def test_the_sweep_thresholds_are_module_constants(
    database_url: str, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "UPLOAD_PART_MAX_AGE_S", 60)
    part = isolated_settings / "uploads" / "a.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x")
    _age(part, 120)
    assert maintenance.sweep_files()["upload_parts"] == 1


# --- embedded mode ----------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_embedded_app_runs_the_schedule_while_its_worker_runs(database_url: str) -> None:
    assert isinstance(workers.broker, StubBroker)

    async def app_lifetime() -> set[str]:
        async with in_process_worker():
            running = embedded_scheduler()
            assert running is not None
            return {job.id for job in running.get_jobs()}

    try:
        assert run_coroutine(app_lifetime()) == {entry.name for entry in SCHEDULE}
        assert embedded_scheduler() is None
    finally:
        stop_embedded_scheduler()


def test_an_app_with_redis_schedules_nothing(
    monkeypatch: pytest.MonkeyPatch,
    broker_url: str,  # noqa: F811
) -> None:
    redis_broker = RedisBroker(url=broker_url)
    monkeypatch.setattr(workers, "broker", redis_broker)
    try:
        assert start_in_process_worker() is None
        assert embedded_scheduler() is None
    finally:
        redis_broker.close()


# --- the production process -------------------------------------------------------------


def _scheduler_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SCHEDULE"}}
    return {**env, **extra}


def test_the_scheduler_process_sends_recovery_to_redis_and_stops_cleanly(
    broker_url: str,  # noqa: F811
    isolated_settings: Path,
    tmp_path: Path,
) -> None:
    client = redis.Redis.from_url(broker_url)
    log_path = tmp_path / "scheduler.log"
    env = _scheduler_env(
        REDIS_URL=broker_url,
        DATA_DIR=str(isolated_settings),
        SCHEDULE=json.dumps({"recover_stale_jobs": "every 1s"}),
    )
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.scheduler"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            sent: list[dramatiq.Message] = []
            deadline = time.monotonic() + 60
            while not sent and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                raw = client.hvals("dramatiq:maintenance.msgs")
                sent = [dramatiq.Message.decode(item) for item in raw]
                time.sleep(0.2)
            assert sent, "no message reached Redis:\n" + log_path.read_text()
            assert {message.actor_name for message in sent} == {"recover_stale_jobs"}
            assert client.llen("dramatiq:maintenance") == len(sent)  # queued for a worker
            assert all(message.options["max_age"] == 60_000 for message in sent)

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            client.close()
    log = log_path.read_text()
    assert "Scheduled recover_stale_jobs: interval[0:00:01]" in log
    assert "Sent recover_stale_jobs" in log
    assert "Scheduler stopped." in log
    assert "Traceback" not in log


def test_the_scheduler_process_refuses_to_run_without_redis(isolated_settings: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.scheduler"],
        cwd=PROJECT_ROOT,
        env=_scheduler_env(DATA_DIR=str(isolated_settings)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "REDIS_URL is not set" in done.stderr
    assert "embedded mode" in done.stderr


def test_the_scheduler_process_refuses_a_bad_schedule(
    broker_url: str,  # noqa: F811
    isolated_settings: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.scheduler"],
        cwd=PROJECT_ROOT,
        env=_scheduler_env(
            REDIS_URL=broker_url,
            DATA_DIR=str(isolated_settings),
            SCHEDULE=json.dumps({"sweep_work_files": "every fortnight"}),
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Invalid schedule" in done.stderr and "sweep_work_files" in done.stderr


def test_the_view_sync_runs_when_view_sync_cron_says(monkeypatch) -> None:
    monkeypatch.setenv("VIEW_SYNC_CRON", "30 2 * * 1")
    get_settings.cache_clear()
    try:
        scheduler = build_scheduler(BackgroundScheduler, overrides={})
        trigger = scheduler.get_job("sync_views").trigger
        after = datetime(2026, 11, 28, tzinfo=UTC)  # a Saturday
        assert _fires(trigger, after) == [
            datetime(2026, 11, 30, 2, 30, tzinfo=UTC),
            datetime(2026, 12, 7, 2, 30, tzinfo=UTC),
        ]
    finally:
        monkeypatch.delenv("VIEW_SYNC_CRON")
        get_settings.cache_clear()
