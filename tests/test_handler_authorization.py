"""A browser can call any public handler with any arguments: another user's ids get nothing.

The handlers are called directly, as a crafted websocket event would call them,
with the session cookie of a different, signed-in user.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.config import get_settings
from clipgen.models import Clip, JobStatus, ProcessingJob, Video, VideoStatus
from clipgen.services.auth import service as auth
from clipgen.services.errors import NotAuthenticated, ServiceError
from clipgen.state.clips import MyClipsState
from clipgen.state.generate import GenerateState, stream_upload
from clipgen.state.job import JobState
from tests.support.aio import run_coroutine

PASSWORD = "a sturdy passphrase"


def _user(session: Session, email: str, role: str = "clipper") -> tuple[auth.UserView, str]:
    user = auth.register(
        session=session,
        email=email,
        display_name=email.split("@")[0],
        password=PASSWORD,
        role=role,
    )
    token, _ = auth.sign_in(session=session, email=email, password=PASSWORD)
    session.commit()
    return user, token


@pytest.fixture
def owned(session: Session) -> dict:
    owner, _ = _user(session, "owner@example.com")
    _intruder, token = _user(session, "intruder@example.com")
    video = Video(
        owner_id=owner.id,
        original_filename="talk.mp4",
        storage_key="users/1/v.mp4",
        duration_s=60.0,
        width=640,
        height=360,
        fps=30.0,
        status=VideoStatus.READY,
    )
    session.add(video)
    session.flush()
    failed = ProcessingJob(
        user_id=owner.id, video_id=video.id, status=JobStatus.FAILED, error="boom"
    )
    running = ProcessingJob(user_id=owner.id, video_id=video.id, status=JobStatus.RUNNING)
    session.add_all([failed, running])
    session.flush()
    clip = Clip(
        owner_id=owner.id,
        job_id=failed.id,
        video_id=video.id,
        rank=1,
        start_s=1.0,
        end_s=20.0,
        title="Mine",
        video_key="users/1/c.mp4",
    )
    session.add(clip)
    session.commit()
    return {
        "token": token,
        "video": video.id,
        "failed": failed.id,
        "running": running.id,
        "clip": clip.id,
    }


def _state(cls, token: str):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _job(session: Session, job_id: int) -> ProcessingJob:
    session.expire_all()
    return session.get(ProcessingJob, job_id)


def test_another_users_job_cannot_be_cancelled_or_retried(session: Session, owned) -> None:
    state = _state(JobState, owned["token"])
    state.current_job_id = owned["running"]
    JobState.cancel.fn(state)
    assert "not found" in state.action_error
    assert _job(session, owned["running"]).cancel_requested is False
    state.current_job_id = owned["failed"]
    JobState.retry.fn(state)
    assert "not found" in state.action_error
    assert _job(session, owned["failed"]).status == JobStatus.FAILED


def test_another_users_clip_cannot_be_trimmed_or_deleted(session: Session, owned) -> None:
    state = _state(JobState, owned["token"])
    state.trim_clip_id = owned["clip"]
    JobState.submit_trim.fn(state, {"start": "2", "end": "12", "captions": "hacked"})
    assert "not found" in state.trim_error
    library = _state(MyClipsState, owned["token"])
    MyClipsState.delete.fn(library, owned["clip"])
    assert "not found" in library.error
    session.expire_all()
    clip = session.get(Clip, owned["clip"])
    assert (clip.start_s, clip.end_s, clip.status, clip.version) == (1.0, 20.0, "ready", 1)


def test_another_users_video_cannot_be_used_for_a_job(session: Session, owned) -> None:
    state = _state(GenerateState, owned["token"])
    state.video_id = owned["video"]
    GenerateState.start.fn(state)
    assert "not found" in state.start_error
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 2


def test_a_handler_without_a_live_session_changes_nothing(session: Session, owned) -> None:
    state = _state(JobState, "forged-token")
    state.current_job_id = owned["running"]
    JobState.cancel.fn(state)
    assert state.action_error == "Please sign in to continue."
    assert _job(session, owned["running"]).cancel_requested is False


def test_another_users_job_cannot_be_deleted_even_when_it_is_stuck(session: Session, owned) -> None:
    state = _state(JobState, owned["token"])
    state.current_job_id = owned["failed"]
    JobState.delete_job.fn(state)
    assert "not found" in state.action_error
    assert _job(session, owned["failed"]) is not None


def test_another_users_video_cannot_be_deleted_or_picked(session: Session, owned) -> None:
    state = _state(GenerateState, owned["token"])
    GenerateState.delete_video.fn(state, owned["video"])
    assert "not found" in state.videos_error
    GenerateState.use_video.fn(state, owned["video"])  # not in this user's list: ignored
    assert state.video_id == 0
    session.expire_all()
    assert session.get(Video, owned["video"]).status == VideoStatus.READY


# --- roles -------------------------------------------------------------------


@pytest.fixture
def client_token(session: Session) -> str:
    _client, token = _user(session, "brand@example.com", role="client")
    return token


def test_a_client_calling_the_clipper_handlers_is_refused_in_words(
    session: Session, owned, client_token: str
) -> None:
    """Generation is for clippers (the navigation says so, and so do the services)."""
    client = auth.current_user(session=session, token=client_token)
    video = Video(
        owner_id=client.id,
        original_filename="brief.mp4",
        storage_key="users/3/videos/1/original.mp4",
        duration_s=60.0,
        status=VideoStatus.READY,
    )
    session.add(video)
    session.commit()
    generate = _state(GenerateState, client_token)
    generate.video_id = video.id
    GenerateState.start.fn(generate)
    assert generate.start_error == "Making clips is part of a clipper account."
    job = _state(JobState, client_token)
    job.current_job_id = owned["failed"]
    JobState.retry.fn(job)
    assert job.action_error == "Making clips is part of a clipper account."
    library = _state(MyClipsState, client_token)
    MyClipsState.delete.fn(library, owned["clip"])
    assert library.error == "Making clips is part of a clipper account."
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 2
    assert session.exec(select(func.count()).select_from(Clip)).one() == 1


# --- uploads -----------------------------------------------------------------


class _Chunk:
    def __init__(self, filename: str, offset: int, data: bytes) -> None:
        self.filename, self.offset, self.data = filename, offset, data


async def _chunks(*chunks: _Chunk):
    for chunk in chunks:
        yield chunk


def _uploads_left(data_dir) -> list[str]:
    folder = data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_anonymous_upload_is_refused_before_a_byte_is_written(
    session: Session, isolated_settings
) -> None:
    chunks = _chunks(_Chunk("talk.mp4", 0, b"x" * 1000))
    with pytest.raises(NotAuthenticated):
        run_coroutine(stream_upload("forged-token", chunks))
    assert _uploads_left(isolated_settings) == []
    assert session.exec(select(func.count()).select_from(Video)).one() == 0


def test_an_upload_past_its_allowance_stops_and_leaves_nothing(
    session: Session, owned, isolated_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    mb = 1024 * 1024
    chunks = _chunks(_Chunk("big.mp4", 0, b"x" * mb), _Chunk("big.mp4", mb, b"x" * 10))
    with pytest.raises(ServiceError, match="larger than the 1 MB limit"):
        run_coroutine(stream_upload(owned["token"], chunks))
    assert _uploads_left(isolated_settings) == []
    videos = session.exec(select(Video.original_filename)).all()
    assert videos == ["talk.mp4"]  # only the owner's earlier upload


def test_a_third_upload_at_once_is_refused_before_a_byte_is_written(
    session: Session, owned, isolated_settings
) -> None:
    from clipgen.services.media import videos

    owner = session.exec(select(Video.owner_id)).first()
    owner_view = auth.UserView(
        id=owner, email="owner@example.com", display_name="owner", roles=("clipper",), tier=""
    )
    for name in ("a.mp4", "b.mp4"):
        videos.begin_upload(session=session, actor=owner_view, original_filename=name)
    owner_token = auth.sign_in(session=session, email="owner@example.com", password=PASSWORD)[0]
    session.commit()
    with pytest.raises(ServiceError, match="2 uploads in progress"):
        run_coroutine(stream_upload(owner_token, _chunks(_Chunk("c.mp4", 0, b"x" * 10))))
    assert _uploads_left(isolated_settings) == []


def test_an_unexpected_error_shows_words_not_the_exception() -> None:
    from clipgen.clipgen import app, show_unexpected_error

    assert app.backend_exception_handler is show_unexpected_error
    shown = str(show_unexpected_error(OSError("/srv/clipgen/.data/work/job-7: disk full")))
    assert "Something went wrong on our side" in shown
    assert "/srv" not in shown and "OSError" not in shown and "disk full" not in shown
