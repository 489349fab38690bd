"""Processing jobs: starting, watching, cancelling, retrying and deleting clip generation.

The database row is the truth about a job. Users start, cancel, retry and
delete jobs; workers claim a job with `begin_run` (one conditional UPDATE, so
a duplicate or late message claims nothing), report progress, plan its clips
(`plan_renders`: one row per clip), then any worker claims a planned clip
(`claim_render`), renders it and saves it with `store_clip`: the user sees it
at once, and the job succeeds when its last clip is stored. `fail_job` and
`mark_cancelled` end it early; clips already stored stay. Every worker-side
call is safe to repeat: each clip is claimed by one worker at a time and
inserted once per (job, rank), and a finished job is never moved back. A
running job whose heartbeat stopped has no live worker: the user can cancel,
retry or delete it at once, and recovery resumes it. Like every service here,
these only flush: the caller commits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, or_, update
from sqlmodel import Session, col, select

from clipgen.models import (
    Clip,
    ClipRender,
    ClipStatus,
    JobStatus,
    MarketJob,
    MarketJobStatus,
    ProcessingJob,
    RenderState,
    Role,
    UTCDateTime,
    Video,
    VideoStatus,
    utcnow,
)
from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.run import check_options, overall_percent
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.access import fresh, owned, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.media.clips import (
    clip_in_use_reason,
    delete_stored_after_commit,
    job_files_prefix,
    job_words_key,
    stored_keys_of,
)
from clipgen.services.media.liveness import (
    STALE_AFTER_S,
    has_live_worker,
    is_stuck,
    stale_heartbeat,
)
from clipgen.services.media.videos import usable_video
from clipgen.services.tasks import PROCESS_JOB, send_after_commit

DEFAULT_STALE_AFTER_S = STALE_AFTER_S
DEFAULT_REQUEUE_AFTER_S = 600.0
MAX_LIST_LIMIT = 100
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED)
_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class JobView:
    """What the app may show of a processing job."""

    id: int
    video_id: int
    user_id: int
    market_job_id: int | None
    status: str
    stage: str
    percent: int
    error: str
    attempts: int
    cancel_requested: bool
    stuck: bool
    options: dict[str, Any]
    timings: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # How many clips the run decided to make (0 until it has planned them); `get_job` only.
    clips_planned: int = 0

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def of(cls, job: ProcessingJob, *, now: datetime | None = None) -> JobView:
        return cls(
            id=job.id,
            video_id=job.video_id,
            user_id=job.user_id,
            market_job_id=job.market_job_id,
            status=job.status,
            stage=job.stage,
            percent=job.percent,
            error=job.error,
            attempts=job.attempts,
            cancel_requested=job.cancel_requested,
            stuck=is_stuck(job, now or utcnow()),
            options=dict(job.options or {}),
            timings=dict(job.timings or {}),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


@dataclass(frozen=True)
class ClipRecord:
    """One finished clip as a worker hands it over: its moment and its stored files."""

    rank: int
    start_s: float
    end_s: float
    title: str
    hook: str
    reason: str
    score: int
    transcript: str
    video_key: str
    srt_key: str
    vtt_key: str
    thumbnail_key: str
    aspect: str
    captions: str
    layout: str = "auto"


@dataclass(frozen=True)
class RenderTask:
    """A planned clip one worker claimed: `plan` holds the clip (`PlannedClip` as JSON)
    and the source's MediaInfo under "info"."""

    job: JobView
    rank: int
    plan: dict[str, Any]
    planned: int


@dataclass(frozen=True)
class StoredClip:
    """What `store_clip` did: whether the clip was saved, and the job after it."""

    saved: bool
    job: JobView


def _now_literal(now: datetime):
    """`now` as a bound value of the timestamp column type, for use inside SQL expressions."""
    return literal(now, UTCDateTime())


def _own_job(session: Session, actor: UserView, job_id: int) -> ProcessingJob:
    require_role(actor, Role.CLIPPER)
    return owned(session, ProcessingJob, job_id, actor, noun="job", owner_attr="user_id")


