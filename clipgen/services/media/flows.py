"""What happens when a clip generation job runs: the flows behind `workers.generation`.

`make_job_clips` runs every stage before rendering and plans the clips, one row
each (`jobs.plan_renders`); it sends one `render_job_clip` message per clip and
renders the best clips itself, so with one worker nothing changes, and every
other worker free meanwhile takes a clip of its own (`render_planned_clip`).
Each clip is claimed by one worker (`jobs.claim_render`) and shown to its user
as soon as it is stored; the job succeeds when its last clip is stored.

The job's work folder (`<data_dir>/work/job-<id>/`) outlives a killed worker,
so the next attempt resumes from the last finished stage; it is removed by
the worker that ends the job. Outputs are stored under keys fixed by job and
rank, so storing them again replaces rather than duplicates.
The whole transcript's word timings are stored too (`job_words_key`), so a
clip can later be trimmed to whole words and re-rendered (see `trim_flow`).

A campaign's source is analysed once (probe, transcript, signals) and shared
by every clipper's job on it (`clipgen.services.media.analysis`): `analyse_video`
makes it when the campaign goes live, and a job finds it ready (downloads it),
running elsewhere (waits for it), or missing (makes it and publishes it for
the others).

Each step opens its own unit of work (`session_scope`), so progress, plans and
stored clips are committed as they happen; the single-row rules are in `jobs`,
`analysis` and `clips`. These flows know nothing of Dramatiq: an actor passes in
what its time limit raises (`time_limit_errors`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import JobStatus
from clipgen.pipeline.errors import Cancelled, InvalidVideo, PipelineError
from clipgen.pipeline.run import (
    ENVELOPE_FILE,
    SHARED_STAGES,
    PlannedClip,
    overall_percent,
    plan_clips,
    render_planned,
)
from clipgen.pipeline.run import analyse_source as run_analysis
from clipgen.pipeline.types import GenerateOptions, MediaInfo, Progress, RenderedClip, no_progress
from clipgen.services import tasks
from clipgen.services.media import analysis, jobs
from clipgen.services.media.clips import (
    clip_file_key,
    job_files_prefix,
    job_words_key,
    words_from_data,
    words_to_json,
)
from clipgen.services.media.jobs import ClipRecord, JobView, RenderTask
from clipgen.storage import ObjectNotFound, get_storage

log = logging.getLogger(__name__)

# Module constants so that a test (or an operator's script) can shorten them.
STALE_AFTER_S = jobs.DEFAULT_STALE_AFTER_S
PROGRESS_EVERY_S = 1.0
HEARTBEAT_EVERY_S = 20.0
# The actors' time limits (`workers.generation`); TOO_LONG tells a user the first.
TIME_LIMIT_MS = 6 * 3600 * 1000
CLIP_TIME_LIMIT_MS = 3600 * 1000  # one clip of at most 3 minutes
GENERIC_FAILURE = "Something went wrong while making clips; try again."
TOO_LONG = f"Making clips took longer than {TIME_LIMIT_MS // 3_600_000} hours. Try a shorter video."
STORE_PERCENT = 99
# A job whose campaign source is being analysed elsewhere checks every ANALYSIS_POLL_S
# whether it is ready, for at most ANALYSIS_WAIT_S, then analyses it alone.
ANALYSIS_POLL_S = 2.0
ANALYSIS_WAIT_S = 3600.0
ANALYSIS_STALE_AFTER_S = analysis.DEFAULT_STALE_AFTER_S

# What the queue raises when an actor's time limit strikes: the actor passes it in,
# so that these flows know nothing of Dramatiq.
TimeLimitErrors = tuple[type[BaseException], ...]

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

    def __init__(self, job_id: int, rank: int | None = None) -> None:
        self.job_id = job_id
        # The clip this worker is rendering, kept alive by the same beat.
        self.rank = rank
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
                        rank=self.rank,
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
    return _download_source(storage_key, original_filename, work)


def _download_source(storage_key: str, original_filename: str, work: Path) -> Path:
    """A stored video as `work/source.<ext>`, downloaded unless it is there already."""
    suffix = Path(original_filename).suffix.lower()
    source = work / f"source{suffix if _SAFE_SUFFIX.fullmatch(suffix) else ''}"
    if source.exists():
        return source
    # Several workers of one machine may fetch it at once: each into its own file.
    partial = work / f"source.{uuid.uuid4().hex[:8]}.download"
    try:
        get_storage().get_to_path(storage_key, partial)
    except ObjectNotFound:
        raise InvalidVideo("The uploaded video file is missing. Upload it again.") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, source)
    return source


def _store_rendered(job: JobView, rendered: RenderedClip) -> ClipRecord:
    """Upload one rendered clip's files and describe the clip for the database."""
    storage = get_storage()
    options = GenerateOptions(**job.options)
    keys = {}
    for field, (extension, content_type) in _OUTPUTS.items():
        key = clip_file_key(job.user_id, job.id, rendered.rank, extension)
        storage.put_file(key, getattr(rendered, field), content_type=content_type)
        keys[field] = key
    clip = rendered.clip
    return ClipRecord(
        rank=rendered.rank,
        start_s=clip.start,
        end_s=clip.end,
        title=clip.title,
        hook=clip.hook,
        reason=clip.reason,
        score=clip.score,
        transcript=clip.transcript,
        video_key=keys["video"],
        srt_key=keys["srt"],
        vtt_key=keys["vtt"],
        thumbnail_key=keys["thumbnail"],
        aspect=options.aspect,
        captions=options.captions,
        layout=options.layout,
    )


