"""Uploaded videos, the processing jobs that turn them into clips, and clips."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class VideoStatus(StrEnum):
    UPLOADING = "uploading"
    READY = "ready"
    REJECTED = "rejected"
    DELETED = "deleted"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RenderState(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    DONE = "done"


class ClipStatus(StrEnum):
    READY = "ready"
    RENDERING = "rendering"
    FAILED = "failed"


class Video(SQLModel, table=True):
    """A long source video a user uploaded (or a campaign's source)."""

    __tablename__ = "videos"
    __table_args__ = (Index("ix_videos_owner_created", "owner_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    original_filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=512, unique=True)
    size_bytes: int = Field(default=0, ge=0)
    content_type: str = Field(default="", max_length=100)
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    status: str = Field(default=VideoStatus.UPLOADING, max_length=16)
    # The source's analysis (probe, transcript, signals), made once and shared by every
    # job on it: "" (none), "running" (by the job or worker that claimed it) or "ready".
    analysis_state: str = Field(default="", max_length=16)
    analysis_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessingJob(SQLModel, table=True):
    """One run of the clip pipeline over a video. The database is its truth."""

    __tablename__ = "processing_jobs"
    __table_args__ = (
        Index("ix_processing_jobs_user_created", "user_id", "created_at"),
        Index("ix_processing_jobs_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    video_id: int = Field(foreign_key="videos.id", index=True)
    # The marketplace claim these clips are made for (a campaign's source video).
    market_job_id: int | None = Field(default=None, foreign_key="market_jobs.id", index=True)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    stage: str = Field(default="", max_length=32)
    percent: int = Field(default=0, ge=0, le=100)
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    timings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", max_length=2000)
    attempts: int = 0
    cancel_requested: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClipRender(SQLModel, table=True):
    """One planned clip of a job: queued, being rendered by the worker that claimed it, or
    done (its `Clip` row saved). A job's clips are rendered by whichever workers claim
    them, each exactly once; the job succeeds when its last one is done."""

    __tablename__ = "clip_renders"
    __table_args__ = (Index("ix_clip_renders_job_rank", "job_id", "rank", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="processing_jobs.id")
    rank: int = Field(ge=1)
    state: str = Field(default=RenderState.QUEUED, max_length=16)
    # `clipgen.pipeline.run.PlannedClip` and the source's MediaInfo, as JSON.
    plan: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    attempts: int = 0
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Clip(SQLModel, table=True):
    """A ranked, rendered short cut of a video."""

    __tablename__ = "clips"
    __table_args__ = (
        Index("ix_clips_owner_created", "owner_id", "created_at"),
        Index("ix_clips_job_rank", "job_id", "rank", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id")
    job_id: int = Field(foreign_key="processing_jobs.id")
    video_id: int = Field(foreign_key="videos.id", index=True)
    rank: int = Field(ge=1)
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    title: str = Field(default="", max_length=200)
    hook: str = Field(default="", max_length=500)
    reason: str = Field(default="", max_length=1000)
    score: int = Field(default=1, ge=1, le=10)
    transcript: str = ""
    aspect: str = Field(default="9:16", max_length=8)
    captions: str = Field(default="animated", max_length=16)
    # How it was framed (`clipgen.pipeline.options.LAYOUTS`), so a trim frames it alike.
    layout: str = Field(default="auto", max_length=16)
    status: str = Field(default=ClipStatus.READY, max_length=16)
    version: int = 1
    video_key: str = Field(default="", max_length=512)
    srt_key: str = Field(default="", max_length=512)
    vtt_key: str = Field(default="", max_length=512)
    thumbnail_key: str = Field(default="", max_length=512)
    # The trim waiting to be rendered as `version + 1`, kept here so a lost message loses nothing.
    pending_start_s: float | None = None
    pending_end_s: float | None = None
    pending_words: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
