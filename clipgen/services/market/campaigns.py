"""Campaigns: a client's funded brief, from draft to completed or cancelled (DESIGN §3).

States: draft -> active <-> paused -> completed | cancelled. Activation moves the
whole budget into the campaign's escrow (refused in words when the balance is
short); cancelling returns what is unspent. A campaign completes by itself when
its slots are filled by approved clips, its escrow cannot pay another clip, or
its deadline passes (`close_due_campaigns`, scheduled). A completed campaign keeps
its escrow to pay the views of its clips (CPM and bonuses) until the client
takes the rest back (`return_unspent_budget`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import String, and_, case, cast, func, or_, update
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    AccountKind,
    Campaign,
    CampaignStatus,
    MarketJob,
    MarketJobStatus,
    Platform,
    Role,
    Submission,
    SubmissionStatus,
    User,
    Video,
    VideoStatus,
    utcnow,
)
from clipgen.models.marketplace import OPEN_JOB_STATUSES
from clipgen.pipeline.options import (
    ASPECTS,
    CAPTION_STYLES,
    MAX_CLIP_SECONDS,
    MIN_CLIP_SECONDS,
    MIN_LENGTH_SPREAD_S,
)
from clipgen.services.access import as_id, fresh, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.money import funds
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import account_code, find_transaction
from clipgen.services.money.reports import balances_by_code, client_balance
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.paging import Page, fetch_page
from clipgen.services.tasks import ANALYSE_SOURCE, send_after_commit

MAX_TITLE = 120
MIN_TITLE = 3
MAX_BRIEF = 5000
MAX_DONTS = 2000
MAX_HASHTAGS = 500
MAX_SLOTS = 1000
MAX_MIN_VIEWS = 10_000_000
MAX_TTL_HOURS = 14 * 24
DEFAULT_TTL_HOURS = 48
MAX_BUDGET_CENTS = 100_000_000  # $1,000,000 per campaign
PER_PAGE = 12
MAX_PER_PAGE = 50
SORTS = {"newest": "Newest", "pay": "Best paying", "ending": "Ending soon"}
PLATFORM_LABELS = {
    Platform.YOUTUBE.value: "YouTube Shorts",
    Platform.TIKTOK.value: "TikTok",
    Platform.INSTAGRAM.value: "Instagram Reels",
}
EDITABLE_WHEN_LIVE = ("title", "brief", "hashtags", "donts", "deadline", "claim_ttl_hours")
CLOSED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
_HASHTAG = re.compile(r"^[#@][\w.]{1,60}$")


@dataclass(frozen=True)
class CampaignDraft:
    """What a client fills in; every field is checked by `check_draft`."""

    title: str = ""
    brief: str = ""
    source_video_id: int | None = None
    source_url: str = ""
    platforms: tuple[str, ...] = (Platform.YOUTUBE.value,)
    min_length_s: int = 15
    max_length_s: int = 60
    aspect: str = "9:16"
    captions: str = "animated"
    hashtags: str = ""
    donts: str = ""
    price_per_clip_cents: int = 0
    cpm_cents: int = 0
    cpm_cap_cents: int = 0
    min_views_per_post: int = 0
    budget_cents: int = 0
    max_clips: int = 1
    deadline: datetime | None = None
    claim_ttl_hours: int = DEFAULT_TTL_HOURS


@dataclass(frozen=True)
class CampaignView:
    """A campaign with its live figures (escrow, slots, reviews)."""

    id: int
    client_id: int
    client_name: str
    title: str
    brief: str
    source_video_id: int | None
    source_url: str
    source_name: str
    platforms: tuple[str, ...]
    min_length_s: int
    max_length_s: int
    aspect: str
    captions: str
    hashtags: str
    donts: str
    price_per_clip_cents: int
    cpm_cents: int
    cpm_cap_cents: int
    min_views_per_post: int
    budget_cents: int
    max_clips: int
    deadline: datetime | None
    claim_ttl_hours: int
    status: str
    is_exhausted: bool
    created_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    escrow_cents: int
    open_claims: int
    approved_clips: int
    pending_reviews: int
    slots_left: int

    @property
    def can_generate(self) -> bool:
        """Whether clippers can make clips of its source with the pipeline."""
        return self.source_video_id is not None

    def draft(self) -> CampaignDraft:
        return CampaignDraft(**{f.name: getattr(self, f.name) for f in fields(CampaignDraft)})


@dataclass(frozen=True)
class ClientCampaignPage:
    """One campaign as its client's page shows it, with what the client may do next
    (the rules are the ones `update_campaign` and `return_unspent_budget` apply)."""

    campaign: CampaignView
    submissions: dict[str, int]  # submission state -> how many
    budget_returned: bool
    balance_cents: int  # the client's available balance
    can_edit: bool
    can_return_budget: bool
    budget_short: bool  # a draft whose budget the client's balance cannot fund yet


CampaignPage = Page[CampaignView]


# --- checking what a client typed -----------------------------------------------------------


def _text(value: object, what: str, limit: int, *, required: bool = False) -> str:
    cleaned = str(value or "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{what} is required.")
    if len(cleaned) > limit:
        raise InvalidInput(f"Keep {what.lower()} to {limit} characters.")
    return cleaned


def _whole(value: object, what: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a whole number.") from None
    if not low <= number <= high:
        raise InvalidInput(f"{what} must be between {low} and {high}.")
    return number


def _cents(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be an amount in dollars.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be an amount in dollars.") from None
    if number < 0:
        raise InvalidInput(f"{what} cannot be negative.")
    if number > MAX_BUDGET_CENTS:
        raise InvalidInput(f"{what} can be at most {format_cents(MAX_BUDGET_CENTS)}.")
    return number


def clean_hashtags(text: str) -> str:
    """Hashtags and mentions, one space apart, each `#tag` or `@name`; refused otherwise."""
    tags = str(text or "").replace(",", " ").split()
    for tag in tags:
        if not _HASHTAG.match(tag):
            raise InvalidInput(
                f"{tag!r} is not a hashtag or mention; write them like #podcast or @brand."
            )
    cleaned = " ".join(dict.fromkeys(tags))
    if len(cleaned) > MAX_HASHTAGS:
        raise InvalidInput(f"Keep the hashtags to {MAX_HASHTAGS} characters.")
    return cleaned


def _source_url(url: str) -> str:
    cleaned = str(url or "").strip()
    if not cleaned:
        return ""
    parsed = urlparse(cleaned)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in cleaned:
        raise InvalidInput("The source link must be a full web address starting with https://.")
    if len(cleaned) > 1000:
        raise InvalidInput("The source link is too long.")
    return cleaned


def check_draft(draft: CampaignDraft, *, now: datetime | None = None) -> CampaignDraft:
    """The draft with its text cleaned, or InvalidInput naming the first problem."""
    if not isinstance(draft, CampaignDraft):
        raise InvalidInput("Fill in the campaign form again.")
    now = now or utcnow()
    title = _text(draft.title, "The title", MAX_TITLE, required=True)
    if len(title) < MIN_TITLE:
        raise InvalidInput(f"The title needs at least {MIN_TITLE} characters.")
    platforms = tuple(dict.fromkeys(str(p) for p in (draft.platforms or ())))
    if not platforms:
        raise InvalidInput("Choose at least one platform the clips are for.")
    unknown = [p for p in platforms if p not in PLATFORM_LABELS]
    if unknown:
        raise InvalidInput(f"{unknown[0]!r} is not a platform we support.")
    low = _whole(
        draft.min_length_s, "The shortest length", int(MIN_CLIP_SECONDS), int(MAX_CLIP_SECONDS)
    )
    high = _whole(
        draft.max_length_s, "The longest length", int(MIN_CLIP_SECONDS), int(MAX_CLIP_SECONDS)
    )
    if high - low < MIN_LENGTH_SPREAD_S:
        raise InvalidInput(
            f"The longest length must be at least {MIN_LENGTH_SPREAD_S:.0f} s more than "
            "the shortest."
        )
    if draft.aspect not in ASPECTS:
        raise InvalidInput("Choose one of the offered aspect ratios.")
    if draft.captions not in CAPTION_STYLES:
        raise InvalidInput("Choose one of the offered caption styles.")
    price = _cents(draft.price_per_clip_cents, "The price per clip")
    cpm = _cents(draft.cpm_cents, "The CPM")
    cap = _cents(draft.cpm_cap_cents, "The CPM cap")
    if price == 0 and cpm == 0:
        raise InvalidInput("Pay clippers something: a price per clip, a CPM, or both.")
    if cpm and not cap:
        raise InvalidInput("Set a cap on what one clip can earn from views (the CPM cap).")
    if cap and not cpm:
        raise InvalidInput("A CPM cap needs a CPM.")
    min_views = _whole(
        draft.min_views_per_post or 0, "The minimum views per post", 0, MAX_MIN_VIEWS
    )
    if min_views and not cpm:
        raise InvalidInput("A minimum of views per post only applies to a CPM; set a CPM.")
    slots = _whole(draft.max_clips, "The number of clips", 1, MAX_SLOTS)
    budget = _cents(draft.budget_cents, "The budget")
    if budget <= 0:
        raise InvalidInput("Set the campaign's budget.")
    if price * slots > budget:
        raise InvalidInput(
            f"The budget must pay for every clip: {slots} × {format_cents(price)} = "
            f"{format_cents(price * slots)}, more than {format_cents(budget)}."
        )
    ttl = _whole(draft.claim_ttl_hours, "The claim time limit (hours)", 1, MAX_TTL_HOURS)
    deadline = draft.deadline
    if deadline is not None:
        if not isinstance(deadline, datetime) or deadline.tzinfo is None:
            raise InvalidInput("Choose the deadline again.")
        if deadline <= now:
            raise InvalidInput("The deadline must be in the future.")
    source_url = _source_url(draft.source_url)
    video_id = draft.source_video_id
    if video_id is not None:
        video_id = _whole(video_id, "The source video", 1, 2**31 - 1)
    if video_id is not None and source_url:
        raise InvalidInput("Give either an uploaded source video or a link, not both.")
    return CampaignDraft(
        title=title,
        brief=_text(draft.brief, "The brief", MAX_BRIEF),
        source_video_id=video_id,
        source_url=source_url,
        platforms=platforms,
        min_length_s=low,
        max_length_s=high,
        aspect=draft.aspect,
        captions=draft.captions,
        hashtags=clean_hashtags(draft.hashtags),
        donts=_text(draft.donts, "The don'ts", MAX_DONTS),
        price_per_clip_cents=price,
        cpm_cents=cpm,
        cpm_cap_cents=cap,
        min_views_per_post=min_views,
        budget_cents=budget,
        max_clips=slots,
        deadline=deadline,
        claim_ttl_hours=ttl,
    )


def _check_source_video(session: Session, actor: UserView, video_id: int | None) -> None:
    if video_id is None:
        return
    video = fresh(session, Video, video_id)
    if video is None or video.owner_id != actor.id or video.status == VideoStatus.DELETED:
        raise NotFound("That video was not found.")
    if video.status != VideoStatus.READY:
        raise InvalidInput("The source video is not ready yet; wait until its upload finishes.")


# --- reading ---------------------------------------------------------------------------------


def job_counts(session: Session, campaign_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """campaign id -> (open claims, approved clips, submissions waiting for review)."""
    if not campaign_ids:
        return {}
    rows = session.exec(
        select(
            MarketJob.campaign_id,
            func.sum(case((col(MarketJob.status).in_(OPEN_JOB_STATUSES), 1), else_=0)),
            func.sum(case((MarketJob.status == MarketJobStatus.APPROVED, 1), else_=0)),
            func.sum(case((MarketJob.status == MarketJobStatus.SUBMITTED, 1), else_=0)),
        )
        .where(col(MarketJob.campaign_id).in_(campaign_ids))
        .group_by(MarketJob.campaign_id)
    ).all()
    return {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in rows}


def free_slots(
    campaign: Campaign, escrow_cents: int, open_claims: int, approved: int, now: datetime
) -> int:
    """How many more clippers may claim: slots not taken, and clips escrow can still pay."""
    if campaign.status != CampaignStatus.ACTIVE or campaign.is_exhausted:
        return 0
    if campaign.deadline is not None and campaign.deadline <= now:
        return 0
    left = campaign.max_clips - approved - open_claims
    if campaign.price_per_clip_cents > 0:
        left = min(left, escrow_cents // campaign.price_per_clip_cents - open_claims)
    elif escrow_cents <= 0:
        left = 0
    return max(0, left)


def _escrow_code(campaign_id: int) -> str:
    return account_code(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id)


def _escrows(session: Session, campaigns: list[Campaign]) -> dict[int, int]:
    """campaign id -> what its escrow holds (read in one query; a draft has none)."""
    codes = {c.id: _escrow_code(c.id) for c in campaigns}
    found = balances_by_code(session, list(codes.values())) if codes else {}
    return {campaign_id: found[code] for campaign_id, code in codes.items()}


def escrow_balance(session: Session, campaign: Campaign) -> int:
    """What the campaign's escrow holds now (a draft has none)."""
    return _escrows(session, [campaign])[campaign.id]


