"""Clips: listing, searching, downloading, deleting, and trimming with a re-render.

A clip row always describes a finished render: its times, transcript and
file keys belong to `version`. A trim does not touch them; it marks the clip
`rendering`, keeps the new times (snapped to whole words) and any edited
caption words on the row as the pending trim, and sends a worker the clip's
id and the version to render once that is committed; a lost message loses
nothing, since recovery sends it again from the row. The worker renders under
new keys named by version, then `finish_trim` swaps the new version in with
one conditional UPDATE, so a duplicate or late message changes nothing, and
the old files are deleted only after nobody points at them.

Word timings live in storage: the job's whole transcript (`job_words_key`,
written when the job finishes) and, for every re-rendered version, the words
that version was captioned with (`clip_words_key`), so an edited caption
text survives the next trim.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import Session, col, select

from clipgen.db import after_commit
from clipgen.models import (
    Clip,
    ClipStatus,
    ProcessingJob,
    Publication,
    Role,
    Submission,
    Video,
    utcnow,
)
from clipgen.pipeline.types import Word
from clipgen.services.access import fresh, owned, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.tasks import RERENDER_CLIP, send_after_commit
from clipgen.storage import ObjectNotFound, get_storage

log = logging.getLogger(__name__)

CLIP_URL_EXPIRY_S = 15 * 60
MIN_URL_EXPIRY_S = 60
MAX_URL_EXPIRY_S = 24 * 3600
MIN_TRIM_SECONDS = 1.0
MAX_TRIM_SECONDS = 180.0
MAX_PER_PAGE = 48
MAX_QUERY_LENGTH = 200
MAX_QUERY_TERMS = 8
MAX_CAPTION_TEXT_LENGTH = 5000
# A re-render is taken as lost (sent again by recovery, and open to a new trim) after this
# long without news: longer than the re-render actor's own time limit (30 minutes).
RENDER_STALE_AFTER = timedelta(minutes=35)
# How far past the source's end a requested end may lie and still be taken as "the end".
_END_TOLERANCE_S = 0.05
_LIKE_ESCAPE = "\\"
CLIP_OUTPUTS = ("mp4", "srt", "vtt", "jpg")


def job_files_prefix(owner_id: int, job_id: int) -> str:
    """The storage folder of a job's clip files."""
    return f"users/{owner_id}/jobs/{job_id}"


def clip_file_key(owner_id: int, job_id: int, rank: int, extension: str, version: int = 1) -> str:
    """The storage key of one file of one version of a clip (version 1 has no suffix)."""
    suffix = "" if version <= 1 else f"_v{version}"
    return f"{job_files_prefix(owner_id, job_id)}/clip_{rank:02d}{suffix}.{extension}"


def clip_words_key(owner_id: int, job_id: int, rank: int, version: int) -> str:
    """The word timings a re-rendered version of a clip was captioned with."""
    return clip_file_key(owner_id, job_id, rank, "words.json", version)


def job_words_key(owner_id: int, job_id: int) -> str:
    """The whole transcript's word timings of a finished job.

    Kept beside (not inside) the job's clip folder, which holds clip files only.
    """
    return f"users/{owner_id}/transcripts/job_{job_id}/words.json"


def words_to_json(words: list[Word]) -> bytes:
    """Word timings as stored: a JSON list of {start, end, text}."""
    return json.dumps(
        [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text} for w in words]
    ).encode()


