"""A campaign's source is analysed once and shared by every clipper's job on it.

The rules of who makes the analysis run on SQLite and PostgreSQL; the sharing itself
runs the real pipeline on real speech: in this process (so the real transcriber can be
counted), and on a real Dramatiq worker with two threads, where two jobs start at once
and one waits for the other's analysis.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from clipgen.db import session_scope
from clipgen.models import Clip, JobStatus, Role, Video, VideoStatus, utcnow
from clipgen.pipeline import run as pipeline_run
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth.service import UserView
from clipgen.services.market import campaigns, claims
from clipgen.services.media import analysis, flows, jobs
from clipgen.services.media.clips import job_words_key
from clipgen.services.tasks import ANALYSE_SOURCE, PROCESS_JOB
from clipgen.storage import get_storage
from tests.support.market import DRAFT, fund
from tests.support.media import Line, make_talk
from tests.support.money import person
from tests.support.workers import run_in_app_process, wait_for, worker_process
from workers.generation import analyse_source, process_job

OPTIONS = GenerateOptions(clips=1, min_seconds=5, max_seconds=12)
SHARED_KEYS = ("probe", "transcribe", "signals")


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A talk of about 13 seconds: three spoken lines."""
    path = tmp_path_factory.mktemp("shared-analysis-media") / "talk.mp4"
    make_talk(
        [
            Line("Welcome back to the show. Today we talk about gardening in the spring."),
            Line(
                "Here is the secret nobody tells you! Water early in the morning!",
                speed=200,
                gain_db=6.0,
            ),
            Line("That is all for today. Thank you for listening to the program."),
        ],
        path,
    )
    return path


@pytest.fixture
def transcriptions(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every call of the real transcriber in this process (its audio's length, in seconds)."""
    calls: list[float] = []
    real = pipeline_run.transcribe

    def counted(audio, **kwargs):
        calls.append(audio.size / 16_000)
        return real(audio, **kwargs)

    monkeypatch.setattr(pipeline_run, "transcribe", counted)
    return calls


# --- set-ups ---------------------------------------------------------------------------------


def _stored_video(owner: UserView, file: Path) -> int:
    """A ready upload of `owner`, its file in storage as an accepted upload leaves it."""
    with session_scope() as session:
        video = Video(
            owner_id=owner.id,
            original_filename="talk.mp4",
            storage_key=f"users/{owner.id}/videos/{time.time_ns()}/original.mp4",
            size_bytes=file.stat().st_size,
            duration_s=15.0,
            width=640,
            height=360,
            status=VideoStatus.READY,
        )
        session.add(video)
        session.flush()
        get_storage().put_file(video.storage_key, file, content_type="video/mp4")
        return video.id


class Market:
    """A live campaign whose source is the talk, and two clippers who claimed it."""

    def __init__(self, talk: Path) -> None:
        with session_scope() as session:
            admin = person(session, Role.ADMIN)
            self.client = person(session, Role.CLIENT, "brand")
            self.ada = person(session, Role.CLIPPER, "ada")
            self.bob = person(session, Role.CLIPPER, "bob")
        self.video_id = _stored_video(self.client, talk)
        with session_scope() as session:
            fund(session, admin, self.client, DRAFT.budget_cents)
            draft = replace(DRAFT, source_video_id=self.video_id)
            made = campaigns.create_campaign(session=session, actor=self.client, draft=draft)
            campaigns.activate_campaign(session=session, actor=self.client, campaign_id=made.id)
            self.claims = {
                user.id: claims.claim_slot(session=session, actor=user, campaign_id=made.id).id
                for user in (self.ada, self.bob)
            }

    def generate(self, clipper: UserView) -> int:
        """The clipper starts generation for their claim, as the claim page does."""
        with session_scope() as session:
            return claims.generate_for_claim(
                session=session, actor=clipper, job_id=self.claims[clipper.id], options=OPTIONS
            ).id


def _job(job_id: int) -> jobs.JobView:
    with session_scope() as session:
        job = jobs.find_job(session=session, job_id=job_id)
    assert job is not None
    return job


def _clips(job_id: int) -> list[Clip]:
    with session_scope() as session:
        return list(session.exec(select(Clip).where(Clip.job_id == job_id)))


def _state(video_id: int) -> str:
    with session_scope() as session:
        return analysis.analysis_state(session=session, video_id=video_id)


def _stored_analyses(video_id: int, data_dir: Path) -> list[str]:
    folder = data_dir / "files" / analysis.video_analyses_prefix(video_id)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _assert_made_clips(job_id: int, owner: UserView) -> jobs.JobView:
    job = _job(job_id)
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, ""), job
    clips = _clips(job_id)
    assert len(clips) == 1 and clips[0].owner_id == owner.id
    assert get_storage().exists(clips[0].video_key)
    assert "render" in job.timings and "candidates" in job.timings
    return job


# --- who makes the analysis (no media) -------------------------------------------------------


def test_only_one_caller_claims_an_analysis_and_a_stale_one_is_taken_over(
    database_url: str,
) -> None:
    with session_scope() as session:
        owner = person(session, Role.CLIENT)
    video_id = _stored_video(owner, Path(__file__))  # any file: nothing reads it here
    with session_scope() as session:
        assert analysis.analysis_state(session=session, video_id=video_id) == ""
        assert analysis.analysis_state(session=session, video_id=10**9) == ""

    # Eight workers ask at once: exactly one gets it.
    barrier = threading.Barrier(8)
    won: list[bool] = []

    def ask() -> None:
        barrier.wait()
        with session_scope() as session:
            won.append(analysis.claim_analysis(session=session, video_id=video_id))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]
    assert _state(video_id) == "running"

    with session_scope() as session:
        # Fresh: nobody else may take it; renewing keeps it fresh.
        assert not analysis.claim_analysis(session=session, video_id=video_id)
        assert analysis.renew_analysis(session=session, video_id=video_id)
        # Its worker died two minutes ago: the next asker takes it over.
        session.exec(
            update(Video)
            .where(col(Video.id) == video_id)
            .values(analysis_at=utcnow() - timedelta(seconds=200))
        )
        assert analysis.claim_analysis(session=session, video_id=video_id, stale_after_s=120)
        assert not analysis.claim_analysis(session=session, video_id=video_id, stale_after_s=120)
        # It failed: given up, so another worker may make it.
        assert analysis.release_analysis(session=session, video_id=video_id)
        assert not analysis.release_analysis(session=session, video_id=video_id)
        assert analysis.analysis_state(session=session, video_id=video_id) == ""
        assert analysis.claim_analysis(session=session, video_id=video_id)
        assert analysis.finish_analysis(session=session, video_id=video_id)
        assert not analysis.finish_analysis(session=session, video_id=video_id)
    with session_scope() as session:
        # Ready is final: not claimed, released or renewed again, however old.
        session.exec(
            update(Video)
            .where(col(Video.id) == video_id)
            .values(analysis_at=utcnow() - timedelta(days=30))
        )
        assert not analysis.claim_analysis(session=session, video_id=video_id, stale_after_s=1)
        assert not analysis.release_analysis(session=session, video_id=video_id)
        assert not analysis.renew_analysis(session=session, video_id=video_id)
        assert analysis.analysis_state(session=session, video_id=video_id) == "ready"

        # A video still uploading (or deleted) is never analysed.
        uploading = Video(
            owner_id=owner.id, original_filename="a.mp4", storage_key="u/a.mp4", status="uploading"
        )
        session.add(uploading)
        session.flush()
        assert not analysis.claim_analysis(session=session, video_id=uploading.id)
        assert analysis.source_file(session=session, video_id=uploading.id) is None
        assert not analysis.is_campaign_source(session=session, video_id=video_id)