def _views(session: Session, campaigns: list[Campaign]) -> list[CampaignView]:
    counts = job_counts(session, [c.id for c in campaigns])
    names = (
        dict(
            session.exec(
                select(User.id, User.display_name).where(
                    col(User.id).in_({c.client_id for c in campaigns})
                )
            ).all()
        )
        if campaigns
        else {}
    )
    video_ids = {c.source_video_id for c in campaigns if c.source_video_id}
    filenames = (
        dict(
            session.exec(
                select(Video.id, Video.original_filename).where(col(Video.id).in_(video_ids))
            ).all()
        )
        if video_ids
        else {}
    )
    escrows = _escrows(session, campaigns)
    now = utcnow()
    views = []
    for c in campaigns:
        open_claims, approved, pending = counts.get(c.id, (0, 0, 0))
        escrow = escrows[c.id]
        views.append(
            CampaignView(
                id=c.id,
                client_id=c.client_id,
                client_name=names.get(c.client_id, ""),
                title=c.title,
                brief=c.brief,
                source_video_id=c.source_video_id,
                source_url=c.source_url,
                source_name=filenames.get(c.source_video_id, "")
                if c.source_video_id
                else c.source_url,
                platforms=tuple(c.platforms or ()),
                min_length_s=c.min_length_s,
                max_length_s=c.max_length_s,
                aspect=c.aspect,
                captions=c.captions,
                hashtags=c.hashtags,
                donts=c.donts,
                price_per_clip_cents=c.price_per_clip_cents,
                cpm_cents=c.cpm_cents,
                cpm_cap_cents=c.cpm_cap_cents,
                min_views_per_post=c.min_views_per_post,
                budget_cents=c.budget_cents,
                max_clips=c.max_clips,
                deadline=c.deadline,
                claim_ttl_hours=c.claim_ttl_hours,
                status=c.status,
                is_exhausted=c.is_exhausted,
                created_at=c.created_at,
                activated_at=c.activated_at,
                closed_at=c.closed_at,
                escrow_cents=escrow,
                open_claims=open_claims,
                approved_clips=approved,
                pending_reviews=pending,
                slots_left=free_slots(c, escrow, open_claims, approved, now),
            )
        )
    return views


