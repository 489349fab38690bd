"""Re-rendering a trimmed clip: the flow behind `clips.request_trim` and `workers.clips`.

The message carries the clip's id and the version to render; the trim itself
(times, edited caption words) waits on the clip row, so recovery can send a
lost message again (`resend_stale_renders`).

The new render is stored under keys of its own version (`clip_NN_v<version>`),
so the clip keeps serving its old files until `finish_trim` swaps the new
ones in; only then are the old files deleted. A call for a version that is
already applied, or for a clip no longer waiting for it, does nothing.
Each step opens its own unit of work (`session_scope`); the single-row rules
are in `clips`. This flow knows nothing of Dramatiq: the actor passes in what
its time limit raises (`time_limit_errors`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import ClipStatus
from clipgen.pipeline.errors import InvalidVideo, PipelineError
from clipgen.pipeline.probe import probe
from clipgen.pipeline.render import render_clip
from clipgen.pipeline.signals.scenes import detect_scene_cuts
from clipgen.pipeline.types import GenerateOptions, RankedClip
from clipgen.services import tasks
from clipgen.services.media import clips
from clipgen.services.media.clips import TrimSource
from clipgen.services.media.flows import TimeLimitErrors
from clipgen.storage import ObjectNotFound, get_storage

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong while re-rendering the clip; try again."
TOO_LONG = "Re-rendering the clip took too long; try again later."
MISSING_SOURCE = "The uploaded video file is missing, so the clip cannot be re-rendered."
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")

# What each output of a render is stored as: RenderedClip field -> (extension, type).
_OUTPUTS = {
    "video": ("mp4", "video/mp4"),
    "srt": ("srt", "application/x-subrip"),
    "vtt": ("vtt", "text/vtt"),
    "thumbnail": ("jpg", "image/jpeg"),
}


def _waiting_for(source: TrimSource | None, version: int) -> bool:
    """Whether the clip is waiting for exactly this version to be rendered."""
    return (
        source is not None
        and source.status == ClipStatus.RENDERING
        and source.version == version - 1
        and source.pending_start_s is not None
        and source.pending_end_s is not None
    )


def _fetch_source(source: TrimSource, work: Path) -> Path:
    """The clip's source video downloaded into `work`."""
    suffix = Path(source.source_filename).suffix.lower()
    path = work / f"source{suffix if _SAFE_SUFFIX.fullmatch(suffix) else ''}"
    if not source.source_key:
        raise InvalidVideo(MISSING_SOURCE)
    partial = work / "source.download"
    try:
        get_storage().get_to_path(source.source_key, partial)
    except ObjectNotFound:
        raise InvalidVideo(MISSING_SOURCE) from None
    os.replace(partial, path)
    return path


def _render(
    source: TrimSource,
    version: int,
    start_s: float,
    end_s: float,
    words_override: list | None,
    work: Path,
) -> tuple[dict[str, str], float, str]:
    """Render and store the new version; its keys, its end (inside the source) and text."""
    video = _fetch_source(source, work)
    info = probe(video)
    end_s = min(end_s, info.duration)
    all_words = clips.current_words(source)
    if words_override is not None:
        edited = clips.words_from_data(words_override)
        all_words = clips.merge_clip_words(all_words, edited, start_s, end_s)
    spoken = clips.words_in_span(all_words, start_s, end_s)
    transcript = clips.trim_transcript(spoken, start_s, end_s)
    moment = RankedClip(
        start=start_s,
        end=end_s,
        title=source.title,
        hook=source.hook,
        reason=source.reason,
        score=source.score,
        transcript=transcript,
    )
    cuts = detect_scene_cuts(str(video), [(start_s, end_s)])
    rendered = render_clip(
        source=str(video),
        info=info,
        clip=moment,
        words=all_words,
        options=GenerateOptions(
            aspect=source.aspect, captions=source.captions, layout=source.layout
        ),
        out_dir=work / "out",
        rank=source.rank,
        scene_cuts=[cut for cut in cuts if start_s < cut < end_s],
    )
    storage = get_storage()
    keys = _version_keys(source, version)
    for field, (_extension, content_type) in _OUTPUTS.items():
        storage.put_file(keys[field], getattr(rendered, field), content_type=content_type)
    words_file = work / "words.json"
    words_file.write_bytes(clips.words_to_json(spoken))
    storage.put_file(keys["words"], words_file, content_type="application/json")
    return keys, end_s, transcript