def _discard_rank(job: JobView, rank: int) -> None:
    storage = get_storage()
    for extension, _type in _OUTPUTS.values():
        storage.delete(clip_file_key(job.user_id, job.id, rank, extension))


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


def _discard_unsaved(job: JobView) -> None:
    """Delete the stored files of the clips a cancelled or failed job never saved; the
    clips it did save (its user may have watched, downloaded or submitted them) stay."""
    with session_scope() as session:
        planned, saved = jobs.render_ranks(session=session, job_id=job.id)
    if not saved:
        _discard_files(job)
        return
    for rank in planned:
        if rank not in saved:
            _discard_rank(job, rank)


def _plan(job: JobView, work: Path, reporter: _ProgressReporter) -> None:
    """Run every stage before rendering, save the plan (one row per clip) and send one
    render message per clip, so that every free worker can take one."""
    work.mkdir(parents=True, exist_ok=True)
    source = _fetch_source(job.id, work)
    options = GenerateOptions(**job.options)
    max_duration_s = get_settings().max_video_minutes * 60
    timings = _use_shared_analysis(job, source, work / "stages", options, reporter, max_duration_s)
    plan = plan_clips(
        source,
        work / "stages",
        options,
        progress=reporter,
        should_cancel=reporter.should_cancel,
        max_duration_s=max_duration_s,
        timings=timings,
    )
    _store_words(job, work)
    info = asdict(plan.info)
    with session_scope() as session:
        ranks = jobs.plan_renders(
            session=session,
            job_id=job.id,
            plans=[{**asdict(item), "info": info} for item in plan.clips],
            timings=timings,
        )
    for rank in ranks:
        tasks.send_now(tasks.RENDER_JOB_CLIP, job_id=job.id, rank=rank)


def _render(task: RenderTask, work: Path, reporter: _ProgressReporter) -> JobView:
    """Render one claimed clip, store its files and save it; the job afterwards."""
    job = task.job
    reporter.rank = task.rank
    reporter.report("render", overall_percent("render", 0))
    try:
        work.mkdir(parents=True, exist_ok=True)
        source = _fetch_source(job.id, work)
        info = replace(MediaInfo(**task.plan["info"]), path=str(source))
        staging = work / f"render-{task.rank:02d}-{uuid.uuid4().hex[:8]}"
        try:
            began = time.perf_counter()
            rendered = render_planned(
                PlannedClip.of(task.plan), info, GenerateOptions(**job.options), staging
            )
            if reporter.should_cancel():
                raise Cancelled()
            stored_at = time.perf_counter()
            record = _store_rendered(job, rendered)
            spent = {
                "render": stored_at - began,
                "store": time.perf_counter() - stored_at,
            }
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        with session_scope() as session:
            stored = jobs.store_clip(session=session, job_id=job.id, record=record, spent=spent)
        if not stored.saved:  # the job ended meanwhile: nobody wants these files
            _discard_rank(job, task.rank)
        else:
            log.info("Stored clip %s of job %s (pid %s).", task.rank, job.id, os.getpid())
        return stored.job
    finally:
        reporter.rank = None


