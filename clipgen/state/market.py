"""The clipper's side of the marketplace: browsing campaigns, claiming one, working on a
claim (make clips with AI or upload an edit, then submit), and a clipper's public profile.

Handlers read what the browser sends as untrusted text, call the market services (which
check who is asking, every call), and copy plain values into vars. A refusal's words are
shown where the user acted and nothing changes.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from urllib.parse import urlencode

import reflex as rx

from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import utcnow
from clipgen.pipeline import options as opts
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, NotFound, ServiceError
from clipgen.services.market import campaigns, claims, profiles
from clipgen.services.market.campaigns import PLATFORM_LABELS, SORTS, CampaignView
from clipgen.services.market.claims import ClaimDetail, ClaimView
from clipgen.services.media import clips, videos
from clipgen.services.money.amounts import format_cents, parse_dollars
from clipgen.services.money.tiers import TierStanding
from clipgen.state.generate import (
    CLIP_OPTION_NAMES,
    options_from,
    progress_percent,
    receive_video,
)
from clipgen.state.job import (
    POLL_SECONDS,
    STAGE_LABELS,
    URL_LIFETIME_S,
    absolute_url,
    links_expiry,
    links_need_renewal,
)
from clipgen.state.money import form_text, when
from clipgen.state.session import SessionState

ANY = "any"
OWN_EDIT_UPLOAD_ID = "own-edit"
CLAIM_POLL_SECONDS = max(2.0, POLL_SECONDS)
# The marketplace's filter choices, value -> label; ANY is "no filter" (a select needs a value).
PLATFORM_CHOICES = [(ANY, "Any platform"), *PLATFORM_LABELS.items()]
LENGTH_CHOICES = [
    (ANY, "Any length"),
    ("short", "Up to 30 s"),
    ("medium", "30-60 s"),
    ("long", "60 s and longer"),
]
ENDING_CHOICES = [
    (ANY, "Any deadline"),
    ("1", "Ends within a day"),
    ("3", "Ends within 3 days"),
    ("7", "Ends within a week"),
    ("30", "Ends within a month"),
]
SORT_CHOICES = list(SORTS.items())
ACTIVE_JOB_STATUSES = ("queued", "running")


# --- plain values for the pages ------------------------------------------------------------


def time_left(moment: datetime | None, now: datetime) -> str:
    """ "2 days 5 h", "3 h 10 min", "12 min"; "" when it has passed."""
    if moment is None:
        return ""
    seconds = int((moment - now).total_seconds())
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not days and not hours else rest // 60
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


def deadline_text(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "No deadline"
    left = time_left(moment, now)
    return f"Ends in {left}" if left else "Deadline passed"


def pay_text(view: CampaignView) -> str:
    return (
        f"{format_cents(view.price_per_clip_cents)} per clip" if view.price_per_clip_cents else ""
    )


def cpm_text(view: CampaignView) -> str:
    """ "$2.00 per 1,000 views, up to $50.00 a clip, counted once a post has 1,000 views",
    or "" without a CPM."""
    if not view.cpm_cents:
        return ""
    text = f"{format_cents(view.cpm_cents)} per 1,000 views"
    if view.cpm_cap_cents:
        text += f", up to {format_cents(view.cpm_cap_cents)} a clip"
    if view.min_views_per_post:
        text += f", counted once a post has {view.min_views_per_post:,} views"
    return text


def campaign_card(view: CampaignView, now: datetime) -> dict[str, str]:
    """What a marketplace card shows of a campaign: plain strings only."""
    return {
        "id": str(view.id),
        "href": routes.market_campaign(view.id),
        "title": view.title,
        "client": view.client_name,
        "pay": pay_text(view) or "Paid on views",
        "cpm": cpm_text(view),
        "platforms": ", ".join(PLATFORM_LABELS.get(p, p) for p in view.platforms),
        "length": f"{view.min_length_s}-{view.max_length_s} s",
        "aspect": view.aspect,
        "deadline": deadline_text(view.deadline, now),
        "slots_left": f"{view.slots_left} of {view.max_clips}",
        "budget_left": format_cents(view.escrow_cents),
    }


def requirements(view: CampaignView) -> dict[str, str]:
    """A campaign's brief and requirements, in words."""
    return {
        "brief": view.brief,
        "platforms": ", ".join(PLATFORM_LABELS.get(p, p) for p in view.platforms),
        "length": f"{view.min_length_s}-{view.max_length_s} seconds",
        "aspect": opts.ASPECTS.get(view.aspect, view.aspect),
        "captions": opts.CAPTION_STYLES.get(view.captions, view.captions),
        "hashtags": view.hashtags,
        "donts": view.donts,
        "source": view.source_name,
        "source_is_link": "yes" if view.source_url and not view.source_video_id else "",
    }