def _version_keys(source: TrimSource, version: int) -> dict[str, str]:
    """Every key a render of `version` stores, by RenderedClip field (and "words")."""
    keys = {field: source.file_key(ext, version) for field, (ext, _type) in _OUTPUTS.items()}
    keys["words"] = source.words_key(version)
    return keys


def _discard_unless_current(clip_id: int, version: int, keys: list[str]) -> None:
    """Delete a render's files unless the clip is at that version (a duplicate applied it)."""
    with session_scope() as session:
        current = clips.clip_version(session=session, clip_id=clip_id)
    if current != version:
        clips.delete_stored(keys)


def _fail(clip_id: int, version: int, message: str, made: list[str], detail: str = "") -> None:
    """Put the clip back at its old version and remove what this render stored."""
    with session_scope() as session:
        clips.fail_trim(
            session=session, clip_id=clip_id, message=message, version=version, detail=detail
        )
    _discard_unless_current(clip_id, version, made)


def render_pending_trim(
    clip_id: int, version: int, *, time_limit_errors: TimeLimitErrors = ()
) -> None:
    """Render `version` of a clip from the trim pending on its row and swap it in; safe to
    run twice. When `time_limit_errors` strike, the clip goes back to its old version."""
    with session_scope() as session:
        source = clips.trim_source(session=session, clip_id=clip_id)
    if not _waiting_for(source, version):
        log.info("Skipping re-render of clip %s v%s: not waiting for it.", clip_id, version)
        return
    start_s, end_s = source.pending_start_s, source.pending_end_s
    words_override = source.pending_words
    work = Path(tempfile.mkdtemp(prefix=f"clip-{clip_id}-v{version}-", dir=_work_root()))
    made = list(_version_keys(source, version).values())
    try:
        keys, end_s, transcript = _render(source, version, start_s, end_s, words_override, work)
        with session_scope() as session:
            old_keys = clips.finish_trim(
                session=session,
                clip_id=clip_id,
                version=version,
                start_s=start_s,
                end_s=end_s,
                video_key=keys["video"],
                srt_key=keys["srt"],
                vtt_key=keys["vtt"],
                thumbnail_key=keys["thumbnail"],
                transcript=transcript,
            )
        if old_keys is not None:
            clips.delete_stored(old_keys)
        else:
            # Deleted, failed or superseded meanwhile: nobody may point at what was made here.
            _discard_unless_current(clip_id, version, made)
    except PipelineError as error:
        _fail(clip_id, version, str(error), made, detail=getattr(error, "detail", ""))
    except time_limit_errors:
        _fail(clip_id, version, TOO_LONG, made)
    except Exception as error:
        log.exception("Re-rendering clip %s v%s failed", clip_id, version)
        _fail(clip_id, version, GENERIC_FAILURE, made, detail=f"{type(error).__name__}: {error}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _work_root() -> Path:
    """The folder every re-render makes its own temporary folder in."""
    root = get_settings().data_dir / "work"
    root.mkdir(parents=True, exist_ok=True)
    return root


def resend_stale_renders(orphaned_before: float | None = None) -> int:
    """Send `rerender_clip` again for every re-render no worker is on; how many were sent.

    `orphaned_before` (a UNIX time: when this app process started) also takes over
    renders asked for before the start: the embedded app's previous process is gone.
    """
    since = None if orphaned_before is None else datetime.fromtimestamp(orphaned_before, UTC)
    with session_scope() as session:
        lost = clips.renders_to_recover(session=session, orphaned_before=since)
    for clip_id, version in lost:
        tasks.send_now(tasks.RERENDER_CLIP, clip_id=clip_id, version=version)
    if lost:
        log.info("Sent %d re-render(s) no worker was on again: %s", len(lost), lost)
    return len(lost)
