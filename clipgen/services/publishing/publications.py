"""Posts of an approved clip: uploaded to the clipper's YouTube channel from the app, or
added by the public address of a post on YouTube, TikTok or Instagram; counts entered by
hand for posts the sync cannot read; and a clip's performance page.

Counts typed by hand move money only on someone else's word than the clipper's: the
campaign's client or an admin enters a reading at once, while a clipper's typed count is a
report (`CountReport`) that waits until the client or an admin confirms it (it then
becomes the reading, taken when it was typed) or declines it with a reason."""

from __future__ import annotations

import io
import logging
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from sqlmodel import Session, col, select, update

from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import after_commit, session_scope
from clipgen.models import (
    Campaign,
    Clip,
    CountReport,
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    MarketJob,
    Platform,
    Publication,
    PublicationStatus,
    ReportStatus,
    Role,
    Submission,
    SubmissionStatus,
    TransactionKind,
    UploadStatus,
    User,
    Verification,
    ViewSnapshot,
    ViewSource,
    YouTubeUpload,
    utcnow,
)
from clipgen.services import tasks
from clipgen.services.access import as_id, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, NotFound
from clipgen.services.market.campaigns import PLATFORM_LABELS
from clipgen.services.market.reviews import submission_file_key
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.publishing import connections, sync, verification, youtube
from clipgen.storage import get_storage

log = logging.getLogger(__name__)

PRIVACY_CHOICES = ("private", "unlisted", "public")
# An upload no worker touched for this long was lost (a killed worker): it may be retried.
STALE_UPLOAD = timedelta(minutes=15)
HEARTBEAT = timedelta(minutes=1)

# ---------------------------------------------------------------------------------------
# Post addresses

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_TIKTOK_PATH = re.compile(r"/@([A-Za-z0-9_.]{1,64})/video/(\d{8,25})/?")
_INSTAGRAM_PATH = re.compile(r"/(?:reel|reels|p)/([A-Za-z0-9_-]{5,64})/?")


@dataclass(frozen=True)
class PostAddress:
    platform: Platform
    external_id: str
    url: str  # canonical


def parse_post_url(text: str) -> PostAddress:
    """A public post's platform, id and canonical address, or InvalidInput saying what a
    valid address looks like."""
    raw = str(text or "").strip()
    if not raw:
        raise InvalidInput("Paste the address of your post.")
    if len(raw) > 1000 or any(ch.isspace() for ch in raw):
        raise InvalidInput("That is not a post address.")
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput("A post address starts with https://.")
    if host in ("youtube.com", "youtu.be", "music.youtube.com"):
        video_id = ""
        if host == "youtu.be":
            video_id = parts.path.strip("/")
        elif parts.path.startswith("/shorts/"):
            video_id = parts.path.removeprefix("/shorts/").strip("/")
        elif parts.path == "/watch":
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        if not _YOUTUBE_ID.fullmatch(video_id):
            raise InvalidInput(
                "That YouTube address names no video: use https://www.youtube.com/shorts/<id> "
                "or https://youtu.be/<id>."
            )
        return PostAddress(Platform.YOUTUBE, video_id, youtube.video_url(video_id))
    if host == "tiktok.com":
        found = _TIKTOK_PATH.fullmatch(parts.path)
        if not found:
            raise InvalidInput(
                "That TikTok address names no video: use https://www.tiktok.com/@<user>/video/"
                "<number>."
            )
        user, number = found.groups()
        return PostAddress(
            Platform.TIKTOK, number, f"https://www.tiktok.com/@{user}/video/{number}"
        )
    if host in ("vm.tiktok.com", "vt.tiktok.com"):
        raise InvalidInput(
            "That is a TikTok short link: open it and paste the full address "
            "(https://www.tiktok.com/@<user>/video/<number>)."
        )
    if host in ("instagram.com", "instagr.am"):
        found = _INSTAGRAM_PATH.fullmatch(parts.path)
        if not found:
            raise InvalidInput(
                "That Instagram address names no post: use https://www.instagram.com/reel/<code>/."
            )
        code = found.group(1)
        return PostAddress(Platform.INSTAGRAM, code, f"https://www.instagram.com/reel/{code}/")
    raise InvalidInput("Posts are added from YouTube, TikTok or Instagram.")


def parse_count(value: object, what: str) -> int:
    """A count typed by a person: digits, optionally grouped with commas, spaces or
    underscores ("120,000"); InvalidInput otherwise."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} is a whole number.")
    if isinstance(value, int):
        number = value
    else:
        text = re.sub(r"[,_\s]", "", str(value or ""))
        if text == "":
            return 0
        if not text.isdigit():
            raise InvalidInput(f"{what} is a whole number, such as 120,000.")
        number = int(text)
    if number < 0 or number > sync.MAX_COUNT:
        raise InvalidInput(f"{what} must be between 0 and {sync.MAX_COUNT:,}.")
    return number


# ---------------------------------------------------------------------------------------
# Who may see and do what with a clip


@dataclass(frozen=True)
class _Clip:
    submission: Submission
    job: MarketJob
    campaign: Campaign


def _approved_clip(session: Session, actor: UserView, submission_id: object) -> _Clip:
    """An approved submission the actor may see: its clipper, its campaign's client, or an
    admin. Anyone else's is indistinguishable from a missing one."""
    if actor is None:
        raise NotAuthenticated()
    checked = as_id(submission_id)
    submission = session.get(Submission, checked) if checked else None
    job = session.get(MarketJob, submission.job_id) if submission else None
    campaign = session.get(Campaign, job.campaign_id) if job else None
    allowed = campaign is not None and (
        job.clipper_id == actor.id or campaign.client_id == actor.id or actor.has_role(Role.ADMIN)
    )
    if not allowed:
        raise NotFound("That clip was not found.")
    if submission.status != SubmissionStatus.APPROVED:
        raise InvalidInput("Only an approved clip is published and tracked.")
    return _Clip(submission, job, campaign)


