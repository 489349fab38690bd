"""Embedded defaults: a job left running by a stopped app finishes after the next start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from clipgen.config import PROJECT_ROOT
from clipgen.db import session_scope
from clipgen.models import Clip, JobStatus, ProcessingJob, utcnow
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth import service as auth
from clipgen.services.media import jobs, videos
from tests.support.media import Line, make_talk

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# What the app does at start (clipgen.clipgen registers this as a lifespan task).
APP_START = textwrap.dedent(
    """
    import time
    import workers
    from dramatiq.brokers.stub import StubBroker
    from workers.embedded import start_in_process_worker
    from clipgen.db import session_scope
    from clipgen.services.media import jobs
    assert isinstance(workers.broker, StubBroker)
    worker = start_in_process_worker()
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        with session_scope() as session:
            job = jobs.find_job(session=session, job_id={job_id})
        if job.is_finished:
            break
        time.sleep(0.5)
    worker.stop(timeout=5_000)
    print(job.status)
    """
)


def test_a_job_interrupted_by_an_app_stop_resumes_at_the_next_start(
    database_url: str, isolated_settings: Path, tmp_path: Path
) -> None:
    talk = tmp_path / "talk.mp4"
    make_talk(
        [
            Line("Welcome to the show. Today we talk about gardening in the spring."),
            Line("Here is the secret nobody tells you! Water early in the morning!", gain_db=6),
            Line("That is all for today. Thank you for listening to the program."),
        ],
        talk,
    )
    with session_scope() as session:
        user = auth.register(
            session=session,
            email="ada@example.com",
            display_name="Ada",
            password="a sturdy passphrase",
            role="clipper",
        )
        upload = tmp_path / "upload.part"
        upload.write_bytes(talk.read_bytes())
        ticket = videos.begin_upload(session=session, actor=user, original_filename="talk.mp4")
        video = videos.accept_upload(
            session=session, actor=user, video_id=ticket.video_id, temp_path=upload
        )
        job = jobs.start_generation(
            session=session,
            actor=user,
            video_id=video.id,
            options=GenerateOptions(clips=1, min_seconds=5, max_seconds=12),
        )
        # The app stopped a moment ago while this job was running: its last heartbeat is
        # fresh, far inside the stale window, yet no process runs it any more.
        session.exec(
            update(ProcessingJob)
            .where(ProcessingJob.id == job.id)
            .values(status=JobStatus.RUNNING, attempts=1, heartbeat_at=utcnow())
        )
        session.commit()

    done = subprocess.run(
        [sys.executable, "-c", APP_START.replace("{job_id}", str(job.id))],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={
            **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
            "DATABASE_URL": database_url,
            "DATA_DIR": str(isolated_settings),
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "succeeded"
    with session_scope() as session:
        assert len(session.exec(select(Clip).where(Clip.job_id == job.id)).all()) == 1
        assert session.get(ProcessingJob, job.id).attempts == 2
