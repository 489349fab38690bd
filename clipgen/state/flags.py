"""Admin Flags: posts whose views look bought wait here for an admin to clear or confirm,
beside the view sync's latest runs and a "Sync now" button.

Handlers call one service each (the services check that an admin is asking and that the
flag is still open) and copy plain values into vars: text, numbers, and the readings of
each flagged post as points for its chart.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from clipgen import routes
from clipgen.models import FlagStatus, ViewSyncRun
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.money.amounts import format_cents
from clipgen.services.publishing import fraud, sync
from clipgen.services.publishing.fraud import FlagView
from clipgen.state.formats import PLATFORM_NAMES, when
from clipgen.state.forms import field, row_id
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

FLAG_TABS = {
    FlagStatus.OPEN.value: "Open",
    FlagStatus.CLEARED.value: "Cleared",
    FlagStatus.CONFIRMED.value: "Confirmed",
    FlagStatus.OVERTURNED.value: "Overturned",
}
CLEAR = "clear"
CONFIRM = "confirm"

# The evidence a flag keeps, in the order an admin reads it, with how to show each figure.
_EVIDENCE = (
    ("views_before", "Views before", "{:,}"),
    ("views_now", "Views now", "{:,}"),
    ("views", "Views", "{:,}"),
    ("jump", "Jump", "+{:,}"),
    ("hours", "Hours between readings", "{:,g} h"),
    ("trend_per_day", "Trend per day", "{:,}"),
    ("expected", "Expected by the trend", "{:,}"),
    ("likes", "Likes", "{:,}"),
    ("comments", "Comments", "{:,}"),
    ("engagement_percent", "Engagement", "{:.3f} %"),
)


# --- plain values for the page ---------------------------------------------------------------


def _figure(value: object, pattern: str) -> str:
    try:
        return pattern.format(value)
    except (TypeError, ValueError):
        return str(value)


def evidence_rows(evidence: dict) -> list[dict[str, str]]:
    """The figures that raised a flag, labelled; engagement worked out when the reading
    had views, likes and comments but the rule did not need it."""
    figures = dict(evidence)
    views = figures.get("views_now", figures.get("views"))
    if "engagement_percent" not in figures and isinstance(views, int) and views > 0:
        liked = int(figures.get("likes", 0) or 0) + int(figures.get("comments", 0) or 0)
        figures["engagement_percent"] = liked / views * 100
    return [
        {"label": label, "value": _figure(figures[key], pattern)}
        for key, label, pattern in _EVIDENCE
        if key in figures
    ]


def series_points(series: list[tuple[datetime, int, int, int]]) -> list[dict]:
    """A post's readings as chart points (oldest first)."""
    return [
        {"at": f"{at:%d %b %H:%M}", "views": views, "likes": likes, "comments": comments}
        for at, views, likes, comments in series
    ]


def flag_card(view: FlagView) -> dict:
    """A flag as its card shows it."""
    return {
        "id": view.id,
        "status": str(view.status),
        "reason": view.reason,
        "evidence": evidence_rows(view.evidence),
        "series": series_points(view.series),
        "readings": len(view.series),
        "platform": PLATFORM_NAMES.get(view.platform, view.platform),
        "url": view.url,
        "views": f"{view.views:,}",
        "clipper": view.clipper_name,
        "clipper_href": routes.profile(view.clipper_id),
        "campaign": view.campaign_title or "No campaign",
        "held": format_cents(view.held_cents),
        "raised_at": when(view.created_at),
        "resolved_at": when(view.resolved_at),
        "note": view.resolution_note,
    }


def _duration(run: ViewSyncRun) -> str:
    if run.finished_at is None:
        return "Running"
    seconds = max(0, round((run.finished_at - run.started_at).total_seconds()))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def run_row(run: ViewSyncRun) -> dict[str, str]:
    """One sync run as the table shows it."""
    return {
        "id": str(run.id),
        "started": when(run.started_at),
        "duration": _duration(run),
        "posts": f"{run.publications:,}",
        "readings": f"{run.snapshots:,}",
        "verified": f"{run.verified:,}",
        "refused": f"{run.refused:,}",
        "unavailable": f"{run.unavailable:,}",
        "unread": f"{run.unread:,}",
        "api_calls": ", ".join(
            f"{PLATFORM_NAMES.get(p, p)} {n:,}" for p, n in sorted(run.calls_by_platform.items())
        )
        or f"{run.api_calls:,}",
        "quota_units": f"{run.quota_units:,}",
        "stats_calls": f"{run.stats_calls:,}",
        "flags": f"{run.flags_raised:,}",
        "bookings": f"{run.bookings:,}",
        "error": run.error
        + (f" (retry after {when(run.retry_at)})" if run.error and run.retry_at else ""),
    }