def campaign_detail(view: CampaignView, now: datetime) -> dict[str, str]:
    """The campaign page's figures and requirements."""
    return {
        **campaign_card(view, now),
        **requirements(view),
        "price": format_cents(view.price_per_clip_cents),
        "status": str(view.status),
        "deadline_at": when(view.deadline) or "No deadline",
        "claim_ttl": f"{view.claim_ttl_hours} hours to submit after claiming",
        "claim_ttl_hours": str(view.claim_ttl_hours),
        "budget": format_cents(view.budget_cents),
        "min_length_s": str(view.min_length_s),
        "max_length_s": str(view.max_length_s),
        "aspect_value": view.aspect,
        "captions_value": view.captions,
    }


def claim_row(view: ClaimView, now: datetime) -> dict[str, str]:
    """One line of My work."""
    if view.workable:
        left = time_left(view.expires_at, now)
        timing = f"Expires in {left}" if left else "Expired"
    elif view.status == "submitted":
        timing = f"Submitted {when(view.submitted_at)}"
    else:
        timing = f"Closed {when(view.closed_at)}" if view.closed_at else ""
    return {
        "id": str(view.id),
        "href": routes.claim(view.id),
        "campaign": view.campaign_title,
        "status": str(view.status),
        "status_words": view.status_words.capitalize(),
        "timing": timing,
        "revisions": f"{view.revision_count} of {claims.MAX_REVISIONS} revisions",
        "claimed": when(view.claimed_at),
    }


def length_defaults(min_s: int, max_s: int) -> tuple[str, str, str]:
    """(length choice, custom shortest, custom longest) that make clips the campaign takes:
    the widest preset inside its range, or a custom range equal to it."""
    inside = [
        (high - low, key)
        for key, (low, high, _label) in opts.LENGTH_PRESETS.items()
        if low >= min_s and high <= max_s
    ]
    low = max(int(opts.MIN_CLIP_SECONDS), int(min_s))
    high = min(int(opts.MAX_CLIP_SECONDS), int(max_s))
    if inside:
        widest = max(span for span, _key in inside)
        return next(key for span, key in inside if span == widest), str(low), str(high)
    return opts.CUSTOM_LENGTH, str(low), str(high)


def generation_row(view, now: datetime) -> dict[str, str]:
    """One generation job of a claim."""
    stage = STAGE_LABELS.get(view.stage, view.stage.title())
    if view.status in ACTIVE_JOB_STATUSES:
        progress = f"{stage} · {view.percent}%"
    elif view.status == "succeeded":
        progress = "Clips ready: pick one below"
    else:
        progress = view.error
    return {
        "id": str(view.id),
        "href": routes.job(view.id),
        "status": str(view.status),
        "progress": progress,
        "percent": str(view.percent),
        "started": when(view.created_at),
        "clips": str((view.options or {}).get("clips", "")),
    }


