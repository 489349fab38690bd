"""A clipper's work: their claims (/work) and one claim's workspace (/work/<id>): make
clips with AI or upload an edit, pick one that fits, submit it, and follow the reviews.

Handlers read what the browser sends as untrusted text, call the market services (which
check who is asking, every call), and copy plain values into vars. A refusal's words are
shown where the user acted and nothing changes.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx

from clipgen import routes
from clipgen.models import utcnow
from clipgen.pipeline import options as opts
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound, ServiceError
from clipgen.services.market import claims
from clipgen.services.market.claims import ClaimDetail, ClaimView
from clipgen.services.media import clips, videos
from clipgen.state.formats import when
from clipgen.state.forms import field
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
from clipgen.state.limits import limited
from clipgen.state.marketplace import campaign_detail, time_left
from clipgen.state.session import SessionState, shows_refusals

OWN_EDIT_UPLOAD_ID = "own-edit"
CLAIM_POLL_SECONDS = max(2.0, POLL_SECONDS)
ACTIVE_JOB_STATUSES = ("queued", "running")


# --- plain values for the pages ------------------------------------------------------------


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


# --- reading ---------------------------------------------------------------------------------


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


# --- /work -----------------------------------------------------------------------------------


class WorkListState(SessionState):
    """The clipper's claims, open ones first."""

    rows: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    @shows_refusals("error")
    @limited("expensive_read", "error")
    def open_page(self):
        self.error, self.rows = "", []
        mine = self._call_service(claims.my_claims)
        now = utcnow()
        self.rows = [claim_row(view, now) for view in mine]


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

    @shows_refusals("load_error")
    def _reload(self):
        """Load the claim; a refusal shows instead of it (then `watch` is not started)."""
        self.load_error = ""
        try:
            self._refresh()
        except ServiceError as error:
            self.not_found = isinstance(error, NotFound)
            raise
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
    @limited("expensive_read")
    def open_page(self):
        self.claim_id = self._route_id(routes.MY_WORK)
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
    @limited("expensive_read")
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
    @shows_refusals("generate_error")
    @limited("generate", "generate_error")
    def make_clips(self):
        """Start a generation of the campaign's source for this claim."""
        self.generate_error = ""
        job = self._call_service(
            claims.generate_for_claim, job_id=self.claim_id, options=self._options()
        )
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
    @limited("write")
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """Stream an own edit to disk exactly as the Generate page does; then list it."""
        async for event in receive_video(
            self, chunks, upload_id=OWN_EDIT_UPLOAD_ID, on_done=self._uploaded
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
    @shows_refusals("submit_error")
    @limited("write", "submit_error")
    def submit(self, form_data: dict):
        """Hand in the picked clip with its caption and hashtags."""
        self.submit_error = ""
        submission = self._call_service(
            claims.submit_clip,
            job_id=self.claim_id,
            caption=field(form_data, "caption")[: claims.MAX_CAPTION + 1],
            hashtags=field(form_data, "hashtags"),
            **self._picked_ids(),
        )
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
    @shows_refusals("action_error")
    @limited("write", "action_error")
    def give_up(self):
        """Hand the claim back; its slot is free for another clipper."""
        self.action_error = ""
        self._call_service(claims.give_up_claim, job_id=self.claim_id)
        return [
            rx.toast.success("Claim given up; its slot is free again."),
            rx.redirect(routes.MY_WORK),
        ]
