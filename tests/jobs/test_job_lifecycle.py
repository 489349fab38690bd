"""Clip generation end to end: real Redis, real Dramatiq worker processes, PostgreSQL.

Each test makes its own workers as subprocesses sharing the test's database,
Redis database and data dir, and watches the job row the way the app would.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from sqlmodel import select

from clipgen.db import session_scope
from clipgen.models import Clip, ClipRender, JobStatus, RenderState, Video, VideoStatus
from clipgen.pipeline.errors import InvalidVideo
from clipgen.pipeline.probe import probe
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.media import jobs
from clipgen.storage import get_storage
from tests.support.media import Line, make_talk
from tests.support.workers import kill_worker, run_in_app_process, wait_for, worker_process

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

OPTIONS = GenerateOptions(clips=2, min_seconds=5, max_seconds=12)
DEADLINE_S = 180.0
CLIP_FILES = [f"clip_0{rank}.{ext}" for rank in (1, 2) for ext in ("jpg", "mp4", "srt", "vtt")]
PAST_TRANSCRIBE = {"signals", "candidates", "rank", "plan", "render"}
T = TypeVar("T")


@dataclass(frozen=True)
class Setup:
    owner: UserView
    env: dict[str, str]
    data_dir: Path
    logs: Path


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-second talk of four spoken lines, one of them loud and excited."""
    path = tmp_path_factory.mktemp("lifecycle-media") / "talk.mp4"
    make_talk(
        [
            Line(
                "Welcome back to the program. Today we look at the history of road "
                "maintenance in small towns."
            ),
            Line(
                "Here is the secret nobody tells you! I doubled my money in one week, and it "
                "was absolutely insane!",
                speed=205,
                pitch=75,
                gain_db=9.0,
            ),
            Line("The committee meets on the second Tuesday of each month to review the schedule."),
            Line("Permits are renewed annually and the fee is paid at the town office."),
        ],
        path,
    )
    return path


@pytest.fixture(scope="module")
def longer_talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A talk of eight spoken lines with pauses between them: room for four clips."""
    path = tmp_path_factory.mktemp("lifecycle-media") / "longer.mp4"
    make_talk(
        [
            Line("Welcome back to the program. Today we talk about small town roads."),
            Line("Here is the secret nobody tells you! The gravel matters most!", gain_db=9.0),
            Line("The committee meets on the second Tuesday of each month to review it."),
            Line("Permits are renewed annually and the fee is paid at the town office."),
            Line("Our next guest has repaired bridges for thirty years across the valley."),
            Line("She says the hardest part is the winter, when salt eats the steel away."),
            Line("Volunteers plant trees along the river every spring, rain or shine."),
            Line("Thank you all for listening, and we will see you again next week."),
        ],
        path,
    )
    return path


@pytest.fixture
def setup(database_url: str, broker_url: str, isolated_settings: Path, tmp_path: Path) -> Setup:
    with session_scope() as session:
        owner = auth.register(
            session=session,
            email="ada@example.com",
            display_name="Ada",
            password="a sturdy passphrase",
            role="clipper",
        )
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "DATA_DIR": str(isolated_settings),
    }
    return Setup(owner=owner, env=env, data_dir=isolated_settings, logs=logs)


def _stored_video(setup: Setup, file: Path, name: str = "talk.mp4") -> int:
    """A ready video of the owner, its file in storage as an upload would leave it."""
    with session_scope() as session:
        video = Video(
            owner_id=setup.owner.id,
            original_filename=name,
            storage_key=f"users/{setup.owner.id}/videos/{time.time_ns()}/original.mp4",
            size_bytes=file.stat().st_size,
            status=VideoStatus.READY,
        )
        session.add(video)
        session.flush()
        get_storage().put_file(video.storage_key, file, content_type="video/mp4")
        return video.id


def _start(setup: Setup, video_id: int, options: GenerateOptions = OPTIONS) -> int:
    """Start generation as the owner and send the job to the workers, as the app does."""
    with session_scope() as session:
        job = jobs.start_generation(
            session=session, actor=setup.owner, video_id=video_id, options=options
        )
    run_in_app_process(setup.env, f"process_job.send({job.id})")
    return job.id


@contextmanager
def _worker(setup: Setup, name: str, **options) -> Iterator[subprocess.Popen]:
    """A Dramatiq worker process on the generation queue, logging into the test's folder."""
    with worker_process(setup.env, setup.logs / f"{name}.log", **options) as process:
        yield process