def submission_row(view) -> dict[str, str]:
    status_words = {
        "pending": "Waiting for review",
        "approved": "Approved automatically" if view.auto_approved else "Approved",
        "rejected": "Rejected",
        "revision_requested": "Revision requested",
    }
    feedback_label = {
        "rejected": "Reason",
        "revision_requested": "Revision notes",
        "approved": "Feedback",
    }
    return {
        "id": str(view.id),
        "title": view.title or "Clip",
        "duration": f"{view.duration_s:.0f} s",
        "kind": "Own edit" if view.video_id else "AI clip",
        "caption": view.caption,
        "hashtags": view.hashtags,
        "status": str(view.status),
        "status_words": status_words.get(view.status, view.status),
        "feedback_label": feedback_label.get(view.status, "Feedback"),
        "feedback": view.feedback,
        "submitted": when(view.created_at),
        "reviewed": when(view.reviewed_at),
    }


def public_tier(standing: TierStanding) -> dict[str, str | int]:
    """A clipper's tier as visitors read it (third person)."""
    if standing.next_tier is None:
        needs = "At the top tier."
    else:
        needs = (
            f"{standing.next_tier.title()} at {standing.next_needs_clips:,} approved clips "
            f"or {standing.next_needs_views:,} views."
        )
    return {
        "name": standing.tier.title(),
        "split": f"{standing.clipper_percent}% / {standing.platform_percent}%",
        "progress": standing.progress_percent,
        "needs": needs,
    }


# --- reading ---------------------------------------------------------------------------------


def _campaign_page(*, session, actor: UserView, campaign_id: int):
    """A campaign, the actor's open claim on it, and why they cannot claim (one unit of work)."""
    view = campaigns.market_campaign(session=session, actor=actor, campaign_id=campaign_id)
    mine = claims.my_claim_on(session=session, actor=actor, campaign_id=view.id)
    return view, mine, claims.claim_refusal(view, actor, view.slots_left, utcnow())


def _claim_page(
    *, session, actor: UserView, job_id: int, signed: frozenset[str] = frozenset()
) -> tuple[ClaimDetail, dict[str, dict[str, str]]]:
    """A claim's detail and signed preview links of its clips and edits (one unit of work);
    `signed` names the candidates whose links the page already holds."""
    detail = claims.claim_detail(session=session, actor=actor, job_id=job_id)
    links: dict[str, dict[str, str]] = {}
    for clip in detail.clips:
        key = f"clip:{clip.id}"
        if key in signed:
            continue
        files = clips.clip_files(
            session=session, actor=actor, clip_id=clip.id, expires_s=URL_LIFETIME_S
        )
        links[key] = {
            "video_url": absolute_url(files.video_url),
            "thumbnail_url": absolute_url(files.thumbnail_url),
        }
    for edit in detail.own_edits:
        key = f"video:{edit.id}"
        if key in signed:
            continue
        url = videos.source_download_url(session=session, actor=actor, video_id=edit.id)
        links[key] = {"video_url": absolute_url(url), "thumbnail_url": ""}
    return detail, links


def _public_profile(clipper_id: int):
    """Anyone may read a clipper's profile: no user is needed."""
    with session_scope() as session:
        return profiles.public_profile(session=session, clipper_id=clipper_id)


def _route_id(path: str, prefix: str) -> int:
    """The number at the end of `/prefix/<n>`, or 0."""
    tail = path.rstrip("/")
    if not tail.startswith(prefix + "/"):
        return 0
    number = tail.rsplit("/", 1)[-1]
    return int(number) if number.isdigit() and len(number) < 12 else 0


# --- /marketplace ------------------------------------------------------------------------