def _flags_page(*, session, actor: UserView, status: str):
    """One tab's flags, the open count and the latest sync runs, in one unit of work."""
    return (
        fraud.list_flags(session=session, actor=actor, status=status),
        fraud.open_flag_count(session=session, actor=actor),
        sync.last_runs(session=session, actor=actor),
    )


class AdminFlagsState(SessionState):
    tab: str = FlagStatus.OPEN.value
    flags: list[dict] = []
    open_count: int = 0
    runs: list[dict[str, str]] = []
    load_error: str = ""
    sync_error: str = ""
    # The clear / confirm dialog: which decision, on which flag, and a refusal.
    dialog_kind: str = ""
    dialog_flag_id: int = 0
    dialog_summary: str = ""
    dialog_held: str = ""
    dialog_error: str = ""

    @rx.var
    def dialog_open(self) -> bool:
        return self.dialog_flag_id > 0 and self.dialog_kind != ""

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        self.flags, self.runs, self.open_count = [], [], 0  # what a refusal leaves
        listed, open_count, runs = self._call_service(_flags_page, status=self.tab)
        self.flags = [flag_card(view) for view in listed]
        self.open_count = open_count
        self.runs = [run_row(run) for run in runs]
        return None

    def _close(self) -> None:
        self.dialog_kind, self.dialog_flag_id = "", 0
        self.dialog_summary = self.dialog_held = self.dialog_error = ""

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.tab = FlagStatus.OPEN.value
        self.sync_error = ""
        self._close()
        return self._load()

    @rx.event
    @limited("expensive_read")
    def show_tab(self, status: str):
        if status not in FLAG_TABS:
            return None
        self.tab = status
        self._close()
        return self._load()

    @rx.event
    @limited("expensive_read")
    def refresh(self):
        return self._load()

    @rx.event
    def start_decision(self, kind: str, flag_id: int):
        """Open the clear / confirm dialog for an open flag of the list (others are ignored)."""
        card = next((card for card in self.flags if card["id"] == row_id(flag_id)), None)
        if kind not in (CLEAR, CONFIRM) or card is None or card["status"] != FlagStatus.OPEN:
            return
        self.dialog_kind, self.dialog_flag_id = kind, card["id"]
        self.dialog_summary = f"{card['platform']} post by {card['clipper']} ({card['campaign']})"
        self.dialog_held = card["held"]
        self.dialog_error = ""

    @rx.event
    def close_dialog(self, open_: bool = False):
        if not open_:
            self._close()

    @rx.event
    @shows_refusals("dialog_error")
    @limited("write", "dialog_error")
    def decide(self, form_data: dict):
        """Clear the flag in the dialog (with an optional note) or confirm it (with a reason
        the clipper is told); the service refuses a decided flag or a missing reason."""
        self.dialog_error = ""
        text = field(form_data, "text")
        if self.dialog_kind == CLEAR:
            decided = self._call_service(fraud.clear_flag, flag_id=self.dialog_flag_id, note=text)
            message = (
                f"Flag cleared: the held {format_cents(decided.held_cents)} follow the "
                f"normal hold, and {decided.clipper_name} was told."
            )
        elif self.dialog_kind == CONFIRM:
            decided = self._call_service(
                fraud.confirm_flag, flag_id=self.dialog_flag_id, reason=text
            )
            message = (
                f"Fraud confirmed: {format_cents(decided.held_cents)} of held earnings "
                f"reversed, and {decided.clipper_name} was told why."
            )
        else:
            raise InvalidInput("Choose Clear or Confirm fraud on a flag first.")
        self._close()
        reloaded = self._load()
        return [rx.toast.success(message), *([reloaded] if reloaded else [])]

    @rx.event
    @shows_refusals("sync_error")
    @limited("write", "sync_error")
    def request_sync(self):
        """Ask a worker to read every post's views now."""
        self.sync_error = ""
        self._call_service(sync.request_view_sync)
        return rx.toast.success(
            "Sync queued: a worker reads every post's views now. Refresh to see the run."
        )