def words_from_data(data: Any) -> list[Word]:
    """Word timings from stored or sent data; malformed entries are skipped."""
    words = []
    for item in data if isinstance(data, list) else []:
        try:
            start, end, text = float(item["start"]), float(item["end"]), str(item["text"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(start) and math.isfinite(end) and text.strip():
            words.append(Word(start=start, end=max(start, end), text=text.strip()))
    return sorted(words, key=lambda w: (w.start, w.end))


def _stored_words(key: str) -> list[Word] | None:
    """The word timings stored under `key`, or None when there are none."""
    try:
        raw = get_storage().read_bytes(key)
    except ObjectNotFound:
        return None
    try:
        return words_from_data(json.loads(raw))
    except ValueError:
        log.warning("Unreadable word timings under %s", key)
        return None


@dataclass(frozen=True)
class ClipView:
    """What the app may show of a clip."""

    id: int
    job_id: int
    video_id: int
    rank: int
    start_s: float
    end_s: float
    duration_s: float
    title: str
    hook: str
    reason: str
    score: int
    transcript: str
    aspect: str
    captions: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, clip: Clip) -> ClipView:
        return cls(
            id=clip.id,
            job_id=clip.job_id,
            video_id=clip.video_id,
            rank=clip.rank,
            start_s=clip.start_s,
            end_s=clip.end_s,
            duration_s=round(max(0.0, clip.end_s - clip.start_s), 3),
            title=clip.title,
            hook=clip.hook,
            reason=clip.reason,
            score=clip.score,
            transcript=clip.transcript,
            aspect=clip.aspect,
            captions=clip.captions,
            status=clip.status,
            version=clip.version,
            created_at=clip.created_at,
            updated_at=clip.updated_at,
        )


@dataclass(frozen=True)
class ClipFiles:
    """Short-lived signed URLs of a clip's files ("" for a file it does not have).

    `video_url` is for a player; the others download under a name made from
    the title ("<title-slug>.mp4").
    """

    video_url: str
    video_download_url: str
    srt_url: str
    vtt_url: str
    thumbnail_url: str


@dataclass(frozen=True)
class ClipPage:
    """One page of the actor's clips, newest first."""

    items: tuple[ClipView, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class TrimSource:
    """What a worker needs to re-render a clip: the row as it is, and its source video."""

    clip_id: int
    owner_id: int
    job_id: int
    rank: int
    version: int
    status: str
    start_s: float
    end_s: float
    title: str
    hook: str
    reason: str
    score: int
    transcript: str
    aspect: str
    captions: str
    layout: str
    video_key: str
    source_key: str
    source_filename: str
    pending_start_s: float | None
    pending_end_s: float | None
    pending_words: list[dict[str, Any]] | None

    def file_key(self, extension: str, version: int) -> str:
        return clip_file_key(self.owner_id, self.job_id, self.rank, extension, version)

    def words_key(self, version: int) -> str:
        return clip_words_key(self.owner_id, self.job_id, self.rank, version)


def _own_clip(session: Session, actor: UserView, clip_id: int) -> Clip:
    require_role(actor, Role.CLIPPER)
    return owned(session, Clip, clip_id, actor, noun="clip")


def get_clip(*, session: Session, actor: UserView, clip_id: int) -> ClipView:
    """One of the actor's clips."""
    return ClipView.of(_own_clip(session, actor, clip_id))


def list_job_clips(*, session: Session, actor: UserView, job_id: int) -> list[ClipView]:
    """The clips one of the actor's jobs made, best first."""
    require_role(actor, Role.CLIPPER)
    owned(session, ProcessingJob, job_id, actor, noun="job", owner_attr="user_id")
    clips = session.exec(
        select(Clip)
        .where(Clip.job_id == job_id, Clip.owner_id == actor.id)
        .order_by(col(Clip.rank))
        .execution_options(populate_existing=True)
    ).all()
    return [ClipView.of(clip) for clip in clips]


def _like_pattern(term: str) -> str:
    """`%term%` with the term's own LIKE wildcards taken literally."""
    escaped = (
        term.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _search_condition(query: str):
    """Every word of the query must appear in the title or the transcript, in any case."""
    terms = " ".join((query or "").split())[:MAX_QUERY_LENGTH].split()[:MAX_QUERY_TERMS]
    conditions = []
    for term in terms:
        pattern = _like_pattern(term)
        conditions.append(
            or_(
                col(Clip.title).ilike(pattern, escape=_LIKE_ESCAPE),
                col(Clip.transcript).ilike(pattern, escape=_LIKE_ESCAPE),
            )
        )
    return and_(*conditions) if conditions else None


def list_my_clips(
    *, session: Session, actor: UserView, query: str = "", page: int = 1, per_page: int = 12
) -> ClipPage:
    """The actor's clips, newest first, optionally only those matching `query`.

    A page past the end shows the last page.
    """
    require_role(actor, Role.CLIPPER)
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    conditions = [Clip.owner_id == actor.id]
    searched = _search_condition(query)
    if searched is not None:
        conditions.append(searched)
    total = session.exec(select(func.count()).select_from(Clip).where(*conditions)).one()
    last_page = max(1, math.ceil(total / per_page))
    page = max(1, min(last_page, int(page)))
    clips = session.exec(
        select(Clip)
        .where(*conditions)
        .order_by(col(Clip.created_at).desc(), col(Clip.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .execution_options(populate_existing=True)
    ).all()
    return ClipPage(
        items=tuple(ClipView.of(clip) for clip in clips),
        page=page,
        per_page=per_page,
        total=total,
    )


def download_slug(title: str, fallback: str) -> str:
    """A file-name stem made from a title: lower-case ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].strip("-") or fallback


def clip_files(
    *, session: Session, actor: UserView, clip_id: int, expires_s: int = CLIP_URL_EXPIRY_S
) -> ClipFiles:
    """Signed URLs for the current version of one of the actor's clips.

    `expires_s` is kept between a minute and a day.
    """
    clip = _own_clip(session, actor, clip_id)
    storage = get_storage()
    stem = download_slug(clip.title, f"clip-{clip.rank}")
    lifetime = max(MIN_URL_EXPIRY_S, min(MAX_URL_EXPIRY_S, int(expires_s)))

    def url(key: str, extension: str | None) -> str:
        if not key:
            return ""
        name = f"{stem}.{extension}" if extension else None
        return storage.presigned_url(key, expires_s=lifetime, download_name=name)

    return ClipFiles(
        video_url=url(clip.video_key, None),
        video_download_url=url(clip.video_key, "mp4"),
        srt_url=url(clip.srt_key, "srt"),
        vtt_url=url(clip.vtt_key, "vtt"),
        thumbnail_url=url(clip.thumbnail_key, "jpg"),
    )


def clip_in_use_reason(session: Session, clip_ids: list[int]) -> str:
    """Why these clips must be kept (submitted or published), or "" when they need not."""
    if not clip_ids:
        return ""
    submitted = session.exec(
        select(Submission.id).where(col(Submission.clip_id).in_(clip_ids)).limit(1)
    ).first()
    if submitted is not None:
        return "submitted to a campaign"
    published = session.exec(
        select(Publication.id).where(col(Publication.clip_id).in_(clip_ids)).limit(1)
    ).first()
    return "published" if published is not None else ""


def stored_keys_of(clip: Clip) -> list[str]:
    """Every stored file of a clip's current version."""
    keys = [clip.video_key, clip.srt_key, clip.vtt_key, clip.thumbnail_key]
    if clip.version > 1:
        keys.append(clip_words_key(clip.owner_id, clip.job_id, clip.rank, clip.version))
    return [key for key in keys if key]


def delete_stored(keys: list[str], prefixes: list[str] = ()) -> None:
    """Delete stored files after their rows are gone; a failure only leaves an orphan."""
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            log.warning("Could not delete stored file %s", key, exc_info=True)
    for prefix in prefixes:
        try:
            storage.delete_prefix(prefix)
        except Exception:
            log.warning("Could not delete stored files under %s", prefix, exc_info=True)


def delete_stored_after_commit(
    session: Session, keys: list[str], *, prefixes: list[str] = ()
) -> None:
    """Delete these files once the rows that pointed at them are gone for good.

    Rows go first, files after the commit: a storage hiccup can leave an orphaned
    file but never a row without its file, and a rolled-back delete keeps both.
    """
    after_commit(session, lambda: delete_stored(list(keys), list(prefixes)))


def delete_clip(*, session: Session, actor: UserView, clip_id: int) -> None:
    """Delete one of the actor's clips and its files.

    A clip submitted to a campaign or published is kept: money and views hang
    on it. A clip being re-rendered may be deleted; the worker then finds it
    gone and removes what it made.
    """
    clip = _own_clip(session, actor, clip_id)
    reason = clip_in_use_reason(session, [clip.id])
    if reason:
        raise InvalidInput(f"This clip was {reason}, so it cannot be deleted.")
    keys = stored_keys_of(clip)
    session.exec(delete(Clip).where(col(Clip.id) == clip.id))
    record_audit(
        session=session,
        action="clip.deleted",
        actor_id=actor.id,
        target_type="clip",
        target_id=clip.id,
        job_id=clip.job_id,
        rank=clip.rank,
    )
    delete_stored_after_commit(session, keys)


def _mid(word: Word) -> float:
    return (word.start + word.end) / 2


def words_in_span(words: list[Word], start: float, end: float) -> list[Word]:
    """The words a clip of [start, end] shows: those whose middle lies inside it."""
    return [w for w in words if start <= _mid(w) <= end]


def merge_clip_words(
    job_words: list[Word], version_words: list[Word] | None, start: float, end: float
) -> list[Word]:
    """The job's words with a version's own words (an edited caption) over its span."""
    if version_words is None:
        return list(job_words)
    outside = [w for w in job_words if not start <= _mid(w) <= end]
    return sorted(outside + version_words, key=lambda w: (w.start, w.end))


def current_words(source: TrimSource) -> list[Word]:
    """The word timings a clip's next render starts from ([] when none are stored)."""
    job_words = _stored_words(job_words_key(source.owner_id, source.job_id)) or []
    version_words = None
    if source.version > 1:
        version_words = _stored_words(source.words_key(source.version))
    return merge_clip_words(job_words, version_words, source.start_s, source.end_s)


def snap_to_words(words: list[Word], start: float, end: float) -> tuple[float, float]:
    """Widen [start, end] so that it cuts no word in half; an edge in a pause stays."""
    snapped_start, snapped_end = start, end
    for word in words:
        if word.start < start < word.end:
            snapped_start = min(snapped_start, word.start)
        if word.start < end < word.end:
            snapped_end = max(snapped_end, word.end)
    return round(snapped_start, 3), round(snapped_end, 3)


def _timeline_point(slots: list[tuple[float, float]], offset: float, *, closing: bool) -> float:
    """The source time `offset` seconds into the spoken parts of `slots`.

    At a slot boundary an opening point lands at the next slot's start and a
    closing point at the previous slot's end, so no word straddles a pause.
    """
    elapsed = 0.0
    for slot_start, slot_end in slots:
        length = slot_end - slot_start
        if offset < elapsed + length or (closing and offset <= elapsed + length):
            return slot_start + max(0.0, offset - elapsed)
        elapsed += length
    return slots[-1][1]


def spread_text(text: str, timed_words: list[Word], start: float, end: float) -> list[Word]:
    """New caption words laid over the spoken times of the old ones, by length.

    The counts need not match: each new word gets a share of the speech time
    in proportion to its length, in order. With no old words, the whole
    [start, end] is shared out.
    """
    tokens = text.split()
    slots = [(w.start, w.end) for w in timed_words if w.end > w.start]
    if not slots:
        slots = [(start, end)]
    speech = sum(slot_end - slot_start for slot_start, slot_end in slots)
    weights = [len(token) + 1 for token in tokens]
    total_weight = sum(weights)
    spread, done = [], 0
    for token, weight in zip(tokens, weights, strict=True):
        opening = _timeline_point(slots, speech * done / total_weight, closing=False)
        done += weight
        closing = _timeline_point(slots, speech * done / total_weight, closing=True)
        closing = max(opening, closing)
        spread.append(Word(start=round(opening, 3), end=round(closing, 3), text=token))
    return spread


def trim_transcript(words: list[Word], start: float, end: float) -> str:
    """The text a clip of [start, end] says."""
    return " ".join(w.text.strip() for w in words_in_span(words, start, end)).strip()


def _checked_span(start_s: float, end_s: float, duration_s: float | None) -> tuple[float, float]:
    try:
        start, end = float(start_s), float(end_s)
    except (TypeError, ValueError):
        raise InvalidInput("Enter the start and end as numbers of seconds.") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise InvalidInput("Enter the start and end as numbers of seconds.")
    if start < 0:
        raise InvalidInput("The start cannot be before the beginning of the video.")
    if end <= start:
        raise InvalidInput("The end must come after the start.")
    if duration_s:
        if start >= duration_s:
            raise InvalidInput(f"The video is only {duration_s:.1f} seconds long.")
        if end > duration_s + _END_TOLERANCE_S:
            raise InvalidInput(
                f"The end is past the end of the video ({duration_s:.1f} seconds long)."
            )
        end = min(end, duration_s)
    length = end - start
    if length < MIN_TRIM_SECONDS:
        raise InvalidInput(f"A clip must be at least {MIN_TRIM_SECONDS:.0f} second long.")
    if length > MAX_TRIM_SECONDS:
        raise InvalidInput(f"A clip can be at most {MAX_TRIM_SECONDS:.0f} seconds long.")
    return start, end


def _snapped_within_limits(
    words: list[Word], start: float, end: float, duration_s: float | None
) -> tuple[float, float]:
    """Snap to words, keeping the clip inside the source and the length limit."""
    snapped_start, snapped_end = snap_to_words(words, start, end)
    snapped_start = max(0.0, snapped_start)
    if duration_s:
        snapped_end = min(snapped_end, duration_s)
    # Widening must not push the clip past the maximum: give up the snap at the end first.
    if snapped_end - snapped_start > MAX_TRIM_SECONDS:
        snapped_end = end
    if snapped_end - snapped_start > MAX_TRIM_SECONDS:
        snapped_start = start
    return snapped_start, snapped_end


def _clean_caption_text(text: str) -> str:
    cleaned = " ".join(str(text).split())
    if not cleaned:
        raise InvalidInput("Enter the caption text, or leave the captions as they are.")
    if len(cleaned) > MAX_CAPTION_TEXT_LENGTH:
        raise InvalidInput(
            f"Keep the caption text to {MAX_CAPTION_TEXT_LENGTH} characters or fewer."
        )
    return cleaned


_NO_PENDING_TRIM = {"pending_start_s": None, "pending_end_s": None, "pending_words": None}


def _rendering_may_restart(now: datetime):
    """A clip that may be asked to render: not rendering, or its render went silent."""
    return or_(
        col(Clip.status) != ClipStatus.RENDERING,
        col(Clip.updated_at) < now - RENDER_STALE_AFTER,
    )


def request_trim(
    *,
    session: Session,
    actor: UserView,
    clip_id: int,
    start_s: float,
    end_s: float,
    transcript_text: str | None = None,
) -> ClipView:
    """Accept a new start and end (and optionally new caption text) for one of the actor's clips.

    The times are checked against the source and snapped outwards to whole
    words; the clip is marked rendering with the trim pending on its row, and
    keeps its current version until the worker's render is ready; the worker
    is sent the clip's id once this commits. A new caption text replaces the
    words of the new span; its words are timed over the old words' speech, in
    proportion to length.
    """
    clip = _own_clip(session, actor, clip_id)
    next_version = clip.version + 1
    now = utcnow()
    if clip.status == ClipStatus.RENDERING and clip.updated_at >= now - RENDER_STALE_AFTER:
        raise InvalidInput("This clip is already being re-rendered; wait for it to finish.")
    duration_s = session.exec(select(Video.duration_s).where(Video.id == clip.video_id)).first()
    start, end = _checked_span(start_s, end_s, duration_s)
    source = _trim_source_of(session, clip)
    words = current_words(source)
    start, end = _snapped_within_limits(words, start, end, duration_s)
    words_override = None
    if transcript_text is not None:
        text = _clean_caption_text(transcript_text)
        spread = spread_text(text, words_in_span(words, start, end), start, end)
        words_override = [{"start": w.start, "end": w.end, "text": w.text} for w in spread]
    # Conditional, so two requests (or a request and a worker) cannot both start a render.
    changed = session.exec(
        update(Clip)
        .where(
            col(Clip.id) == clip.id,
            col(Clip.version) == clip.version,
            _rendering_may_restart(now),
        )
        .values(
            status=ClipStatus.RENDERING,
            updated_at=now,
            pending_start_s=start,
            pending_end_s=end,
            pending_words=words_override,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidInput("This clip is already being re-rendered; wait for it to finish.")
    record_audit(
        session=session,
        action="clip.trim_requested",
        actor_id=actor.id,
        target_type="clip",
        target_id=clip.id,
        version=next_version,
        start_s=start,
        end_s=end,
        caption_text_edited=words_override is not None,
    )
    send_after_commit(session, RERENDER_CLIP, clip_id=clip.id, version=next_version)
    return ClipView.of(fresh(session, Clip, clip_id))


def _trim_source_of(session: Session, clip: Clip) -> TrimSource:
    video = session.exec(
        select(Video.storage_key, Video.original_filename).where(Video.id == clip.video_id)
    ).first()
    source_key, source_filename = video if video is not None else ("", "")
    return TrimSource(
        clip_id=clip.id,
        owner_id=clip.owner_id,
        job_id=clip.job_id,
        rank=clip.rank,
        version=clip.version,
        status=clip.status,
        start_s=clip.start_s,
        end_s=clip.end_s,
        title=clip.title,
        hook=clip.hook,
        reason=clip.reason,
        score=clip.score,
        transcript=clip.transcript,
        aspect=clip.aspect,
        captions=clip.captions,
        layout=clip.layout,
        video_key=clip.video_key,
        source_key=source_key,
        source_filename=source_filename,
        pending_start_s=clip.pending_start_s,
        pending_end_s=clip.pending_end_s,
        pending_words=clip.pending_words,
    )


def trim_source(*, session: Session, clip_id: int) -> TrimSource | None:
    """A clip as a worker re-rendering it sees it, or None when it is gone."""
    clip = fresh(session, Clip, clip_id)
    return None if clip is None else _trim_source_of(session, clip)


def finish_trim(
    *,
    session: Session,
    clip_id: int,
    version: int,
    start_s: float,
    end_s: float,
    video_key: str,
    srt_key: str,
    vtt_key: str,
    thumbnail_key: str,
    transcript: str,
) -> list[str] | None:
    """Swap a rendered version in and mark the clip ready; the replaced files' keys.

    None when nothing changed: the clip is gone, no longer rendering, or
    already at this version or a later one (a duplicate message).
    """
    clip = fresh(session, Clip, clip_id)
    if clip is None or clip.version != version - 1:
        return None
    old_keys = stored_keys_of(clip)
    # The version in the condition makes the swap happen once however many finishers race.
    changed = session.exec(
        update(Clip)
        .where(
            col(Clip.id) == clip_id,
            col(Clip.version) == version - 1,
            col(Clip.status) == ClipStatus.RENDERING,
        )
        .values(
            version=version,
            status=ClipStatus.READY,
            start_s=round(max(0.0, float(start_s)), 3),
            end_s=round(max(0.0, float(end_s)), 3),
            video_key=video_key,
            srt_key=srt_key,
            vtt_key=vtt_key,
            thumbnail_key=thumbnail_key,
            transcript=transcript,
            updated_at=utcnow(),
            **_NO_PENDING_TRIM,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return None
    record_audit(
        session=session,
        action="clip.trimmed",
        actor_id=None,
        target_type="clip",
        target_id=clip_id,
        version=version,
        start_s=start_s,
        end_s=end_s,
    )
    return [key for key in old_keys if key not in {video_key, srt_key, vtt_key, thumbnail_key}]


def fail_trim(
    *,
    session: Session,
    clip_id: int,
    message: str,
    version: int | None = None,
    detail: str = "",
) -> ClipView | None:
    """End a re-render that could not be done: the clip is ready again at its old version.

    With `version`, only a render of that version is ended, so a late failure
    of an earlier request cannot interrupt a newer one.
    """
    conditions = [col(Clip.id) == clip_id, col(Clip.status) == ClipStatus.RENDERING]
    if version is not None:
        conditions.append(col(Clip.version) == version - 1)
    changed = session.exec(
        update(Clip)
        .where(*conditions)
        .values(status=ClipStatus.READY, updated_at=utcnow(), **_NO_PENDING_TRIM)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed == 1:
        record_audit(
            session=session,
            action="clip.trim_failed",
            actor_id=None,
            target_type="clip",
            target_id=clip_id,
            version=version,
            message=(message or "Failed.")[:500],
            detail=(detail or "")[:2000],
        )
    clip = fresh(session, Clip, clip_id)
    return None if clip is None else ClipView.of(clip)


def clip_version(*, session: Session, clip_id: int) -> int | None:
    """The version a clip is at, or None when it is gone."""
    return session.exec(select(Clip.version).where(Clip.id == clip_id)).first()


def renders_to_recover(
    *, session: Session, orphaned_before: datetime | None = None
) -> list[tuple[int, int]]:
    """(clip id, version to render) of every re-render no worker is on, marked as sent now.

    A render is lost when nothing was heard of it for `RENDER_STALE_AFTER` (or, with
    `orphaned_before`, since before this process started). Its pending trim is on the row.
    """
    now = utcnow()
    lost = col(Clip.updated_at) < now - RENDER_STALE_AFTER
    if orphaned_before is not None:
        lost = or_(lost, col(Clip.updated_at) < orphaned_before)
    rows = session.exec(
        select(Clip.id, Clip.version).where(
            col(Clip.status) == ClipStatus.RENDERING,
            col(Clip.pending_start_s).is_not(None),
            lost,
        )
    ).all()
    for clip_id, version in rows:
        session.exec(
            update(Clip)
            .where(col(Clip.id) == clip_id, col(Clip.version) == version)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return [(clip_id, version + 1) for clip_id, version in rows]