class MarketplaceState(SessionState):
    """Live campaigns, searched, filtered and sorted; the choices live in the URL query."""

    query: str = ""
    platform: str = ANY
    min_price: str = ""
    length: str = ANY
    ending: str = ANY
    sort: str = "newest"
    page: int = 1
    total: int = 0
    page_count: int = 1
    cards: list[dict[str, str]] = []
    error: str = ""
    loaded: bool = False
    # A new key draws the search form afresh with the state's values (after clearing).
    form_key: int = 0

    @rx.var
    def filtered(self) -> bool:
        """Whether any filter narrows the list (the empty state then offers to clear them)."""
        return bool(self.query or self.min_price) or any(
            choice != ANY for choice in (self.platform, self.length, self.ending)
        )

    def _url(self) -> str:
        params = {
            "q": self.query,
            "platform": "" if self.platform == ANY else self.platform,
            "min_price": self.min_price,
            "length": "" if self.length == ANY else self.length,
            "ending": "" if self.ending == ANY else self.ending,
            "sort": "" if self.sort == "newest" else self.sort,
            "page": "" if self.page <= 1 else str(self.page),
        }
        query = urlencode({key: value for key, value in params.items() if value})
        return routes.MARKETPLACE + (f"?{query}" if query else "")

    def _filters(self) -> dict:
        text = self.min_price.strip()
        min_price_cents = 0
        if text and text not in ("0", "0.00", "$0"):
            min_price_cents = parse_dollars(text, "The lowest price")
        return {
            "query": self.query,
            "platform": "" if self.platform == ANY else self.platform,
            "min_price_cents": min_price_cents,
            "length": "" if self.length == ANY else self.length,
            "ending_within_days": 0 if self.ending == ANY else self.ending,
            "sort": self.sort,
        }

    def _load(self):
        self.error = ""
        try:
            result = self._call_service(campaigns.browse, page=self.page, **self._filters())
        except NotAuthenticated:
            return rx.redirect(routes.login(self._url()))
        except ServiceError as error:
            self.error = str(error)
            self.cards, self.total, self.page_count = [], 0, 1
            self.loaded = True
            return None
        now = utcnow()
        self.cards = [campaign_card(view, now) for view in result.items]
        self.page, self.total, self.page_count = result.page, result.total, result.pages
        self.loaded = True
        return None

    def _reload_and_show(self):
        """Load, then put the choices in the address bar (a shareable, reloadable URL)."""
        redirect = self._load()
        if redirect:
            return redirect
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(self._url())})")

    @rx.event
    def open_page(self):
        """Take the choices from the URL query (bad values are refused by the service)."""
        given = self.router.url.query_parameters
        self.query = str(given.get("q", ""))[:100]
        self.platform = str(given.get("platform", "")) or ANY
        self.min_price = str(given.get("min_price", ""))[:20]
        self.length = str(given.get("length", "")) or ANY
        self.ending = str(given.get("ending", "")) or ANY
        self.sort = str(given.get("sort", "")) or "newest"
        page = str(given.get("page", "1"))
        self.page = int(page) if page.isdigit() and len(page) < 6 else 1
        self.loaded = False
        self.form_key += 1
        return self._load()

    @rx.event
    def search(self, form_data: dict):
        """The search box and the lowest price, sent together."""
        self.query = " ".join(form_text(form_data, "query").split())[:100]
        self.min_price = form_text(form_data, "min_price").strip()[:20]
        self.page = 1
        return self._reload_and_show()

    @rx.event
    def set_filter(self, name: str, value: str):
        """One setter for the selects; unknown names and non-text values are ignored."""
        if name not in ("platform", "length", "ending", "sort") or not isinstance(value, str):
            return None
        setattr(self, name, value[:20])
        self.page = 1
        return self._reload_and_show()

    @rx.event
    def clear_filters(self):
        self.query, self.min_price = "", ""
        self.platform = self.length = self.ending = ANY
        self.sort = "newest"
        self.page = 1
        self.form_key += 1
        return self._reload_and_show()

    @rx.event
    def go_to_page(self, page: int):
        if isinstance(page, bool) or not isinstance(page, int):
            return None
        self.page = max(1, min(page, self.page_count))
        return self._reload_and_show()


# --- /marketplace/<id> ---------------------------------------------------------------------


