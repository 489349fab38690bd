"""Clip generation: the actor that runs the pipeline for one processing job.

The job's work folder (`<data_dir>/work/job-<id>/`) outlives a killed worker,
so the next attempt resumes from the last finished stage; it is removed once
the job succeeds, fails or is cancelled. Outputs are stored under keys fixed
by job and rank, so storing them again replaces rather than duplicates.
The whole transcript's word timings are stored too (`job_words_key`), so a
clip can later be trimmed to whole words and re-rendered (see `workers.clips`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.middleware import TimeLimitExceeded
from sqlalchemy.exc import SQLAlchemyError

from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import JobStatus
from clipgen.pipeline.errors import Cancelled, InvalidVideo, PipelineError
from clipgen.pipeline.run import generate_clips, overall_percent
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.media import jobs
from clipgen.services.media.clips import (
    clip_file_key,
    job_files_prefix,
    job_words_key,
    words_from_data,
    words_to_json,
)
from clipgen.services.media.jobs import ClipRecord, JobView
from clipgen.storage import ObjectNotFound, get_storage

log = logging.getLogger(__name__)

# Module constants so that a test (or an operator's script) can shorten them.
STALE_AFTER_S = jobs.DEFAULT_STALE_AFTER_S
PROGRESS_EVERY_S = 1.0
HEARTBEAT_EVERY_S = 20.0
TIME_LIMIT_MS = 6 * 3600 * 1000
GENERIC_FAILURE = "Something went wrong while making clips; try again."
TOO_LONG = f"Making clips took longer than {TIME_LIMIT_MS // 3_600_000} hours. Try a shorter video."
STORE_PERCENT = 99

# What each output of a rendered clip is stored as: manifest field -> (extension, type).
_OUTPUTS = {
    "video": ("mp4", "video/mp4"),
    "srt": ("srt", "application/x-subrip"),
    "vtt": ("vtt", "text/vtt"),
    "thumbnail": ("jpg", "image/jpeg"),
}
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


def job_work_dir(job_id: int) -> Path:
    """The folder a job's stages are kept in between attempts."""
    return get_settings().data_dir / "work" / f"job-{job_id}"


class _ProgressReporter:
    """Writes pipeline progress to the job row, at most about once a second.

    Also keeps the job's heartbeat fresh from a side thread during long
    silent steps, and remembers whether the worker was asked to stop.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.stop_requested = False
        self._stage = ""
        self._percent = 0
        self._last_write = 0.0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True
        )

    def __call__(self, stage: str, stage_percent: float) -> None:
        boundary = stage != self._stage or stage_percent <= 0 or stage_percent >= 100
        self.report(stage, overall_percent(stage, stage_percent), force=boundary)

    def report(self, stage: str, percent: int, *, force: bool = True) -> None:
        self._stage, self._percent = stage, percent
        if force or time.monotonic() - self._last_write >= PROGRESS_EVERY_S:
            self._write()

    def should_cancel(self) -> bool:
        return self.stop_requested

    def _write(self) -> None:
        with self._lock:
            self._last_write = time.monotonic()
            try:
                with session_scope() as session:
                    stop = jobs.record_progress(
                        session=session,
                        job_id=self.job_id,
                        stage=self._stage,
                        percent=self._percent,
                    )
            except SQLAlchemyError:
                # A database hiccup must not end an hour-long run; the next report retries.
                log.warning("Reporting progress of job %s failed", self.job_id, exc_info=True)
                return
            self.stop_requested = self.stop_requested or stop

    def _beat(self) -> None:
        while not self._done.wait(HEARTBEAT_EVERY_S):
            self._write()

    def __enter__(self) -> _ProgressReporter:
        self._heartbeat.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._heartbeat.join(timeout=5)


def _fetch_source(job_id: int, work: Path) -> Path:
    """The job's source video in the work folder, downloaded unless an earlier try did."""
    with session_scope() as session:
        storage_key, original_filename = jobs.job_source(session=session, job_id=job_id)
    suffix = Path(original_filename).suffix.lower()
    source = work / f"source{suffix if _SAFE_SUFFIX.fullmatch(suffix) else ''}"
    if source.exists():
        return source
    partial = work / "source.download"
    try:
        get_storage().get_to_path(storage_key, partial)
    except ObjectNotFound:
        raise InvalidVideo("The uploaded video file is missing. Upload it again.") from None
    os.replace(partial, source)
    return source


def _store_clips(job: JobView, manifest: dict[str, Any]) -> list[ClipRecord]:
    """Upload every rendered file and describe the clips for the database."""
    storage = get_storage()
    options = GenerateOptions(**job.options)
    records = []
    for clip in manifest["clips"]:
        keys = {}
        for field, (extension, content_type) in _OUTPUTS.items():
            key = clip_file_key(job.user_id, job.id, clip["rank"], extension)
            storage.put_file(key, clip[field], content_type=content_type)
            keys[field] = key
        records.append(
            ClipRecord(
                rank=clip["rank"],
                start_s=clip["start"],
                end_s=clip["end"],
                title=clip["title"],
                hook=clip["hook"],
                reason=clip["reason"],
                score=clip["score"],
                transcript=clip["transcript"],
                video_key=keys["video"],
                srt_key=keys["srt"],
                vtt_key=keys["vtt"],
                thumbnail_key=keys["thumbnail"],
                aspect=options.aspect,
                captions=options.captions,
            )
        )
    return records