def _render_what_is_left(job_id: int, work: Path, reporter: _ProgressReporter) -> JobView | None:
    """Render the job's best clips no worker is on, one after another, until none is
    left; the job after the last one (None when there was none to take)."""
    ended = None
    while not reporter.should_cancel():
        with session_scope() as session:
            task = jobs.claim_render(session=session, job_id=job_id, stale_after_s=STALE_AFTER_S)
        if task is None:
            break
        ended = _render(task, work, reporter)
    if reporter.should_cancel():
        raise Cancelled()
    return ended


# --- the shared analysis of a campaign's source -------------------------------------------


def _speech_model() -> str:
    """The speech model every job of this deployment transcribes with (WHISPER_MODEL)."""
    return get_settings().whisper_model


def _use_shared_analysis(
    job: JobView,
    source: Path,
    stages: Path,
    options: GenerateOptions,
    reporter: _ProgressReporter,
    max_duration_s: float,
) -> dict[str, float]:
    """Fill the job's stage folder with its campaign source's analysis before the pipeline
    runs: download it when ready, wait for it while another worker makes it, or make it
    here and publish it. Private uploads, and a resumed run past its analysis, are left
    as they are. What it spent, for the job's timings."""
    if (stages / "signals.json").exists():
        return {}  # an earlier attempt of this job got past the analysis
    with session_scope() as session:
        if not analysis.is_campaign_source(session=session, video_id=job.video_id):
            return {}
    model, language = _speech_model(), options.language
    began = time.monotonic()
    waited = False
    while True:
        if reporter.should_cancel():
            raise Cancelled()
        with session_scope() as session:
            state = analysis.analysis_state(session=session, video_id=job.video_id)
            claimed = state != analysis.READY and analysis.claim_analysis(
                session=session, video_id=job.video_id, stale_after_s=ANALYSIS_STALE_AFTER_S
            )
        if state == analysis.READY:
            fetch_began = time.monotonic()
            if not fetch_analysis(job.video_id, stages, source, model, language):
                # Ready, but for another speech model or language: this job goes alone.
                return {}
            log.info("Job %s reuses the analysis of video %s.", job.id, job.video_id)
            spent = {"analysis_fetch": round(time.monotonic() - fetch_began, 3)}
            if waited:
                spent["analysis_wait"] = round(fetch_began - began, 3)
            return spent
        if claimed:
            log.info("Job %s analyses video %s for every clipper.", job.id, job.video_id)
            made = make_analysis(
                job.video_id,
                source,
                stages,
                model=model,
                language=language,
                progress=reporter,
                should_cancel=reporter.should_cancel,
                max_duration_s=max_duration_s,
            )
            return dict(made)
        if time.monotonic() - began >= ANALYSIS_WAIT_S:
            log.warning(
                "Job %s waited %.0f s for the analysis of video %s; going on alone.",
                job.id,
                ANALYSIS_WAIT_S,
                job.video_id,
            )
            return {}
        # Another worker is making it: this job is transcribing, as far as its user cares.
        waited = True
        reporter.report("transcribe", overall_percent("transcribe", 0), force=False)
        time.sleep(ANALYSIS_POLL_S)


