"""A client's campaigns: the list, the new/edit form, and one campaign's page.

Handlers read the form as untrusted text, build a `CampaignDraft` and hand it to the
campaign service, which checks who is asking and every rule; a refusal is shown in
the service's words and changes nothing. Vars hold plain strings and numbers only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from datetime import time as day_time

import reflex as rx

from clipgen import routes
from clipgen.config import get_settings
from clipgen.models import CampaignStatus
from clipgen.pipeline import options as opts
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, ServiceError
from clipgen.services.market import campaigns
from clipgen.services.market.campaigns import (
    DEFAULT_TTL_HOURS,
    EDITABLE_WHEN_LIVE,
    PLATFORM_LABELS,
    CampaignDraft,
    CampaignView,
)
from clipgen.services.media import videos
from clipgen.services.money import reports
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import InsufficientFunds
from clipgen.state.formats import when
from clipgen.state.forms import checked, dollars, field, row_id
from clipgen.state.generate import progress_percent, receive_video, video_row
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

UPLOAD_ID = "campaign-source"
SOURCE_VIDEO = "video"
SOURCE_LINK = "link"
_ZERO_DOLLARS = re.compile(r"\$?\s*0*(\.0{0,2})?")


# --- reading the campaign form -----------------------------------------------------------


def optional_dollars(text: str, what: str) -> int:
    """Cents from an amount that may be left empty (or zero): 0 then."""
    if _ZERO_DOLLARS.fullmatch(text.strip().replace(",", "")):
        return 0
    return dollars(text, what)


def count(text: str, what: str) -> int:
    """A whole number typed in the form (digits only)."""
    cleaned = text.strip()
    # isdecimal, not isdigit: int() refuses digits such as "²" that isdigit accepts.
    if not cleaned.isdecimal() or len(cleaned) > 18:
        raise InvalidInput(f"{what} must be a whole number.")
    return int(cleaned)


def deadline_from(date_text: str, time_text: str) -> datetime | None:
    """The deadline typed as a date and an optional time (UTC); None when left empty."""
    date_text, time_text = date_text.strip(), time_text.strip()
    if not date_text:
        if time_text:
            raise InvalidInput("Choose the deadline's date too, or clear its time.")
        return None
    try:
        day = date.fromisoformat(date_text)
    except ValueError:
        raise InvalidInput("Enter the deadline's date like 2030-12-31.") from None
    try:
        moment = day_time.fromisoformat(time_text) if time_text else day_time(23, 59)
    except ValueError:
        raise InvalidInput("Enter the deadline's time like 18:00.") from None
    return datetime.combine(day, moment.replace(tzinfo=None), tzinfo=UTC)


def _deadline(form_data: object) -> datetime | None:
    return deadline_from(field(form_data, "deadline_date"), field(form_data, "deadline_time"))


def _ttl(form_data: object) -> int:
    return count(field(form_data, "claim_ttl_hours"), "The claim time limit (hours)")


def _min_views(form_data: object) -> int:
    text = field(form_data, "min_views").replace(",", "")
    return count(text, "The minimum views per post") if text.strip() else 0


def draft_from_form(form_data: object, source_video_id: int | None) -> CampaignDraft:
    """Everything the form says, as a draft for the service to check (typing is checked here,
    the rules there)."""
    platforms = tuple(p for p in PLATFORM_LABELS if checked(form_data, f"platform_{p}"))
    return CampaignDraft(
        title=field(form_data, "title"),
        brief=field(form_data, "brief"),
        source_video_id=source_video_id,
        source_url="" if source_video_id else field(form_data, "source_url"),
        platforms=platforms,
        min_length_s=count(field(form_data, "min_length_s"), "The shortest length"),
        max_length_s=count(field(form_data, "max_length_s"), "The longest length"),
        aspect=field(form_data, "aspect"),
        captions=field(form_data, "captions"),
        hashtags=field(form_data, "hashtags"),
        donts=field(form_data, "donts"),
        price_per_clip_cents=optional_dollars(field(form_data, "price"), "The price per clip"),
        cpm_cents=optional_dollars(field(form_data, "cpm"), "The CPM"),
        cpm_cap_cents=optional_dollars(field(form_data, "cpm_cap"), "The CPM cap"),
        min_views_per_post=_min_views(form_data),
        budget_cents=dollars(field(form_data, "budget"), "The budget"),
        max_clips=count(field(form_data, "max_clips"), "The number of clips"),
        deadline=_deadline(form_data),
        claim_ttl_hours=_ttl(form_data),
    )


def _live_field(form_data: object, name: str):
    if name == "deadline":
        return _deadline(form_data)
    if name == "claim_ttl_hours":
        return _ttl(form_data)
    return field(form_data, name)


def live_changes(form_data: object, current: CampaignDraft) -> CampaignDraft:
    """A live campaign's draft with only what may change once live taken from the form."""
    return replace(current, **{name: _live_field(form_data, name) for name in EDITABLE_WHEN_LIVE})


