"""Housekeeping queries for the scheduled maintenance actors (`workers.maintenance`).

The system runs these, not a user, so they take no acting user. Like every
service they only read or flush; the caller's `session_scope()` commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from clipgen.models import JobStatus, ProcessingJob

UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def unfinished_job_ids(*, session: Session, job_ids: Iterable[int]) -> set[int]:
    """Of `job_ids`, those of jobs that are queued or running (a missing job is not).

    The rows read stay locked (`FOR UPDATE` on PostgreSQL) until the caller's
    transaction ends, so a finished job cannot be retried and claimed by a
    worker between this answer and the caller acting on it (removing the
    job's work folder). SQLite has no row locks; its window is the caller's.
    """
    ids = sorted(set(job_ids))
    if not ids:
        return set()
    rows = session.exec(
        select(ProcessingJob.id, ProcessingJob.status)
        .where(col(ProcessingJob.id).in_(ids))
        .order_by(col(ProcessingJob.id))
        .with_for_update()
    ).all()
    return {job_id for job_id, status in rows if status in UNFINISHED}