def _own_approved_clip(session: Session, actor: UserView, submission_id: object) -> _Clip:
    require_role(actor, Role.CLIPPER)
    found = _approved_clip(session, actor, submission_id)
    if found.job.clipper_id != actor.id:
        raise NotFound("That clip was not found.")
    return found


def _pays_for(campaign: Campaign, platform: str) -> bool:
    """Whether the campaign pays for posts on `platform` (no list: every platform)."""
    return not campaign.platforms or platform in campaign.platforms


def _check_platform(campaign: Campaign, platform: str) -> None:
    if not _pays_for(campaign, platform):
        labels = [PLATFORM_LABELS.get(p, p) for p in campaign.platforms]
        wanted = " or ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
        raise InvalidInput(
            f"This campaign pays for posts on {wanted}, not {PLATFORM_LABELS[platform]}."
        )


# ---------------------------------------------------------------------------------------
# Adding posts


def add_post_url(*, session: Session, actor: UserView, submission_id: int, url: str) -> Publication:
    """Record the public address of the clipper's post of an approved clip. The same post
    again is the same post; a post another clip claims is refused."""
    found = _own_approved_clip(session, actor, submission_id)
    address = parse_post_url(url)
    _check_platform(found.campaign, address.platform)
    existing = session.exec(
        select(Publication).where(
            Publication.platform == address.platform,
            Publication.external_id == address.external_id,
        )
    ).first()
    if existing is not None:
        if existing.submission_id == found.submission.id:
            return existing
        raise InvalidInput("That post is already recorded for another clip.")
    post = Publication(
        clip_id=found.submission.clip_id,
        submission_id=found.submission.id,
        clipper_id=actor.id,
        platform=address.platform,
        url=address.url,
        external_id=address.external_id,
        added_by=actor.id,
    )
    session.add(post)
    session.flush()
    record_audit(
        session=session,
        action="publication.added",
        actor_id=actor.id,
        target_type="publication",
        target_id=post.id,
        url=post.url,
    )
    _ask_platform(session, post)
    return post


def _ask_platform(session: Session, post: Publication) -> None:
    """Have a worker ask the post's platform whether it is the clipper's post of the clip,
    right after this commits (the daily sync asks again for posts still waiting); where
    the platform cannot be asked (not set up here, account not connected), say so now."""
    why = verification.can_read(session, post.platform, post.clipper_id)
    if why:
        post.verification, post.verification_note = Verification.UNAVAILABLE, why
        session.add(post)
        return
    tasks.send_after_commit(session, tasks.VERIFY_POST, publication_id=post.id)


def check_again(*, session: Session, actor: UserView, publication_id: int) -> Publication:
    """The clipper fixed a refused post (or connected the account a post is on): ask its
    platform again."""
    require_role(actor, Role.CLIPPER)
    post = _post_taking_counts(session, publication_id)
    post = session.exec(
        select(Publication).where(Publication.id == post.id).with_for_update()
    ).one()
    session.refresh(post)
    if post.clipper_id != actor.id:
        raise NotFound("That post was not found.")
    _own_approved_clip(session, actor, post.submission_id)
    if post.verification == Verification.VERIFIED:
        raise InvalidInput("That post is already verified.")
    if post.status == PublicationStatus.DISQUALIFIED:
        raise InvalidInput("That post's views were found not genuine; it no longer earns.")
    if post.verification == Verification.PENDING:
        raise InvalidInput("That post is already waiting to be checked.")
    post.verification, post.verification_note = Verification.PENDING, ""
    session.add(post)
    record_audit(
        session=session,
        action="publication.check_requested",
        actor_id=actor.id,
        target_type="publication",
        target_id=post.id,
    )
    _ask_platform(session, post)
    session.flush()
    return post


def reads_automatically(session: Session, post: Publication) -> bool:
    """Whether the view sync reads this post from its platform (set up on this server, and
    the clipper connected the account it is on); other posts' counts are entered by hand,
    as are those of a post the sync found unavailable."""
    if post.status == PublicationStatus.UNAVAILABLE:
        return False  # (a post its platform stopped returning: its counts may be entered)
    return verification.can_read(session, post.platform, post.clipper_id) == ""


def _accepts_counts(post: Publication, read_automatically: bool) -> bool:
    """Whether counts may be entered by hand for this post (what `enter_counts` checks)."""
    return (
        post.status != PublicationStatus.DISQUALIFIED
        and post.verification != Verification.REFUSED
        and not read_automatically
    )


