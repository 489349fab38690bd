"""Uploaded videos: accepting an upload, listing, downloading and deleting.

The web layer streams an upload to a temporary file and hands it to
`accept_upload`, which checks it by probing the container (the name only
has to carry an accepted extension), stores it privately and records it.
Whatever happens, the temporary file is removed, and a refused or failed
upload leaves no row and no stored object behind.

Any signed-in user may upload and generate; videos are served to their
owner only, through short-lived signed URLs.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PureWindowsPath

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen.models import (
    Campaign,
    Clip,
    JobStatus,
    ProcessingJob,
    Video,
    VideoStatus,
)
from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.probe import probe
from clipgen.pipeline.types import MediaInfo
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound, ServiceError
from clipgen.services.media.clips import (
    clip_in_use_reason,
    delete_stored,
    job_files_prefix,
    job_words_key,
    stored_keys_of,
)
from clipgen.services.media.ownership import fresh, owned
from clipgen.storage import StorageError, clean_download_name, get_storage

log = logging.getLogger(__name__)

ACCEPTED_EXTENSIONS = {".mp4", ".mov", ".mkv", ".webm"}
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
}
SOURCE_URL_EXPIRY_S = 15 * 60
MAX_LIST_LIMIT = 100
MAX_FILENAME_LENGTH = 255
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
STORE_FAILED = "Your video could not be saved just now. Try uploading it again in a moment."


@dataclass(frozen=True)
class VideoView:
    """What the app may show of an uploaded video (never its storage key)."""

    id: int
    original_filename: str
    size_bytes: int
    duration_s: float | None
    width: int | None
    height: int | None
    fps: float | None
    status: str
    created_at: datetime

    @classmethod
    def of(cls, video: Video) -> VideoView:
        return cls(
            id=video.id,
            original_filename=video.original_filename,
            size_bytes=video.size_bytes,
            duration_s=video.duration_s,
            width=video.width,
            height=video.height,
            fps=video.fps,
            status=video.status,
            created_at=video.created_at,
        )


def video_storage_key(owner_id: int, video_id: int, extension: str) -> str:
    """Where an uploaded original is stored."""
    return f"users/{owner_id}/videos/{video_id}/original{extension}"


def _accepted_extension(original_filename: str) -> str:
    extension = Path(_base_name(original_filename)).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        shown = f"a {extension} file" if extension else "a file without an extension"
        raise InvalidInput(f"ClipGen takes MP4, MOV, MKV or WebM videos; this is {shown}.")
    return extension


def _base_name(original_filename: str) -> str:
    """The file name without any folder a browser may have sent along (Windows paths too)."""
    return PureWindowsPath(str(original_filename or "")).name


def _clean_filename(original_filename: str, extension: str) -> str:
    name = clean_download_name(_base_name(original_filename))
    if len(name) > MAX_FILENAME_LENGTH:
        name = name[: MAX_FILENAME_LENGTH - len(extension)] + extension
    return name


def _upload_size(temp_path: Path, max_bytes: int) -> int:
    try:
        size = temp_path.stat().st_size
    except OSError:
        raise InvalidInput("The upload did not arrive completely. Try again.") from None
    if size > max_bytes:
        raise InvalidInput(
            f"The file is {_megabytes(size)}; the largest video you can upload is "
            f"{_megabytes(max_bytes)}."
        )
    return size


def _megabytes(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:,.0f} MB" if mb >= 10 else f"{mb:,.1f} MB"


def _probed(temp_path: Path, max_duration_s: float) -> MediaInfo:
    try:
        return probe(temp_path, max_duration_s=max_duration_s)
    except PipelineError as error:
        raise InvalidInput(str(error)) from None


def _discard_upload(session: Session, video_id: int, storage_key: str) -> None:
    """Undo a half-done upload: its stored object and its row."""
    session.rollback()
    delete_stored([storage_key])
    session.exec(
        delete(Video).where(col(Video.id) == video_id, col(Video.status) == VideoStatus.UPLOADING)
    )
    session.commit()


def _store_upload(
    session: Session,
    actor: UserView,
    temp_path: Path,
    name: str,
    extension: str,
    size: int,
    info: MediaInfo,
) -> VideoView:
    width, height = info.display_size
    video = Video(
        owner_id=actor.id,
        original_filename=name,
        # A placeholder until the row's id names the real key, in the same transaction.
        storage_key=f"pending/{uuid.uuid4().hex}",
        size_bytes=size,
        content_type=CONTENT_TYPES[extension],
        duration_s=info.duration,
        width=width,
        height=height,
        fps=info.fps,
        status=VideoStatus.UPLOADING,
    )
    session.add(video)
    session.flush()
    video.storage_key = video_storage_key(actor.id, video.id, extension)
    session.commit()
    video_id, storage_key = video.id, video.storage_key
    try:
        get_storage().put_file(storage_key, temp_path, content_type=CONTENT_TYPES[extension])
        # Conditional: the user may have deleted the row while the file was being stored.
        marked = session.exec(
            update(Video)
            .where(col(Video.id) == video_id, col(Video.status) == VideoStatus.UPLOADING)
            .values(status=VideoStatus.READY)
            .execution_options(synchronize_session=False)
        ).rowcount
        if marked != 1:
            raise NotFound("That video was deleted while it uploaded.")
        record_audit(
            session=session,
            action="video.uploaded",
            actor_id=actor.id,
            target_type="video",
            target_id=video_id,
            size_bytes=size,
            duration_s=info.duration,
        )
        session.commit()
    except (StorageError, OSError):
        log.exception("Storing upload %s failed", storage_key)
        _discard_upload(session, video_id, storage_key)
        raise ServiceError(STORE_FAILED) from None
    except BaseException:
        _discard_upload(session, video_id, storage_key)
        raise
    return VideoView.of(fresh(session, Video, video_id))


def accept_upload(
    *,
    session: Session,
    actor: UserView,
    temp_path: Path,
    original_filename: str,
    max_bytes: int,
    max_duration_s: float,
) -> VideoView:
    """Check a video the caller streamed to `temp_path`, store it privately, record it.

    Refuses (InvalidInput, saying why) a file over `max_bytes`, a name without
    an accepted extension, and anything the probe cannot use (not a video,
    no sound, truncated, longer than `max_duration_s`). `temp_path` is
    removed in every case.
    """
    temp_path = Path(temp_path)
    try:
        extension = _accepted_extension(original_filename)
        name = _clean_filename(original_filename, extension)
        size = _upload_size(temp_path, max_bytes)
        info = _probed(temp_path, max_duration_s)
        return _store_upload(session, actor, temp_path, name, extension, size, info)
    finally:
        with suppress(OSError):
            temp_path.unlink(missing_ok=True)


def _own_video(session: Session, actor: UserView, video_id: int) -> Video:
    video = owned(session, Video, video_id, actor, noun="video")
    if video.status == VideoStatus.DELETED:
        raise NotFound("That video was not found.")
    return video


def usable_video(session: Session, actor: UserView, video_id: int) -> Video:
    """The actor's video, uploaded and checked, so clips can be made from it."""
    video = _own_video(session, actor, video_id)
    if video.status == VideoStatus.UPLOADING:
        raise InvalidInput("This video is still uploading; wait until it is ready.")
    if video.status != VideoStatus.READY:
        raise InvalidInput("This video could not be used. Upload another one.")
    return video