# --- plain values for the pages ------------------------------------------------------------


def amount_text(cents: int) -> str:
    """Cents as the form shows them: "12.50" ("" for nothing)."""
    return f"{cents // 100}.{cents % 100:02d}" if cents else ""


def form_values(draft: CampaignDraft) -> dict[str, str]:
    """A draft as the form's initial values (all text)."""
    deadline = draft.deadline.astimezone(UTC) if draft.deadline else None
    return {
        "title": draft.title,
        "brief": draft.brief,
        "source_url": draft.source_url,
        "min_length_s": str(draft.min_length_s),
        "max_length_s": str(draft.max_length_s),
        "aspect": draft.aspect,
        "captions": draft.captions,
        "hashtags": draft.hashtags,
        "donts": draft.donts,
        "price": amount_text(draft.price_per_clip_cents),
        "cpm": amount_text(draft.cpm_cents),
        "cpm_cap": amount_text(draft.cpm_cap_cents),
        "min_views": str(draft.min_views_per_post),
        "budget": amount_text(draft.budget_cents),
        "max_clips": str(draft.max_clips),
        "deadline_date": f"{deadline:%Y-%m-%d}" if deadline else "",
        "deadline_time": f"{deadline:%H:%M}" if deadline else "",
        "claim_ttl_hours": str(draft.claim_ttl_hours),
    }


def new_form_values() -> dict[str, str]:
    return {
        **form_values(CampaignDraft(aspect=opts.DEFAULT_ASPECT, captions=opts.DEFAULT_CAPTIONS)),
        "price": "",
        "budget": "",
        "max_clips": "10",
        "claim_ttl_hours": str(DEFAULT_TTL_HOURS),
    }


def platform_names(platforms) -> str:
    return ", ".join(PLATFORM_LABELS.get(p, p) for p in platforms)


def pay_text(view: CampaignView) -> str:
    """What a clip pays, in words: "$10.00 per clip + $2.00 CPM (up to $50.00 a clip)"."""
    parts = []
    if view.price_per_clip_cents:
        parts.append(f"{format_cents(view.price_per_clip_cents)} per clip")
    if view.cpm_cents:
        parts.append(
            f"{format_cents(view.cpm_cents)} per 1,000 views "
            f"(up to {format_cents(view.cpm_cap_cents)} a clip)"
        )
    return " + ".join(parts)


def min_views_text(view: CampaignView) -> str:
    """When a post's views start to count for the CPM, in words."""
    if not view.cpm_cents:
        return "No CPM"
    if not view.min_views_per_post:
        return "Every view counts"
    return f"Counted once a post has {view.min_views_per_post:,} views"


def campaign_row(view: CampaignView) -> dict:
    """A campaign as the list shows it."""
    return {
        "id": view.id,
        "href": routes.campaign(view.id),
        "title": view.title,
        "status": str(view.status),
        "exhausted": view.is_exhausted,
        "pay": pay_text(view),
        "budget": format_cents(view.budget_cents),
        "escrow": "—" if view.status == CampaignStatus.DRAFT else format_cents(view.escrow_cents),
        "slots": f"{view.approved_clips} of {view.max_clips} filled",
        "open_claims": view.open_claims,
        "pending_reviews": view.pending_reviews,
        "deadline": when(view.deadline) or "No deadline",
        "created": when(view.created_at),
    }


