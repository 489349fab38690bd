"""Uploaded videos: starting and accepting an upload, listing, downloading, deleting.

An upload is two steps. `begin_upload` runs before the web layer writes a
byte: it checks who is uploading, the file name's extension, the number of
uploads already in flight (`MAX_CONCURRENT_UPLOADS`) and the storage quota
(`USER_QUOTA_GB`), and records the video as `uploading`. The web layer then
streams the file to a temporary path, never past `UploadTicket.max_bytes`,
and hands it to `accept_upload`, which checks it by probing the container,
stores it privately and marks it ready. A refused or failed upload is removed
(row and object), and the temporary file is deleted in every case; an upload
the browser abandoned is swept by the scheduler (`sweep_abandoned_uploads`).

Clippers and clients may upload (a client's video is a campaign's source);
videos are served to their owner only, through short-lived signed URLs.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PureWindowsPath

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.models import (
    Campaign,
    Clip,
    ClipRender,
    ProcessingJob,
    Role,
    User,
    Video,
    VideoStatus,
    utcnow,
)
from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.probe import probe
from clipgen.pipeline.types import MediaInfo
from clipgen.services.access import owned, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound, RecordedRefusal, ServiceError
from clipgen.services.media.analysis import video_analyses_prefix
from clipgen.services.media.clips import (
    clip_in_use_reason,
    delete_stored_after_commit,
    job_files_prefix,
    job_words_key,
    stored_keys_of,
)
from clipgen.services.media.liveness import has_live_worker
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
STORE_FAILED = "Your video could not be saved just now. Try uploading it again in a moment."
# An upload with no news for this long is abandoned: it no longer counts, and is swept.
ABANDONED_UPLOAD_AFTER = timedelta(hours=6)
UPLOAD_ROLES = (Role.CLIPPER, Role.CLIENT)


class UploadRefused(RecordedRefusal, InvalidInput):
    """An upload refused after it began: its row and object were removed, which must stick."""


@dataclass(frozen=True)
class UploadTicket:
    """An upload that may start: the video it becomes, and how many bytes it may send."""

    video_id: int
    max_bytes: int
    too_big_message: str


@dataclass(frozen=True)
class StorageUsage:
    """How much of the storage quota the user's uploaded originals take."""

    used_bytes: int
    quota_bytes: int

    @property
    def free_bytes(self) -> int:
        return max(0, self.quota_bytes - self.used_bytes)


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
        log.info("Upload refused by the probe: %s (%s)", error, getattr(error, "detail", ""))
        raise InvalidInput(str(error)) from None


def _used_bytes(session: Session, owner_id: int, *, excluding: int | None = None) -> int:
    conditions = [Video.owner_id == owner_id, col(Video.status) != VideoStatus.DELETED]
    if excluding is not None:
        conditions.append(col(Video.id) != excluding)
    return int(
        session.exec(select(func.coalesce(func.sum(Video.size_bytes), 0)).where(*conditions)).one()
    )


def _lock_owner(session: Session, owner_id: int) -> None:
    """Serialise one user's upload bookkeeping (a row lock on PostgreSQL)."""
    session.exec(select(User.id).where(User.id == owner_id).with_for_update()).first()


def storage_usage(*, session: Session, actor: UserView) -> StorageUsage:
    """How much of the actor's storage quota their uploads take."""
    require_role(actor, *UPLOAD_ROLES)
    return StorageUsage(
        used_bytes=_used_bytes(session, actor.id), quota_bytes=get_settings().user_quota_bytes
    )


def begin_upload(*, session: Session, actor: UserView, original_filename: str) -> UploadTicket:
    """Record an upload about to stream in, if the actor may start one now.

    Refused (nothing recorded) for a name without an accepted extension, with
    `MAX_CONCURRENT_UPLOADS` uploads already in flight, or with the quota full.
    """
    require_role(actor, *UPLOAD_ROLES)
    extension = _accepted_extension(original_filename)
    name = _clean_filename(original_filename, extension)
    settings = get_settings()
    _lock_owner(session, actor.id)
    in_flight = session.exec(
        select(func.count())
        .select_from(Video)
        .where(
            Video.owner_id == actor.id,
            col(Video.status) == VideoStatus.UPLOADING,
            col(Video.created_at) > utcnow() - ABANDONED_UPLOAD_AFTER,
        )
    ).one()
    if in_flight >= settings.max_concurrent_uploads:
        raise InvalidInput(
            f"You already have {in_flight} uploads in progress. Wait for one to finish, "
            "then upload this one."
        )
    free = settings.user_quota_bytes - _used_bytes(session, actor.id)
    if free <= 0:
        raise InvalidInput(_quota_message(settings.user_quota_bytes))
    video = Video(
        owner_id=actor.id,
        original_filename=name,
        # A placeholder until the row's id names the real key, in the same transaction.
        storage_key=f"pending/{uuid.uuid4().hex}",
        content_type=CONTENT_TYPES[extension],
        status=VideoStatus.UPLOADING,
    )
    session.add(video)
    session.flush()
    video.storage_key = video_storage_key(actor.id, video.id, extension)
    session.flush()
    if free < settings.max_upload_bytes:
        return UploadTicket(video.id, free, _quota_message(settings.user_quota_bytes, free))
    return UploadTicket(
        video.id,
        settings.max_upload_bytes,
        f"That file is larger than the {settings.max_upload_mb:,} MB limit.",
    )


