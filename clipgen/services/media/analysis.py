"""A campaign source's analysis, made once and shared by every clipper's generation.

Probing, transcribing and listening to a source depend only on the file, the speech
model and the language, so ten clippers making clips of one campaign's source need
them once. The video row coordinates who makes it (`Video.analysis_state`):

    ""  --claim_analysis-->  "running"  --finish_analysis-->  "ready"
              ^                   |
              +--release_analysis-+   (failed; a stale "running" may also be claimed again)

`claim_analysis` is one conditional UPDATE, so of many workers asking at once exactly
one gets the work; the others wait for it or, past a limit, go on alone. The maker keeps
`analysis_at` fresh while it works (`renew_analysis`), so a claim whose worker died
goes stale and can be claimed again. The stage files themselves live in storage under
`analysis_key`; workers move them (this module only names them). Only a campaign's source
is shared (`is_campaign_source`): a private upload is analysed by its own job as before.

Worker-side calls: they take no acting user, like `jobs.begin_run`, and only flush.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from clipgen.models import Campaign, Video, VideoStatus, utcnow
from clipgen.services.media.liveness import STALE_AFTER_S

NONE = ""
RUNNING = "running"
READY = "ready"
# A "running" analysis whose maker has not renewed it for this long is abandoned.
DEFAULT_STALE_AFTER_S = STALE_AFTER_S
# The stage files another work folder can reuse (see `clipgen.pipeline.run.SHARED_STAGES`),
# and the soundtrack's RMS envelope that places cuts in silence (a NumPy array).
SHARED_FILES = ("probe", "transcribe", "signals", "envelope")
_FILE_NAMES = {"envelope": "envelope.npy"}
BUNDLED_MODEL = "bundled"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SLUG = 60


def _slug(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text).strip("._-")
    return cleaned[:_MAX_SLUG] or "x"


def model_slug(model: str) -> str:
    """A storage-safe name of a speech model: "bundled" for the default, a plain name as it
    is ("small", "large-v3"), and a path or hub id by its last part plus a short hash."""
    model = (model or "").strip()
    if not model:
        return BUNDLED_MODEL
    if _UNSAFE.search(model) is None and not model.startswith("."):
        return model[:_MAX_SLUG]
    digest = hashlib.sha256(model.encode()).hexdigest()[:8]
    last = model.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return f"{_slug(last)[: _MAX_SLUG - 9]}-{digest}"


def language_slug(language: str) -> str:
    """The language option as a key part: "auto" when left to detection."""
    language = (language or "").strip()
    return "auto" if language in ("", "auto") else _slug(language)


def analysis_prefix(video_id: int, model: str, language: str) -> str:
    """Where one model and language's analysis of a video is stored."""
    return f"analysis/video-{int(video_id)}/{model_slug(model)}-{language_slug(language)}"


def analysis_key(video_id: int, model: str, language: str, stage: str) -> str:
    """The stored stage file (`probe`, `transcribe`, `signals` or `envelope`) of an analysis."""
    if stage not in SHARED_FILES:
        raise ValueError(f"{stage!r} is not a shared analysis stage.")
    name = _FILE_NAMES.get(stage, f"{stage}.json")
    return f"{analysis_prefix(video_id, model, language)}/{name}"


def video_analyses_prefix(video_id: int) -> str:
    """Every stored analysis of a video (to delete them with it)."""
    return f"analysis/video-{int(video_id)}"


def is_campaign_source(*, session: Session, video_id: int) -> bool:
    """Whether the video is the uploaded source of some campaign (only those are shared)."""
    return (
        session.exec(
            select(Campaign.id).where(Campaign.source_video_id == int(video_id)).limit(1)
        ).first()
        is not None
    )


def source_file(*, session: Session, video_id: int) -> tuple[str, str] | None:
    """The storage key and original file name of a ready video, or None."""
    row = session.exec(
        select(Video.storage_key, Video.original_filename).where(
            Video.id == int(video_id), Video.status == VideoStatus.READY
        )
    ).first()
    return None if row is None else (row[0], row[1])


def analysis_state(*, session: Session, video_id: int) -> str:
    """ "" (none), "running" or "ready"; "" for a video that is gone."""
    state = session.exec(select(Video.analysis_state).where(Video.id == int(video_id))).first()
    return state or NONE


def _move(session: Session, video_id: int, *conditions, **values) -> bool:
    result = session.exec(
        update(Video)
        .where(col(Video.id) == int(video_id), *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_analysis(
    *, session: Session, video_id: int, stale_after_s: float = DEFAULT_STALE_AFTER_S
) -> bool:
    """Take the making of the video's analysis; whether this caller got it.

    Granted when there is none, or when the one "running" was not renewed within
    `stale_after_s` (its worker died). Never for a ready analysis, a video that is not
    ready, or one another worker is making now.
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_after_s)
    stale = and_(
        col(Video.analysis_state) == RUNNING,
        or_(col(Video.analysis_at).is_(None), col(Video.analysis_at) < cutoff),
    )
    return _move(
        session,
        video_id,
        col(Video.status) == VideoStatus.READY,
        or_(col(Video.analysis_state) == NONE, stale),
        analysis_state=RUNNING,
        analysis_at=now,
    )


def renew_analysis(*, session: Session, video_id: int) -> bool:
    """Keep a running analysis from going stale (its maker calls this while it works)."""
    return _move(session, video_id, col(Video.analysis_state) == RUNNING, analysis_at=utcnow())


def finish_analysis(*, session: Session, video_id: int) -> bool:
    """Mark the analysis ready (its files are stored); whether it was not ready before."""
    return _move(
        session,
        video_id,
        col(Video.analysis_state) != READY,
        analysis_state=READY,
        analysis_at=utcnow(),
    )


def release_analysis(*, session: Session, video_id: int) -> bool:
    """Give a running analysis up (it failed), so another worker may make it."""
    return _move(
        session,
        video_id,
        col(Video.analysis_state) == RUNNING,
        analysis_state=NONE,
        analysis_at=None,
    )
