"""A browser can call any public handler with any arguments: another user's ids get nothing.

The handlers are called directly, as a crafted websocket event would call them,
with the session cookie of a different, signed-in user.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.models import Clip, JobStatus, ProcessingJob, Video, VideoStatus
from clipgen.services.auth import service as auth
from clipgen.state.clips import MyClipsState
from clipgen.state.generate import GenerateState
from clipgen.state.job import JobState

PASSWORD = "a sturdy passphrase"


def _user(session: Session, email: str) -> tuple[auth.UserView, str]:
    user = auth.register(
        session=session,
        email=email,
        display_name=email.split("@")[0],
        password=PASSWORD,
        role="clipper",
    )
    token, _ = auth.sign_in(session=session, email=email, password=PASSWORD)
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
