"""Publishing an approved clip and following its views: the clip's performance page. (The
clipper's connected accounts on the Account page are `state/connections.py`.)

Handlers read what the browser sends as untrusted text, call the publishing services (which
check who is asking, every call), and copy plain values into vars. A refusal's words are
shown where the user acted and nothing changes.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from clipgen import routes
from clipgen.services.errors import NotAuthenticated, NotFound, ServiceError
from clipgen.services.money.amounts import format_cents
from clipgen.services.publishing import publications
from clipgen.services.publishing.publications import CountReportView, Performance, PostView
from clipgen.state.connections import YouTubeState  # noqa: F401  (its old home)
from clipgen.state.formats import PLATFORM_NAMES, when
from clipgen.state.forms import field, row_id
from clipgen.state.job import absolute_url
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

UPLOAD_POLL_SECONDS = 2.0
ACTIVE_UPLOADS = ("queued", "uploading")
PRIVACY_LABELS = {
    "private": "Private (only you)",
    "unlisted": "Unlisted (anyone with the link)",
    "public": "Public",
}
UPLOAD_WORDS = {
    "queued": "Waiting to upload",
    "uploading": "Uploading",
    "done": "On YouTube",
    "failed": "Failed",
}
# One colour per post on the chart, in order.
LINE_COLORS = ("#7c3aed", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#ec4899", "#64748b")
# The longest description YouTube takes (in bytes); one character more is enough for the
# service to refuse it in words.
_DESCRIPTION_LIMIT = 5000
# A clip's page is `<PERFORMANCE>/<submission id>` (`routes.clip_performance`).
PERFORMANCE = "/performance"


# --- plain values for the page -------------------------------------------------------------


VERIFIED_BY = {
    "youtube": "Verified by YouTube",
    "tiktok": "Verified by TikTok",
    "instagram": "Verified by Instagram",
    "clipgen": "Verified: uploaded from ClipGen",
    "client": "Verified by the client",
    "admin": "Verified by an admin",
}


def post_labels(posts: list[PostView]) -> dict[int, str]:
    """ "TikTok", or "TikTok 2" when the clip has more than one post on a platform."""
    seen: dict[str, int] = {}
    labels = {}
    for post in posts:
        seen[post.platform] = seen.get(post.platform, 0) + 1
        labels[post.id] = post.platform_label
    for post in posts:
        if seen[post.platform] > 1:
            number = [p.id for p in posts if p.platform == post.platform].index(post.id) + 1
            labels[post.id] = f"{post.platform_label} {number}"
    return labels


def post_state(post: PostView, min_views: int) -> tuple[str, str, str]:
    """(state, colour, note) of a post, in the words the page shows."""
    if post.status == "disqualified":
        return "Disqualified", "red", post.status_note or "Its views were found not genuine."
    if post.status == "unavailable":
        return "Unavailable", "gray", post.status_note
    if post.verification == "refused":
        return "Not verified", "red", post.verification_note
    if post.verification == "unavailable":
        return "Not verified yet", "gray", post.verification_note
    if post.verification == "pending":
        return "Being verified", "gray", "ClipGen is asking the platform whether it is your post."
    if post.earnings_held:
        return "Earnings held for review", "amber", "An admin is checking this post's views."
    if post.counts_below_minimum and min_views:
        return f"Below the campaign's minimum of {min_views:,} views", "amber", ""
    return "Live", "green", ""


def post_row(post: PostView, label: str, min_views: int) -> dict[str, str]:
    state, color, note = post_state(post, min_views)
    return {
        "id": str(post.id),
        "label": label,
        "platform": post.platform,
        "url": post.url,
        "views": f"{post.views:,}",
        "likes": f"{post.likes:,}",
        "comments": f"{post.comments:,}",
        "state": state,
        "state_color": color,
        "note": note,
        "last_read": when(post.last_read_at) or "Not read yet",
        "read_how": (
            "Not read: not verified"
            if post.verification == "refused"
            else f"Read from {PLATFORM_NAMES.get(post.platform, post.platform_label)} daily"
            if post.read_automatically
            else "Counts entered by hand"
        ),
        "verified": (
            VERIFIED_BY.get(post.verified_by, "") if post.verification == "verified" else ""
        ),
        "can_enter": "yes" if post.accepts_counts else "",
        "can_check_again": "yes" if post.can_check_again else "",
        "verification": post.verification,
    }


def chart_of(performance: Performance, labels: dict[int, str]) -> tuple[list[dict], list[dict]]:
    """Views over time: one row per reading time, one key per post ("p<id>"), and the
    lines to draw (key, name, colour)."""
    rows: dict[str, dict] = {}
    for reading in performance.readings:
        at = f"{reading.taken_at:%Y-%m-%d %H:%M}"
        rows.setdefault(at, {"at": at})[f"p{reading.publication_id}"] = reading.views
    read_ids = {reading.publication_id for reading in performance.readings}
    lines = [
        {"key": f"p{post.id}", "name": labels[post.id], "color": LINE_COLORS[i % len(LINE_COLORS)]}
        for i, post in enumerate(p for p in performance.posts if p.id in read_ids)
    ]
    return [rows[at] for at in sorted(rows)], lines


def reading_row(reading, labels: dict[int, str]) -> dict[str, str]:
    return {
        "at": when(reading.taken_at),
        "post": labels.get(reading.publication_id, ""),
        "views": f"{reading.views:,}",
        "likes": f"{reading.likes:,}",
        "comments": f"{reading.comments:,}",
        "entered_by": reading.entered_by or "-",
    }


def earning_row(line) -> dict[str, str]:
    """One earning of the clip; the clipper's share when the service gives it (not to the
    client)."""
    return {
        "at": when(line.at),
        "label": line.label,
        "gross": format_cents(line.gross_cents),
        "share": "" if line.clipper_cents is None else format_cents(line.clipper_cents),
        "state": line.state,
    }


def report_status(report: CountReportView) -> str:
    """Where a count the clipper typed stands, in the words the page shows."""
    if report.status == "waiting":
        return "Waiting for the client to confirm"
    if report.status == "confirmed":
        return "Confirmed"
    if report.status == "declined":
        return f"Declined: {report.decision_note}" if report.decision_note else "Declined"
    if report.status == "replaced":
        return "Replaced by a newer count"
    return report.status


def report_row(report: CountReportView, labels: dict[int, str]) -> dict[str, str]:
    """A count the clipper typed, waiting or decided: plain strings only."""
    return {
        "id": str(report.id),
        "post": labels.get(report.publication_id, report.platform_label),
        "post_url": report.post_url,
        "views": f"{report.views:,}",
        "likes": f"{report.likes:,}",
        "comments": f"{report.comments:,}",
        "reported_by": report.reported_by,
        "reported_at": when(report.reported_at),
        "status": report.status,
        "status_words": report_status(report),
        "decided_at": when(report.decided_at),
        "can_decide": "yes" if report.can_decide else "",
        "evidence_url": absolute_url(report.evidence_url),
        "can_attach": "yes" if report.can_attach else "",
    }


def upload_row(upload) -> dict:
    retry = f"Try again after {when(upload.retry_at)}." if upload.retry_at else ""
    return {
        "id": str(upload.id),
        "title": upload.title,
        "status": upload.status,
        "status_words": UPLOAD_WORDS.get(upload.status, upload.status),
        "percent": int(upload.progress_percent),
        "privacy": upload.privacy,
        "error": upload.error,
        "retry": retry,
        "created": when(upload.created_at),
    }


# --- /performance/<submission id> ------------------------------------------------------------


class PerformanceState(SessionState):
    """One approved clip: its posts, its readings over time and what it earned. Its clipper
    adds posts, uploads to YouTube and reports counts, which the client or an admin confirm
    (money follows) or decline; the client and admins enter counts that count at once."""

    # The route's own `submission_id` is a root-state var; this is the page's copy as a number.
    clip_submission_id: int = 0
    loaded: bool = False
    not_found: bool = False
    load_error: str = ""
    viewer_role: str = ""
    clip_title: str = ""
    campaign_title: str = ""
    campaign_href: str = ""
    counted_views: str = "0"
    min_views: str = ""
    posts: list[dict[str, str]] = []
    readings: list[dict[str, str]] = []
    chart_data: list[dict] = []
    chart_lines: list[dict[str, str]] = []
    earnings: list[dict[str, str]] = []
    uploads: list[dict] = []
    youtube_configured: bool = False
    youtube_connected: bool = False
    youtube_paid: bool = False
    upload_title: str = ""
    upload_description: str = ""
    upload_tags: str = ""

    post_error: str = ""
    post_form_key: int = 0
    counts_post_id: str = ""
    counts_error: str = ""
    counts_form_key: int = 0
    # Counts the clipper typed (waiting first), the row a confirm was refused for and why,
    # and the decline dialog (open while `decline_report_id` is set).
    reports: list[dict[str, str]] = []
    report_action_id: str = ""
    report_error: str = ""
    decline_report_id: int = 0
    # The waiting count a screenshot is being attached to (its dialog is open when > 0).
    evidence_report_id: int = 0
    evidence_error: str = ""
    decline_summary: str = ""
    decline_error: str = ""
    upload_error: str = ""
    upload_form_key: int = 0
    watching: bool = False

    @rx.var
    def is_clipper_view(self) -> bool:
        return self.viewer_role == "clipper"

    @rx.var
    def shows_share(self) -> bool:
        return self.viewer_role in ("clipper", "admin")

    @rx.var
    def manual_posts(self) -> list[dict[str, str]]:
        return [post for post in self.posts if post["can_enter"]]

    @rx.var
    def has_active_upload(self) -> bool:
        return any(upload["status"] in ACTIVE_UPLOADS for upload in self.uploads)

    @rx.var
    def decline_open(self) -> bool:
        return self.decline_report_id > 0

    @rx.var
    def is_on_youtube(self) -> bool:
        return any(upload["status"] == "done" for upload in self.uploads)

    def _show(self, performance: Performance) -> None:
        labels = post_labels(performance.posts)
        role = performance.viewer_role
        self.viewer_role = role
        self.clip_title = performance.clip_title
        self.campaign_title = performance.campaign_title
        self.campaign_href = (
            routes.campaign(performance.campaign_id)
            if role == "client"
            else routes.market_campaign(performance.campaign_id)
            if role == "clipper"
            else ""
        )
        self.counted_views = f"{performance.counted_views:,}"
        minimum = performance.min_views_per_post
        self.min_views = f"{minimum:,}" if minimum else ""
        self.posts = [post_row(p, labels[p.id], minimum) for p in performance.posts]
        self.readings = [reading_row(r, labels) for r in reversed(performance.readings)]
        self.chart_data, self.chart_lines = chart_of(performance, labels)
        self.earnings = [earning_row(line) for line in performance.earnings]
        self.uploads = [upload_row(u) for u in performance.uploads]
        self.reports = [report_row(r, labels) for r in performance.reports]
        self.youtube_configured = performance.youtube_configured
        self.youtube_connected = performance.youtube_connected
        self.youtube_paid = performance.pays_for_youtube
        defaults = performance.upload_defaults
        self.upload_title = defaults.title if defaults else ""
        self.upload_description = defaults.description if defaults else ""
        self.upload_tags = defaults.tags if defaults else ""
        self.loaded = True

    def _refresh(self) -> None:
        self._show(
            self._call_service(publications.clip_performance, submission_id=self.clip_submission_id)
        )

    def _reload(self):
        """Load the page for the signed-in user; a refusal shows instead of the clip."""
        self.load_error = ""
        try:
            self._refresh()
        except NotAuthenticated:
            return self._to_login()
        except ServiceError as error:
            self.load_error = str(error)
            self.not_found = isinstance(error, NotFound)
            self.loaded = False
            return None
        return PerformanceState.watch if self._keeps_watching() else None

    def _keeps_watching(self) -> bool:
        """An upload on its way, or a post its platform is being asked about."""
        return self.has_active_upload or any(p["verification"] == "pending" for p in self.posts)

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.clip_submission_id = self._route_id(PERFORMANCE)
        self.loaded = self.not_found = False
        self.posts, self.readings, self.earnings, self.uploads = [], [], [], []
        self.chart_data, self.chart_lines, self.reports = [], [], []
        self.post_error = self.counts_error = self.upload_error = ""
        self.counts_post_id = ""
        self.report_action_id = self.report_error = ""
        self.decline_report_id, self.decline_summary, self.decline_error = 0, "", ""
        if not self.clip_submission_id:
            self.not_found, self.load_error = True, "That clip was not found."
            return None
        return self._reload()

    def _after(self, message: str) -> list:
        reloaded = self._reload()
        return [rx.toast.success(message), *([reloaded] if reloaded else [])]

    @rx.event
    @shows_refusals("post_error")
    @limited("write", "post_error")
    def add_post(self, form_data: dict):
        """Record the address of the clipper's post of this clip."""
        self.post_error = ""
        post = self._call_service(
            publications.add_post_url,
            submission_id=self.clip_submission_id,
            url=field(form_data, "url"),
        )
        self.post_form_key += 1
        return self._after(f"Post added: {post.url}. ClipGen is checking it is yours.")

    @rx.event
    @shows_refusals()
    @limited("write")
    def check_again(self, publication_id: str):
        """Ask a refused post's platform again, once the clipper fixed it."""
        post = self._call_service(publications.check_again, publication_id=publication_id)
        return self._after(f"Checking your post again: {post.url}")

    @rx.event
    @shows_refusals("counts_error")
    @limited("write", "counts_error")
    def enter_counts(self, form_data: dict):
        """Record the counts a post shows now (for posts the sync does not read)."""
        sent_id = field(form_data, "publication_id")
        self.counts_post_id, self.counts_error = sent_id, ""
        entered = self._call_service(
            publications.enter_counts,
            publication_id=sent_id,
            views=field(form_data, "views"),
            likes=field(form_data, "likes"),
            comments=field(form_data, "comments"),
        )
        self.counts_post_id = ""
        self.counts_form_key += 1
        if entered.waiting:
            return self._after(
                f"Sent to the client to confirm: {entered.views:,} views (they earn once "
                "confirmed)."
            )
        return self._after(f"Counts saved: {entered.views:,} views.")

    @rx.event
    @shows_refusals("report_error")
    @limited("write", "report_error")
    def confirm_report(self, report_id: str):
        """The client (or an admin) confirms a count the clipper typed: money follows."""
        self.report_action_id, self.report_error = str(row_id(report_id)), ""
        report = self._call_service(publications.confirm_counts, report_id=row_id(report_id))
        self.report_action_id = ""
        return self._after(f"Confirmed: {report.views:,} views count now.")

    @rx.event
    def open_decline(self, report_id: str):
        """Open the decline dialog for a count (the service decides whether it may be)."""
        self.decline_report_id = row_id(report_id)
        row = next((r for r in self.reports if r["id"] == str(self.decline_report_id)), None)
        self.decline_summary = (
            f"{row['views']} views on {row['post']}, reported by {row['reported_by']}"
            if row
            else ""
        )
        self.decline_error = ""
        self.report_action_id = self.report_error = ""

    @rx.var
    def evidence_open(self) -> bool:
        return self.evidence_report_id > 0

    @rx.event
    def open_evidence(self, report_id: str):
        """Open the dialog that attaches a screenshot to a waiting count."""
        self.evidence_report_id, self.evidence_error = row_id(report_id), ""

    @rx.event
    def close_evidence(self, open_: bool = False):
        if not open_:
            self.evidence_report_id, self.evidence_error = 0, ""

    @rx.event
    @limited("write")
    async def attach_evidence(self, files: list[rx.UploadFile]):
        """Attach the chosen screenshot of the post's counts to the waiting count."""
        self.evidence_error = ""
        data = await files[0].read() if files else b""
        try:
            self._call_service(
                publications.attach_screenshot, report_id=self.evidence_report_id, data=data
            )
        except NotAuthenticated:
            return self._to_login()
        except ServiceError as refusal:
            self.evidence_error = str(refusal)
            return None
        self.evidence_report_id = 0
        return self._after("Screenshot attached: it is shown beside the count.")

    @rx.event
    def close_decline(self, open_: bool = False):
        if not open_:
            self.decline_report_id = 0
            self.decline_summary = self.decline_error = ""

    @rx.event
    @shows_refusals("decline_error")
    @limited("write", "decline_error")
    def send_decline(self, form_data: dict):
        """Decline the count with the reason typed in the dialog; the clipper reads it."""
        self.decline_error = ""
        report = self._call_service(
            publications.decline_counts,
            report_id=self.decline_report_id,
            reason=field(form_data, "reason"),
        )
        self.decline_report_id, self.decline_summary = 0, ""
        return self._after(f"Declined: {report.views:,} views; the clipper sees your reason.")

    @rx.event
    @shows_refusals("upload_error")
    @limited("write", "upload_error")
    def upload_to_youtube(self, form_data: dict):
        """Queue the clip's upload to the clipper's connected channel, then follow it."""
        self.upload_error = ""
        upload = self._call_service(
            publications.request_youtube_upload,
            submission_id=self.clip_submission_id,
            title=field(form_data, "title"),
            description=field(form_data, "description")[: _DESCRIPTION_LIMIT + 1],
            tags=field(form_data, "tags"),
            privacy=field(form_data, "privacy") or "private",
        )
        self.upload_form_key += 1
        # The reload starts `watch` while the upload is queued or on its way.
        return self._after(f"Uploading “{upload.title}” to YouTube ({upload.privacy}).")

    @rx.event(background=True)
    async def watch(self):
        """Refresh while an upload of this clip is on its way or a post is being verified;
        stops when that ends or the tab leaves the page."""
        async with self:
            if self.watching:
                return
            self.watching = True
            submission_id = self.clip_submission_id
        try:
            while True:
                await asyncio.sleep(UPLOAD_POLL_SECONDS)
                async with self:
                    if self.clip_submission_id != submission_id or self.router.url.path.rstrip(
                        "/"
                    ) != routes.clip_performance(submission_id):
                        return
                    try:
                        await asyncio.to_thread(self._refresh)
                    except ServiceError:
                        return
                    if not self._keeps_watching():
                        return
        finally:
            async with self:
                self.watching = False