@dataclass(frozen=True)
class CountsEntered:
    """What `enter_counts` did: a reading that counts now, or a report that waits."""

    publication_id: int
    views: int
    waiting: bool  # a clipper's report: money follows once the client confirms it


def _post_taking_counts(session: Session, publication_id: object) -> Publication:
    checked = as_id(publication_id)
    post = session.get(Publication, checked) if checked else None
    if post is None or post.submission_id is None:
        raise NotFound("That post was not found.")
    return post


def _refuse_unless_counts_accepted(session: Session, post: Publication) -> None:
    if not _accepts_counts(post, reads_automatically(session, post)):
        label = PLATFORM_LABELS.get(post.platform, post.platform)
        raise InvalidInput(
            "That post's views were found not genuine; it no longer earns."
            if post.status == PublicationStatus.DISQUALIFIED
            else f"That post was not verified: {post.verification_note} It earns nothing "
            "until its clipper fixes it and it is checked again."
            if post.verification == Verification.REFUSED
            else f"This post's views are read from {label} by the daily sync."
        )


def enter_counts(
    *,
    session: Session,
    actor: UserView,
    publication_id: int,
    views: object,
    likes: object = "",
    comments: object = "",
) -> CountsEntered:
    """Record counts read off a post. The campaign's client (or an admin) enters a reading
    and money follows; the clip's clipper reports counts that wait for the client (a newer
    report replaces a waiting one). Every entry names who typed it."""
    post = _post_taking_counts(session, publication_id)
    found = _approved_clip(session, actor, post.submission_id)
    _refuse_unless_counts_accepted(session, post)

    if not isinstance(views, int) and not str(views or "").strip():
        raise InvalidInput("Enter the views the post shows.")
    counts = sync.Counts(
        parse_count(views, "Views"), parse_count(likes, "Likes"), parse_count(comments, "Comments")
    )
    engagement_known = bool(str(likes or "").strip() or str(comments or "").strip())
    if found.job.clipper_id == actor.id:
        _report_counts(session, post, found, actor, counts, engagement_known)
        return CountsEntered(post.id, counts.views, waiting=True)
    # The client (or an admin) read the count off the post: their word verifies it.
    sync.verify_by_hand(
        session, _locked(session, post.id), by=_hand_verifier(found, actor), actor_id=actor.id
    )
    sync.record_reading(
        session,
        post.id,
        counts,
        source=ViewSource.MANUAL,
        recorded_by=actor.id,
        engagement_known=engagement_known,
    )
    record_audit(
        session=session,
        action="publication.counts_entered",
        actor_id=actor.id,
        target_type="publication",
        target_id=post.id,
        views=counts.views,
        campaign_id=found.campaign.id,
    )
    session.flush()
    return CountsEntered(post.id, counts.views, waiting=False)


def _locked(session: Session, post_id: int) -> Publication:
    post = session.exec(
        select(Publication).where(Publication.id == post_id).with_for_update()
    ).one()
    session.refresh(post)
    return post


def _hand_verifier(found: _Clip, actor: UserView) -> str:
    return "client" if found.campaign.client_id == actor.id else "admin"


def _report_counts(
    session: Session,
    post: Publication,
    found: _Clip,
    actor: UserView,
    counts: sync.Counts,
    engagement_known: bool,
) -> CountReport:
    # The post's row orders two reports of it at once: one waits, the other is replaced.
    session.exec(select(Publication).where(Publication.id == post.id).with_for_update()).one()
    now = utcnow()
    session.exec(
        update(CountReport)
        .where(
            col(CountReport.publication_id) == post.id,
            col(CountReport.status) == ReportStatus.WAITING,
        )
        .values(status=ReportStatus.REPLACED, decided_at=now)
    )
    report = CountReport(
        publication_id=post.id,
        views=counts.views,
        likes=counts.likes,
        comments=counts.comments,
        engagement_known=engagement_known,
        reported_by=actor.id,
        reported_at=now,
    )
    session.add(report)
    session.flush()
    platform = PLATFORM_LABELS.get(post.platform, post.platform)
    notify(
        session,
        found.campaign.client_id,
        Kind.COUNTS_REPORTED,
        f"{actor.display_name} reported {counts.views:,} views on their {platform} post for "
        f"{found.campaign.title}: confirm them (they earn only then) or decline them.",
        routes.clip_performance(found.submission.id),
    )
    record_audit(
        session=session,
        action="publication.counts_reported",
        actor_id=actor.id,
        target_type="publication",
        target_id=post.id,
        report_id=report.id,
        views=counts.views,
        campaign_id=found.campaign.id,
    )
    return report


