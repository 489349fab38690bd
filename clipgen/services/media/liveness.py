"""Whether a processing job has a live worker: the one rule jobs and videos both apply."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import col

from clipgen.models import JobStatus, ProcessingJob

# A running job whose heartbeat is older than this has no live worker.
STALE_AFTER_S = 120.0


def stale_heartbeat(now: datetime, stale_after_s: float = STALE_AFTER_S):
    """SQL: no heartbeat within `stale_after_s` of `now`."""
    cutoff = now - timedelta(seconds=stale_after_s)
    return or_(col(ProcessingJob.heartbeat_at).is_(None), col(ProcessingJob.heartbeat_at) < cutoff)


def has_live_worker(now: datetime):
    """SQL: queued (a worker will take it) or running with a fresh heartbeat."""
    return or_(
        col(ProcessingJob.status) == JobStatus.QUEUED,
        and_(col(ProcessingJob.status) == JobStatus.RUNNING, ~stale_heartbeat(now)),
    )


def is_stuck(job: ProcessingJob, now: datetime) -> bool:
    """Running with no live worker: its heartbeat stopped longer than the stale window ago."""
    if job.status != JobStatus.RUNNING:
        return False
    beat = job.heartbeat_at or job.started_at or job.created_at
    return beat < now - timedelta(seconds=STALE_AFTER_S)