def _store_words(job: JobView, work: Path) -> None:
    """Store the whole transcript's word timings, for trimming clips later."""
    transcribed = work / "stages" / "transcribe.json"
    segments = json.loads(transcribed.read_text())["segments"]
    words = words_from_data([word for segment in segments for word in segment["words"]])
    words_file = work / "words.json"
    words_file.write_bytes(words_to_json(words))
    get_storage().put_file(
        job_words_key(job.user_id, job.id), words_file, content_type="application/json"
    )


def _discard_files(job: JobView) -> None:
    """Delete every stored output of a job: its clip files and its word timings."""
    storage = get_storage()
    storage.delete_prefix(job_files_prefix(job.user_id, job.id))
    storage.delete(job_words_key(job.user_id, job.id))


def _make_clips(job: JobView, work: Path, reporter: _ProgressReporter) -> JobView:
    """Run the pipeline, store its outputs and save the clips; the finished job."""
    work.mkdir(parents=True, exist_ok=True)
    source = _fetch_source(job.id, work)
    manifest = generate_clips(
        source,
        work / "out",
        GenerateOptions(**job.options),
        work_dir=work / "stages",
        progress=reporter,
        should_cancel=reporter.should_cancel,
        max_duration_s=get_settings().max_video_minutes * 60,
    )
    reporter.report("store", STORE_PERCENT)
    if reporter.should_cancel():
        raise Cancelled()
    began = time.perf_counter()
    records = _store_clips(job, manifest)
    _store_words(job, work)
    timings = {**manifest.get("timings", {}), "store": round(time.perf_counter() - began, 3)}
    with session_scope() as session:
        return jobs.finish_job(session=session, job_id=job.id, clips=records, timings=timings)


def _discard_outputs(job: JobView | None, ended_as: JobStatus) -> None:
    """Delete a job's stored clip files, but only if this worker just ended it that way."""
    if job is not None and job.status == ended_as:
        _discard_files(job)


@dramatiq.actor(queue_name="generation", max_retries=0, time_limit=TIME_LIMIT_MS)
def process_job(job_id: int, orphaned_before: float | None = None) -> None:
    """Make the clips of one processing job; a duplicate or late message does nothing.

    `orphaned_before` (a UNIX time) lets a restarted embedded app take over runs whose
    last heartbeat came before it started: their process is gone, however fresh the beat.
    """
    since = None if orphaned_before is None else datetime.fromtimestamp(orphaned_before, UTC)
    with session_scope() as session:
        job = jobs.begin_run(
            session=session, job_id=job_id, stale_after_s=STALE_AFTER_S, orphaned_before=since
        )
    if job is None:
        log.info("Skipping job %s: it is finished, gone, or running elsewhere.", job_id)
        return
    work = job_work_dir(job_id)
    try:
        with _ProgressReporter(job_id) as reporter:
            done = _make_clips(job, work, reporter)
        if done.status != JobStatus.SUCCEEDED:
            # Cancelled or failed elsewhere while this run finished: its files are not wanted.
            _discard_files(job)
    except Cancelled:
        with session_scope() as session:
            ended = jobs.mark_cancelled(session=session, job_id=job_id)
        _discard_outputs(ended, JobStatus.CANCELLED)
    except PipelineError as error:
        with session_scope() as session:
            ended = jobs.fail_job(
                session=session,
                job_id=job_id,
                message=str(error),
                detail=getattr(error, "detail", ""),
            )
        _discard_outputs(ended, JobStatus.FAILED)
    except TimeLimitExceeded:
        # Ended here, or recovery would resume it into the same limit again and again.
        with session_scope() as session:
            ended = jobs.fail_job(session=session, job_id=job_id, message=TOO_LONG)
        _discard_outputs(ended, JobStatus.FAILED)
    except Exception as error:
        log.exception("Processing job %s failed", job_id)
        with session_scope() as session:
            ended = jobs.fail_job(
                session=session,
                job_id=job_id,
                message=GENERIC_FAILURE,
                detail=f"{type(error).__name__}: {error}",
            )
        _discard_outputs(ended, JobStatus.FAILED)
    # Anything else (a shutdown, a crash) leaves the work folder for a resumed run.
    shutil.rmtree(work, ignore_errors=True)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def recover_stale_jobs(stale_after_s: float | None = None) -> None:
    """Send `process_job` again for every job no worker is on (scheduled every minute)."""
    resend_stale_jobs(stale_after_s=stale_after_s)


def resend_stale_jobs(
    stale_after_s: float | None = None,
    requeue_after_s: float | None = None,
    orphaned_before: float | None = None,
) -> int:
    """Send `process_job` again for every job no worker is on; how many were sent.

    `orphaned_before` (a UNIX time: when this app process started) also takes over
    runs whose heartbeat predates the start, fresh or not: the embedded app is the
    only worker of its database, so those runs died with the previous process.
    """
    since = None if orphaned_before is None else datetime.fromtimestamp(orphaned_before, UTC)
    with session_scope() as session:
        job_ids = jobs.jobs_to_recover(
            session=session,
            stale_after_s=STALE_AFTER_S if stale_after_s is None else stale_after_s,
            requeue_after_s=(
                jobs.DEFAULT_REQUEUE_AFTER_S if requeue_after_s is None else requeue_after_s
            ),
            orphaned_before=since,
        )
    for job_id in job_ids:
        process_job.send(job_id, orphaned_before=orphaned_before)
    if job_ids:
        log.info("Sent %d job(s) no worker was on again: %s", len(job_ids), job_ids)
    return len(job_ids)