def _waiting_report(
    session: Session, actor: UserView, report_id: object
) -> tuple[CountReport, Publication, _Clip]:
    """A waiting report the actor may decide: the campaign's client or an admin, never the
    one who typed it. Anyone else's is indistinguishable from a missing one."""
    if actor is None:
        raise NotAuthenticated()
    checked = as_id(report_id)
    report = session.get(CountReport, checked) if checked else None
    if report is None:
        raise NotFound("That count was not found.")
    # The post's row first, then the report's: the order a new report takes them in.
    post = session.exec(
        select(Publication).where(Publication.id == report.publication_id).with_for_update()
    ).one()
    report = session.exec(
        select(CountReport).where(CountReport.id == report.id).with_for_update()
    ).one()
    session.refresh(report)
    try:
        found = _approved_clip(session, actor, post.submission_id)
    except NotFound:
        raise NotFound("That count was not found.") from None
    may_decide = found.campaign.client_id == actor.id or actor.has_role(Role.ADMIN)
    if not may_decide or report.reported_by == actor.id:
        raise NotFound("That count was not found.")
    if report.status != ReportStatus.WAITING:
        raise InvalidInput(
            {
                ReportStatus.CONFIRMED: "That count was already confirmed.",
                ReportStatus.DECLINED: "That count was already declined.",
            }.get(report.status, "A newer count of that post took its place.")
        )
    return report, post, found


def confirm_counts(*, session: Session, actor: UserView, report_id: int) -> CountReport:
    """Confirm a clipper's typed count: it becomes the post's reading as of when it was
    typed (naming who typed it), and the clip's money follows. Once only."""
    report, post, found = _waiting_report(session, actor, report_id)
    _refuse_unless_counts_accepted(session, post)
    sync.verify_by_hand(session, post, by=_hand_verifier(found, actor), actor_id=actor.id)
    snapshot, _booked, _flagged = sync.record_reading(
        session,
        post.id,
        sync.Counts(report.views, report.likes, report.comments),
        source=ViewSource.MANUAL,
        recorded_by=report.reported_by,
        taken_at=report.reported_at,
        engagement_known=report.engagement_known,
    )
    report.snapshot_id = snapshot.id
    return _decided(session, report, post, found, actor, ReportStatus.CONFIRMED, "they count now.")


def decline_counts(
    *, session: Session, actor: UserView, report_id: int, reason: object
) -> CountReport:
    """Decline a clipper's typed count with the reason in words; it earns nothing, and the
    clipper may report the post's counts again."""
    report, post, found = _waiting_report(session, actor, report_id)
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidInput("Say why the count is declined; the clipper will read it.")
    if len(text) > 500:
        raise InvalidInput("Keep the reason under 500 characters.")
    report.decision_note = text
    return _decided(session, report, post, found, actor, ReportStatus.DECLINED, text)


def _decided(
    session: Session,
    report: CountReport,
    post: Publication,
    found: _Clip,
    actor: UserView,
    status: ReportStatus,
    why: str,
) -> CountReport:
    """Record the decision on a report, tell its clipper and audit it."""
    report.status = status
    report.decided_by, report.decided_at = actor.id, utcnow()
    session.add(report)
    notify(
        session,
        report.reported_by,
        Kind.COUNTS_CONFIRMED if status == ReportStatus.CONFIRMED else Kind.COUNTS_DECLINED,
        f"Your {report.views:,} views for {found.campaign.title} were {status}: {why}",
        routes.clip_performance(found.submission.id),
    )
    record_audit(
        session=session,
        action=f"publication.counts_{status}",
        actor_id=actor.id,
        target_type="publication",
        target_id=post.id,
        report_id=report.id,
        views=report.views,
        campaign_id=found.campaign.id,
    )
    session.flush()
    return report


# ---------------------------------------------------------------------------------------
# Screenshots as evidence of a typed count

SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024
SCREENSHOT_MAX_PIXELS = 40_000_000  # a phone screenshot is ~3 million; this stops bombs
SCREENSHOT_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
SCREENSHOT_URL_EXPIRY_S = 3600