def _quota_message(quota_bytes: int, free_bytes: int = 0) -> str:
    quota = (
        f"{quota_bytes / 1024**3:,.0f} GB" if quota_bytes >= 1024**3 else _megabytes(quota_bytes)
    )
    if free_bytes <= 0:
        return (
            f"Your {quota} of video storage is full. Delete videos you no longer need, "
            "then upload again."
        )
    return (
        f"That file does not fit in what is left of your {quota} of video storage "
        f"({_megabytes(free_bytes)} free). Delete videos you no longer need, then try again."
    )


def _remove_upload(session: Session, video: Video) -> None:
    """Forget an upload that will not become a video: its row now, its object after commit."""
    session.exec(
        delete(Video).where(col(Video.id) == video.id, col(Video.status) == VideoStatus.UPLOADING)
    )
    delete_stored_after_commit(session, [video.storage_key])


def accept_upload(
    *,
    session: Session,
    actor: UserView,
    video_id: int,
    temp_path: Path,
    max_duration_s: float | None = None,
) -> VideoView:
    """Check the file streamed to `temp_path` for an upload `begin_upload` started, store it
    privately and mark the video ready.

    Refuses (`UploadRefused`, saying why; the upload's row and object are removed) a
    file over the size limit or the quota, and anything the probe cannot use (not a
    video, no sound, truncated, longer than `max_duration_s`, by default
    `MAX_VIDEO_MINUTES`). `temp_path` is removed in every case.
    """
    temp_path = Path(temp_path)
    try:
        require_role(actor, *UPLOAD_ROLES)
        video = _own_video(session, actor, video_id)
        if video.status != VideoStatus.UPLOADING:
            raise NotFound("That upload was not found; upload the video again.")
        settings = get_settings()
        if max_duration_s is None:
            max_duration_s = settings.max_video_minutes * 60
        try:
            _lock_owner(session, actor.id)
            size = _upload_size(temp_path, settings.max_upload_bytes)
            free = settings.user_quota_bytes - _used_bytes(session, actor.id, excluding=video.id)
            if size > free:
                raise InvalidInput(_quota_message(settings.user_quota_bytes, free))
            info = _probed(temp_path, max_duration_s)
            _store(video, temp_path)
        except ServiceError as error:
            _remove_upload(session, video)
            raise UploadRefused(str(error)) from None
        width, height = info.display_size
        video.size_bytes = size
        video.duration_s = info.duration
        video.width, video.height, video.fps = width, height, info.fps
        video.status = VideoStatus.READY
        session.add(video)
        record_audit(
            session=session,
            action="video.uploaded",
            actor_id=actor.id,
            target_type="video",
            target_id=video.id,
            size_bytes=size,
            duration_s=info.duration,
        )
        session.flush()
        return VideoView.of(video)
    finally:
        with suppress(OSError):
            temp_path.unlink(missing_ok=True)


def _store(video: Video, temp_path: Path) -> None:
    try:
        get_storage().put_file(video.storage_key, temp_path, content_type=video.content_type)
    except (StorageError, OSError):
        log.exception("Storing upload %s failed", video.storage_key)
        raise ServiceError(STORE_FAILED) from None


def abandon_upload(*, session: Session, actor: UserView, video_id: int) -> None:
    """Forget an upload the browser stopped (cancelled, too big, connection lost)."""
    require_role(actor, *UPLOAD_ROLES)
    video = owned(session, Video, video_id, actor, noun="upload")
    if video.status == VideoStatus.UPLOADING:
        _remove_upload(session, video)


def sweep_abandoned_uploads(*, session: Session) -> int:
    """Remove uploads nothing was heard of for `ABANDONED_UPLOAD_AFTER` (a closed tab, a
    crash); the scheduler runs this."""
    stale = session.exec(
        select(Video).where(
            col(Video.status) == VideoStatus.UPLOADING,
            col(Video.created_at) < utcnow() - ABANDONED_UPLOAD_AFTER,
        )
    ).all()
    for video in stale:
        _remove_upload(session, video)
    return len(stale)


def _own_video(session: Session, actor: UserView, video_id: int) -> Video:
    require_role(actor, *UPLOAD_ROLES)
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
    """The actor's uploaded videos (not those still uploading), newest first."""
    require_role(actor, *UPLOAD_ROLES)
    limit = max(1, min(MAX_LIST_LIMIT, int(limit)))
    videos = session.exec(
        select(Video)
        .where(
            Video.owner_id == actor.id,
            col(Video.status).not_in((VideoStatus.DELETED, VideoStatus.UPLOADING)),
        )
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

    Refused while one of its jobs is queued or running with a live worker (cancel
    it or let it finish first: a worker would otherwise write files for a deleted
    video; a stuck job does not hold it),
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
    live = session.exec(
        select(ProcessingJob.id).where(
            ProcessingJob.video_id == video.id, has_live_worker(utcnow())
        )
    ).first()
    if live is not None:
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
        session.exec(
            delete(ClipRender).where(
                col(ClipRender.job_id).in_(
                    select(ProcessingJob.id).where(ProcessingJob.video_id == video_id)
                )
            )
        )
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
        session.flush()
    except IntegrityError:
        # A job or campaign took up the video meanwhile (the unit of work rolls back).
        raise InvalidInput("This video was just put to use; try deleting it again.") from None
    prefixes.append(video_analyses_prefix(video_id))
    delete_stored_after_commit(session, [source_key, *clip_keys, *words_keys], prefixes=prefixes)