class MarketCampaignState(SessionState):
    """One campaign as a clipper sees it, with Claim."""

    campaign_id: int = 0
    campaign: dict[str, str] = {}
    not_found: bool = False
    load_error: str = ""
    claim_error: str = ""
    cannot_claim: str = ""
    my_claim_href: str = ""
    shown: bool = False

    def _load(self):
        self.load_error = ""
        self.not_found = False
        try:
            view, mine, refusal = self._call_service(_campaign_page, campaign_id=self.campaign_id)
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.market_campaign(self.campaign_id)))
        except NotFound as error:
            self.not_found, self.load_error, self.campaign = True, str(error), {}
            self.shown = False
            return None
        except ServiceError as error:
            self.load_error, self.campaign, self.shown = str(error), {}, False
            return None
        self.campaign, self.shown = campaign_detail(view, utcnow()), True
        self.my_claim_href = routes.claim(mine.id) if mine else ""
        self.cannot_claim = refusal
        return None

    @rx.event
    def open_page(self):
        self.campaign_id = _route_id(self.router.url.path, routes.MARKETPLACE)
        self.claim_error = ""
        self.campaign, self.shown = {}, False
        if not self.campaign_id:
            self.not_found, self.load_error = True, "That campaign was not found."
            return None
        return self._load()

    @rx.event
    def claim(self):
        """Take a slot; a second click gets the same claim. Then go and work on it."""
        self.claim_error = ""
        try:
            claim = self._call_service(claims.claim_slot, campaign_id=self.campaign_id)
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.market_campaign(self.campaign_id)))
        except ServiceError as error:
            self.claim_error = str(error)
            return None
        self.my_claim_href = routes.claim(claim.id)
        return [
            rx.toast.success(
                f"Claimed. Submit a clip within {self.campaign.get('claim_ttl', '')}."
            ),
            rx.redirect(routes.claim(claim.id)),
        ]


# --- /work -----------------------------------------------------------------------------------


class WorkListState(SessionState):
    """The clipper's claims, open ones first."""

    rows: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    def open_page(self):
        self.error = ""
        try:
            mine = self._call_service(claims.my_claims)
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.MY_WORK))
        except ServiceError as error:
            self.error, self.rows = str(error), []
            return None
        now = utcnow()
        self.rows = [claim_row(view, now) for view in mine]
        return None


# --- /work/<id> -----------------------------------------------------------------------------