def _conditional_update(session: Session, job_id: int, *conditions, **values) -> bool:
    """Change the job only when `conditions` hold; whether a row changed."""
    result = session.exec(
        update(ProcessingJob)
        .where(col(ProcessingJob.id) == job_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def start_generation(
    *, session: Session, actor: UserView, video_id: int, options: GenerateOptions
) -> JobView:
    """Queue clip generation for one of the actor's ready videos; a worker starts after commit."""
    require_role(actor, Role.CLIPPER)
    video = usable_video(session, actor, video_id)
    return queue_generation(session=session, actor=actor, video=video, options=options)


def queue_generation(
    *,
    session: Session,
    actor: UserView,
    video: Video,
    options: GenerateOptions,
    market_job_id: int | None = None,
) -> JobView:
    """Queue a job on `video`, which the caller checked the actor may make clips of
    (their own upload, or the source of a campaign they hold a claim on)."""
    if not isinstance(options, GenerateOptions):
        raise InvalidInput("Choose the clip options again.")
    try:
        check_options(options)
    except PipelineError as error:
        raise InvalidInput(str(error)) from None
    job = ProcessingJob(
        user_id=actor.id, video_id=video.id, options=asdict(options), market_job_id=market_job_id
    )
    session.add(job)
    session.flush()
    record_audit(
        session=session,
        action="job.started",
        actor_id=actor.id,
        target_type="processing_job",
        target_id=job.id,
        video_id=video.id,
        clips=options.clips,
        market_job_id=market_job_id,
    )
    send_after_commit(session, PROCESS_JOB, job_id=job.id)
    return JobView.of(job)


def get_job(*, session: Session, actor: UserView, job_id: int) -> JobView:
    """One of the actor's jobs, with how many clips it planned."""
    job = _own_job(session, actor, job_id)
    planned = session.exec(
        select(func.count()).select_from(ClipRender).where(ClipRender.job_id == job.id)
    ).one()
    return replace(JobView.of(job), clips_planned=planned)


def list_jobs(*, session: Session, actor: UserView, limit: int = 20) -> list[JobView]:
    """The actor's jobs, newest first."""
    require_role(actor, Role.CLIPPER)
    limit = max(1, min(MAX_LIST_LIMIT, int(limit)))
    jobs = session.exec(
        select(ProcessingJob)
        .where(ProcessingJob.user_id == actor.id)
        .order_by(col(ProcessingJob.created_at).desc(), col(ProcessingJob.id).desc())
        .limit(limit)
        .execution_options(populate_existing=True)
    ).all()
    return [JobView.of(job) for job in jobs]


def cancel_job(*, session: Session, actor: UserView, job_id: int) -> JobView:
    """Stop a job: a queued one or one with no live worker at once, a running one at the
    worker's next check."""
    job = _own_job(session, actor, job_id)
    now = utcnow()
    # Conditional updates, because a worker may claim or finish the job meanwhile.
    if _conditional_update(
        session,
        job_id,
        or_(
            col(ProcessingJob.status) == JobStatus.QUEUED,
            and_(
                col(ProcessingJob.status) == JobStatus.RUNNING,
                stale_heartbeat(now),
            ),
        ),
        status=JobStatus.CANCELLED,
        cancel_requested=True,
        finished_at=now,
    ):
        outcome = "cancelled"
    elif _conditional_update(
        session,
        job_id,
        col(ProcessingJob.status) == JobStatus.RUNNING,
        cancel_requested=True,
    ):
        outcome = "cancel_requested"
    else:
        raise InvalidInput("This job has already finished.")
    record_audit(
        session=session,
        action="job.cancelled",
        actor_id=actor.id,
        target_type="processing_job",
        target_id=job.id,
        outcome=outcome,
    )
    return JobView.of(fresh(session, ProcessingJob, job_id))


def _retryable(now: datetime):
    """Failed, cancelled, or running with no live worker."""
    return or_(
        col(ProcessingJob.status).in_(RETRYABLE),
        and_(
            col(ProcessingJob.status) == JobStatus.RUNNING,
            stale_heartbeat(now),
        ),
    )


def retry_job(*, session: Session, actor: UserView, job_id: int) -> JobView:
    """Queue a failed, cancelled or stuck job again; a worker starts after commit.

    Stages a stuck run finished are kept in its work folder, so it resumes.
    """
    job = _own_job(session, actor, job_id)
    now = utcnow()
    if job.status not in RETRYABLE and not is_stuck(job, now):
        raise InvalidInput("Only a failed, cancelled or stuck job can be tried again.")
    if job.market_job_id is None:
        usable_video(session, actor, job.video_id)
    else:
        _claim_still_workable(session, job)
    if not _conditional_update(
        session,
        job_id,
        _retryable(now),
        status=JobStatus.QUEUED,
        stage="",
        percent=0,
        error="",
        cancel_requested=False,
        started_at=None,
        heartbeat_at=None,
        finished_at=None,
    ):
        raise InvalidInput("Only a failed, cancelled or stuck job can be tried again.")
    # Clips already stored stay; the ones no worker finished are rendered again.
    session.exec(
        update(ClipRender)
        .where(col(ClipRender.job_id) == job_id, col(ClipRender.state) != RenderState.DONE)
        .values(state=RenderState.QUEUED, heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    record_audit(
        session=session,
        action="job.retried",
        actor_id=actor.id,
        target_type="processing_job",
        target_id=job.id,
        was=job.status,
    )
    send_after_commit(session, PROCESS_JOB, job_id=job_id)
    return JobView.of(fresh(session, ProcessingJob, job_id))


def _claim_still_workable(session: Session, job: ProcessingJob) -> None:
    """A job made for a marketplace claim runs again only while the claim is open and the
    campaign's source is there."""
    claim = fresh(session, MarketJob, job.market_job_id)
    if claim is None or claim.status not in (
        MarketJobStatus.IN_PROGRESS,
        MarketJobStatus.REVISION_REQUESTED,
    ):
        raise InvalidInput(
            "The claim these clips were for is closed, so this job cannot run again."
        )
    video = fresh(session, Video, job.video_id)
    if video is None or video.status != VideoStatus.READY:
        raise InvalidInput("The campaign's source video is not available any more.")


def delete_job(*, session: Session, actor: UserView, job_id: int) -> None:
    """Delete one of the actor's jobs that no worker is on, with its clips and files.

    Refused while the job is queued or running live (cancel it first), and while
    one of its clips is submitted or published. Files go after the commit.
    """
    job = _own_job(session, actor, job_id)
    now = utcnow()
    if job.status == JobStatus.QUEUED or (
        job.status == JobStatus.RUNNING and not is_stuck(job, now)
    ):
        raise InvalidInput("This job is still running. Cancel it first, then delete it.")
    clips = session.exec(select(Clip).where(Clip.job_id == job.id)).all()
    reason = clip_in_use_reason(session, [clip.id for clip in clips])
    if reason:
        raise InvalidInput(f"A clip of this job was {reason}, so the job cannot be deleted.")
    session.exec(delete(Clip).where(col(Clip.job_id) == job.id))
    session.exec(delete(ClipRender).where(col(ClipRender.job_id) == job.id))
    deleted = session.exec(
        delete(ProcessingJob)
        .where(col(ProcessingJob.id) == job.id, ~has_live_worker(now))
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount != 1:
        raise InvalidInput("This job was just started again; cancel it first, then delete it.")
    record_audit(
        session=session,
        action="job.deleted",
        actor_id=actor.id,
        target_type="processing_job",
        target_id=job.id,
        status=job.status,
        clips=len(clips),
    )
    delete_stored_after_commit(
        session,
        [key for clip in clips for key in stored_keys_of(clip)]
        + [job_words_key(job.user_id, job.id)],
        prefixes=[job_files_prefix(job.user_id, job.id)],
    )


def begin_run(
    *,
    session: Session,
    job_id: int,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    orphaned_before: datetime | None = None,
) -> JobView | None:
    """Claim the job for this worker; None when there is nothing to run.

    A queued job is claimed, and so is a running one whose worker stopped
    sending heartbeats, or (with `orphaned_before`, the moment this process
    started) one whose last heartbeat came from a process that is gone. A
    finished job, a missing one, or one running fresh elsewhere is left
    alone, which makes a duplicate message a no-op.
    """
    now = utcnow()
    abandoned = stale_heartbeat(now, stale_after_s)
    if orphaned_before is not None:
        abandoned = or_(abandoned, col(ProcessingJob.heartbeat_at) < _now_literal(orphaned_before))
    running_stale = and_(col(ProcessingJob.status) == JobStatus.RUNNING, abandoned)
    # An abandoned run the user asked to stop ends here rather than running again.
    _conditional_update(
        session,
        job_id,
        running_stale,
        col(ProcessingJob.cancel_requested).is_(True),
        status=JobStatus.CANCELLED,
        finished_at=now,
    )
    claimed = _conditional_update(
        session,
        job_id,
        or_(
            col(ProcessingJob.status) == JobStatus.QUEUED,
            and_(running_stale, col(ProcessingJob.cancel_requested).is_(False)),
        ),
        status=JobStatus.RUNNING,
        attempts=ProcessingJob.attempts + 1,
        started_at=func.coalesce(ProcessingJob.started_at, _now_literal(now)),
        heartbeat_at=now,
    )
    if not claimed:
        return None
    return JobView.of(fresh(session, ProcessingJob, job_id))


def job_source(*, session: Session, job_id: int) -> tuple[str, str]:
    """The storage key and original file name of the video a job works on."""
    row = session.exec(
        select(Video.storage_key, Video.original_filename)
        .join(ProcessingJob, col(ProcessingJob.video_id) == Video.id)
        .where(ProcessingJob.id == job_id)
    ).first()
    if row is None:
        raise NotFound("That job was not found.")
    return row[0], row[1]


def find_job(*, session: Session, job_id: int) -> JobView | None:
    """A job as a worker sees it, or None when it is gone."""
    job = fresh(session, ProcessingJob, job_id)
    return None if job is None else JobView.of(job)


def record_progress(
    *, session: Session, job_id: int, stage: str, percent: int, rank: int | None = None
) -> bool:
    """Save a running job's progress and heartbeat; whether the worker should stop.

    The percentage never goes backwards within a run (a resumed run replays
    finished stages quickly). With `rank`, the worker rendering that clip also
    shows it is alive. The answer is True when the user asked to cancel, and
    also when the job is no longer running here at all.
    """
    percent = max(0, min(100, int(percent)))
    # The job's row first, then its clip's: the order every writer of both keeps
    # (`plan_renders`, `store_clip`, `retry_job`), so two of them never deadlock.
    _conditional_update(
        session,
        job_id,
        col(ProcessingJob.status) == JobStatus.RUNNING,
        stage=case((ProcessingJob.percent <= percent, stage[:32]), else_=ProcessingJob.stage),
        percent=case((ProcessingJob.percent < percent, percent), else_=ProcessingJob.percent),
        heartbeat_at=utcnow(),
    )
    if rank is not None:
        session.exec(
            update(ClipRender)
            .where(
                col(ClipRender.job_id) == job_id,
                col(ClipRender.rank) == rank,
                col(ClipRender.state) == RenderState.RENDERING,
            )
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    row = session.exec(
        select(ProcessingJob.status, ProcessingJob.cancel_requested).where(
            ProcessingJob.id == job_id
        )
    ).first()
    if row is None:
        return True
    status, cancel_requested = row
    return status != JobStatus.RUNNING or bool(cancel_requested)


def _clip_row(job: ProcessingJob, record: ClipRecord) -> Clip:
    return Clip(
        owner_id=job.user_id,
        job_id=job.id,
        video_id=job.video_id,
        rank=record.rank,
        start_s=max(0.0, float(record.start_s)),
        end_s=max(0.0, float(record.end_s)),
        title=record.title[:200],
        hook=record.hook[:500],
        reason=record.reason[:1000],
        score=max(1, min(10, int(record.score))),
        transcript=record.transcript,
        aspect=record.aspect[:8],
        captions=record.captions[:16],
        layout=record.layout[:16],
        status=ClipStatus.READY,
        video_key=record.video_key,
        srt_key=record.srt_key,
        vtt_key=record.vtt_key,
        thumbnail_key=record.thumbnail_key,
    )


def plan_renders(
    *, session: Session, job_id: int, plans: list[dict[str, Any]], timings: dict[str, Any]
) -> list[int]:
    """Save the clips a running job will make, one row each (`plans` in rank order, each
    `{"rank": .., "info": .., "clip": ..}`), and the seconds its stages took; the ranks
    not stored yet, one render message each. A job planned before keeps its plan
    (a resumed run renders what the first one decided). Nothing for a job that is not
    running."""
    if not _conditional_update(
        session,
        job_id,
        col(ProcessingJob.status) == JobStatus.RUNNING,
        heartbeat_at=utcnow(),
    ):
        return []
    states = dict(
        session.exec(
            select(ClipRender.rank, ClipRender.state).where(ClipRender.job_id == job_id)
        ).all()
    )
    if not states:
        for plan in plans:
            session.add(ClipRender(job_id=job_id, rank=int(plan["rank"]), plan=plan))
            states[int(plan["rank"])] = RenderState.QUEUED
    job = fresh(session, ProcessingJob, job_id)
    job.timings = {**(job.timings or {}), **timings}
    session.add(job)
    session.flush()
    return sorted(rank for rank, state in states.items() if state != RenderState.DONE)


def _claimable(now: datetime, stale_after_s: float):
    """SQL: a planned clip no worker is on (queued, or rendering with a stale heartbeat)."""
    return or_(
        col(ClipRender.state) == RenderState.QUEUED,
        and_(
            col(ClipRender.state) == RenderState.RENDERING,
            or_(
                col(ClipRender.heartbeat_at).is_(None),
                col(ClipRender.heartbeat_at) < _now_literal(now - timedelta(seconds=stale_after_s)),
            ),
        ),
    )


def claim_render(
    *,
    session: Session,
    job_id: int,
    rank: int | None = None,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
) -> RenderTask | None:
    """Claim one planned clip of a running job for this worker: `rank`, or the best one
    no worker is on. None when there is nothing to render here (done, taken by a live
    worker, or the job is not running or is being cancelled), so a duplicate or late
    message renders nothing."""
    job = fresh(session, ProcessingJob, job_id)
    if job is None or job.status != JobStatus.RUNNING or job.cancel_requested:
        return None
    now = utcnow()
    query = select(ClipRender.id).where(ClipRender.job_id == job_id, _claimable(now, stale_after_s))
    if rank is not None:
        query = query.where(ClipRender.rank == rank)
    for render_id in session.exec(query.order_by(col(ClipRender.rank))).all():
        taken = session.exec(
            update(ClipRender)
            .where(col(ClipRender.id) == render_id, _claimable(now, stale_after_s))
            .values(
                state=RenderState.RENDERING,
                attempts=ClipRender.attempts + 1,
                heartbeat_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            render = fresh(session, ClipRender, render_id)
            planned = session.exec(
                select(func.count()).select_from(ClipRender).where(ClipRender.job_id == job_id)
            ).one()
            return RenderTask(
                job=JobView.of(job, now=now), rank=render.rank, plan=render.plan, planned=planned
            )
    return None


def store_clip(
    *,
    session: Session,
    job_id: int,
    record: ClipRecord,
    spent: dict[str, float] | None = None,
) -> StoredClip:
    """Save one rendered clip of a running job, so its user sees it at once; the job
    succeeds when its last planned clip is stored. Saving a clip twice saves it once.
    `spent` (seconds by step, e.g. render and store) adds to the job's timings, summed
    over its clips, whichever worker made them.

    Nothing is saved for a job that ended meanwhile (cancelled or failed): the caller
    deletes the files it stored.
    """
    now = utcnow()
    # Writing the row first takes its lock: clips of one job are stored one at a time.
    if not _conditional_update(
        session, job_id, col(ProcessingJob.status) == JobStatus.RUNNING, heartbeat_at=now
    ):
        job = fresh(session, ProcessingJob, job_id)
        if job is None:
            raise NotFound("That job was not found.")
        return StoredClip(saved=False, job=JobView.of(job))
    job = fresh(session, ProcessingJob, job_id)
    saved = session.exec(
        select(Clip.id).where(Clip.job_id == job_id, Clip.rank == record.rank)
    ).first()
    if saved is None:
        session.add(_clip_row(job, record))
    session.exec(
        update(ClipRender)
        .where(col(ClipRender.job_id) == job_id, col(ClipRender.rank) == record.rank)
        .values(state=RenderState.DONE, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    states = session.exec(select(ClipRender.state).where(ClipRender.job_id == job_id)).all()
    done = sum(state == RenderState.DONE for state in states)
    timings = dict(job.timings or {})
    if saved is None:
        for step, seconds in (spent or {}).items():
            timings[step] = round(timings.get(step, 0.0) + seconds, 3)
    started = job.started_at or job.created_at
    timings.setdefault("first_clip", round((now - started).total_seconds(), 3))
    if done >= len(states):
        job.status = JobStatus.SUCCEEDED
        job.stage = "done"
        job.percent = 100
        job.error = ""
        job.finished_at = now
        timings["total"] = round((now - started).total_seconds(), 3)
    else:
        job.stage = "render"
        job.percent = max(job.percent, overall_percent("render", 100 * done / len(states)))
    job.timings = timings
    session.add(job)
    session.flush()
    return StoredClip(saved=True, job=JobView.of(job, now=now))


def render_ranks(*, session: Session, job_id: int) -> tuple[list[int], set[int]]:
    """The ranks a job planned, and those saved as clips (for discarding the files of
    clips a cancelled or failed job never saved)."""
    planned = session.exec(
        select(ClipRender.rank).where(ClipRender.job_id == job_id).order_by(col(ClipRender.rank))
    ).all()
    saved = set(session.exec(select(Clip.rank).where(Clip.job_id == job_id)).all())
    return list(planned), saved


def fail_job(*, session: Session, job_id: int, message: str, detail: str = "") -> JobView | None:
    """End an unfinished job as failed with a message the user can read.

    `detail` (an ffmpeg error, a path) is for operators: it goes to the audit log only.
    """
    if _conditional_update(
        session,
        job_id,
        col(ProcessingJob.status).in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        status=JobStatus.FAILED,
        error=(message or "Failed.")[:_MAX_ERROR_LENGTH],
        finished_at=utcnow(),
    ):
        record_audit(
            session=session,
            action="job.failed",
            actor_id=None,
            target_type="processing_job",
            target_id=job_id,
            message=(message or "")[:500],
            detail=(detail or "")[:_MAX_ERROR_LENGTH],
        )
    return find_job(session=session, job_id=job_id)


def mark_cancelled(*, session: Session, job_id: int) -> JobView | None:
    """End an unfinished job as cancelled (the worker stopped at the user's request)."""
    _conditional_update(
        session,
        job_id,
        col(ProcessingJob.status).in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        status=JobStatus.CANCELLED,
        finished_at=utcnow(),
    )
    return find_job(session=session, job_id=job_id)


def jobs_to_recover(
    *,
    session: Session,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    requeue_after_s: float = DEFAULT_REQUEUE_AFTER_S,
    orphaned_before: datetime | None = None,
) -> list[int]:
    """Jobs no worker is on, to be sent again: running ones whose heartbeat stopped (or,
    with `orphaned_before`, came from a process that is gone), and queued ones whose
    message may have been lost (not sent for `requeue_after_s`).

    The queued ones are marked as sent now, so a long queue is not flooded with
    duplicates every minute; a duplicate message is a no-op anyway (`begin_run`).
    """
    now = utcnow()
    abandoned = stale_heartbeat(now, stale_after_s)
    if orphaned_before is not None:
        abandoned = or_(abandoned, col(ProcessingJob.heartbeat_at) < _now_literal(orphaned_before))
    requeue = and_(
        col(ProcessingJob.status) == JobStatus.QUEUED,
        func.coalesce(ProcessingJob.heartbeat_at, ProcessingJob.created_at)
        <= _now_literal(now - timedelta(seconds=requeue_after_s)),
    )
    rows = session.exec(
        select(ProcessingJob.id, ProcessingJob.status)
        .where(or_(requeue, and_(col(ProcessingJob.status) == JobStatus.RUNNING, abandoned)))
        .order_by(col(ProcessingJob.id))
    ).all()
    queued = [job_id for job_id, status in rows if status == JobStatus.QUEUED]
    if queued:
        session.exec(
            update(ProcessingJob)
            .where(col(ProcessingJob.id).in_(queued), col(ProcessingJob.status) == JobStatus.QUEUED)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
    return [job_id for job_id, _status in rows]