def clean_screenshot(data: object) -> bytes:
    """A screenshot a person attached, as a clean PNG: decoded and drawn again, so only
    its pixels are kept (no metadata, nothing a browser could run); InvalidInput in words
    for anything else."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise InvalidInput("Choose a screenshot of the post's counts (PNG, JPEG or WebP).")
    if len(data) > SCREENSHOT_MAX_BYTES:
        raise InvalidInput("A screenshot is at most 5 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in SCREENSHOT_FORMATS:
                raise InvalidInput("A screenshot is a PNG, JPEG or WebP image.")
            if image.width * image.height > SCREENSHOT_MAX_PIXELS:
                raise InvalidInput("That image is too large to be a screenshot.")
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG")
    except InvalidInput:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidInput("That file is not an image that can be read.") from None
    return out.getvalue()


def attach_screenshot(
    *, session: Session, actor: UserView, report_id: object, data: object
) -> CountReport:
    """Attach a screenshot of the post's counts to a waiting report, as evidence: by the
    clipper who typed it, or by the campaign's client or an admin checking it. A newer
    screenshot replaces the one before."""
    if actor is None:
        raise NotAuthenticated()
    checked = as_id(report_id)
    report = session.get(CountReport, checked) if checked else None
    if report is None:
        raise NotFound("That count was not found.")
    post = _locked(session, report.publication_id)
    report = session.exec(
        select(CountReport).where(CountReport.id == report.id).with_for_update()
    ).one()
    session.refresh(report)
    try:
        found = _approved_clip(session, actor, post.submission_id)
    except NotFound:
        raise NotFound("That count was not found.") from None
    if not (
        report.reported_by == actor.id
        or found.campaign.client_id == actor.id
        or actor.has_role(Role.ADMIN)
    ):
        raise NotFound("That count was not found.")
    if report.status != ReportStatus.WAITING:
        raise InvalidInput("That count was already decided; a screenshot goes with a waiting one.")
    png = clean_screenshot(data)
    storage = get_storage()
    key = f"evidence/{post.id}/{report.id}-{secrets.token_hex(8)}.png"
    storage.put_stream(key, io.BytesIO(png), content_type="image/png")
    replaced = report.evidence_key
    report.evidence_key, report.evidence_by = key, actor.id
    session.add(report)
    if replaced:
        after_commit(session, lambda: storage.delete(replaced))
    record_audit(
        session=session,
        action="publication.counts_evidence",
        actor_id=actor.id,
        target_type="publication",
        target_id=post.id,
        report_id=report.id,
        key=key,
    )
    session.flush()
    return report


# ---------------------------------------------------------------------------------------
# Uploading to YouTube


@dataclass(frozen=True)
class UploadDefaults:
    title: str
    description: str
    tags: str


def upload_defaults(found: _Clip, session: Session) -> UploadDefaults:
    """What the upload form starts with: the clip's title, the submission's caption and
    hashtags."""
    title = ""
    if found.submission.clip_id is not None:
        clip = session.get(Clip, found.submission.clip_id)
        title = clip.title if clip else ""
    title = title or found.campaign.title
    tags = " ".join(word for word in found.submission.hashtags.split() if word.startswith("#"))
    description = "\n\n".join(
        part for part in (found.submission.caption, found.submission.hashtags) if part
    )
    return UploadDefaults(title=title[:100], description=description[:5000], tags=tags)


def _clean_upload_fields(title: str, description: str, tags: str, privacy: str):
    title = " ".join(str(title or "").split())
    if not title:
        raise InvalidInput("Give the video a title.")
    if len(title) > 100:
        raise InvalidInput("A YouTube title is at most 100 characters.")
    if "<" in title or ">" in title:
        raise InvalidInput("YouTube does not accept < or > in a title.")
    description = str(description or "").strip()
    if len(description.encode()) > 5000:
        raise InvalidInput("A YouTube description is at most 5,000 bytes.")
    if "<" in description or ">" in description:
        raise InvalidInput("YouTube does not accept < or > in a description.")
    tag_list = [t.lstrip("#") for t in str(tags or "").replace(",", " ").split() if t.strip("#")]
    if sum(len(t) for t in tag_list) > 400:
        raise InvalidInput("Tags are at most 400 characters in all.")
    if privacy not in PRIVACY_CHOICES:
        raise InvalidInput("Choose private, unlisted or public.")
    return title, description, tag_list


def request_youtube_upload(
    *,
    session: Session,
    actor: UserView,
    submission_id: int,
    title: str,
    description: str = "",
    tags: str = "",
    privacy: str = "private",
) -> YouTubeUpload:
    """Queue the upload of an approved clip to the clipper's connected channel. A second
    press while one is on its way returns that one."""
    found = _own_approved_clip(session, actor, submission_id)
    _check_platform(found.campaign, Platform.YOUTUBE)
    if not connections.is_connected(session, actor.id):
        raise InvalidInput("Connect your YouTube channel first (Account → Connect YouTube).")
    title, description, tag_list = _clean_upload_fields(title, description, tags, privacy)
    session.exec(
        select(Submission).where(Submission.id == found.submission.id).with_for_update()
    ).one()
    earlier = session.exec(
        select(YouTubeUpload)
        .where(YouTubeUpload.submission_id == found.submission.id)
        .order_by(col(YouTubeUpload.id).desc())
    ).first()
    if earlier is not None:
        if earlier.status == UploadStatus.DONE:
            raise InvalidInput("This clip is already on your channel.")
        if earlier.status in (UploadStatus.QUEUED, UploadStatus.UPLOADING) and not _stale(earlier):
            return earlier
        if earlier.retry_at is not None and earlier.retry_at > utcnow():
            raise InvalidInput(
                f"{earlier.error} Try again after {earlier.retry_at:%d %b %H:%M} UTC."
            )
    upload = YouTubeUpload(
        submission_id=found.submission.id,
        clipper_id=actor.id,
        title=title,
        description=description,
        tags=tag_list,
        privacy=privacy,
    )
    session.add(upload)
    session.flush()
    tasks.send_after_commit(session, tasks.UPLOAD_TO_YOUTUBE, upload_id=upload.id)
    return upload


def _stale(upload: YouTubeUpload) -> bool:
    return upload.updated_at < utcnow() - STALE_UPLOAD


def uploads_to_recover(*, session: Session, now: datetime | None = None) -> list[int]:
    """Uploads no worker is on: queued, or uploading, with no sign of life for
    `STALE_UPLOAD` (a lost message, a killed worker). Sending them again is safe: a worker
    takes an upload only while it is queued or stale."""
    before = (now or utcnow()) - STALE_UPLOAD
    return list(
        session.exec(
            select(YouTubeUpload.id)
            .where(
                col(YouTubeUpload.status).in_([UploadStatus.QUEUED, UploadStatus.UPLOADING]),
                col(YouTubeUpload.updated_at) < before,
            )
            .order_by(col(YouTubeUpload.id))
            .limit(100)
        ).all()
    )


def run_youtube_upload(upload_id: int, *, service_factory=None, sleep=None) -> YouTubeUpload:
    """The worker's side: upload the file with a resumable `videos.insert`, keeping the
    progress on the row, and record the post. Its own units of work (the upload may take
    minutes); a second worker on the same upload finds it taken and stops."""
    make_service = service_factory or youtube.client
    now = utcnow()
    with session_scope() as session:
        taken = session.exec(
            update(YouTubeUpload)
            .where(
                col(YouTubeUpload.id) == upload_id,
                (col(YouTubeUpload.status) == UploadStatus.QUEUED)
                | (
                    (col(YouTubeUpload.status) == UploadStatus.UPLOADING)
                    & (col(YouTubeUpload.updated_at) < now - STALE_UPLOAD)
                ),
            )
            .values(
                status=UploadStatus.UPLOADING,
                attempts=YouTubeUpload.attempts + 1,
                updated_at=now,
                progress_percent=0,
                error="",
            )
        ).rowcount
        upload = session.get(YouTubeUpload, upload_id)
        if upload is None:
            raise NotFound("That upload was not found.")
        if not taken:
            session.expunge(upload)
            return upload
        submission = session.get(Submission, upload.submission_id)
        key = submission_file_key(session, submission)
        fields = (upload.title, upload.description, list(upload.tags), upload.privacy)
        clipper_id = upload.clipper_id
    creds = connections.usable_credentials(clipper_id)
    if creds is None:
        return _finish(upload_id, error="Connect your YouTube channel again, then retry.")
    if not key:
        return _finish(upload_id, error="The clip's file is gone; it cannot be uploaded.")
    last = {"percent": -1, "at": utcnow()}

    def progress(percent: int) -> None:
        """Keep the row's progress (every 5 %) and its sign of life (at least every
        minute, so a slow upload is never taken for a lost one)."""
        now = utcnow()
        if percent >= last["percent"] + 5 or percent == 100 or now - last["at"] > HEARTBEAT:
            last["percent"], last["at"] = percent, now
            with session_scope() as session:
                session.exec(
                    update(YouTubeUpload)
                    .where(col(YouTubeUpload.id) == upload_id)
                    .values(progress_percent=percent, updated_at=now)
                )

    with tempfile.TemporaryDirectory(prefix="clipgen-upload-") as work:
        path = get_storage().get_to_path(key, Path(work) / "clip.mp4")
        title, description, tags, privacy = fields
        options = {"sleep": sleep} if sleep else {}
        try:
            video_id = youtube.upload_video(
                make_service(creds=creds),
                path,
                title=title,
                description=description,
                tags=tags,
                privacy=privacy,
                on_progress=progress,
                **options,
            )
        except youtube.QuotaExceeded as error:
            return _finish(upload_id, error=str(error), retry_at=error.retry_at)
        except youtube.YouTubeError as error:
            return _finish(upload_id, error=str(error))
        except Exception:
            log.exception("Upload %s to YouTube failed.", upload_id)
            return _finish(upload_id, error="The upload failed unexpectedly; try again.")
    connections.save_refreshed(clipper_id, creds)
    return _finish(upload_id, video_id=video_id)


def _finish(
    upload_id: int, *, video_id: str = "", error: str = "", retry_at: datetime | None = None
) -> YouTubeUpload:
    with session_scope() as session:
        upload = session.exec(
            select(YouTubeUpload).where(YouTubeUpload.id == upload_id).with_for_update()
        ).one()
        submission_id = upload.submission_id
        if video_id:
            post = Publication(
                clip_id=session.get(Submission, submission_id).clip_id,
                submission_id=submission_id,
                clipper_id=upload.clipper_id,
                platform=Platform.YOUTUBE,
                url=youtube.video_url(video_id),
                external_id=video_id,
                added_by=upload.clipper_id,
            )
            session.add(post)
            session.flush()
            # Uploaded from ClipGen with the clipper's own token, the clip's own file: what
            # is left to check is that its text carries the campaign's hashtags.
            sync.judge_post(
                session,
                post.id,
                verification.PostFacts(
                    account_id="",
                    published_at=utcnow(),
                    duration_s=None,
                    text="\n".join([upload.title, upload.description, *upload.tags]),
                    views=0,
                ),
                by="clipgen",
            )
            upload.publication_id = post.id
            upload.status = UploadStatus.DONE
            upload.progress_percent = 100
            message = f"Your clip is on YouTube ({upload.privacy}): {post.url}"
            kind = Kind.UPLOAD_DONE
        else:
            upload.status = UploadStatus.FAILED
            upload.error = error[:500]
            upload.retry_at = retry_at
            message = f"Your YouTube upload failed: {error}"
            kind = Kind.UPLOAD_FAILED
        upload.updated_at = utcnow()
        session.add(upload)
        notify(session, upload.clipper_id, kind, message, routes.clip_performance(submission_id))
        session.flush()
        session.expunge(upload)
    return upload


# ---------------------------------------------------------------------------------------
# A clip's performance


@dataclass(frozen=True)
class PostView:
    id: int
    platform: str
    platform_label: str
    url: str
    views: int
    likes: int
    comments: int
    status: str
    status_note: str
    earnings_held: bool
    last_read_at: datetime | None
    read_automatically: bool
    accepts_counts: bool  # counts may be entered by hand
    counts_below_minimum: bool
    verification: str  # pending / verified / refused / unavailable
    verification_note: str  # why it was refused, or why it cannot be checked
    verified_by: str
    can_check_again: bool  # the viewer is its clipper and may ask the platform again


@dataclass(frozen=True)
class ReadingView:
    publication_id: int
    taken_at: datetime
    views: int
    likes: int
    comments: int
    source: str
    entered_by: str


@dataclass(frozen=True)
class CountReportView:
    """A count a clipper typed, as the performance page lists it."""

    id: int
    publication_id: int
    platform_label: str
    post_url: str
    views: int
    likes: int
    comments: int
    reported_by: str
    reported_at: datetime
    status: str
    decision_note: str
    decided_at: datetime | None
    can_decide: bool  # the viewer may confirm or decline it now
    evidence_url: str  # a short-lived link to the attached screenshot; "" when none
    can_attach: bool  # the viewer may attach a screenshot now


@dataclass(frozen=True)
class EarningLine:
    at: datetime
    kind: str
    label: str
    gross_cents: int
    clipper_cents: int | None  # None for the client: what the clipper keeps is private
    state: str  # pending / available / held for review / reversed / -


@dataclass(frozen=True)
class UploadView:
    id: int
    status: str
    progress_percent: int
    error: str
    retry_at: datetime | None
    privacy: str
    title: str
    created_at: datetime


@dataclass(frozen=True)
class Performance:
    submission_id: int
    campaign_id: int
    campaign_title: str
    clip_title: str
    viewer_role: str  # clipper / client / admin
    pays_for_youtube: bool
    min_views_per_post: int
    counted_views: int
    posts: list[PostView]
    readings: list[ReadingView]
    earnings: list[EarningLine]
    uploads: list[UploadView]
    youtube_configured: bool
    youtube_connected: bool
    upload_defaults: UploadDefaults | None
    # Counts the clipper typed: those waiting first, then the latest decided.
    reports: list[CountReportView]


_KIND_LABELS = {
    TransactionKind.APPROVAL: "Approval",
    TransactionKind.CPM: "Views (CPM)",
    TransactionKind.BONUS: "Performance bonus",
    TransactionKind.FRAUD_REVERSAL: "Reversed (views not genuine)",
}


def clip_performance(*, session: Session, actor: UserView, submission_id: int) -> Performance:
    """Where an approved clip is posted, its readings over time and what it earned, line
    by line; for its clipper, its campaign's client and admins."""
    found = _approved_clip(session, actor, submission_id)
    submission, campaign = found.submission, found.campaign
    role = (
        "clipper"
        if found.job.clipper_id == actor.id
        else "client"
        if campaign.client_id == actor.id
        else "admin"
    )
    posts = session.exec(
        select(Publication)
        .where(Publication.submission_id == submission.id)
        .order_by(col(Publication.id))
    ).all()
    post_views = []
    for p in posts:
        automatic = reads_automatically(session, p)
        post_views.append(
            PostView(
                id=p.id,
                platform=p.platform,
                platform_label=PLATFORM_LABELS.get(p.platform, p.platform),
                url=p.url,
                views=p.views,
                likes=p.likes,
                comments=p.comments,
                status=p.status,
                status_note=p.status_note,
                earnings_held=p.earnings_held,
                last_read_at=p.last_synced_at,
                read_automatically=automatic,
                accepts_counts=_accepts_counts(p, automatic),
                counts_below_minimum=p.views < campaign.min_views_per_post,
                verification=p.verification,
                verification_note=p.verification_note,
                verified_by=p.verified_by,
                can_check_again=(
                    role == "clipper"
                    and p.verification in (Verification.REFUSED, Verification.UNAVAILABLE)
                    and p.status != PublicationStatus.DISQUALIFIED
                ),
            )
        )
    readings = _readings(session, [p.id for p in posts])
    defaults = upload_defaults(found, session)
    connected = role == "clipper" and connections.is_connected(session, actor.id)
    return Performance(
        submission_id=submission.id,
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        clip_title=defaults.title,
        viewer_role=role,
        pays_for_youtube=_pays_for(campaign, Platform.YOUTUBE),
        min_views_per_post=campaign.min_views_per_post,
        counted_views=sync.counted_views(session, submission, campaign),
        posts=post_views,
        readings=readings,
        earnings=_earning_lines(session, submission.id, with_share=role != "client"),
        uploads=_uploads(session, submission.id) if role == "clipper" else [],
        youtube_configured=get_settings().youtube_configured,
        youtube_connected=connected,
        upload_defaults=defaults if role == "clipper" else None,
        reports=_reports(session, posts, actor, may_decide=role in ("client", "admin")),
    )


