"""The rules of processing jobs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from clipgen.models import (
    AuditLog,
    Clip,
    ClipRender,
    JobStatus,
    ProcessingJob,
    Video,
    VideoStatus,
    utcnow,
)
from clipgen.pipeline.run import overall_percent
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.media import clips, jobs
from clipgen.services.media.clips import clip_file_key
from clipgen.services.media.jobs import ClipRecord

OPTIONS = GenerateOptions(clips=2, min_seconds=5, max_seconds=12)


def _register(session: Session, email: str) -> UserView:
    return auth.register(
        session=session,
        email=email,
        display_name=email.split("@")[0].title(),
        password="a sturdy passphrase",
        role="clipper",
    )


def _video(session: Session, owner: UserView, status: str = VideoStatus.READY) -> int:
    count = session.exec(select(func.count()).select_from(Video)).one()
    video = Video(
        owner_id=owner.id,
        original_filename="talk.mp4",
        storage_key=f"users/{owner.id}/videos/{count + 1}/original.mp4",
        status=status,
    )
    session.add(video)
    session.commit()
    return video.id


@pytest.fixture
def ada(session: Session) -> UserView:
    return _register(session, "ada@example.com")


@pytest.fixture
def bob(session: Session) -> UserView:
    return _register(session, "bob@example.com")


@pytest.fixture
def queued(session: Session, ada: UserView) -> jobs.JobView:
    return jobs.start_generation(
        session=session, actor=ada, video_id=_video(session, ada), options=OPTIONS
    )


def _running(session: Session, job_id: int) -> jobs.JobView:
    claimed = jobs.begin_run(session=session, job_id=job_id)
    assert claimed is not None
    return claimed


def _age_heartbeat(session: Session, job_id: int, seconds: float) -> None:
    session.exec(
        update(ProcessingJob)
        .where(ProcessingJob.id == job_id)
        .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
    )
    session.commit()


def _record(rank: int) -> ClipRecord:
    return ClipRecord(
        rank=rank,
        start_s=rank * 10.0,
        end_s=rank * 10.0 + 8,
        title=f"Moment {rank}",
        hook="Listen to this",
        reason="Loud and clear",
        score=8,
        transcript="words words words",
        video_key=f"users/1/jobs/1/clip_{rank:02d}.mp4",
        srt_key=f"users/1/jobs/1/clip_{rank:02d}.srt",
        vtt_key=f"users/1/jobs/1/clip_{rank:02d}.vtt",
        thumbnail_key=f"users/1/jobs/1/clip_{rank:02d}.jpg",
        aspect="9:16",
        captions="animated",
    )


def _plan(rank: int) -> dict:
    return {"rank": rank, "clip": {"start": rank * 10.0, "end": rank * 10.0 + 8}}


def _plan_clips(session: Session, job_id: int, ranks: list[int]) -> list[int]:
    return jobs.plan_renders(
        session=session, job_id=job_id, plans=[_plan(r) for r in ranks], timings={"rank": 1.5}
    )


def _finish(session: Session, job_id: int, ranks: list[int] = [1]) -> jobs.JobView:  # noqa: B006
    """Plan a running job's clips, then claim, render (pretend) and store each."""
    _plan_clips(session, job_id, ranks)
    job = None
    while (task := jobs.claim_render(session=session, job_id=job_id)) is not None:
        job = jobs.store_clip(session=session, job_id=job_id, record=_record(task.rank)).job
    assert job is not None
    return job


# --- starting ----------------------------------------------------------------


def test_starting_generation_queues_a_job_with_the_options_and_audits_it(
    session: Session, ada: UserView
) -> None:
    video_id = _video(session, ada)
    job = jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS)
    assert (job.status, job.video_id, job.percent, job.attempts) == ("queued", video_id, 0, 0)
    assert job.options["clips"] == 2 and job.options["max_seconds"] == 12
    assert GenerateOptions(**job.options) == OPTIONS
    assert session.exec(select(AuditLog.action).where(AuditLog.action == "job.started")).all()


