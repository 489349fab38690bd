"""Reviewing clips: the client's queue by state (on /reviews, or one campaign's page),
approve, reject or send back with notes, and rate the clipper once approved.

Every action names a submission or claim; the review service checks it belongs to one
of the caller's campaigns (another client's is "not found") and that it is still waiting.
"""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.models import SubmissionStatus, utcnow
from clipgen.services.errors import InvalidInput
from clipgen.services.market import reviews
from clipgen.services.market.claims import MAX_REVISIONS
from clipgen.services.market.reviews import ReviewItem
from clipgen.state.campaigns import CampaignState
from clipgen.state.formats import age, when
from clipgen.state.forms import field, row_id, whole_number
from clipgen.state.job import absolute_url, links_expiry, links_need_renewal
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

STATUS_LABELS = {
    SubmissionStatus.PENDING.value: "Pending",
    SubmissionStatus.APPROVED.value: "Approved",
    SubmissionStatus.REJECTED.value: "Rejected",
    SubmissionStatus.REVISION_REQUESTED.value: "Revision requested",
}
REJECT = "reject"
REVISION = "revision"


def review_card(item: ReviewItem) -> dict:
    """What a review card shows of a submission: plain values only."""
    clipper = item.clipper
    now = utcnow()
    if clipper.rating_count:
        rating = (
            f"{clipper.rating_average:.1f} ★ ({clipper.rating_count} "
            f"rating{'s' if clipper.rating_count != 1 else ''})"
        )
    else:
        rating = "No ratings yet"
    if item.status == SubmissionStatus.PENDING:
        decided = f"Approves automatically at {when(item.auto_approve_at)}"
    elif item.auto_approved:
        decided = f"Approved automatically at {when(item.reviewed_at)}"
    else:
        decided = f"{STATUS_LABELS.get(item.status, item.status)} at {when(item.reviewed_at)}"
    return {
        "submission_id": item.submission_id,
        "job_id": item.job_id,
        "campaign_id": item.campaign_id,
        "campaign_title": item.campaign_title,
        "campaign_href": routes.campaign(item.campaign_id),
        "requirements": item.requirements,
        "clip_title": item.clip_title or "Untitled clip",
        "duration": f"{item.duration_s:.0f} s",
        "video_url": absolute_url(item.video_url) if item.video_url else "",
        "caption": item.caption or "No caption.",
        "hashtags": item.hashtags or "No hashtags.",
        "status": item.status,
        "status_label": STATUS_LABELS.get(item.status, item.status),
        "feedback": item.feedback,
        "revisions_used": item.revision_count,
        "revisions_text": f"Revisions used: {item.revision_count} of {MAX_REVISIONS}",
        "can_revise": item.revision_count < MAX_REVISIONS,
        "next_revision": (
            f"Request revision ({item.revision_count + 1} of {MAX_REVISIONS})"
            if item.revision_count < MAX_REVISIONS
            else ""
        ),
        "submitted": when(item.submitted_at),
        "submitted_ago": age(item.submitted_at, now),
        "decided": decided,
        "rated_stars": item.rated_stars,
        "rated_text": f"You rated this clip {item.rated_stars} of 5." if item.rated_stars else "",
        "clipper_id": clipper.id,
        "clipper_name": clipper.display_name or "A clipper",
        "clipper_initial": (clipper.display_name or "?")[:1].upper(),
        "clipper_href": routes.profile(clipper.id),
        "clipper_tier": clipper.tier.title(),
        "clipper_approved": (
            f"{clipper.approved_clips} approved clip{'s' if clipper.approved_clips != 1 else ''}"
        ),
        "clipper_rating": rating,
    }