class _AnalysisLease:
    """Keeps a claimed analysis from going stale while it is made (a side thread)."""

    def __init__(self, video_id: int) -> None:
        self.video_id = video_id
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, name=f"analysis-{video_id}-lease", daemon=True
        )

    def _renew(self) -> None:
        while not self._done.wait(HEARTBEAT_EVERY_S):
            try:
                with session_scope() as session:
                    analysis.renew_analysis(session=session, video_id=self.video_id)
            except SQLAlchemyError:
                log.warning(
                    "Renewing the analysis of video %s failed", self.video_id, exc_info=True
                )

    def __enter__(self) -> _AnalysisLease:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def make_analysis(
    video_id: int,
    source: Path,
    stages: Path,
    *,
    model: str,
    language: str,
    progress: Progress = no_progress,
    should_cancel: Callable[[], bool] = lambda: False,
    max_duration_s: float | None = None,
) -> dict[str, float]:
    """Analyse `source` into `stages`, store the shared stage files and mark the video's
    analysis ready; on any failure give the claim up so another worker may make it.
    The caller holds the claim. The seconds each stage took."""
    try:
        with _AnalysisLease(video_id):
            made = run_analysis(
                source,
                stages,
                language=language,
                whisper_model=model,
                progress=progress,
                should_cancel=should_cancel,
                max_duration_s=max_duration_s,
            )
            publish_analysis(video_id, stages, model, language)
        with session_scope() as session:
            analysis.finish_analysis(session=session, video_id=video_id)
    except BaseException:  # a cancel, a time limit or a crash of this worker alike
        try:
            with session_scope() as session:
                analysis.release_analysis(session=session, video_id=video_id)
        except Exception:
            log.warning("Releasing the analysis of video %s failed", video_id, exc_info=True)
        raise
    return made.timings


def publish_analysis(video_id: int, stages: Path, model: str, language: str) -> None:
    """Store the shared stage files of an analysis made in `stages`."""
    storage = get_storage()
    for stage in SHARED_STAGES:
        storage.put_file(
            analysis.analysis_key(video_id, model, language, stage),
            stages / f"{stage}.json",
            content_type="application/json",
        )
    storage.put_file(
        analysis.analysis_key(video_id, model, language, "envelope"),
        stages / ENVELOPE_FILE,
        content_type="application/octet-stream",
    )


def fetch_analysis(video_id: int, stages: Path, source: Path, model: str, language: str) -> bool:
    """Put a stored analysis into a job's stage folder so the pipeline skips its first four
    stages; whether every file was there.

    probe.json names the job's own copy of the source (the picture is cut from it), and
    an audio.json is written so the audio stage is skipped too: the WAV it names is read
    only to compute a transcript or signals, which are here already. audio.json comes
    last, so a run interrupted while these are written never skips the audio stage
    without the transcript and signals beside it.
    """
    storage = get_storage()
    try:
        data = {
            stage: json.loads(
                storage.read_bytes(analysis.analysis_key(video_id, model, language, stage))
            )
            for stage in SHARED_STAGES
        }
    except ObjectNotFound:
        return False
    except ValueError:
        log.warning("The stored analysis of video %s is unreadable", video_id, exc_info=True)
        return False
    data["probe"]["path"] = str(source)
    data["audio"] = {"wav": str(stages / "audio.wav"), "shared": True}
    stages.mkdir(parents=True, exist_ok=True)
    # (an analysis stored before envelopes were shared has none: the job makes its own)
    with contextlib.suppress(ObjectNotFound):
        storage.get_to_path(
            analysis.analysis_key(video_id, model, language, "envelope"),
            stages / ENVELOPE_FILE,
        )
    for stage in ("signals", "transcribe", "probe", "audio"):
        partial = stages / f"{stage}.tmp"
        partial.write_text(json.dumps(data[stage]))
        partial.replace(stages / f"{stage}.json")
    return True


def analysis_work_dir(video_id: int) -> Path:
    """A fresh folder for one run of `analyse_video` (removed when it ends)."""
    return get_settings().data_dir / "work" / f"analysis-{video_id}-{uuid.uuid4().hex[:8]}"