def campaign_details(view: CampaignView) -> dict[str, str]:
    """One campaign as its page shows it: every field as text."""
    if view.source_video_id:
        source = f"Uploaded video: {view.source_name}"
    elif view.source_url:
        source = view.source_url
    else:
        source = "None yet: add one before activating."
    captions = opts.CAPTION_STYLES.get(view.captions, view.captions)
    return {
        "title": view.title,
        "brief": view.brief or "No brief.",
        "source": source,
        "source_link": view.source_url if not view.source_video_id else "",
        "platforms": platform_names(view.platforms),
        "length": f"{view.min_length_s}-{view.max_length_s} s",
        "aspect": opts.ASPECTS.get(view.aspect, view.aspect),
        "captions": captions,
        "hashtags": view.hashtags or "None required",
        "donts": view.donts or "None",
        "pay": pay_text(view),
        "price": format_cents(view.price_per_clip_cents),
        "cpm": (
            f"{format_cents(view.cpm_cents)} per 1,000 views, up to "
            f"{format_cents(view.cpm_cap_cents)} a clip"
            if view.cpm_cents
            else "None"
        ),
        "min_views": min_views_text(view),
        "budget": format_cents(view.budget_cents),
        "escrow": format_cents(view.escrow_cents),
        "slots": f"{view.approved_clips} of {view.max_clips}",
        "open_claims": str(view.open_claims),
        "slots_left": str(view.slots_left),
        "pending_reviews": str(view.pending_reviews),
        "deadline": when(view.deadline) or "No deadline",
        "claim_ttl": f"{view.claim_ttl_hours} h",
        "created": when(view.created_at),
        "activated": when(view.activated_at),
        "closed": when(view.closed_at),
    }


# --- the list ------------------------------------------------------------------------------


def _campaign_list(*, session, actor: UserView) -> tuple[list[CampaignView], int]:
    """The client's campaigns and balance, in one unit of work."""
    return (
        campaigns.list_my_campaigns(session=session, actor=actor),
        reports.client_balance(session=session, actor=actor),
    )


class CampaignsState(SessionState):
    rows: list[dict] = []
    balance: str = ""
    load_error: str = ""

    @rx.event
    @shows_refusals("load_error")
    @limited("expensive_read", "load_error")
    def open_page(self):
        self.load_error = ""
        self.rows = []
        listed, balance_cents = self._call_service(_campaign_list)
        self.rows = [campaign_row(view) for view in listed]
        self.balance = format_cents(balance_cents)
        return None


# --- new and edit ---------------------------------------------------------------------------