def _logs(setup: Setup) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text()[-4000:]}" for path in sorted(setup.logs.iterdir())
    )


def _job(job_id: int) -> jobs.JobView:
    with session_scope() as session:
        job = jobs.find_job(session=session, job_id=job_id)
    assert job is not None
    return job


def _wait_for(setup: Setup, condition: Callable[[], T], what: str) -> T:
    return wait_for(condition, what, logs=lambda: _logs(setup), deadline_s=DEADLINE_S)


def _ended(job_id: int) -> jobs.JobView | None:
    job = _job(job_id)
    return job if job.is_finished else None


def _clips(job_id: int) -> list[Clip]:
    with session_scope() as session:
        return list(session.exec(select(Clip).where(Clip.job_id == job_id).order_by(Clip.rank)))


def _stored_outputs(setup: Setup, job_id: int) -> list[str]:
    folder = setup.data_dir / "files" / "users" / str(setup.owner.id) / "jobs" / str(job_id)
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _work_dir(setup: Setup, job_id: int) -> Path:
    return setup.data_dir / "work" / f"job-{job_id}"


def _assert_two_stored_clips(setup: Setup, job: jobs.JobView) -> None:
    assert (job.status, job.percent, job.stage, job.error) == (JobStatus.SUCCEEDED, 100, "done", "")
    clips = _clips(job.id)
    assert [clip.rank for clip in clips] == [1, 2]
    assert _stored_outputs(setup, job.id) == CLIP_FILES
    storage = get_storage()
    for clip in clips:
        assert clip.owner_id == setup.owner.id and clip.video_id == job.video_id
        assert 5 <= clip.end_s - clip.start_s <= 12.5 and clip.title and 1 <= clip.score <= 10
        for key in (clip.video_key, clip.srt_key, clip.vtt_key, clip.thumbnail_key):
            assert key.startswith(f"users/{setup.owner.id}/jobs/{job.id}/clip_0{clip.rank}.")
            assert storage.exists(key)


def test_a_job_runs_on_a_worker_and_saves_its_clips(setup: Setup, talk_video: Path) -> None:
    video_id = _stored_video(setup, talk_video)
    with _worker(setup, "worker"):
        job_id = _start(setup, video_id)
        job = _wait_for(setup, lambda: _ended(job_id), "the job to end")
    _assert_two_stored_clips(setup, job)
    assert job.attempts == 1 and {"transcribe", "render", "store"} <= set(job.timings)
    assert job.started_at <= job.finished_at
    assert not _work_dir(setup, job_id).exists()


def test_a_file_that_is_not_a_video_fails_with_a_readable_message(
    setup: Setup, tmp_path: Path
) -> None:
    text_file = tmp_path / "notes.mp4"
    text_file.write_text("Meeting notes: these are words, not a video.\n" * 20)
    with pytest.raises(InvalidVideo) as probed:
        probe(text_file)
    video_id = _stored_video(setup, text_file, name="notes.mp4")
    with _worker(setup, "worker"):
        job_id = _start(setup, video_id)
        job = _wait_for(setup, lambda: _ended(job_id), "the job to end")
    assert (job.status, job.error) == (JobStatus.FAILED, str(probed.value))
    assert _clips(job_id) == [] and _stored_outputs(setup, job_id) == []
    assert not _work_dir(setup, job_id).exists()


def test_a_running_job_stops_when_the_user_cancels(setup: Setup, talk_video: Path) -> None:
    video_id = _stored_video(setup, talk_video)
    with _worker(setup, "worker"):
        job_id = _start(setup, video_id)
        _wait_for(setup, lambda: _job(job_id).status == JobStatus.RUNNING, "the job to run")
        with session_scope() as session:
            asked = jobs.cancel_job(session=session, actor=setup.owner, job_id=job_id)
        assert asked.cancel_requested
        job = _wait_for(setup, lambda: _ended(job_id), "the job to end")
        _wait_for(setup, lambda: not _work_dir(setup, job_id).exists(), "the work dir to go")
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    assert _clips(job_id) == [] and _stored_outputs(setup, job_id) == []


