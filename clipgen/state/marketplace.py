"""The marketplace as a clipper browses it: live campaigns searched, filtered and sorted
(/marketplace), and one campaign's brief with Claim (/marketplace/<id>). The campaign's
figures and requirements in words are here too; the claim page shows them as well.

Handlers read what the browser sends as untrusted text, call the market services (which
check who is asking, every call), and copy plain values into vars. A refusal's words are
shown where the user acted and nothing changes.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

import reflex as rx

from clipgen import routes
from clipgen.models import utcnow
from clipgen.pipeline import options as opts
from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotAuthenticated, NotFound, ServiceError
from clipgen.services.market import campaigns, claims
from clipgen.services.market.campaigns import PLATFORM_LABELS, SORTS, CampaignView
from clipgen.services.money.amounts import format_cents
from clipgen.state.formats import when
from clipgen.state.forms import dollars, field
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

ANY = "any"
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


# --- plain values for the pages ------------------------------------------------------------


def time_left(moment: datetime | None, now: datetime) -> str:
    """ "2 days 5 h", "3 h 10 min", "12 min"; "" when it has passed (a campaign's deadline
    here, a claim's time to submit on the claim page)."""
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


# --- reading ---------------------------------------------------------------------------------


def _campaign_page(*, session, actor: UserView, campaign_id: int):
    """A campaign, the actor's open claim on it, and why they cannot claim (one unit of work)."""
    view = campaigns.market_campaign(session=session, actor=actor, campaign_id=campaign_id)
    mine = claims.my_claim_on(session=session, actor=actor, campaign_id=view.id)
    return view, mine, claims.claim_refusal(view, actor, view.slots_left, utcnow())


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
            min_price_cents = dollars(text, "The lowest price")
        return {
            "query": self.query,
            "platform": "" if self.platform == ANY else self.platform,
            "min_price_cents": min_price_cents,
            "length": "" if self.length == ANY else self.length,
            "ending_within_days": 0 if self.ending == ANY else self.ending,
            "sort": self.sort,
        }

    def _load(self):
        # Explicit, not `shows_refusals`: sign-in comes back to the list with the choices
        # just made (not yet in the address bar), and a refusal still marks the list loaded.
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
    @limited("expensive_read")
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
        self.page = int(page) if page.isdecimal() and len(page) < 6 else 1
        self.loaded = False
        self.form_key += 1
        return self._load()

    @rx.event
    @limited("expensive_read")
    def search(self, form_data: dict):
        """The search box and the lowest price, sent together."""
        self.query = " ".join(field(form_data, "query").split())[:100]
        self.min_price = field(form_data, "min_price").strip()[:20]
        self.page = 1
        return self._reload_and_show()

    @rx.event
    @limited("expensive_read")
    def set_filter(self, name: str, value: str):
        """One setter for the selects; unknown names and non-text values are ignored."""
        if name not in ("platform", "length", "ending", "sort") or not isinstance(value, str):
            return None
        setattr(self, name, value[:20])
        self.page = 1
        return self._reload_and_show()

    @rx.event
    @limited("expensive_read")
    def clear_filters(self):
        self.query, self.min_price = "", ""
        self.platform = self.length = self.ending = ANY
        self.sort = "newest"
        self.page = 1
        self.form_key += 1
        return self._reload_and_show()

    @rx.event
    @limited("expensive_read")
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

    @shows_refusals("load_error")
    def _load(self):
        """The campaign for the signed-in clipper; a refusal shows instead of it."""
        self.load_error = ""
        self.not_found = False
        self.campaign, self.shown = {}, False
        try:
            view, mine, refusal = self._call_service(_campaign_page, campaign_id=self.campaign_id)
        except NotFound:
            self.not_found = True
            raise
        self.campaign, self.shown = campaign_detail(view, utcnow()), True
        self.my_claim_href = routes.claim(mine.id) if mine else ""
        self.cannot_claim = refusal
        return None

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.campaign_id = self._route_id(routes.MARKETPLACE)
        self.claim_error = ""
        self.campaign, self.shown = {}, False
        if not self.campaign_id:
            self.not_found, self.load_error = True, "That campaign was not found."
            return None
        return self._load()

    @rx.event
    @shows_refusals("claim_error")
    @limited("write", "claim_error")
    def claim(self):
        """Take a slot; a second click gets the same claim. Then go and work on it."""
        self.claim_error = ""
        claim = self._call_service(claims.claim_slot, campaign_id=self.campaign_id)
        self.my_claim_href = routes.claim(claim.id)
        return [
            rx.toast.success(
                f"Claimed. Submit a clip within {self.campaign.get('claim_ttl', '')}."
            ),
            rx.redirect(routes.claim(claim.id)),
        ]
