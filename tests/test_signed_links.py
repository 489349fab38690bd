"""Signed file links on a page left open are signed again before they expire."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.models import Clip, JobStatus, ProcessingJob, Video, VideoStatus
from clipgen.services.auth import service as auth
from clipgen.state import job as job_state
from clipgen.state.clips import MyClipsState
from clipgen.state.job import JobState

PASSWORD = "a sturdy passphrase"


def _state(cls, token: str):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _expires(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["expires"][0])


def _owner_with_a_clip(session: Session) -> tuple[str, int]:
    user = auth.register(
        session=session,
        email="ada@example.com",
        display_name="Ada",
        password=PASSWORD,
        role="clipper",
    )
    token, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    video = Video(
        owner_id=user.id,
        original_filename="talk.mp4",
        storage_key="users/1/videos/1/original.mp4",
        status=VideoStatus.READY,
    )
    session.add(video)
    session.flush()
    job = ProcessingJob(user_id=user.id, video_id=video.id, status=JobStatus.SUCCEEDED)
    session.add(job)
    session.flush()
    session.add(
        Clip(
            owner_id=user.id,
            job_id=job.id,
            video_id=video.id,
            rank=1,
            start_s=1.0,
            end_s=20.0,
            video_key="users/1/jobs/1/clip_01.mp4",
        )
    )
    session.commit()
    return token, job.id


def test_the_job_page_re_signs_links_that_are_about_to_expire(
    session: Session, monkeypatch
) -> None:
    token, job_id = _owner_with_a_clip(session)
    state = _state(JobState, token)
    state.current_job_id = job_id
    state._refresh()
    first = state.clip_cards[0]["video_url"]
    assert _expires(first) > time.time() + job_state.URL_LIFETIME_S - 60

    JobState.renew_links.fn(state)  # far from expiry: the player keeps its link
    assert state.clip_cards[0]["video_url"] == first

    later = time.time() + job_state.URL_LIFETIME_S - job_state.RENEW_MARGIN_S + 5
    monkeypatch.setattr(job_state.time, "time", lambda: later)
    JobState.renew_links.fn(state)
    renewed = state.clip_cards[0]["video_url"]
    assert renewed != first and _expires(renewed) > _expires(first)
    assert state.links_expire_at > later + job_state.URL_LIFETIME_S - 5


def test_my_clips_re_signs_links_that_are_about_to_expire(session: Session, monkeypatch) -> None:
    token, _job_id = _owner_with_a_clip(session)
    state = _state(MyClipsState, token)
    MyClipsState.open_page.fn(state)
    first = state.cards[0]["video_url"]
    MyClipsState.renew_links.fn(state)
    assert state.cards[0]["video_url"] == first
    later = time.time() + job_state.URL_LIFETIME_S
    monkeypatch.setattr(job_state.time, "time", lambda: later)
    MyClipsState.renew_links.fn(state)
    assert _expires(state.cards[0]["video_url"]) > _expires(first)