class ReviewsState(SessionState):
    status_filter: str = SubmissionStatus.PENDING.value
    # 0: every campaign of the client (/reviews); else one campaign's page.
    campaign_filter: int = 0
    items: list[dict] = []
    links_expire_at: float = 0.0
    load_error: str = ""
    # The card an action was refused on, and why (shown on that card).
    action_submission_id: int = 0
    action_error: str = ""
    # The reject / revision dialog.
    dialog_kind: str = ""
    dialog_submission_id: int = 0
    dialog_summary: str = ""
    dialog_error: str = ""
    rate_job_id: int = 0
    rate_error: str = ""

    @rx.var
    def dialog_open(self) -> bool:
        return self.dialog_submission_id > 0 and self.dialog_kind != ""

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        self.items = []  # what a refusal leaves
        found = self._call_service(
            reviews.review_queue,
            campaign_id=self.campaign_filter or None,
            status=self.status_filter,
        )
        self.links_expire_at = links_expiry()
        self.items = [review_card(item) for item in found]
        return None

    def _clear(self) -> None:
        self.action_submission_id = 0
        self.action_error = ""
        self.dialog_kind = ""
        self.dialog_submission_id = 0
        self.dialog_error = ""
        self.rate_job_id = 0
        self.rate_error = ""

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        """/reviews: every campaign's clips waiting for review."""
        self.campaign_filter = 0
        self.status_filter = SubmissionStatus.PENDING.value
        self._clear()
        return self._load()

    @rx.event
    @limited("expensive_read")
    def open_for_campaign(self):
        """One campaign's page (/campaigns/<id>): its clips only (the service keeps it to
        the caller's own); it loads after the campaign itself (`CampaignState.open_page`)."""
        self.campaign_filter = self._route_id(routes.CAMPAIGNS)
        self.status_filter = SubmissionStatus.PENDING.value
        self._clear()
        if not self.campaign_filter:
            self.items = []
            self.load_error = "That campaign was not found."
            return None
        return self._load()

    @rx.event
    @limited("expensive_read")
    def show_status(self, status: str):
        if status not in STATUS_LABELS:
            return None
        self.status_filter = status
        self._clear()
        return self._load()

    @rx.event
    @limited("expensive_read")
    def renew_links(self, _now: str = ""):
        """Re-sign the clips' links before they expire on a page left open."""
        if self.items and links_need_renewal(self.links_expire_at):
            return self._load()
        return None

    def _after(self, message: str) -> list:
        reloaded = self._load()
        events = [rx.toast.success(message), *([reloaded] if reloaded else [])]
        if self.campaign_filter:
            events.append(CampaignState.refresh)
        return events

    @rx.event
    @shows_refusals("action_error")
    @limited("write", "action_error")
    def approve(self, submission_id: int):
        """Approve the clip: its price leaves the campaign's escrow for the clipper."""
        self.action_submission_id = row_id(submission_id)
        self.action_error = ""
        item = self._call_service(
            reviews.approve_submission,
            submission_id=row_id(whole_number(submission_id, "submission number")),
        )
        self.action_submission_id = 0
        return self._after(
            f"Approved {item.clipper.display_name}'s clip for {item.campaign_title}. "
            "Rate the clipper under Approved."
        )

    @rx.event
    def open_dialog(self, kind: str, submission_id: int):
        """Open the reject or revision dialog for a card on the page (others are ignored)."""
        card = next((card for card in self.items if card["submission_id"] == submission_id), None)
        if card is None or kind not in (REJECT, REVISION):
            return
        if kind == REVISION and not card["can_revise"]:
            return
        self.dialog_kind = kind
        self.dialog_submission_id = card["submission_id"]
        self.dialog_summary = f"{card['clip_title']} by {card['clipper_name']}"
        self.dialog_error = ""

    @rx.event
    def close_dialog(self, open_: bool = False):
        if not open_:
            self.dialog_kind = ""
            self.dialog_submission_id = 0
            self.dialog_error = ""

    @rx.event
    @shows_refusals("dialog_error")
    @limited("write", "dialog_error")
    def send_dialog(self, form_data: dict):
        """Reject with the reason, or ask for a revision with the notes, typed in the dialog."""
        self.dialog_error = ""
        text = field(form_data, "text")
        if self.dialog_kind == REJECT:
            item = self._call_service(
                reviews.reject_submission,
                submission_id=self.dialog_submission_id,
                reason=text,
            )
            message = f"Rejected; {item.clipper.display_name}'s slot is free again."
        elif self.dialog_kind == REVISION:
            item = self._call_service(
                reviews.request_revision,
                submission_id=self.dialog_submission_id,
                notes=text,
            )
            message = (
                f"Sent back to {item.clipper.display_name} with your notes "
                f"(revision {item.revision_count} of {MAX_REVISIONS})."
            )
        else:
            raise InvalidInput("Choose what to do with the clip again.")
        self.dialog_kind = ""
        self.dialog_submission_id = 0
        return self._after(message)

    @rx.event
    @shows_refusals("rate_error")
    @limited("write", "rate_error")
    def rate(self, form_data: dict):
        """Rate the clipper of an approved clip 1-5 with optional feedback."""
        sent = field(form_data, "job_id")
        self.rate_job_id = row_id(sent)
        self.rate_error = ""
        self._call_service(
            reviews.rate_clipper,
            job_id=row_id(whole_number(sent, "claim number")),
            stars=field(form_data, "stars"),
            feedback=field(form_data, "feedback"),
        )
        self.rate_job_id = 0
        return self._after("Thanks: your rating is on the clipper's public profile.")
