"""The rules of uploaded videos and of clips, on SQLite and on PostgreSQL.

Clips here are rows inserted directly with small stored stand-in files: the
real pipeline and worker run in test_trim_lifecycle.py.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from clipgen.config import get_settings
from clipgen.models import (
    AuditLog,
    Clip,
    ClipStatus,
    JobStatus,
    ProcessingJob,
    Publication,
    Video,
    VideoStatus,
    utcnow,
)
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound, ServiceError
from clipgen.services.media import clips, videos
from clipgen.storage import LocalStorage, StorageError, get_storage, verify_local_signature
from tests.support.media import Line, make_talk

LIMIT_BYTES = 50 * 1024 * 1024
LIMIT_S = 600.0
SOURCE_DURATION_S = 300.0
# Five spoken words with pauses between them: (start, end, text).
WORDS = [
    (10.0, 10.5, "Money"),
    (10.7, 11.4, "grows"),
    (11.5, 12.0, "on"),
    (13.0, 13.8, "trees"),
    (14.0, 14.6, "today."),
]


# --- media made once per module ------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("upload-media")
    talk, silent = folder / "talk.mp4", folder / "silent.mp4"
    lines = [Line("Hello there, this is a short talk about uploads.", pause_after=0.3)]
    make_talk(lines, talk, size=(320, 180), face=False, preset="ultrafast")
    make_talk(lines, silent, size=(320, 180), face=False, audio=False, preset="ultrafast")
    notes = folder / "notes.mp4"
    notes.write_text("Meeting notes: these are words, not a video.\n" * 20)
    return {"talk": talk, "silent": silent, "notes": notes}


def _temp_copy(source: Path, tmp_path: Path, name: str = "upload.part") -> Path:
    """An upload as the web layer leaves it: streamed into a temporary file."""
    target = tmp_path / "incoming" / name
    target.parent.mkdir(exist_ok=True)
    shutil.copy(source, target)
    return target


def _stored_files(data_dir: Path) -> list[str]:
    root = data_dir / "files"
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _count(session: Session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


# --- people and rows --------------------------------------------------------------


def _register(session: Session, email: str, role: str = "clipper") -> UserView:
    return auth.register(
        session=session,
        email=email,
        display_name=email.split("@")[0].title(),
        password="a sturdy passphrase",
        role=role,
    )


@pytest.fixture
def ada(session: Session) -> UserView:
    return _register(session, "ada@example.com")


@pytest.fixture
def bob(session: Session) -> UserView:
    return _register(session, "bob@example.com")


def _video(session: Session, owner: UserView) -> Video:
    count = _count(session, Video)
    video = Video(
        owner_id=owner.id,
        original_filename="talk.mp4",
        storage_key=f"users/{owner.id}/videos/{count + 1}/original.mp4",
        duration_s=SOURCE_DURATION_S,
        status=VideoStatus.READY,
    )
    session.add(video)
    session.commit()
    get_storage().put_stream(video.storage_key, _Bytes(b"source video"))
    return video


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


def _job(
    session: Session,
    owner: UserView,
    video: Video,
    *,
    status: str = JobStatus.SUCCEEDED,
    words: list[tuple[float, float, str]] | None = None,
) -> ProcessingJob:
    """A finished job with its stored word timings, as the worker leaves it."""
    job = ProcessingJob(
        user_id=owner.id,
        video_id=video.id,
        status=status,
        heartbeat_at=utcnow() if status == JobStatus.RUNNING else None,
    )
    session.add(job)
    session.commit()
    data = [{"start": s, "end": e, "text": t} for s, e, t in (WORDS if words is None else words)]
    get_storage().put_stream(
        clips.job_words_key(owner.id, job.id), _Bytes(json.dumps(data).encode())
    )
    return job


def _clip(
    session: Session,
    job: ProcessingJob,
    rank: int,
    *,
    title: str = "",
    transcript: str = "",
    start_s: float = 10.0,
    end_s: float = 14.6,
    minutes_ago: float = 0,
) -> Clip:
    """A clip row with small stand-in files under the keys the worker would use."""
    storage = get_storage()
    keys = {}
    for field, extension in zip(
        ("video", "srt", "vtt", "thumbnail"), clips.CLIP_OUTPUTS, strict=True
    ):
        keys[field] = clips.clip_file_key(job.user_id, job.id, rank, extension)
        storage.put_stream(keys[field], _Bytes(f"{field} of clip {rank}".encode()))
    created = utcnow() - timedelta(minutes=minutes_ago)
    clip = Clip(
        owner_id=job.user_id,
        job_id=job.id,
        video_id=job.video_id,
        rank=rank,
        start_s=start_s,
        end_s=end_s,
        title=title or f"Moment {rank}",
        transcript=transcript,
        score=7,
        video_key=keys["video"],
        srt_key=keys["srt"],
        vtt_key=keys["vtt"],
        thumbnail_key=keys["thumbnail"],
        created_at=created,
        updated_at=created,
    )
    session.add(clip)
    session.commit()
    return clip


@pytest.fixture
def ada_clip(session: Session, ada: UserView) -> Clip:
    return _clip(session, _job(session, ada, _video(session, ada)), 1, title="Money grows!")


# --- uploading ----------------------------------------------------------------------


def _upload(
    session: Session, actor: UserView, temp: Path, name: str, max_duration_s: float = LIMIT_S
) -> videos.VideoView:
    """Both steps of an upload as the Generate page takes them."""
    ticket = videos.begin_upload(session=session, actor=actor, original_filename=name)
    return videos.accept_upload(
        session=session,
        actor=actor,
        video_id=ticket.video_id,
        temp_path=temp,
        max_duration_s=max_duration_s,
    )


def _settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def test_an_uploaded_video_is_probed_stored_privately_and_its_temp_file_removed(
    session: Session, ada: UserView, media: dict[str, Path], tmp_path: Path
) -> None:
    temp = _temp_copy(media["talk"], tmp_path)
    size = temp.stat().st_size
    view = _upload(session, ada, temp, "C:\\Users\\ada\\My Talk.MP4")
    assert (view.status, view.original_filename, view.size_bytes) == ("ready", "My Talk.MP4", size)
    assert (view.width, view.height) == (320, 180) and 2 < view.duration_s < 10
    row = session.get(Video, view.id, populate_existing=True)
    assert row.storage_key == f"users/{ada.id}/videos/{view.id}/original.mp4"
    assert row.content_type == "video/mp4"
    assert get_storage().size(row.storage_key) == size
    assert not temp.exists()
    assert session.exec(select(AuditLog).where(AuditLog.action == "video.uploaded")).first()
    assert videos.list_videos(session=session, actor=ada) == [view]
    usage = videos.storage_usage(session=session, actor=ada)
    assert usage.used_bytes == size and usage.quota_bytes == 50 * 1024**3


@pytest.mark.parametrize(
    ("file", "name", "says"),
    [
        ("notes", "notes.mp4", "not a video ClipGen can read"),
        ("talk", "talk.mp4", "does not fit in what is left of your"),
        ("silent", "silent.mp4", "no audio track"),
    ],
    ids=["text-renamed-mp4", "over-quota", "silent"],
)
def test_a_refused_upload_leaves_no_row_no_object_and_no_temp_file(
    session: Session,
    ada: UserView,
    media: dict[str, Path],
    tmp_path: Path,
    isolated_settings: Path,
    monkeypatch: pytest.MonkeyPatch,
    file: str,
    name: str,
    says: str,
) -> None:
    if file == "talk":
        _settings(monkeypatch, USER_QUOTA_GB="0.000001")  # about a kilobyte
    temp = _temp_copy(media[file], tmp_path)
    with pytest.raises(videos.UploadRefused) as refused:
        _upload(session, ada, temp, name)
    assert says in str(refused.value)
    session.commit()  # the refusal's clean-up is kept, as the unit of work would keep it
    assert _count(session, Video) == 0
    assert _stored_files(isolated_settings) == []
    assert not temp.exists()


@pytest.mark.parametrize(
    ("name", "says"),
    [("talk.avi", "this is a .avi file"), ("talk", "a file without an extension")],
    ids=["wrong-extension", "no-extension"],
)
def test_a_name_that_is_not_a_video_is_refused_before_any_byte_is_sent(
    session: Session, ada: UserView, name: str, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        videos.begin_upload(session=session, actor=ada, original_filename=name)
    assert _count(session, Video) == 0


def test_a_file_over_the_upload_limit_is_refused(
    session: Session, ada: UserView, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, MAX_UPLOAD_MB="1")
    temp = tmp_path / "big.part"
    temp.write_bytes(b"\0" * (1024 * 1024 + 1))
    ticket = videos.begin_upload(session=session, actor=ada, original_filename="big.mp4")
    assert ticket.max_bytes == 1024 * 1024 and "1 MB limit" in ticket.too_big_message
    with pytest.raises(videos.UploadRefused, match="the largest video you can upload is"):
        videos.accept_upload(session=session, actor=ada, video_id=ticket.video_id, temp_path=temp)
    assert _count(session, Video) == 0 and not temp.exists()


def test_at_most_two_uploads_at_once_and_an_abandoned_one_stops_counting(
    session: Session, ada: UserView, bob: UserView
) -> None:
    first = videos.begin_upload(session=session, actor=ada, original_filename="a.mp4")
    videos.begin_upload(session=session, actor=ada, original_filename="b.mp4")
    with pytest.raises(InvalidInput, match="2 uploads in progress"):
        videos.begin_upload(session=session, actor=ada, original_filename="c.mp4")
    videos.begin_upload(session=session, actor=bob, original_filename="b.mp4")  # per user
    videos.abandon_upload(session=session, actor=ada, video_id=first.video_id)
    videos.begin_upload(session=session, actor=ada, original_filename="c.mp4")
    # Uploads nothing was heard of for hours no longer count, and the sweep removes them.
    session.exec(
        update(Video).values(created_at=utcnow() - videos.ABANDONED_UPLOAD_AFTER - timedelta(1))
    )
    videos.begin_upload(session=session, actor=ada, original_filename="d.mp4")
    assert videos.sweep_abandoned_uploads(session=session) == 3
    assert _count(session, Video) == 1


def test_a_full_quota_refuses_the_next_upload_before_it_starts(
    session: Session, ada: UserView, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, USER_QUOTA_GB="0.000001")
    video = _video(session, ada)
    session.exec(update(Video).where(Video.id == video.id).values(size_bytes=2000))
    with pytest.raises(InvalidInput, match="video storage is full"):
        videos.begin_upload(session=session, actor=ada, original_filename="more.mp4")
    assert _count(session, Video) == 1


def test_a_video_longer_than_the_limit_is_refused_with_the_probes_words(
    session: Session, ada: UserView, media: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="the limit is"):
        _upload(session, ada, _temp_copy(media["talk"], tmp_path), "talk.mp4", max_duration_s=1.0)
    assert _count(session, Video) == 0


def test_an_upload_that_cannot_be_stored_leaves_nothing_behind(
    session: Session,
    ada: UserView,
    media: dict[str, Path],
    tmp_path: Path,
    isolated_settings: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_put(self, key, path, content_type="application/octet-stream"):
        (isolated_settings / "files" / key).parent.mkdir(parents=True, exist_ok=True)
        (isolated_settings / "files" / key).write_bytes(b"half")
        raise StorageError("disk full")

    monkeypatch.setattr(LocalStorage, "put_file", broken_put)
    temp = _temp_copy(media["talk"], tmp_path)
    with pytest.raises(ServiceError, match="could not be saved"):
        _upload(session, ada, temp, "talk.mp4")
    session.commit()
    assert _count(session, Video) == 0
    assert _stored_files(isolated_settings) == []
    assert not temp.exists()


# --- videos: who may see them -------------------------------------------------------


def test_another_user_cannot_get_list_download_or_delete_a_video(
    session: Session, ada: UserView, bob: UserView
) -> None:
    video = _video(session, ada)
    for call in (videos.get_video, videos.source_download_url, videos.delete_video):
        with pytest.raises(NotFound):
            call(session=session, actor=bob, video_id=video.id)
        with pytest.raises(NotFound):
            call(session=session, actor=bob, video_id=99999)
    assert videos.list_videos(session=session, actor=bob) == []
    assert [v.id for v in videos.list_videos(session=session, actor=ada)] == [video.id]
    assert get_storage().exists(video.storage_key)


def test_the_owner_downloads_the_original_through_a_signed_url(
    session: Session, ada: UserView
) -> None:
    video = _video(session, ada)
    url = videos.source_download_url(session=session, actor=ada, video_id=video.id)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == f"/files/{video.storage_key}" and query["name"] == "talk.mp4"
    assert verify_local_signature(video.storage_key, query["expires"], query["sig"], "talk.mp4")


def test_deleting_a_video_removes_its_jobs_clips_and_every_stored_file(
    session: Session, ada: UserView, bob: UserView, isolated_settings: Path
) -> None:
    video = _video(session, ada)
    job = _job(session, ada, video)
    _clip(session, job, 1)
    _clip(session, job, 2)
    kept = _clip(session, _job(session, bob, _video(session, bob)), 1)
    videos.delete_video(session=session, actor=ada, video_id=video.id)
    session.commit()
    assert session.exec(select(Video.id)).all() == [kept.video_id]
    assert session.exec(select(ProcessingJob.id)).all() == [kept.job_id]
    assert session.exec(select(Clip.id)).all() == [kept.id]
    assert all(path.startswith(f"users/{bob.id}/") for path in _stored_files(isolated_settings))
    assert session.exec(select(AuditLog).where(AuditLog.action == "video.deleted")).first()
    with pytest.raises(NotFound):
        videos.get_video(session=session, actor=ada, video_id=video.id)


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_a_video_being_clipped_cannot_be_deleted(
    session: Session, ada: UserView, status: str
) -> None:
    video = _video(session, ada)
    _job(session, ada, video, status=status)
    with pytest.raises(InvalidInput, match="Cancel the job"):
        videos.delete_video(session=session, actor=ada, video_id=video.id)
    assert _count(session, Video) == 1 and get_storage().exists(video.storage_key)


# --- clips: listing, files, deleting ------------------------------------------------


def test_a_jobs_clips_are_listed_best_first_to_their_owner_only(
    session: Session, ada: UserView, bob: UserView
) -> None:
    job = _job(session, ada, _video(session, ada))
    for rank in (3, 1, 2):
        _clip(session, job, rank)
    listed = clips.list_job_clips(session=session, actor=ada, job_id=job.id)
    assert [clip.rank for clip in listed] == [1, 2, 3]
    assert listed[0].duration_s == pytest.approx(4.6)
    with pytest.raises(NotFound):
        clips.list_job_clips(session=session, actor=bob, job_id=job.id)


def test_another_user_cannot_see_download_delete_or_trim_a_clip(
    session: Session, ada_clip: Clip, bob: UserView
) -> None:
    for call in (clips.get_clip, clips.clip_files, clips.delete_clip):
        with pytest.raises(NotFound):
            call(session=session, actor=bob, clip_id=ada_clip.id)
    with pytest.raises(NotFound):
        clips.request_trim(session=session, actor=bob, clip_id=ada_clip.id, start_s=10, end_s=12)
    assert clips.list_my_clips(session=session, actor=bob).total == 0
    row = session.get(Clip, ada_clip.id, populate_existing=True)
    assert (row.status, row.version) == (ClipStatus.READY, 1)
    assert get_storage().exists(row.video_key)


def test_clip_files_are_signed_urls_named_after_the_title(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    files = clips.clip_files(session=session, actor=ada, clip_id=ada_clip.id)
    for url, key, name in [
        (files.video_url, ada_clip.video_key, ""),
        (files.video_download_url, ada_clip.video_key, "money-grows.mp4"),
        (files.srt_url, ada_clip.srt_key, "money-grows.srt"),
        (files.vtt_url, ada_clip.vtt_key, "money-grows.vtt"),
        (files.thumbnail_url, ada_clip.thumbnail_key, "money-grows.jpg"),
    ]:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert parts.path == f"/files/{key}" and query.get("name", "") == name
        assert verify_local_signature(key, query["expires"], query["sig"], name)
        assert int(query["expires"]) <= time.time() + clips.CLIP_URL_EXPIRY_S
    longest = clips.clip_files(session=session, actor=ada, clip_id=ada_clip.id, expires_s=10**9)
    expires = int(parse_qs(urlsplit(longest.video_url).query)["expires"][0])
    assert expires <= time.time() + clips.MAX_URL_EXPIRY_S


def test_deleting_a_clip_removes_its_row_and_its_files(
    session: Session, ada: UserView, ada_clip: Clip, isolated_settings: Path
) -> None:
    clips.delete_clip(session=session, actor=ada, clip_id=ada_clip.id)
    assert _count(session, Clip) == 0
    assert get_storage().exists(ada_clip.video_key)  # files go only once the delete commits
    session.commit()
    for key in (ada_clip.video_key, ada_clip.srt_key, ada_clip.vtt_key, ada_clip.thumbnail_key):
        assert not get_storage().exists(key)
    with pytest.raises(NotFound):
        clips.get_clip(session=session, actor=ada, clip_id=ada_clip.id)


def test_a_published_clip_cannot_be_deleted(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    session.add(
        Publication(
            clip_id=ada_clip.id,
            clipper_id=ada.id,
            platform="youtube",
            url="https://youtu.be/abc",
            external_id="abc",
        )
    )
    session.commit()
    with pytest.raises(InvalidInput, match="published"):
        clips.delete_clip(session=session, actor=ada, clip_id=ada_clip.id)
    assert _count(session, Clip) == 1 and get_storage().exists(ada_clip.video_key)


# --- clips: search and pages --------------------------------------------------------


def test_my_clips_are_searched_in_title_and_transcript_in_any_case(
    session: Session, ada: UserView, bob: UserView
) -> None:
    job = _job(session, ada, _video(session, ada))
    _clip(session, job, 1, title="Crypto SECRETS revealed", transcript="nothing else")
    _clip(session, job, 2, title="Morning routine", transcript="my secret is coffee")
    _clip(session, job, 3, title="Road maintenance", transcript="potholes everywhere")
    _clip(session, _job(session, bob, _video(session, bob)), 1, title="Bob's secret")

    def titles(query: str) -> list[str]:
        page = clips.list_my_clips(session=session, actor=ada, query=query)
        return sorted(clip.title for clip in page.items)

    assert titles("secret") == ["Crypto SECRETS revealed", "Morning routine"]
    assert titles("  Secret   coffee ") == ["Morning routine"]
    assert titles("POTHOLES") == ["Road maintenance"]
    assert titles("") == ["Crypto SECRETS revealed", "Morning routine", "Road maintenance"]
    assert titles("nowhere") == []


def test_like_wildcards_in_a_search_are_taken_literally(session: Session, ada: UserView) -> None:
    job = _job(session, ada, _video(session, ada))
    for rank, title in enumerate(["50% off", "500 offers", "snake_case", "snakeXcase"], 1):
        _clip(session, job, rank, title=title)
    _clip(session, job, 5, title="Paths", transcript=r"C:\temp is a folder")

    def titles(query: str) -> list[str]:
        page = clips.list_my_clips(session=session, actor=ada, query=query)
        return sorted(clip.title for clip in page.items)

    assert titles("50%") == ["50% off"]
    assert titles("%") == ["50% off"]
    assert titles("snake_case") == ["snake_case"]
    assert titles("_") == ["snake_case"]
    assert titles("C:\\temp") == ["Paths"]
    assert titles("\\") == ["Paths"]


def test_my_clips_come_newest_first_in_clamped_pages(session: Session, ada: UserView) -> None:
    job = _job(session, ada, _video(session, ada))
    for rank in range(1, 6):
        _clip(session, job, rank, minutes_ago=10 - rank)  # rank 5 is the newest

    def page(number: int, per_page: int) -> clips.ClipPage:
        return clips.list_my_clips(session=session, actor=ada, page=number, per_page=per_page)

    first = page(1, 2)
    assert [c.rank for c in first.items] == [5, 4] and (first.total, first.pages) == (5, 3)
    assert [c.rank for c in page(3, 2).items] == [1]
    past_the_end = page(99, 2)
    assert past_the_end.page == 3 and [c.rank for c in past_the_end.items] == [1]
    assert page(-4, 2).page == 1
    assert page(1, 0).per_page == 1
    assert page(1, 10_000).per_page == clips.MAX_PER_PAGE


# --- trimming -----------------------------------------------------------------------


def _row(session: Session, clip_id: int) -> Clip:
    return session.get(Clip, clip_id, populate_existing=True)


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        (12.0, 12.0, "after the start"),
        (12.0, 11.0, "after the start"),
        (12.0, 12.5, "at least 1 second"),
        (10.0, 200.0, "at most 180 seconds"),
        (-1.0, 5.0, "beginning of the video"),
        (290.0, 301.0, "past the end of the video"),
        (301.0, 305.0, "only 300.0 seconds long"),
        (math.nan, 12.0, "numbers of seconds"),
        ("ten", 12.0, "numbers of seconds"),
    ],
)
def test_an_impossible_trim_is_refused_and_changes_nothing(
    session: Session, ada: UserView, ada_clip: Clip, start, end, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        clips.request_trim(
            session=session, actor=ada, clip_id=ada_clip.id, start_s=start, end_s=end
        )
    row = _row(session, ada_clip.id)
    assert (row.status, row.version, row.start_s, row.end_s) == ("ready", 1, 10.0, 14.6)


def test_a_trim_snaps_outwards_to_whole_words_and_keeps_the_old_version_until_rendered(
    session: Session, ada: UserView, ada_clip: Clip, sent: list
) -> None:
    # 10.9 is inside "grows" (10.7-11.4) and 13.5 inside "trees" (13.0-13.8).
    view = clips.request_trim(
        session=session, actor=ada, clip_id=ada_clip.id, start_s=10.9, end_s=13.5
    )
    assert (view.status, view.version) == ("rendering", 1)
    assert (view.start_s, view.end_s) == (10.0, 14.6)
    row = _row(session, ada_clip.id)
    assert (row.video_key, row.status) == (ada_clip.video_key, ClipStatus.RENDERING)
    # The trim waits on the row, so the worker's message needs only ids.
    assert (row.pending_start_s, row.pending_end_s, row.pending_words) == (10.7, 13.8, None)
    assert sent == []
    session.commit()
    assert sent == [("rerender_clip", {"clip_id": ada_clip.id, "version": 2})]
    audit = session.exec(select(AuditLog).where(AuditLog.action == "clip.trim_requested")).one()
    assert audit.details["version"] == 2 and audit.details["end_s"] == 13.8


def test_trim_edges_in_a_pause_stay_where_they_are(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    # 12.5 lies in the pause between "on" and "trees"; 14.8 after the last word.
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=12.5, end_s=14.8)
    row = _row(session, ada_clip.id)
    assert (row.pending_start_s, row.pending_end_s) == (12.5, 14.8)


def test_a_clip_already_rendering_cannot_be_trimmed_again_until_its_render_went_silent(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=10, end_s=12)
    with pytest.raises(InvalidInput, match="already being re-rendered"):
        clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=11, end_s=13)
    session.exec(
        update(Clip)
        .where(Clip.id == ada_clip.id)
        .values(updated_at=utcnow() - clips.RENDER_STALE_AFTER - timedelta(minutes=1))
    )
    session.commit()
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=11.5, end_s=13.8)
    row = _row(session, ada_clip.id)
    assert (row.version, row.pending_start_s, row.pending_end_s) == (1, 11.5, 13.8)


def test_new_caption_text_is_spread_over_the_spoken_time_of_the_old_words(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    clips.request_trim(
        session=session,
        actor=ada,
        clip_id=ada_clip.id,
        start_s=10.0,
        end_s=12.0,
        transcript_text="  Money  really grows on   trees  ",
    )
    spread = _row(session, ada_clip.id).pending_words
    assert [w["text"] for w in spread] == ["Money", "really", "grows", "on", "trees"]
    assert spread[0]["start"] == 10.0 and spread[-1]["end"] == 12.0
    for word, following in zip(spread, spread[1:], strict=False):
        assert word["start"] < word["end"] <= following["start"]
    # No word is placed in the pauses between the old words (10.5-10.7, 11.4-11.5).
    for word in spread:
        assert not (10.5 < word["start"] < 10.7 or 11.4 < word["start"] < 11.5)


def test_blank_caption_text_is_refused(session: Session, ada: UserView, ada_clip: Clip) -> None:
    with pytest.raises(InvalidInput, match="caption text"):
        clips.request_trim(
            session=session,
            actor=ada,
            clip_id=ada_clip.id,
            start_s=10,
            end_s=12,
            transcript_text="   ",
        )
    assert _row(session, ada_clip.id).status == ClipStatus.READY


def _finish(session: Session, clip: Clip, version: int) -> list[str] | None:
    return clips.finish_trim(
        session=session,
        clip_id=clip.id,
        version=version,
        start_s=10.7,
        end_s=13.8,
        video_key=clips.clip_file_key(clip.owner_id, clip.job_id, clip.rank, "mp4", version),
        srt_key=clips.clip_file_key(clip.owner_id, clip.job_id, clip.rank, "srt", version),
        vtt_key=clips.clip_file_key(clip.owner_id, clip.job_id, clip.rank, "vtt", version),
        thumbnail_key=clips.clip_file_key(clip.owner_id, clip.job_id, clip.rank, "jpg", version),
        transcript="grows on trees",
    )


def test_a_finished_trim_swaps_in_the_new_version_once(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=10.9, end_s=13.5)
    old_keys = _finish(session, ada_clip, 2)
    assert sorted(old_keys) == sorted(
        [ada_clip.video_key, ada_clip.srt_key, ada_clip.vtt_key, ada_clip.thumbnail_key]
    )
    view = clips.get_clip(session=session, actor=ada, clip_id=ada_clip.id)
    assert (view.version, view.status, view.start_s, view.end_s) == (2, "ready", 10.7, 13.8)
    assert view.transcript == "grows on trees"
    assert _row(session, ada_clip.id).video_key.endswith("/clip_01_v2.mp4")
    assert _finish(session, ada_clip, 2) is None  # a duplicate message changes nothing
    assert clips.fail_trim(session=session, clip_id=ada_clip.id, message="late", version=2) == view


def test_a_failed_trim_leaves_the_clip_ready_at_its_old_version(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=10.9, end_s=13.5)
    view = clips.fail_trim(session=session, clip_id=ada_clip.id, message="ffmpeg died", version=2)
    assert (view.status, view.version, view.start_s, view.end_s) == ("ready", 1, 10.0, 14.6)
    assert _row(session, ada_clip.id).video_key == ada_clip.video_key
    assert _finish(session, ada_clip, 2) is None  # a render that arrives after giving up
    audit = session.exec(select(AuditLog).where(AuditLog.action == "clip.trim_failed")).one()
    assert audit.details["message"] == "ffmpeg died"


def test_an_edited_caption_survives_the_next_trim(
    session: Session, ada: UserView, ada_clip: Clip
) -> None:
    """The words a version was rendered with are what the next trim starts from."""
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=10.0, end_s=12.0)
    _finish(session, ada_clip, 2)
    edited = [
        {"start": 10.0, "end": 11.0, "text": "Cash"},
        {"start": 11.1, "end": 12.0, "text": "flows"},
    ]
    get_storage().put_stream(
        clips.clip_words_key(ada.id, ada_clip.job_id, ada_clip.rank, 2),
        _Bytes(json.dumps(edited).encode()),
    )
    session.exec(
        update(Clip).where(Clip.id == ada_clip.id).values(start_s=10.0, end_s=12.0, layout="split")
    )
    session.commit()
    source = clips.trim_source(session=session, clip_id=ada_clip.id)
    assert [w.text for w in clips.current_words(source)] == ["Cash", "flows", "trees", "today."]
    assert source.layout == "split"  # a trim is framed as the clip was
    # 10.5 is inside the edited "Cash" (10.0-11.0), not in the old pause.
    clips.request_trim(session=session, actor=ada, clip_id=ada_clip.id, start_s=10.5, end_s=13.5)
    row = _row(session, ada_clip.id)
    assert (row.pending_start_s, row.pending_end_s, row.version) == (10.0, 13.8, 2)