class ClaimState(SessionState):
    """One claim: make clips with AI or upload an edit, pick one, submit; the history."""

    claim_id: int = 0
    not_found: bool = False
    load_error: str = ""
    claim: dict[str, str] = {}
    workable: bool = False
    can_generate: bool = False
    campaign: dict[str, str] = {}
    required_hashtags: str = ""
    revision_notes: str = ""
    rejection_reason: str = ""
    generation_jobs: list[dict[str, str]] = []
    candidates: list[dict] = []
    submissions: list[dict[str, str]] = []
    links_expire_at: float = 0.0
    watching: bool = False

    # Make clips with AI: the Generate page's choices, defaulted to the campaign's.
    clip_count: str = str(opts.DEFAULT_CLIPS)
    length: str = opts.DEFAULT_LENGTH
    custom_min: str = "20"
    custom_max: str = "45"
    aspect: str = opts.DEFAULT_ASPECT
    captions: str = opts.DEFAULT_CAPTIONS
    layout: str = opts.DEFAULT_LAYOUT
    generate_error: str = ""

    uploading: bool = False
    upload_percent: int = 0
    upload_error: str = ""

    picked: str = ""
    submit_error: str = ""
    submit_form_key: int = 0
    action_error: str = ""

    @rx.var
    def has_active_jobs(self) -> bool:
        return any(row["status"] in ACTIVE_JOB_STATUSES for row in self.generation_jobs)

    @rx.var
    def picked_title(self) -> str:
        chosen = next((c for c in self.candidates if c["key"] == self.picked), None)
        return chosen["title"] if chosen else ""

    @rx.var
    def max_upload_mb(self) -> int:
        from clipgen.config import get_settings

        return get_settings().max_upload_mb

    def _candidates(self, detail: ClaimDetail, links: dict[str, dict[str, str]]) -> list[dict]:
        """The clips and edits to pick from, fitting ones first, keeping links already held."""
        held = {card["key"]: card for card in self.candidates}
        cards = []
        for clip in detail.clips:
            key = f"clip:{clip.id}"
            urls = links.get(key) or {k: held[key][k] for k in ("video_url", "thumbnail_url")}
            cards.append(
                {
                    "key": key,
                    "kind": "AI clip",
                    "title": clip.title or "Untitled clip",
                    "duration": f"{clip.duration_s:.0f} s",
                    "aspect": clip.aspect,
                    "fits": clip.fits,
                    "why_not": clip.why_not,
                    **urls,
                }
            )
        for edit in detail.own_edits:
            key = f"video:{edit.id}"
            urls = links.get(key) or {k: held[key][k] for k in ("video_url", "thumbnail_url")}
            cards.append(
                {
                    "key": key,
                    "kind": "Own edit",
                    "title": edit.filename,
                    "duration": f"{edit.duration_s:.0f} s",
                    "aspect": "",
                    "fits": edit.fits,
                    "why_not": edit.why_not,
                    **urls,
                }
            )
        return sorted(cards, key=lambda card: 0 if card["fits"] else 1)

    def _refresh(self) -> None:
        """Load the claim for the signed-in user (the service checks it is theirs)."""
        renew = links_need_renewal(self.links_expire_at)
        signed = frozenset() if renew else frozenset(card["key"] for card in self.candidates)
        detail, links = self._call_service(_claim_page, job_id=self.claim_id, signed=signed)
        if renew:
            self.links_expire_at = links_expiry()
            self.candidates = []
        now = utcnow()
        claim, campaign = detail.claim, detail.campaign
        left = time_left(claim.expires_at, now)
        self.workable = claim.workable and bool(left)
        self.can_generate = campaign.can_generate
        self.claim = {
            "id": str(claim.id),
            "status": str(claim.status),
            "status_words": claim.status_words.capitalize(),
            "expires": f"{left} left to submit" if claim.workable and left else "",
            "expires_at": when(claim.expires_at),
            "revisions": f"{claim.revision_count} of {claims.MAX_REVISIONS}",
            "claimed": when(claim.claimed_at),
            "campaign_href": routes.market_campaign(campaign.id),
            "performance_href": next(
                (
                    routes.clip_performance(s.id)
                    for s in detail.submissions
                    if s.status == "approved"
                ),
                "",
            ),
        }
        self.campaign = campaign_detail(campaign, now)
        self.required_hashtags = campaign.hashtags
        latest = detail.submissions[0] if detail.submissions else None
        self.revision_notes = (
            latest.feedback if latest and claim.status == "revision_requested" else ""
        )
        self.rejection_reason = latest.feedback if latest and claim.status == "rejected" else ""
        self.generation_jobs = [generation_row(job, now) for job in detail.generation_jobs]
        self.candidates = self._candidates(detail, links)
        self.submissions = [submission_row(view) for view in detail.submissions]
        if self.picked and not any(card["key"] == self.picked for card in self.candidates):
            self.picked = ""
        if not self.picked:
            self.picked = next((card["key"] for card in self.candidates if card["fits"]), "")

    def _reload(self):
        self.load_error = ""
        try:
            self._refresh()
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.claim(self.claim_id)))
        except ServiceError as error:
            self.load_error = str(error)
            self.not_found = isinstance(error, NotFound)
            return None
        return ClaimState.watch if self.has_active_jobs else None

    def _set_generation_defaults(self) -> None:
        self.length, self.custom_min, self.custom_max = length_defaults(
            int(self.campaign["min_length_s"]), int(self.campaign["max_length_s"])
        )
        self.clip_count = str(opts.DEFAULT_CLIPS)
        aspect = self.campaign.get("aspect_value", "")
        self.aspect = aspect if aspect in opts.ASPECTS else opts.DEFAULT_ASPECT
        captions = self.campaign.get("captions_value", "")
        self.captions = captions if captions in opts.CAPTION_STYLES else opts.DEFAULT_CAPTIONS
        self.layout = opts.DEFAULT_LAYOUT  # campaigns set no layout

    @rx.event
    def open_page(self):
        self.claim_id = _route_id(self.router.url.path, routes.MY_WORK)
        self.not_found = False
        self.claim, self.campaign = {}, {}
        self.candidates, self.generation_jobs, self.submissions = [], [], []
        self.links_expire_at = 0.0
        self.picked = ""
        self.generate_error = self.upload_error = self.submit_error = self.action_error = ""
        self.uploading, self.upload_percent = False, 0
        if not self.claim_id:
            self.not_found, self.load_error = True, "That claim was not found."
            return None
        loaded = self._reload()
        if self.campaign:
            self._set_generation_defaults()
        return loaded

    @rx.event(background=True)
    async def watch(self):
        """Refresh while a generation of this claim runs; stops when the tab leaves."""
        async with self:
            if self.watching:
                return
            self.watching = True
            claim_id = self.claim_id
        try:
            while True:
                await asyncio.sleep(CLAIM_POLL_SECONDS)
                async with self:
                    if self.claim_id != claim_id or self.router.url.path.rstrip("/") != (
                        routes.claim(claim_id)
                    ):
                        return
                    try:
                        await asyncio.to_thread(self._refresh)
                    except ServiceError:
                        return
                    if not self.has_active_jobs:
                        return
        finally:
            async with self:
                self.watching = False

    @rx.event
    def renew_links(self, _now: str = ""):
        """Re-sign the preview links before they expire on a page left open."""
        if self.candidates and links_need_renewal(self.links_expire_at):
            return self._reload()
        return None

    # --- make clips with AI

    @rx.event
    def set_option(self, name: str, value: str):
        """One setter for the generation controls; unknown names are ignored."""
        if name in CLIP_OPTION_NAMES and isinstance(value, str):
            setattr(self, name, value[:20])

    def _options(self) -> GenerateOptions:
        return options_from(self)

    @rx.event
    def make_clips(self):
        """Start a generation of the campaign's source for this claim."""
        self.generate_error = ""
        try:
            job = self._call_service(
                claims.generate_for_claim, job_id=self.claim_id, options=self._options()
            )
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.claim(self.claim_id)))
        except ServiceError as error:
            self.generate_error = str(error)
            return None
        reloaded = self._reload()
        return [
            rx.toast.success(
                f"Making clips (job #{job.id}). They appear below when ready; open the job "
                "to follow it."
            ),
            *([reloaded] if reloaded else []),
            ClaimState.watch,
        ]

    # --- upload your own edit

    @rx.event
    def upload_progress(self, progress: dict):
        percent = progress_percent(progress)
        if percent is not None:
            self.upload_percent = percent

    @rx.event(background=True)
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """Stream an own edit to disk exactly as the Generate page does; then list it."""
        async with self:
            back = routes.claim(self.claim_id)
        async for event in receive_video(
            self, chunks, upload_id=OWN_EDIT_UPLOAD_ID, back=back, on_done=self._uploaded
        ):
            yield event

    def _uploaded(self, video) -> list:
        reloaded = self._reload()
        key = f"video:{video.id}"
        chosen = next((card for card in self.candidates if card["key"] == key), None)
        if chosen is not None and chosen["fits"]:
            self.picked = key
        return [
            rx.toast.success(f"{video.original_filename} uploaded; it is listed below."),
            reloaded,
        ]

    # --- submitting

    @rx.event
    def pick(self, key: str):
        """Choose a clip or edit of this claim's list to submit (others are ignored)."""
        if isinstance(key, str) and any(card["key"] == key for card in self.candidates):
            self.picked = key
            self.submit_error = ""

    def _picked_ids(self) -> dict[str, int]:
        kind, _, number = self.picked.partition(":")
        if kind not in ("clip", "video") or not number.isdigit():
            raise InvalidInput("Pick one clip to submit.")
        return {"clip_id": int(number)} if kind == "clip" else {"video_id": int(number)}

    @rx.event
    def submit(self, form_data: dict):
        """Hand in the picked clip with its caption and hashtags."""
        self.submit_error = ""
        try:
            caption = form_data.get("caption", "") if isinstance(form_data, dict) else ""
            caption = caption[: claims.MAX_CAPTION + 1] if isinstance(caption, str) else ""
            submission = self._call_service(
                claims.submit_clip,
                job_id=self.claim_id,
                caption=caption,
                hashtags=form_text(form_data, "hashtags"),
                **self._picked_ids(),
            )
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.claim(self.claim_id)))
        except ServiceError as error:
            self.submit_error = str(error)
            return None
        self.submit_form_key += 1
        reloaded = self._reload()
        return [
            rx.toast.success(
                f"Submitted {submission.title or 'your clip'}. The client reviews it within "
                "72 hours, or it is approved automatically."
            ),
            *([reloaded] if reloaded else []),
        ]

    @rx.event
    def give_up(self):
        """Hand the claim back; its slot is free for another clipper."""
        self.action_error = ""
        try:
            self._call_service(claims.give_up_claim, job_id=self.claim_id)
        except NotAuthenticated:
            return rx.redirect(routes.login(routes.claim(self.claim_id)))
        except ServiceError as error:
            self.action_error = str(error)
            return None
        return [
            rx.toast.success("Claim given up; its slot is free again."),
            rx.redirect(routes.MY_WORK),
        ]