class CampaignFormState(SessionState):
    """The campaign form: a new draft on /campaigns/new, or editing on a campaign's page."""

    values: dict[str, str] = new_form_values()
    platforms_chosen: list[str] = ["youtube"]
    # Changed whenever `values` are loaded: the fields are drawn afresh with them. Only the
    # fields: the source's drop zone stays, or a file being chosen would be lost with it.
    form_key: int = 0
    editing_id: int = 0
    editing_live: bool = False
    form_error: str = ""
    saving: bool = False

    source_kind: str = SOURCE_VIDEO
    source_video_id: int = 0
    source_video_name: str = ""
    source_video_summary: str = ""
    my_videos: list[dict] = []
    videos_error: str = ""
    uploading: bool = False
    upload_percent: int = 0
    upload_error: str = ""

    @rx.var
    def max_upload_mb(self) -> int:
        return get_settings().max_upload_mb

    @shows_refusals("videos_error")
    def _load_videos(self):
        self.videos_error = ""
        self.my_videos = []
        listed = self._call_service(videos.list_videos, limit=50)
        self.my_videos = [video_row(view) for view in listed if view.status == "ready"]
        return None

    def _reset_form(self) -> None:
        self.form_error = ""
        self.upload_error = ""
        self.uploading = False
        self.upload_percent = 0
        self.form_key += 1

    def _forget_source(self) -> None:
        self.source_video_id = 0
        self.source_video_name = ""
        self.source_video_summary = ""

    @rx.event
    @limited("expensive_read")
    def open_new(self):
        """A blank form for a new campaign."""
        self._reset_form()
        self.editing_id = 0
        self.editing_live = False
        self.values = new_form_values()
        self.platforms_chosen = ["youtube"]
        self.source_kind = SOURCE_VIDEO
        self._forget_source()
        return self._load_videos()

    @rx.event
    @shows_refusals("form_error")
    @limited("expensive_read", "form_error")
    def start_edit(self, campaign_id: int):
        """Fill the form with one of the client's campaigns (the service checks it is theirs)."""
        self._reset_form()
        self.editing_id = 0
        view = self._call_service(campaigns.campaign_to_edit, campaign_id=row_id(campaign_id))
        self.editing_id = view.id
        self.editing_live = view.status != CampaignStatus.DRAFT
        self.values = form_values(view.draft())
        self.platforms_chosen = list(view.platforms)
        self.source_kind = SOURCE_LINK if view.source_url else SOURCE_VIDEO
        self._forget_source()
        if view.source_video_id:
            self.source_video_id = view.source_video_id
            self.source_video_name = view.source_name
            self.source_video_summary = "The campaign's source video"
        return self._load_videos()

    @rx.event
    def set_source_kind(self, kind: str | list[str]):
        if kind in (SOURCE_VIDEO, SOURCE_LINK) and not self.editing_live:
            self.source_kind = kind

    @rx.event
    def use_video(self, video_id: int):
        """Pick one of the client's uploaded videos as the source (only a listed one)."""
        chosen = next((row for row in self.my_videos if row["id"] == video_id), None)
        if chosen is None or self.editing_live:
            return
        self.source_video_id = chosen["id"]
        self.source_video_name = chosen["name"]
        self.source_video_summary = chosen["summary"]

    @rx.event
    def forget_video(self):
        if not self.editing_live:
            self._forget_source()
            self.upload_percent = 0

    @rx.event
    def upload_progress(self, progress: dict):
        percent = progress_percent(progress)
        if percent is not None:
            self.upload_percent = percent

    @rx.event(background=True)
    @limited("write")
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """Stream the source video to disk exactly as the Generate page does, then pick it."""
        async for event in receive_video(self, chunks, upload_id=UPLOAD_ID, on_done=self._uploaded):
            yield event

    def _uploaded(self, video) -> list:
        row = video_row(video)
        self.source_video_id, self.source_video_name = row["id"], row["name"]
        self.source_video_summary = row["summary"]
        return [self._load_videos()]

    def _draft(self, form_data: object) -> CampaignDraft:
        if self.editing_live:
            current = self._call_service(campaigns.get_my_campaign, campaign_id=self.editing_id)
            return live_changes(form_data, current.draft())
        video_id = self.source_video_id if self.source_kind == SOURCE_VIDEO else 0
        return draft_from_form(form_data, video_id or None)

    @rx.event
    @shows_refusals("form_error")
    @limited("write", "form_error")
    def save(self, form_data: dict):
        """Save the form: a new draft, or the changes to the campaign being edited."""
        self.form_error = ""
        draft = self._draft(form_data)
        if self.editing_id:
            view = self._call_service(
                campaigns.update_campaign, campaign_id=self.editing_id, draft=draft
            )
        else:
            view = self._call_service(campaigns.create_campaign, draft=draft)
        if self.editing_id:
            self.editing_id = 0
            return [rx.toast.success("Changes saved."), CampaignState.finish_edit]
        self._forget_source()
        return [
            rx.redirect(routes.campaign(view.id)),
            rx.toast.success("Saved as a draft. Activate it when you are ready to fund it."),
        ]


# --- one campaign ---------------------------------------------------------------------------