def test_someone_elses_video_is_not_found(session: Session, ada: UserView, bob: UserView) -> None:
    video_id = _video(session, ada)
    with pytest.raises(NotFound):
        jobs.start_generation(session=session, actor=bob, video_id=video_id, options=OPTIONS)
    with pytest.raises(NotFound):
        jobs.start_generation(session=session, actor=bob, video_id=9999, options=OPTIONS)
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 0


@pytest.mark.parametrize("status", [VideoStatus.UPLOADING, VideoStatus.REJECTED])
def test_a_video_that_is_not_ready_cannot_be_clipped(
    session: Session, ada: UserView, status: str
) -> None:
    video_id = _video(session, ada, status=status)
    with pytest.raises(InvalidInput):
        jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS)


def test_a_deleted_video_is_not_found(session: Session, ada: UserView) -> None:
    video_id = _video(session, ada, status=VideoStatus.DELETED)
    with pytest.raises(NotFound):
        jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS)


def test_impossible_options_are_refused_in_the_pipelines_words(
    session: Session, ada: UserView
) -> None:
    video_id = _video(session, ada)
    with pytest.raises(InvalidInput, match="between 1 and 20 clips"):
        jobs.start_generation(
            session=session,
            actor=ada,
            video_id=video_id,
            options=GenerateOptions(clips=21),
        )
    with pytest.raises(InvalidInput, match="at least 5 seconds between"):
        jobs.start_generation(
            session=session,
            actor=ada,
            video_id=video_id,
            options=GenerateOptions(min_seconds=30, max_seconds=32),
        )
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 0


# --- seeing ------------------------------------------------------------------


def test_another_user_cannot_see_cancel_or_retry_a_job(
    session: Session, queued: jobs.JobView, bob: UserView
) -> None:
    for call in (jobs.get_job, jobs.cancel_job, jobs.retry_job):
        with pytest.raises(NotFound):
            call(session=session, actor=bob, job_id=queued.id)
    assert jobs.list_jobs(session=session, actor=bob) == []
    assert session.get(ProcessingJob, queued.id).status == JobStatus.QUEUED


def test_jobs_are_listed_newest_first(session: Session, ada: UserView) -> None:
    video_id = _video(session, ada)
    started = [
        jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS).id
        for _ in range(3)
    ]
    listed = jobs.list_jobs(session=session, actor=ada)
    assert [job.id for job in listed] == started[::-1]
    assert [job.id for job in jobs.list_jobs(session=session, actor=ada, limit=2)] == started[:0:-1]
    assert jobs.get_job(session=session, actor=ada, job_id=started[0]).id == started[0]


# --- cancelling and retrying -------------------------------------------------