def view_of(session: Session, campaign: Campaign) -> CampaignView:
    return _views(session, [campaign])[0]


def own_campaign(
    session: Session, actor: UserView, campaign_id: int, *, lock: bool = False
) -> Campaign:
    """The actor's campaign (the client who made it), or NotFound."""
    require_role(actor, Role.CLIENT)
    checked = as_id(campaign_id)
    if checked is None:
        raise NotFound("That campaign was not found.")
    query = select(Campaign).where(Campaign.id == checked)
    if lock:
        query = query.with_for_update()
    row = session.exec(query.execution_options(populate_existing=True)).first()
    if row is None or row.client_id != actor.id:
        raise NotFound("That campaign was not found.")
    return row


def get_my_campaign(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    return view_of(session, own_campaign(session, actor, campaign_id))


def list_my_campaigns(*, session: Session, actor: UserView) -> list[CampaignView]:
    """The client's campaigns, live ones first, then newest."""
    require_role(actor, Role.CLIENT)
    order = case(
        (Campaign.status == CampaignStatus.ACTIVE, 0),
        (Campaign.status == CampaignStatus.PAUSED, 1),
        (Campaign.status == CampaignStatus.DRAFT, 2),
        else_=3,
    )
    rows = session.exec(
        select(Campaign)
        .where(Campaign.client_id == actor.id)
        .order_by(order, col(Campaign.created_at).desc(), col(Campaign.id).desc())
        .limit(200)
        .execution_options(populate_existing=True)
    ).all()
    return _views(session, list(rows))


def _market_filter(now: datetime):
    return and_(
        Campaign.status == CampaignStatus.ACTIVE,
        col(Campaign.is_exhausted).is_(False),
        or_(col(Campaign.deadline).is_(None), col(Campaign.deadline) > now),
    )


def like_pattern(term: str) -> str:
    """A case-folded LIKE pattern matching `term` anywhere, its `%`, `_` and `\\` plain."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def browse(
    *,
    session: Session,
    actor: UserView,
    query: str = "",
    platform: str = "",
    min_price_cents: int = 0,
    length: str = "",
    ending_within_days: int = 0,
    sort: str = "newest",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> CampaignPage:
    """Active campaigns clippers can claim, filtered and sorted in SQL, one page at a time.

    `length` is "short" (clips up to 30 s), "medium" (30-60 s) or "long" (60 s and up):
    a campaign matches when its length range overlaps it.
    """
    require_role(actor, Role.CLIPPER, Role.CLIENT, Role.ADMIN)
    now = utcnow()
    conditions = [_market_filter(now)]
    term = " ".join(str(query or "").split())[:100]
    if term:
        pattern = like_pattern(term)
        conditions.append(
            or_(
                func.lower(Campaign.title).like(pattern, escape="\\"),
                func.lower(Campaign.brief).like(pattern, escape="\\"),
            )
        )
    if platform:
        if platform not in PLATFORM_LABELS:
            raise InvalidInput("Choose one of the listed platforms.")
        conditions.append(cast(Campaign.platforms, String).like(f'%"{platform}"%'))
    try:
        min_price = max(0, int(min_price_cents or 0))
    except (TypeError, ValueError):
        raise InvalidInput("The lowest price must be an amount in dollars.") from None
    if min_price:
        conditions.append(Campaign.price_per_clip_cents >= min_price)
    ranges = {"short": (0, 30), "medium": (30, 60), "long": (60, 10_000)}
    if length:
        if length not in ranges:
            raise InvalidInput("Choose one of the listed clip lengths.")
        low, high = ranges[length]
        conditions.append(and_(Campaign.min_length_s < high, Campaign.max_length_s > low))
    if ending_within_days:
        try:
            days = int(ending_within_days)
        except (TypeError, ValueError):
            raise InvalidInput("Choose one of the listed deadlines.") from None
        if days < 1 or days > 365:
            raise InvalidInput("Choose one of the listed deadlines.")
        conditions.append(col(Campaign.deadline) <= now + timedelta(days=days))
    orders = {
        "newest": [col(Campaign.activated_at).desc(), col(Campaign.id).desc()],
        "pay": [
            col(Campaign.price_per_clip_cents).desc(),
            col(Campaign.cpm_cents).desc(),
            col(Campaign.id).desc(),
        ],
        "ending": [
            case((col(Campaign.deadline).is_(None), 1), else_=0),
            col(Campaign.deadline).asc(),
            col(Campaign.id).desc(),
        ],
    }
    if sort not in orders:
        raise InvalidInput("Choose one of the listed sort orders.")
    rows, page, per_page, total = fetch_page(
        session,
        Campaign,
        conditions,
        orders[sort],
        page=page,
        per_page=per_page,
        max_per_page=MAX_PER_PAGE,
    )
    return CampaignPage(tuple(_views(session, list(rows))), page, per_page, total)


def market_campaign(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    """A live campaign as a clipper sees it (also a closed one they hold a claim on)."""
    require_role(actor, Role.CLIPPER, Role.CLIENT, Role.ADMIN)
    row = fresh(session, Campaign, campaign_id)
    if row is None:
        raise NotFound("That campaign was not found.")
    visible = row.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.COMPLETED)
    involved = (
        row.client_id == actor.id
        or session.exec(
            select(MarketJob.id).where(
                MarketJob.campaign_id == row.id, MarketJob.clipper_id == actor.id
            )
        ).first()
        is not None
    )
    if not (visible or involved):
        raise NotFound("That campaign was not found.")
    return view_of(session, row)


# --- changing --------------------------------------------------------------------------------


def create_campaign(*, session: Session, actor: UserView, draft: CampaignDraft) -> CampaignView:
    """Save a new campaign as a draft (nothing is charged until it is activated)."""
    require_role(actor, Role.CLIENT)
    cleaned = check_draft(draft)
    _check_source_video(session, actor, cleaned.source_video_id)
    values = {f.name: getattr(cleaned, f.name) for f in fields(CampaignDraft)}
    values["platforms"] = list(cleaned.platforms)
    row = Campaign(client_id=actor.id, status=CampaignStatus.DRAFT, **values)
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="campaign.created",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
        budget_cents=row.budget_cents,
    )
    return view_of(session, row)


def _refuse_closed(status: str) -> None:
    if status in CLOSED:
        raise InvalidInput(f"This campaign is {status}; it can no longer be changed.")


def client_campaign_page(
    *, session: Session, actor: UserView, campaign_id: int
) -> ClientCampaignPage:
    """One of the client's campaigns with its submissions by state, whether its leftover
    went back, the client's balance, and what they may do with it now."""
    view = get_my_campaign(session=session, actor=actor, campaign_id=campaign_id)
    returned = escrow_returned(session, view.id)
    balance = client_balance(session=session, actor=actor)
    return ClientCampaignPage(
        campaign=view,
        submissions=submission_counts(session, view.id),
        budget_returned=returned,
        balance_cents=balance,
        can_edit=view.status not in CLOSED,
        can_return_budget=(
            view.status == CampaignStatus.COMPLETED and not returned and view.escrow_cents > 0
        ),
        budget_short=view.status == CampaignStatus.DRAFT and balance < view.budget_cents,
    )


def campaign_to_edit(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    """One of the client's campaigns for the edit form; a closed one cannot be changed."""
    view = get_my_campaign(session=session, actor=actor, campaign_id=campaign_id)
    _refuse_closed(view.status)
    return view


def update_campaign(
    *, session: Session, actor: UserView, campaign_id: int, draft: CampaignDraft
) -> CampaignView:
    """Change a campaign: everything while a draft; once live, only its words, deadline and
    claim time limit (the money, slots and source are what clippers claimed)."""
    row = own_campaign(session, actor, campaign_id, lock=True)
    cleaned = check_draft(draft)
    _refuse_closed(row.status)
    if row.status != CampaignStatus.DRAFT:
        current = view_of(session, row).draft()
        fixed = [
            f.name
            for f in fields(CampaignDraft)
            if f.name not in EDITABLE_WHEN_LIVE
            and _comparable(getattr(cleaned, f.name)) != _comparable(getattr(current, f.name))
        ]
        if fixed:
            raise InvalidInput(
                "Once a campaign is live, its budget, pay, slots, requirements and source "
                "are fixed; only the title, brief, hashtags, don'ts, deadline and claim time "
                "limit can change."
            )
        names = EDITABLE_WHEN_LIVE
    else:
        _check_source_video(session, actor, cleaned.source_video_id)
        names = tuple(f.name for f in fields(CampaignDraft))
    for name in names:
        value = getattr(cleaned, name)
        setattr(row, name, list(value) if name == "platforms" else value)
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="campaign.updated",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
    )
    return view_of(session, row)


def _comparable(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _refuse_move(row: Campaign, verb: str) -> InvalidInput:
    return InvalidInput(f"A campaign that is {row.status} cannot be {verb}.")


def activate_campaign(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    """Put a draft live: its whole budget moves into escrow, then clippers can claim."""
    row = own_campaign(session, actor, campaign_id, lock=True)
    if row.status != CampaignStatus.DRAFT:
        raise _refuse_move(row, "activated")
    cleaned = check_draft(view_of(session, row).draft())
    if cleaned.source_video_id is None and not cleaned.source_url:
        raise InvalidInput("Add the source video (upload it or give a link) before activating.")
    _check_source_video(session, actor, cleaned.source_video_id)
    funds.reserve_campaign_budget(session=session, campaign_id=row.id)
    row.status = CampaignStatus.ACTIVE
    row.activated_at = utcnow()
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="campaign.activated",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
        budget_cents=row.budget_cents,
    )
    notify(
        session,
        row.client_id,
        Kind.CAMPAIGN_FUNDED,
        f"{row.title} is live: {format_cents(row.budget_cents)} moved into its escrow.",
        routes.campaign(row.id),
    )
    if row.source_video_id is not None:
        # Analyse the source once, now, so every clipper's generation reuses it.
        send_after_commit(session, ANALYSE_SOURCE, video_id=row.source_video_id)
    return view_of(session, row)


def pause_campaign(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    """Stop new claims for a while; claims already made go on."""
    row = own_campaign(session, actor, campaign_id, lock=True)
    if row.status != CampaignStatus.ACTIVE:
        raise _refuse_move(row, "paused")
    row.status = CampaignStatus.PAUSED
    session.add(row)
    record_audit(
        session=session,
        action="campaign.paused",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
    )
    session.flush()
    return view_of(session, row)


def resume_campaign(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    """Open a paused campaign to claims again (refused once its deadline has passed)."""
    row = own_campaign(session, actor, campaign_id, lock=True)
    if row.status != CampaignStatus.PAUSED:
        raise _refuse_move(row, "resumed")
    if row.deadline is not None and row.deadline <= utcnow():
        raise InvalidInput("The deadline has passed; move it later before resuming.")
    row.status = CampaignStatus.ACTIVE
    session.add(row)
    record_audit(
        session=session,
        action="campaign.resumed",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
    )
    session.flush()
    return view_of(session, row)


def pause_for_suspension(*, session: Session, client_id: int, actor_id: int) -> list[int]:
    """Pause every active campaign of a client an admin suspends (the same move as
    `pause_campaign`), marked so `resume_after_suspension` resumes exactly those; their ids.
    Claims already made go on, as with any pause."""
    rows = session.exec(
        select(Campaign)
        .where(Campaign.client_id == client_id, Campaign.status == CampaignStatus.ACTIVE)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        row.status = CampaignStatus.PAUSED
        row.paused_by_suspension = True
        session.add(row)
        record_audit(
            session=session,
            action="campaign.paused",
            actor_id=actor_id,
            target_type="campaign",
            target_id=row.id,
            why="client suspended",
        )
    session.flush()
    return [row.id for row in rows]


def resume_after_suspension(*, session: Session, client_id: int, actor_id: int) -> list[int]:
    """Resume the campaigns the client's suspension paused (those still paused, whose
    deadline has not passed; the others just lose the mark); the ids resumed."""
    rows = session.exec(
        select(Campaign)
        .where(Campaign.client_id == client_id, col(Campaign.paused_by_suspension).is_(True))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    now = utcnow()
    resumed: list[int] = []
    for row in rows:
        row.paused_by_suspension = False
        live = row.deadline is None or row.deadline > now
        if row.status == CampaignStatus.PAUSED and live:
            row.status = CampaignStatus.ACTIVE
            resumed.append(row.id)
            record_audit(
                session=session,
                action="campaign.resumed",
                actor_id=actor_id,
                target_type="campaign",
                target_id=row.id,
                why="suspension lifted",
            )
        session.add(row)
    session.flush()
    return resumed


def _close_open_claims(session: Session, row: Campaign, why: str) -> int:
    """End the claims of a closing campaign that have not been handed in; how many."""
    now = utcnow()
    open_jobs = session.exec(
        select(MarketJob).where(
            MarketJob.campaign_id == row.id,
            col(MarketJob.status).in_(
                (MarketJobStatus.IN_PROGRESS, MarketJobStatus.REVISION_REQUESTED)
            ),
        )
    ).all()
    for job in open_jobs:
        moved = session.exec(
            update(MarketJob)
            .where(col(MarketJob.id) == job.id, col(MarketJob.status) == job.status)
            .values(status=MarketJobStatus.EXPIRED, closed_at=now)
        ).rowcount
        if moved:
            notify(
                session,
                job.clipper_id,
                Kind.CLAIM_CLOSED,
                f"Your claim on {row.title} was closed: {why}.",
                routes.claim(job.id),
            )
    return len(open_jobs)


def cancel_campaign(*, session: Session, actor: UserView, campaign_id: int) -> CampaignView:
    """End a campaign for good; what is unspent goes back to the client's balance.

    Refused while clips wait for review (approve or reject them first: their clippers
    did the work while the campaign was live).
    """
    row = own_campaign(session, actor, campaign_id, lock=True)
    if row.status in CLOSED:
        raise _refuse_move(row, "cancelled")
    waiting = job_counts(session, [row.id]).get(row.id, (0, 0, 0))[2]
    if waiting:
        raise InvalidInput(
            f"{waiting} submitted clip{'s are' if waiting > 1 else ' is'} waiting for your "
            "review; approve or reject them first."
        )
    was_live = row.status != CampaignStatus.DRAFT
    row.status = CampaignStatus.CANCELLED
    row.closed_at = utcnow()
    session.add(row)
    session.flush()
    returned = 0
    if was_live:
        _close_open_claims(session, row, "the client cancelled the campaign")
        returned = funds.release_campaign_budget(session=session, campaign_id=row.id)
    record_audit(
        session=session,
        action="campaign.cancelled",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
        returned_cents=returned,
    )
    return view_of(session, row)


def return_unspent_budget(*, session: Session, actor: UserView, campaign_id: int) -> int:
    """Take back what is left in a completed campaign's escrow; its clips' views earn
    nothing more after that. How many cents came back."""
    row = own_campaign(session, actor, campaign_id, lock=True)
    if row.status != CampaignStatus.COMPLETED:
        raise InvalidInput("Only a completed campaign's leftover budget can be taken back.")
    if job_counts(session, [row.id]).get(row.id, (0, 0, 0))[2]:
        raise InvalidInput("Clips are waiting for your review; review them first.")
    returned = funds.release_campaign_budget(session=session, campaign_id=row.id)
    if not row.is_exhausted:
        row.is_exhausted = True
        session.add(row)
    record_audit(
        session=session,
        action="campaign.budget_returned",
        actor_id=actor.id,
        target_type="campaign",
        target_id=row.id,
        returned_cents=returned,
    )
    session.flush()
    return returned


def complete_if_done(session: Session, row: Campaign, *, now: datetime | None = None) -> bool:
    """Mark a live campaign completed when its slots are filled by approved clips, its
    escrow cannot pay another clip, or its deadline passed; whether it was just completed."""
    if row.status not in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        return False
    now = now or utcnow()
    open_claims, approved, _pending = job_counts(session, [row.id]).get(row.id, (0, 0, 0))
    escrow = escrow_balance(session, row)
    reasons = []
    if approved >= row.max_clips:
        reasons.append("every slot is filled")
    if row.is_exhausted or (
        row.price_per_clip_cents and escrow < row.price_per_clip_cents and open_claims == 0
    ):
        reasons.append("its budget is spent")
    if row.deadline is not None and row.deadline <= now:
        reasons.append("its deadline passed")
    if not reasons:
        return False
    moved = session.exec(
        update(Campaign)
        .where(
            col(Campaign.id) == row.id,
            col(Campaign.status).in_((CampaignStatus.ACTIVE, CampaignStatus.PAUSED)),
        )
        .values(status=CampaignStatus.COMPLETED, closed_at=now)
    ).rowcount
    if not moved:
        return False
    session.refresh(row)
    _close_open_claims(session, row, "the campaign is complete")
    record_audit(
        session=session,
        action="campaign.completed",
        actor_id=None,
        target_type="campaign",
        target_id=row.id,
        reasons=reasons,
    )
    notify(
        session,
        row.client_id,
        Kind.CAMPAIGN_COMPLETED,
        f"{row.title} is complete: {' and '.join(reasons)}.",
        routes.campaign(row.id),
    )
    return True


def close_due_campaigns(*, session: Session, now: datetime | None = None) -> int:
    """Complete every live campaign whose deadline has passed (scheduled); how many."""
    now = now or utcnow()
    due = session.exec(
        select(Campaign).where(
            col(Campaign.status).in_((CampaignStatus.ACTIVE, CampaignStatus.PAUSED)),
            col(Campaign.deadline).is_not(None),
            col(Campaign.deadline) <= now,
        )
    ).all()
    return sum(1 for row in due if complete_if_done(session, row, now=now))


def escrow_returned(session: Session, campaign_id: int) -> bool:
    """Whether the campaign's leftover escrow already went back to the client."""
    return find_transaction(session, f"campaign-release:{campaign_id}") is not None


def submission_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """How many of a campaign's submissions are in each state."""
    rows = session.exec(
        select(Submission.status, func.count())
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .where(MarketJob.campaign_id == campaign_id)
        .group_by(Submission.status)
    ).all()
    counts = {status.value: 0 for status in SubmissionStatus}
    counts.update({row[0]: int(row[1]) for row in rows})
    return counts
