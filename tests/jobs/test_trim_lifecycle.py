"""Trimming end to end: upload, generate, trim and re-render on a real worker.

Real Redis broker, a real Dramatiq worker subprocess, PostgreSQL, the real
pipeline and renderer; the test acts as the app would.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from clipgen.db import session_scope
from clipgen.models import Clip, ClipStatus, JobStatus
from clipgen.pipeline.probe import probe
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth import service as auth
from clipgen.services.media import clips, jobs, videos
from clipgen.storage import get_storage
from tests.support.media import Line, make_talk
from tests.support.workers import run_in_app_process, wait_for, worker_process

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

OPTIONS = GenerateOptions(clips=1, min_seconds=5, max_seconds=12)
DEADLINE_S = 180.0
T = TypeVar("T")


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trim-media") / "talk.mp4"
    make_talk(
        [
            Line("Welcome back to the program. Today we look at roads in small towns."),
            Line(
                "Here is the secret nobody tells you! I doubled my money in one week!",
                speed=205,
                pitch=75,
                gain_db=9.0,
            ),
            Line("The committee meets on the second Tuesday of each month to review it."),
        ],
        path,
    )
    return path


@pytest.fixture
def env(database_url: str, broker_url: str, isolated_settings: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "DATA_DIR": str(isolated_settings),
    }


def _worker(env: dict[str, str], log_path: Path):
    return worker_process(env, log_path, queues=("generation", "clips"))


def _wait_for(log_path: Path, condition: Callable[[], T], what: str) -> T:
    return wait_for(
        condition, what, logs=lambda: log_path.read_text()[-6000:], deadline_s=DEADLINE_S
    )


def _clip_row(clip_id: int) -> Clip:
    with session_scope() as session:
        return session.get(Clip, clip_id)


def test_a_trimmed_clip_is_rerendered_to_whole_words_under_new_keys(
    env: dict[str, str], talk_video: Path, tmp_path: Path
) -> None:
    with session_scope() as session:
        owner = auth.register(
            session=session,
            email="ada@example.com",
            display_name="Ada",
            password="a sturdy passphrase",
            role="clipper",
        )
    upload = tmp_path / "upload.part"
    shutil.copy(talk_video, upload)
    with session_scope() as session:
        ticket = videos.begin_upload(session=session, actor=owner, original_filename="talk.mp4")
    with session_scope() as session:
        video = videos.accept_upload(
            session=session, actor=owner, video_id=ticket.video_id, temp_path=upload
        )
        job = jobs.start_generation(
            session=session, actor=owner, video_id=video.id, options=OPTIONS
        )
    log_path = tmp_path / "worker.log"
    storage = get_storage()
    with _worker(env, log_path):
        run_in_app_process(
            env, f"from workers.generation import process_job\nprocess_job.send({job.id})"
        )

        def ended() -> jobs.JobView | None:
            with session_scope() as session:
                found = jobs.find_job(session=session, job_id=job.id)
            return found if found.is_finished else None

        done = _wait_for(log_path, ended, "the job to end")
        assert done.status == JobStatus.SUCCEEDED, done.error
        words_key = clips.job_words_key(owner.id, job.id)
        words = clips.words_from_data(json.loads(storage.read_bytes(words_key)))
        with session_scope() as session:
            (before,) = clips.list_job_clips(session=session, actor=owner, job_id=job.id)
        old_keys = [
            getattr(_clip_row(before.id), name)
            for name in ("video_key", "srt_key", "vtt_key", "thumbnail_key")
        ]

        # Cut inside the second word of the clip and inside a word about 4 s later.
        spoken = clips.words_in_span(words, before.start_s, before.end_s)
        first = spoken[1]
        last = next(w for w in spoken if w.start > first.end + 3.5 and w.end - w.start > 0.1)
        asked_start = round((first.start + first.end) / 2, 3)
        asked_end = round((last.start + last.end) / 2, 3)
        with session_scope() as session:
            requested = clips.request_trim(
                session=session,
                actor=owner,
                clip_id=before.id,
                start_s=asked_start,
                end_s=asked_end,
            )
        assert requested.status == ClipStatus.RENDERING
        pending = _clip_row(before.id)
        snapped = (round(first.start, 3), round(last.end, 3))
        assert (pending.pending_start_s, pending.pending_end_s) == snapped
        # The message carries ids only: the trim itself waits on the clip row.
        send = (
            "from workers.clips import rerender_clip\n"
            f"rerender_clip.send(clip_id={before.id}, version=2)"
        )
        run_in_app_process(env, send)

        def rerendered() -> Clip | None:
            row = _clip_row(before.id)
            return row if row.status == ClipStatus.READY and row.version == 2 else None

        after = _wait_for(log_path, rerendered, "the clip to be re-rendered")

        # The same message again finds the version applied and does nothing.
        run_in_app_process(env, send)
        _wait_for(
            log_path,
            lambda: f"Skipping re-render of clip {before.id} v2" in log_path.read_text(),
            "the duplicate message to be dropped",
        )

    assert (after.start_s, after.end_s) == snapped
    assert (after.pending_start_s, after.pending_end_s, after.pending_words) == (None, None, None)
    assert after.transcript == clips.trim_transcript(words, after.start_s, after.end_s)
    assert after.transcript.split()[0] == first.text.strip()
    new_keys = [after.video_key, after.srt_key, after.vtt_key, after.thumbnail_key]
    assert all("/clip_01_v2." in key for key in new_keys)
    assert all(storage.exists(key) for key in new_keys)
    assert storage.exists(clips.clip_words_key(owner.id, job.id, 1, 2))
    assert not any(storage.exists(key) for key in old_keys)
    assert storage.exists(words_key)
    rendered = storage.get_to_path(after.video_key, tmp_path / "trimmed.mp4")
    assert probe(rendered).duration == pytest.approx(after.end_s - after.start_s, abs=0.15)
    srt = storage.read_bytes(after.srt_key).decode()
    assert first.text.strip().strip(".,!?") in srt