REPORTS_SHOWN = 20


def _reports(
    session: Session, posts: list[Publication], actor: UserView, *, may_decide: bool
) -> list[CountReportView]:
    if not posts:
        return []
    by_id = {p.id: p for p in posts}
    rows = session.exec(
        select(CountReport, User.display_name)
        .join(User, col(User.id) == CountReport.reported_by)
        .where(col(CountReport.publication_id).in_(list(by_id)))
        .order_by(
            col(CountReport.status) != ReportStatus.WAITING,
            col(CountReport.reported_at).desc(),
            col(CountReport.id).desc(),
        )
        .limit(REPORTS_SHOWN)
    ).all()
    return [
        CountReportView(
            id=report.id,
            publication_id=report.publication_id,
            platform_label=PLATFORM_LABELS.get(
                by_id[report.publication_id].platform, by_id[report.publication_id].platform
            ),
            post_url=by_id[report.publication_id].url,
            views=report.views,
            likes=report.likes,
            comments=report.comments,
            reported_by=name,
            reported_at=report.reported_at,
            status=report.status,
            decision_note=report.decision_note,
            decided_at=report.decided_at,
            can_decide=(
                may_decide
                and report.status == ReportStatus.WAITING
                and report.reported_by != actor.id
            ),
            evidence_url=(
                get_storage().presigned_url(report.evidence_key, expires_s=SCREENSHOT_URL_EXPIRY_S)
                if report.evidence_key
                else ""
            ),
            can_attach=report.status == ReportStatus.WAITING
            and (may_decide or report.reported_by == actor.id),
        )
        for report, name in rows
    ]