# --- /clippers/<id> ------------------------------------------------------------------------


class ProfileState(SessionState):
    """A clipper's public profile: anyone may read it, signed in or not."""

    clipper_id: int = 0
    not_found: bool = False
    loaded: bool = False
    name: str = ""
    member_since: str = ""
    tier: dict[str, str | int] = {}
    rating_average: str = ""
    rating_count: int = 0
    approved_clips: str = "0"
    total_views: str = "0"
    campaigns_worked: str = "0"
    clips: list[dict[str, str]] = []
    ratings: list[dict[str, str]] = []

    def _load(self) -> None:
        try:
            profile = _public_profile(self.clipper_id)
        except ServiceError:
            self.not_found, self.loaded = True, True
            self.name, self.clips, self.ratings, self.tier = "", [], [], {}
            return
        self.not_found = False
        self.name = profile.display_name
        self.member_since = f"{profile.member_since:%B %Y}"
        self.tier = public_tier(profile.standing)
        self.rating_average = f"{profile.rating_average:.1f}" if profile.rating_count else "–"
        self.rating_count = profile.rating_count
        self.approved_clips = f"{profile.standing.approved_clips:,}"
        self.total_views = f"{profile.standing.total_views:,}"
        self.campaigns_worked = f"{profile.campaigns_worked:,}"
        self.clips = [
            {
                "id": str(clip.submission_id),
                "title": clip.title,
                "campaign": clip.campaign_title,
                "views": f"{clip.views:,} views",
                "video_url": absolute_url(clip.video_url) if clip.video_url else "",
                "thumbnail_url": absolute_url(clip.thumbnail_url) if clip.thumbnail_url else "",
                "approved": f"{clip.approved_at:%Y-%m-%d}" if clip.approved_at else "",
            }
            for clip in profile.clips
        ]
        self.ratings = [
            {
                "stars": "★" * line.stars + "☆" * (5 - line.stars),
                "label": f"{line.stars} of 5",
                "feedback": line.feedback,
                "campaign": line.campaign_title,
                "at": f"{line.created_at:%Y-%m-%d}",
            }
            for line in profile.ratings
        ]
        self.loaded = True

    @rx.event
    def open_page(self):
        self.clipper_id = _route_id(self.router.url.path, "/clippers")
        self.loaded = False
        self._load()