def get_video(*, session: Session, actor: UserView, video_id: int) -> VideoView:
    """One of the actor's videos."""
    return VideoView.of(_own_video(session, actor, video_id))


def list_videos(*, session: Session, actor: UserView, limit: int = 20) -> list[VideoView]:
    """The actor's videos, newest first."""
    limit = max(1, min(MAX_LIST_LIMIT, int(limit)))
    videos = session.exec(
        select(Video)
        .where(Video.owner_id == actor.id, col(Video.status) != VideoStatus.DELETED)
        .order_by(col(Video.created_at).desc(), col(Video.id).desc())
        .limit(limit)
        .execution_options(populate_existing=True)
    ).all()
    return [VideoView.of(video) for video in videos]


def source_download_url(*, session: Session, actor: UserView, video_id: int) -> str:
    """A short-lived signed URL that downloads one of the actor's uploaded originals."""
    video = _own_video(session, actor, video_id)
    if video.status != VideoStatus.READY:
        raise InvalidInput("This video is not ready to download.")
    return get_storage().presigned_url(
        video.storage_key, expires_s=SOURCE_URL_EXPIRY_S, download_name=video.original_filename
    )


def delete_video(*, session: Session, actor: UserView, video_id: int) -> None:
    """Delete one of the actor's videos with its jobs, their clips, and every stored file.

    Refused while one of its jobs is queued or running (cancel it or let it
    finish first: a worker would otherwise write files for a deleted video),
    while it is a campaign's source, and while one of its clips is submitted
    or published. Rows go first; files are deleted after the commit, so a
    storage hiccup can leave an orphaned file but never a row without its file.
    """
    video = _own_video(session, actor, video_id)
    job_rows = session.exec(
        select(ProcessingJob.id, ProcessingJob.user_id, ProcessingJob.status).where(
            ProcessingJob.video_id == video.id
        )
    ).all()
    if any(status in ACTIVE_JOB_STATUSES for _id, _user, status in job_rows):
        raise InvalidInput(
            "Clips are still being made from this video. Cancel the job or wait for it "
            "to finish, then delete the video."
        )
    if session.exec(select(Campaign.id).where(Campaign.source_video_id == video.id)).first():
        raise InvalidInput("This video is the source of a campaign, so it cannot be deleted.")
    clips = session.exec(
        select(Clip).where(Clip.video_id == video.id).execution_options(populate_existing=True)
    ).all()
    reason = clip_in_use_reason(session, [clip.id for clip in clips])
    if reason:
        raise InvalidInput(f"A clip of this video was {reason}, so the video cannot be deleted.")
    source_key = video.storage_key
    clip_keys = [key for clip in clips for key in stored_keys_of(clip)]
    prefixes = [job_files_prefix(user_id, job_id) for job_id, user_id, _status in job_rows]
    words_keys = [job_words_key(user_id, job_id) for job_id, user_id, _status in job_rows]
    try:
        session.exec(delete(Clip).where(col(Clip.video_id) == video_id))
        session.exec(delete(ProcessingJob).where(col(ProcessingJob.video_id) == video_id))
        session.exec(delete(Video).where(col(Video.id) == video_id))
        record_audit(
            session=session,
            action="video.deleted",
            actor_id=actor.id,
            target_type="video",
            target_id=video_id,
            jobs=len(job_rows),
            clips=len(clips),
        )
        session.commit()
    except IntegrityError:
        # A job or campaign took up the video meanwhile.
        session.rollback()
        raise InvalidInput("This video was just put to use; try deleting it again.") from None
    delete_stored([source_key, *clip_keys, *words_keys])
    storage = get_storage()
    for prefix in prefixes:
        try:
            storage.delete_prefix(prefix)
        except Exception:
            log.warning("Could not delete stored files under %s", prefix, exc_info=True)