def analyse_video(video_id: int, language: str = "auto") -> bool:
    """Make and publish the analysis of a campaign's source; whether this call made it.

    A ready analysis, one being made elsewhere, or a video that is gone or is no
    campaign's source is left alone, so a duplicate message does nothing.
    """
    with session_scope() as session:
        found = analysis.source_file(session=session, video_id=video_id)
        shared = found is not None and analysis.is_campaign_source(
            session=session, video_id=video_id
        )
        claimed = shared and analysis.claim_analysis(
            session=session, video_id=video_id, stale_after_s=ANALYSIS_STALE_AFTER_S
        )
    if not claimed:
        log.info("Not analysing video %s: it is analysed, being analysed, or not shared.", video_id)
        return False
    storage_key, original_filename = found
    work = analysis_work_dir(video_id)
    try:
        work.mkdir(parents=True, exist_ok=True)
        try:
            source = _download_source(storage_key, original_filename, work)
        except BaseException:
            with session_scope() as session:
                analysis.release_analysis(session=session, video_id=video_id)
            raise
        timings = make_analysis(
            video_id,
            source,
            work / "stages",
            model=_speech_model(),
            language=language,
            max_duration_s=get_settings().max_video_minutes * 60,
        )
        log.info("Analysed video %s for every clipper: %s", video_id, timings)
        return True
    except PipelineError as error:
        log.warning(
            "Could not analyse video %s: %s %s", video_id, error, getattr(error, "detail", "")
        )
        return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _discard_outputs(job: JobView | None, ended_as: JobStatus) -> None:
    """Delete the files of a job's unsaved clips, but only if this worker just ended it."""
    if job is not None and job.status == ended_as:
        _discard_unsaved(job)


@contextlib.contextmanager
def _ending_job_on_error(job_id: int, time_limit_errors: TimeLimitErrors) -> Iterator[None]:
    """Turn what stopped a run into the job's end: cancelled at its user's request, failed
    with a message they can read (also when `time_limit_errors` struck). Anything else
    (a shutdown, a crash) leaves the job running and its work folder for a resumed run."""
    try:
        yield
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
    except time_limit_errors:
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


def _tidy_if_ended(job_id: int) -> None:
    """Remove the job's work folder on this machine once the job has ended; while other
    workers still render its clips, the folder (and the source in it) stays."""
    with session_scope() as session:
        job = jobs.find_job(session=session, job_id=job_id)
    if job is None or job.is_finished:
        shutil.rmtree(job_work_dir(job_id), ignore_errors=True)


def make_job_clips(
    job_id: int,
    *,
    orphaned_before: float | None = None,
    time_limit_errors: TimeLimitErrors = (),
) -> None:
    """Make the clips of one processing job; a duplicate or late call does nothing.

    Plans the clips unless an earlier run did, then renders the best ones no other
    worker has taken. `orphaned_before` (a UNIX time) lets a restarted embedded app
    take over runs whose last heartbeat came before it started: their process is gone,
    however fresh the beat.
    """
    since = None if orphaned_before is None else datetime.fromtimestamp(orphaned_before, UTC)
    with session_scope() as session:
        job = jobs.begin_run(
            session=session, job_id=job_id, stale_after_s=STALE_AFTER_S, orphaned_before=since
        )
        planned = job is not None and bool(jobs.render_ranks(session=session, job_id=job_id)[0])
    if job is None:
        log.info("Skipping job %s: it is finished, gone, or running elsewhere.", job_id)
        return
    work = job_work_dir(job_id)
    with (
        _ending_job_on_error(job_id, time_limit_errors),
        _ProgressReporter(job_id) as reporter,
    ):
        if not planned:
            _plan(job, work, reporter)
        _render_what_is_left(job_id, work, reporter)
    _tidy_if_ended(job_id)


def render_planned_clip(job_id: int, rank: int, *, time_limit_errors: TimeLimitErrors = ()) -> None:
    """Render one planned clip of a job, unless another worker has it, it is done, or the
    job ended; so a duplicate or late call renders nothing. (A clip whose worker died
    is taken again by the job's next run, which recovery starts once no worker beats.)"""
    with session_scope() as session:
        task = jobs.claim_render(
            session=session, job_id=job_id, rank=rank, stale_after_s=STALE_AFTER_S
        )
    if task is None:
        log.info("Skipping clip %s of job %s: done, taken, or the job ended.", rank, job_id)
        return
    work = job_work_dir(job_id)
    with (
        _ending_job_on_error(job_id, time_limit_errors),
        _ProgressReporter(job_id, rank=rank) as reporter,
    ):
        _render(task, work, reporter)
    _tidy_if_ended(job_id)


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
        tasks.send_now(tasks.PROCESS_JOB, job_id=job_id, orphaned_before=orphaned_before)
    if job_ids:
        log.info("Sent %d job(s) no worker was on again: %s", len(job_ids), job_ids)
    return len(job_ids)