def _cancel(*, session, actor: UserView, campaign_id: int) -> int:
    """Cancel the campaign; how much went back to the client's balance."""
    before = campaigns.get_my_campaign(session=session, actor=actor, campaign_id=campaign_id)
    campaigns.cancel_campaign(session=session, actor=actor, campaign_id=campaign_id)
    return before.escrow_cents


class CampaignState(SessionState):
    campaign_id: int = 0
    not_found: bool = False
    load_error: str = ""
    details: dict[str, str] = {}
    status: str = ""
    exhausted: bool = False
    escrow_cents: int = 0
    budget_returned: bool = False
    counts: dict[str, int] = {}
    balance: str = ""
    # What the client may do now, as the campaign service decides it.
    can_edit: bool = False
    can_return_budget: bool = False
    budget_short: bool = False
    action_error: str = ""
    needs_funds: bool = False
    editing: bool = False

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        self.not_found = True  # until the service finds the campaign (and it is theirs)
        self.details = {}
        self.status = ""
        found = self._call_service(campaigns.client_campaign_page, campaign_id=self.campaign_id)
        view = found.campaign
        self.not_found = False
        self.details = campaign_details(view)
        self.status = str(view.status)
        self.exhausted = view.is_exhausted
        self.escrow_cents = view.escrow_cents
        self.budget_returned = found.budget_returned
        self.counts = found.submissions
        self.balance = format_cents(found.balance_cents)
        self.can_edit = found.can_edit
        self.can_return_budget = found.can_return_budget
        self.budget_short = found.budget_short
        return None

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        """Load the campaign of the address (its review queue loads next, on its own state)."""
        self.campaign_id = self._route_id(routes.CAMPAIGNS)
        self.action_error = ""
        self.needs_funds = False
        self.editing = False
        return self._load()

    @rx.event
    @limited("expensive_read")
    def refresh(self):
        """Reload the figures (after a review on this page changed them)."""
        if self.campaign_id:
            return self._load()
        return None

    @rx.event
    @limited("expensive_read")
    def edit(self):
        if not self.can_edit:
            return None
        self.editing = True
        return CampaignFormState.start_edit(self.campaign_id)

    @rx.event
    def stop_editing(self):
        self.editing = False

    @rx.event
    @limited("expensive_read")
    def finish_edit(self):
        self.editing = False
        return self._load()

    def _act(self, service, message: Callable[[object], str]):
        """Run one of the campaign's moves; a refusal is shown and the page reloaded."""
        self.action_error = ""
        self.needs_funds = False
        try:
            result = self._call_service(service, campaign_id=self.campaign_id)
        except NotAuthenticated:
            return self._to_login()
        except ServiceError as error:
            self.action_error = str(error)
            self.needs_funds = isinstance(error, InsufficientFunds)
            return self._load()
        reloaded = self._load()
        return [rx.toast.success(message(result)), *([reloaded] if reloaded else [])]

    @rx.event
    @limited("write")
    def activate(self):
        """Put the draft live: its budget moves from the balance into escrow."""
        return self._act(
            campaigns.activate_campaign,
            lambda view: (
                f"{view.title} is live: {format_cents(view.budget_cents)} is held in "
                "escrow and clippers can claim it."
            ),
        )

    @rx.event
    @limited("write")
    def pause(self):
        return self._act(
            campaigns.pause_campaign, lambda _: "Paused: no new claims until you resume it."
        )

    @rx.event
    @limited("write")
    def resume(self):
        return self._act(
            campaigns.resume_campaign, lambda _: "Resumed: clippers can claim it again."
        )

    @rx.event
    @limited("write")
    def cancel(self):
        """End the campaign; its unspent budget goes back to the client's balance."""
        return self._act(
            _cancel,
            lambda cents: (
                f"Campaign cancelled; {format_cents(cents)} went back to your balance."
                if cents
                else "Campaign cancelled."
            ),
        )

    @rx.event
    @limited("write")
    def return_budget(self):
        """Take back what a completed campaign has left in escrow."""
        return self._act(
            campaigns.return_unspent_budget,
            lambda cents: f"{format_cents(cents)} went back to your balance.",
        )