def test_a_killed_worker_is_resumed_by_another_without_duplicate_clips(
    setup: Setup, talk_video: Path
) -> None:
    video_id = _stored_video(setup, talk_video)
    with _worker(setup, "first") as first:
        job_id = _start(setup, video_id)
        _wait_for(
            setup, lambda: _job(job_id).stage in PAST_TRANSCRIBE, "the job to pass transcribe"
        )
        kill_worker(first)
    # The messages the dead worker held (its clips' render messages too) die with it here,
    # so the job goes on only through recovery.
    redis.Redis.from_url(setup.env["REDIS_URL"]).flushdb()
    assert (_work_dir(setup, job_id) / "stages" / "transcribe.json").exists()
    interrupted = _job(job_id)
    assert (interrupted.status, interrupted.attempts) == (JobStatus.RUNNING, 1)
    with session_scope() as session:
        planned_before = jobs.render_ranks(session=session, job_id=job_id)[0]

    # Short delays stand in for production's 2-minute silence before a job counts as abandoned.
    with _worker(setup, "second", stale_after_s=2, heartbeat_every_s=0.3, threads=2):

        def abandoned() -> bool:
            with session_scope() as session:
                return job_id in jobs.jobs_to_recover(session=session, stale_after_s=2)

        _wait_for(setup, abandoned, "the job to count as abandoned")
        sent = run_in_app_process(
            setup.env, f"print(resend_stale_jobs(2))\nprocess_job.send({job_id})"
        )
        assert sent.strip() == "1"
        job = _wait_for(setup, lambda: _ended(job_id), "the job to end")
        _wait_for(
            setup,
            lambda: f"Skipping job {job_id}" in (setup.logs / "second.log").read_text(),
            "the duplicate message to be dropped",
        )
    _assert_two_stored_clips(setup, job)
    assert job.attempts == 2
    if planned_before:  # killed after planning: the clips planned then were rendered
        assert planned_before == [1, 2]
        with session_scope() as session:
            assert jobs.render_ranks(session=session, job_id=job_id) == ([1, 2], {1, 2})
    else:  # killed before: the second attempt resumed after the transcript
        assert "transcribe" not in job.timings
    assert "render" in job.timings
    assert not _work_dir(setup, job_id).exists()


def test_two_workers_render_the_clips_of_one_job_each_exactly_once(
    setup: Setup, longer_talk: Path
) -> None:
    video_id = _stored_video(setup, longer_talk)
    with _worker(setup, "a"), _worker(setup, "b"):
        _wait_for(
            setup,
            lambda: all(
                "Worker ready." in (setup.logs / f"{name}.log").read_text() for name in "ab"
            ),
            "both workers to start",
        )
        job_id = _start(setup, video_id, GenerateOptions(clips=4, min_seconds=5, max_seconds=12))
        job = _wait_for(setup, lambda: _ended(job_id), "the job to end")
    assert (job.status, job.percent, job.error) == (JobStatus.SUCCEEDED, 100, "")
    assert [clip.rank for clip in _clips(job_id)] == [1, 2, 3, 4]
    with session_scope() as session:
        renders = session.exec(select(ClipRender).where(ClipRender.job_id == job_id)).all()
    assert sorted((r.rank, r.state, r.attempts) for r in renders) == [
        (rank, RenderState.DONE, 1) for rank in (1, 2, 3, 4)
    ]
    stored_by = {
        name: [
            int(rank)
            for rank, job in re.findall(
                r"Stored clip (\d+) of job (\d+)", (setup.logs / f"{name}.log").read_text()
            )
            if int(job) == job_id
        ]
        for name in "ab"
    }
    # Both took part, and between them every clip was rendered and stored once.
    assert stored_by["a"] and stored_by["b"], stored_by
    assert sorted(stored_by["a"] + stored_by["b"]) == [1, 2, 3, 4]
    assert _stored_outputs(setup, job_id) == sorted(
        f"clip_0{rank}.{ext}" for rank in (1, 2, 3, 4) for ext in ("jpg", "mp4", "srt", "vtt")
    )
    assert job.timings["first_clip"] <= job.timings["total"]
    assert not _work_dir(setup, job_id).exists()