def test_analysis_keys_name_the_video_model_and_language() -> None:
    assert analysis.analysis_key(7, "", "auto", "transcribe") == (
        "analysis/video-7/bundled-auto/transcribe.json"
    )
    assert analysis.analysis_key(7, "large-v3", "de", "probe") == (
        "analysis/video-7/large-v3-de/probe.json"
    )
    from_path = analysis.model_slug("/models/Whisper Large/")
    assert from_path.startswith("Whisper_Large-") and "/" not in from_path
    assert analysis.model_slug("Systran/faster-whisper-small") != analysis.model_slug(
        "other/faster-whisper-small"
    )
    assert analysis.language_slug("") == "auto"
    with pytest.raises(ValueError):
        analysis.analysis_key(7, "", "auto", "audio")
    from clipgen.storage.base import validate_key

    for model in ("", "small", "/m/x", "../../etc", ".hidden", "a b/c"):
        validate_key(analysis.analysis_key(1, model, "pt-BR", "signals"))


# --- the real pipeline, in this process --------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_campaign_source_is_analysed_once_for_every_clipper(
    database_url: str,
    isolated_settings: Path,
    talk_video: Path,
    sent: list,
    transcriptions: list[float],
) -> None:
    market = Market(talk_video)
    assert sent == [(ANALYSE_SOURCE, {"video_id": market.video_id})]  # sent as it went live

    # The message arrives twice (a retry, a duplicate): the source is analysed once.
    analyse_source(market.video_id)
    analyse_source(market.video_id)
    assert len(transcriptions) == 1 and 10 < transcriptions[0] < 20  # the whole talk
    assert _state(market.video_id) == "ready"
    assert _stored_analyses(market.video_id, isolated_settings) == sorted(
        [f"bundled-auto/{name}.json" for name in SHARED_KEYS] + ["bundled-auto/envelope.npy"]
    )
    assert not list((isolated_settings / "work").glob("analysis-*"))  # its folder is gone

    # Two clippers make clips of it: both reuse the analysis, neither transcribes.
    job_ids = [market.generate(market.ada), market.generate(market.bob)]
    assert sent[1:] == [(PROCESS_JOB, {"job_id": job_id}) for job_id in job_ids]
    for job_id in job_ids:
        process_job(job_id)
    ada_job = _assert_made_clips(job_ids[0], market.ada)
    bob_job = _assert_made_clips(job_ids[1], market.bob)
    assert len(transcriptions) == 1
    for job in (ada_job, bob_job):
        assert "transcribe" not in job.timings and "signals" not in job.timings
        assert "probe" not in job.timings and "audio" not in job.timings
        # the soundtrack's envelope (where cuts fall silent) is shared too: no audio again
        assert "envelope" not in job.timings
        assert "analysis_fetch" in job.timings
    # Each job cut its clip from its own copy of the source, and kept the whole transcript.
    for job_id in job_ids:
        with session_scope() as session:
            job = jobs.find_job(session=session, job_id=job_id)
        words = get_storage().read_bytes(job_words_key(job.user_id, job_id))
        assert b"gardening" in words


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_first_job_publishes_its_analysis_and_private_uploads_stay_private(
    database_url: str,
    isolated_settings: Path,
    talk_video: Path,
    sent: list,
    transcriptions: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market = Market(talk_video)  # its analyse_source message is lost: jobs come first

    ada_job_id = market.generate(market.ada)
    process_job(ada_job_id)
    ada_job = _assert_made_clips(ada_job_id, market.ada)
    assert "transcribe" in ada_job.timings and len(transcriptions) == 1
    assert _state(market.video_id) == "ready"
    assert (
        len(_stored_analyses(market.video_id, isolated_settings)) == 4
    )  # probe, transcribe, signals and the envelope

    bob_job_id = market.generate(market.bob)
    process_job(bob_job_id)
    bob_job = _assert_made_clips(bob_job_id, market.bob)
    assert "transcribe" not in bob_job.timings and "analysis_fetch" in bob_job.timings
    analyse_source(market.video_id)  # the late message: nothing left to do
    assert len(transcriptions) == 1

    # Ada's own upload of the same file is no campaign's source: analysed by its job alone.
    private_id = _stored_video(market.ada, talk_video)
    with session_scope() as session:
        private_job = jobs.start_generation(
            session=session, actor=market.ada, video_id=private_id, options=OPTIONS
        ).id
    process_job(private_job)
    assert "transcribe" in _assert_made_clips(private_job, market.ada).timings
    assert len(transcriptions) == 2
    assert _state(private_id) == "" and _stored_analyses(private_id, isolated_settings) == []
    analyse_source(private_id)  # even if asked to, it is not shared
    assert len(transcriptions) == 2 and _state(private_id) == ""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_job_waits_for_an_analysis_made_elsewhere_then_goes_on_alone(
    database_url: str,
    isolated_settings: Path,
    talk_video: Path,
    sent: list,
    transcriptions: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market = Market(talk_video)
    with session_scope() as session:  # another worker is making it, and stays alive
        assert analysis.claim_analysis(session=session, video_id=market.video_id)
    monkeypatch.setattr(flows, "ANALYSIS_WAIT_S", 1.0)
    monkeypatch.setattr(flows, "ANALYSIS_POLL_S", 0.2)
    job_id = market.generate(market.ada)
    began = time.monotonic()
    process_job(job_id)
    assert time.monotonic() - began > 1.0
    job = _assert_made_clips(job_id, market.ada)
    assert "transcribe" in job.timings and len(transcriptions) == 1
    assert _state(market.video_id) == "running"  # still the other worker's to finish


# --- a real worker, two jobs at once -------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_jobs_at_once_on_a_real_worker_transcribe_once(
    database_url: str,
    broker_url: str,
    isolated_settings: Path,
    tmp_path: Path,
    talk_video: Path,
    sent: list,
) -> None:
    market = Market(talk_video)  # the analyse_source message is swallowed by `sent`
    job_ids = [market.generate(market.ada), market.generate(market.bob)]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "DATA_DIR": str(isolated_settings),
    }
    log_path = tmp_path / "worker.log"
    with worker_process(env, log_path, threads=2):
        run_in_app_process(env, "".join(f"process_job.send({job_id})\n" for job_id in job_ids))
        wait_for(
            lambda: all(_job(job_id).is_finished for job_id in job_ids),
            "both jobs to end",
            logs=lambda: log_path.read_text()[-6000:],
        )
    finished = [
        _assert_made_clips(job_ids[0], market.ada),
        _assert_made_clips(job_ids[1], market.bob),
    ]
    made_here = [job for job in finished if "transcribe" in job.timings]
    reused = [job for job in finished if "analysis_fetch" in job.timings]
    assert len(made_here) == 1 and len(reused) == 1, [job.timings for job in finished]
    assert "transcribe" not in reused[0].timings
    assert "analysis_wait" in reused[0].timings  # it started while the other was transcribing
    assert _state(market.video_id) == "ready"
    assert log_path.read_text().count("analyses video") == 1