def test_cancelling_a_queued_job_ends_it_at_once(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    job = jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    assert jobs.begin_run(session=session, job_id=queued.id) is None


def test_cancelling_a_running_job_asks_the_worker_to_stop(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    assert not jobs.record_progress(session=session, job_id=queued.id, stage="probe", percent=1)
    job = jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert (job.status, job.cancel_requested) == (JobStatus.RUNNING, True)
    assert jobs.record_progress(session=session, job_id=queued.id, stage="audio", percent=3) is True
    ended = jobs.mark_cancelled(session=session, job_id=queued.id)
    assert ended.status == JobStatus.CANCELLED and ended.finished_at is not None


def test_a_finished_job_cannot_be_cancelled(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    _finish(session, queued.id)
    with pytest.raises(InvalidInput, match="already finished"):
        jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert jobs.get_job(session=session, actor=ada, job_id=queued.id).status == "succeeded"


def test_a_failed_job_can_be_retried_from_a_clean_slate(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.record_progress(session=session, job_id=queued.id, stage="transcribe", percent=30)
    failed = jobs.fail_job(session=session, job_id=queued.id, message="No speech was found.")
    assert (failed.status, failed.error) == (JobStatus.FAILED, "No speech was found.")
    job = jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    assert (job.status, job.error, job.percent, job.stage) == (JobStatus.QUEUED, "", 0, "")
    assert job.finished_at is None and job.attempts == 1
    assert _running(session, queued.id).attempts == 2


def test_a_cancelled_job_can_be_retried_and_its_cancel_flag_is_cleared(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    jobs.mark_cancelled(session=session, job_id=queued.id)
    job = jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    assert (job.status, job.cancel_requested) == (JobStatus.QUEUED, False)
    _running(session, queued.id)
    assert not jobs.record_progress(session=session, job_id=queued.id, stage="probe", percent=1)


def test_only_failed_or_cancelled_jobs_can_be_retried(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    with pytest.raises(InvalidInput):
        jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    _running(session, queued.id)
    with pytest.raises(InvalidInput):
        jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    _finish(session, queued.id)
    with pytest.raises(InvalidInput):
        jobs.retry_job(session=session, actor=ada, job_id=queued.id)


# --- claiming ----------------------------------------------------------------


def test_a_job_is_claimed_once(session: Session, queued: jobs.JobView) -> None:
    first = jobs.begin_run(session=session, job_id=queued.id)
    assert first is not None
    assert (first.status, first.attempts) == (JobStatus.RUNNING, 1)
    assert first.started_at is not None
    assert jobs.begin_run(session=session, job_id=queued.id) is None
    assert jobs.begin_run(session=session, job_id=queued.id + 1000) is None
    assert session.get(ProcessingJob, queued.id, populate_existing=True).attempts == 1


def test_a_running_job_whose_worker_went_silent_can_be_reclaimed(
    session: Session, queued: jobs.JobView
) -> None:
    first = _running(session, queued.id)
    jobs.record_progress(session=session, job_id=queued.id, stage="render", percent=60)
    _age_heartbeat(session, queued.id, 300)
    assert jobs.jobs_to_recover(session=session) == [queued.id]
    again = jobs.begin_run(session=session, job_id=queued.id)
    assert again is not None
    assert again.attempts == 2 and again.started_at == first.started_at
    assert again.percent == 60  # the resumed run does not show the user a step back
    assert jobs.begin_run(session=session, job_id=queued.id) is None
    assert jobs.jobs_to_recover(session=session) == []


def test_a_silent_job_is_reclaimed_only_after_the_stale_delay(
    session: Session, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    _age_heartbeat(session, queued.id, 30)
    assert jobs.begin_run(session=session, job_id=queued.id, stale_after_s=120) is None
    assert jobs.jobs_to_recover(session=session, stale_after_s=120) == []
    assert jobs.begin_run(session=session, job_id=queued.id, stale_after_s=10) is not None


def test_a_cancelled_job_cannot_be_claimed(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert jobs.begin_run(session=session, job_id=queued.id) is None
    assert jobs.jobs_to_recover(session=session) == []


def test_an_abandoned_run_the_user_cancelled_ends_cancelled_instead_of_resuming(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    _age_heartbeat(session, queued.id, 300)
    assert jobs.begin_run(session=session, job_id=queued.id) is None
    assert jobs.get_job(session=session, actor=ada, job_id=queued.id).status == "cancelled"


def test_jobs_to_recover_are_the_silent_running_ones_and_long_queued_ones(
    session: Session, ada: UserView
) -> None:
    video_id = _video(session, ada)
    ids = [
        jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS).id
        for _ in range(4)
    ]
    waiting, fresh, silent, done = ids
    for job_id in (fresh, silent, done):
        _running(session, job_id)
    _age_heartbeat(session, silent, 600)
    _finish(session, done)
    assert jobs.jobs_to_recover(session=session) == [silent]
    assert jobs.jobs_to_recover(session=session, requeue_after_s=0) == [waiting, silent]


# --- progress and the end of a run -------------------------------------------


def test_progress_never_goes_backwards_within_a_run(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.record_progress(session=session, job_id=queued.id, stage="transcribe", percent=40)
    jobs.record_progress(session=session, job_id=queued.id, stage="probe", percent=1)
    job = jobs.get_job(session=session, actor=ada, job_id=queued.id)
    assert (job.stage, job.percent) == ("transcribe", 40)
    jobs.record_progress(session=session, job_id=queued.id, stage="render", percent=250)
    job = jobs.get_job(session=session, actor=ada, job_id=queued.id)
    assert (job.stage, job.percent) == ("render", 100)


def test_progress_keeps_the_heartbeat_fresh(session: Session, queued: jobs.JobView) -> None:
    _running(session, queued.id)
    _age_heartbeat(session, queued.id, 300)
    jobs.record_progress(session=session, job_id=queued.id, stage="transcribe", percent=10)
    assert jobs.begin_run(session=session, job_id=queued.id) is None


def test_a_worker_is_told_to_stop_when_its_job_is_no_longer_running(
    session: Session, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.fail_job(session=session, job_id=queued.id, message="Gone wrong.")
    assert jobs.record_progress(session=session, job_id=queued.id, stage="render", percent=90)
    assert jobs.record_progress(session=session, job_id=9999, stage="render", percent=90)


def test_each_clip_is_shown_as_soon_as_it_is_stored_and_the_last_one_ends_the_job(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    assert _plan_clips(session, queued.id, [1, 2, 3]) == [1, 2, 3]
    job = jobs.get_job(session=session, actor=ada, job_id=queued.id)
    assert (job.clips_planned, job.stage, job.timings) == (3, "", {"rank": 1.5})
    best = jobs.claim_render(session=session, job_id=queued.id)
    assert (best.rank, best.planned, best.plan) == (1, 3, _plan(1))
    stored = jobs.store_clip(session=session, job_id=queued.id, record=_record(1))
    assert stored.saved and stored.job.status == JobStatus.RUNNING
    assert [c.rank for c in clips.list_job_clips(session=session, actor=ada, job_id=queued.id)] == [
        1
    ]
    assert stored.job.percent == overall_percent("render", 100 / 3)
    assert stored.job.timings["first_clip"] >= 0 and "total" not in stored.job.timings
    for rank in (3, 2):  # whichever worker stores last ends the job
        jobs.claim_render(session=session, job_id=queued.id, rank=rank)
        last = jobs.store_clip(session=session, job_id=queued.id, record=_record(rank))
    assert (last.job.status, last.job.percent, last.job.stage) == (JobStatus.SUCCEEDED, 100, "done")
    assert last.job.finished_at is not None and last.job.timings["total"] >= 0
    assert last.job.timings["first_clip"] == stored.job.timings["first_clip"]
    assert [c.rank for c in clips.list_job_clips(session=session, actor=ada, job_id=queued.id)] == [
        1,
        2,
        3,
    ]


def test_a_planned_clip_is_claimed_by_one_worker_and_stored_once(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    _plan_clips(session, queued.id, [1, 2])
    assert jobs.claim_render(session=session, job_id=queued.id, rank=2).rank == 2
    assert jobs.claim_render(session=session, job_id=queued.id, rank=2) is None  # a duplicate
    assert jobs.claim_render(session=session, job_id=queued.id).rank == 1  # the best one left
    assert jobs.claim_render(session=session, job_id=queued.id) is None
    assert jobs.store_clip(session=session, job_id=queued.id, record=_record(2)).saved
    assert jobs.store_clip(session=session, job_id=queued.id, record=_record(2)).saved
    assert jobs.claim_render(session=session, job_id=queued.id, rank=2) is None  # done
    clips_saved = session.exec(select(Clip).where(Clip.job_id == queued.id)).all()
    assert [(c.rank, c.owner_id, c.video_id) for c in clips_saved] == [(2, ada.id, queued.video_id)]
    assert clips_saved[0].video_key.endswith("clip_02.mp4") and clips_saved[0].title == "Moment 2"


def test_a_clip_whose_worker_stopped_is_claimed_again_and_a_plan_is_kept(
    session: Session, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    _plan_clips(session, queued.id, [1, 2])
    jobs.claim_render(session=session, job_id=queued.id, rank=1)
    # Its worker keeps it while it beats...
    jobs.record_progress(session=session, job_id=queued.id, stage="render", percent=60, rank=1)
    assert jobs.claim_render(session=session, job_id=queued.id, rank=1, stale_after_s=60) is None
    # ...and loses it when it stops beating.
    session.exec(update(ClipRender).values(heartbeat_at=utcnow() - timedelta(seconds=120)))
    again = jobs.claim_render(session=session, job_id=queued.id, rank=1, stale_after_s=60)
    assert again is not None and again.rank == 1
    assert session.exec(select(ClipRender.attempts).where(ClipRender.rank == 1)).one() == 2
    # A resumed run keeps the first plan and renders only what is not stored.
    jobs.store_clip(session=session, job_id=queued.id, record=_record(1))
    assert _plan_clips(session, queued.id, [1, 2, 3]) == [2]
    assert jobs.render_ranks(session=session, job_id=queued.id) == ([1, 2], {1})


def test_a_job_that_ended_stores_nothing_and_is_not_rendered_further(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    _plan_clips(session, queued.id, [1, 2, 3])
    jobs.claim_render(session=session, job_id=queued.id, rank=1)
    jobs.store_clip(session=session, job_id=queued.id, record=_record(1))
    jobs.claim_render(session=session, job_id=queued.id, rank=2)
    jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert jobs.claim_render(session=session, job_id=queued.id) is None  # cancel requested
    jobs.mark_cancelled(session=session, job_id=queued.id)
    late = jobs.store_clip(session=session, job_id=queued.id, record=_record(2))
    assert not late.saved and late.job.status == JobStatus.CANCELLED
    assert jobs.plan_renders(session=session, job_id=queued.id, plans=[], timings={}) == []
    # The clip made before the cancel stays; trying again makes the rest.
    assert jobs.render_ranks(session=session, job_id=queued.id) == ([1, 2, 3], {1})
    jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    _running(session, queued.id)
    assert _plan_clips(session, queued.id, [1, 2, 3]) == [2, 3]
    assert jobs.claim_render(session=session, job_id=queued.id).rank == 2
    assert jobs.claim_render(session=session, job_id=queued.id).rank == 3


def test_a_cancelled_job_gets_no_clips_and_stays_cancelled(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert jobs.plan_renders(session=session, job_id=queued.id, plans=[_plan(1)], timings={}) == []
    stored = jobs.store_clip(session=session, job_id=queued.id, record=_record(1))
    assert not stored.saved and stored.job.status == JobStatus.CANCELLED
    assert session.exec(select(func.count()).select_from(Clip)).one() == 0


def test_a_succeeded_job_is_never_failed_or_cancelled_afterwards(
    session: Session, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    _finish(session, queued.id)
    assert jobs.fail_job(session=session, job_id=queued.id, message="late").status == "succeeded"
    assert jobs.mark_cancelled(session=session, job_id=queued.id).status == "succeeded"
    assert jobs.begin_run(session=session, job_id=queued.id) is None
    assert not jobs.store_clip(session=session, job_id=queued.id, record=_record(1)).saved


def test_the_job_source_is_the_videos_stored_file(session: Session, queued: jobs.JobView) -> None:
    key, name = jobs.job_source(session=session, job_id=queued.id)
    assert key.endswith("/original.mp4") and name == "talk.mp4"
    with pytest.raises(NotFound):
        jobs.job_source(session=session, job_id=9999)


# --- one unit of work, messages after commit -----------------------------------


def test_the_worker_is_sent_the_job_only_once_the_start_commits(
    database_url: str, sent: list
) -> None:
    from clipgen.db import session_scope

    with session_scope() as session:
        ada = _register(session, "ada@example.com")
        video_id = _video(session, ada)
    with session_scope() as session:
        job = jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS)
        assert sent == []
    assert sent == [("process_job", {"job_id": job.id})]


def test_a_failure_in_the_last_step_leaves_nothing_of_the_first(
    database_url: str, sent: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job row is written, then the audit row fails: no job, no message."""
    from clipgen.db import session_scope

    with session_scope() as session:
        ada = _register(session, "ada@example.com")
        video_id = _video(session, ada)

    def broken_audit(**_kwargs) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(jobs, "record_audit", broken_audit)
    with pytest.raises(RuntimeError), session_scope() as session:
        jobs.start_generation(session=session, actor=ada, video_id=video_id, options=OPTIONS)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 0
    assert sent == []


def test_a_client_may_not_make_clips(session: Session) -> None:
    client = auth.register(
        session=session,
        email="brand@example.com",
        display_name="Brand",
        password="a sturdy passphrase",
        role="client",
    )
    video_id = _video(session, client)
    with pytest.raises(PermissionDenied, match="part of a clipper account"):
        jobs.start_generation(session=session, actor=client, video_id=video_id, options=OPTIONS)
    with pytest.raises(PermissionDenied):
        jobs.list_jobs(session=session, actor=client)
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 0


# --- jobs never stuck ----------------------------------------------------------


def test_a_restarted_app_takes_over_its_runs_however_fresh_their_heartbeat(
    session: Session, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.record_progress(session=session, job_id=queued.id, stage="transcribe", percent=30)
    time.sleep(0.01)
    restarted_at = utcnow()  # the heartbeat is a moment old, far from stale
    assert jobs.begin_run(session=session, job_id=queued.id) is None
    assert jobs.jobs_to_recover(session=session) == []
    assert jobs.jobs_to_recover(session=session, orphaned_before=restarted_at) == [queued.id]
    again = jobs.begin_run(session=session, job_id=queued.id, orphaned_before=restarted_at)
    assert again is not None and again.attempts == 2
    # Its own run now beats after the restart, so a second message does not steal it.
    assert jobs.begin_run(session=session, job_id=queued.id, orphaned_before=restarted_at) is None


def test_recovery_resends_a_long_queued_job_once_per_window(
    session: Session, queued: jobs.JobView
) -> None:
    assert jobs.jobs_to_recover(session=session) == []  # just queued: its message is on its way
    session.exec(
        update(ProcessingJob)
        .where(ProcessingJob.id == queued.id)
        .values(created_at=utcnow() - timedelta(seconds=jobs.DEFAULT_REQUEUE_AFTER_S + 5))
    )
    assert jobs.jobs_to_recover(session=session) == [queued.id]
    assert jobs.jobs_to_recover(session=session) == []  # not again every minute


def test_cancelling_a_job_no_worker_is_on_ends_it_at_once(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    live = jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert (live.status, live.cancel_requested) == ("running", True)
    session.exec(
        update(ProcessingJob)
        .where(ProcessingJob.id == queued.id)
        .values(cancel_requested=False, heartbeat_at=utcnow() - timedelta(minutes=5))
    )
    assert jobs.get_job(session=session, actor=ada, job_id=queued.id).stuck
    ended = jobs.cancel_job(session=session, actor=ada, job_id=queued.id)
    assert (ended.status, ended.stuck) == ("cancelled", False) and ended.finished_at


def test_a_stuck_job_can_be_retried_but_a_live_one_cannot(
    session: Session, ada: UserView, queued: jobs.JobView, sent: list
) -> None:
    _running(session, queued.id)
    with pytest.raises(InvalidInput, match="failed, cancelled or stuck"):
        jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    _age_heartbeat(session, queued.id, 300)
    sent.clear()
    again = jobs.retry_job(session=session, actor=ada, job_id=queued.id)
    assert (again.status, again.stuck) == ("queued", False)
    session.commit()
    assert sent == [("process_job", {"job_id": queued.id})]


def test_a_stuck_or_ended_job_can_be_deleted_with_its_clips_but_a_live_one_cannot(
    session: Session, ada: UserView, bob: UserView, queued: jobs.JobView
) -> None:
    from clipgen.storage import get_storage

    with pytest.raises(InvalidInput, match="Cancel it first"):
        jobs.delete_job(session=session, actor=ada, job_id=queued.id)
    _running(session, queued.id)
    with pytest.raises(InvalidInput, match="Cancel it first"):
        jobs.delete_job(session=session, actor=ada, job_id=queued.id)
    with pytest.raises(NotFound):
        jobs.delete_job(session=session, actor=bob, job_id=queued.id)
    _finish(session, queued.id)
    storage = get_storage()
    storage.put_file(_record(1).video_key, __file__)
    session.commit()
    jobs.delete_job(session=session, actor=ada, job_id=queued.id)
    assert storage.exists(_record(1).video_key)  # until the delete commits
    session.commit()
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 0
    assert session.exec(select(func.count()).select_from(Clip)).one() == 0
    assert not storage.exists(_record(1).video_key)
    assert session.exec(select(AuditLog).where(AuditLog.action == "job.deleted")).first()


def test_a_failed_run_keeps_its_technical_detail_out_of_the_users_message(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    _running(session, queued.id)
    jobs.fail_job(
        session=session,
        job_id=queued.id,
        message="Could not read the video.",
        detail="/srv/data/work/job-1/source.mp4: moov atom not found",
    )
    job = jobs.get_job(session=session, actor=ada, job_id=queued.id)
    assert job.error == "Could not read the video."
    audit = session.exec(select(AuditLog).where(AuditLog.action == "job.failed")).one()
    assert "moov atom" in audit.details["detail"]


def test_a_database_error_while_reporting_progress_does_not_end_the_run(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from clipgen.services.media import flows

    reports = []

    def database_gone(**values) -> bool:
        reports.append(values)
        raise OperationalError("UPDATE processing_jobs", {}, Exception("server closed"))

    monkeypatch.setattr(flows.jobs, "record_progress", database_gone)
    reporter = flows._ProgressReporter(job_id=1)
    reporter.report("transcribe", 40)  # the pipeline's callback returns normally
    reporter("render", 50.0)
    assert len(reports) == 2 and reporter.should_cancel() is False


def test_a_job_stopped_after_some_clips_keeps_their_files_and_drops_the_rest(
    session: Session, ada: UserView, queued: jobs.JobView
) -> None:
    from clipgen.services.media.flows import _discard_unsaved
    from clipgen.storage import get_storage

    job = _running(session, queued.id)
    _plan_clips(session, queued.id, [1, 2, 3])
    storage = get_storage()
    keys = {
        rank: [clip_file_key(ada.id, queued.id, rank, ext) for ext in ("mp4", "srt", "vtt", "jpg")]
        for rank in (1, 2, 3)
    }
    for key in keys[1] + keys[2]:  # clip 2 was uploaded when the job was cancelled
        storage.put_file(key, __file__)
    jobs.claim_render(session=session, job_id=queued.id, rank=1)
    record = replace(
        _record(1),
        **dict(zip(("video_key", "srt_key", "vtt_key", "thumbnail_key"), keys[1], strict=True)),
    )
    jobs.store_clip(session=session, job_id=queued.id, record=record)
    jobs.fail_job(session=session, job_id=queued.id, message="Could not render clip 2.")
    session.commit()
    _discard_unsaved(job)
    assert all(storage.exists(key) for key in keys[1])
    assert not any(storage.exists(key) for key in keys[2] + keys[3])
    shown = clips.list_job_clips(session=session, actor=ada, job_id=queued.id)
    assert [c.rank for c in shown] == [1]