_SOURCE_NAMES = {
    ViewSource.YOUTUBE_API: "YouTube",
    ViewSource.TIKTOK_API: "TikTok",
    ViewSource.INSTAGRAM_API: "Instagram",
}


def _readings(session: Session, post_ids: list[int]) -> list[ReadingView]:
    if not post_ids:
        return []
    rows = session.exec(
        select(ViewSnapshot, User.display_name)
        .outerjoin(User, col(User.id) == ViewSnapshot.recorded_by)
        .where(col(ViewSnapshot.publication_id).in_(post_ids))
        .order_by(col(ViewSnapshot.taken_at), col(ViewSnapshot.id))
        .limit(2000)
    ).all()
    return [
        ReadingView(
            publication_id=snap.publication_id,
            taken_at=snap.taken_at,
            views=snap.views,
            likes=snap.likes,
            comments=snap.comments,
            source=snap.source,
            entered_by=name or _SOURCE_NAMES.get(snap.source, ""),
        )
        for snap, name in rows
    ]


def _earning_lines(session: Session, submission_id: int, *, with_share: bool) -> list[EarningLine]:
    earnings_rows = session.exec(
        select(LedgerTransaction)
        .where(
            LedgerTransaction.submission_id == submission_id,
            col(LedgerTransaction.kind).in_(list(_KIND_LABELS)),
        )
        .order_by(col(LedgerTransaction.created_at), col(LedgerTransaction.id))
    ).all()
    released = set(
        session.exec(
            select(LedgerTransaction.release_of).where(
                LedgerTransaction.submission_id == submission_id,
                col(LedgerTransaction.release_of).is_not(None),
            )
        ).all()
    )
    reversed_ids = {t.reversal_of for t in earnings_rows if t.reversal_of}
    flag_status = {
        flag.id: flag.status
        for flag in session.exec(
            select(FraudFlag).where(
                col(FraudFlag.id).in_(
                    [t.held_by_flag_id for t in earnings_rows if t.held_by_flag_id]
                )
            )
        ).all()
    }
    lines = []
    for t in earnings_rows:
        details = t.details or {}
        sign = -1 if t.kind == TransactionKind.FRAUD_REVERSAL else 1
        if t.kind == TransactionKind.FRAUD_REVERSAL:
            state, label = "-", _KIND_LABELS[t.kind]
        else:
            if t.id in reversed_ids:
                state = "reversed"
            elif t.held_by_flag_id and flag_status.get(t.held_by_flag_id) == FlagStatus.OPEN:
                state = "held for review"
            elif t.id in released:
                state = "available"
            else:
                state = "pending"
            label = _KIND_LABELS[t.kind]
            if t.kind == TransactionKind.CPM:
                label += f" at {int(details.get('views', 0)):,} views"
            elif t.kind == TransactionKind.BONUS:
                label += (
                    f": {details.get('bonus_percent', 0)}% at "
                    f"{int(details.get('threshold', 0)):,} views"
                )
        lines.append(
            EarningLine(
                at=t.created_at,
                kind=t.kind,
                label=label,
                gross_cents=sign * int(details.get("gross_cents", 0)),
                clipper_cents=sign * int(details.get("clipper_cents", 0)) if with_share else None,
                state=state,
            )
        )
    return lines


def _uploads(session: Session, submission_id: int) -> list[UploadView]:
    return [
        UploadView(
            id=u.id,
            status=u.status,
            progress_percent=u.progress_percent,
            error=u.error,
            retry_at=u.retry_at,
            privacy=u.privacy,
            title=u.title,
            created_at=u.created_at,
        )
        for u in session.exec(
            select(YouTubeUpload)
            .where(YouTubeUpload.submission_id == submission_id)
            .order_by(col(YouTubeUpload.id).desc())
            .limit(10)
        ).all()
    ]
