"""The bell in the top bar and the Notifications page.

Every signed-in page refreshes the unread count when it loads and every
`REFRESH_MS` while it stays open; opening the bell loads the latest items.
Handlers re-check the session cookie on the server each time (`_call_service`),
copy plain strings into vars, and never trust an id or a link from the browser:
the link a notification opens is read from the database, and only in-app paths
are followed.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from clipgen import routes
from clipgen.models import utcnow
from clipgen.services import notifications
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, ServiceError
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import NotificationView
from clipgen.state.formats import age, when
from clipgen.state.forms import row_id
from clipgen.state.limits import limited
from clipgen.state.session import SessionState

BELL_ITEMS = 10
PAGE_ITEMS = notifications.MAX_LIST
REFRESH_MS = 30_000
MAX_BADGE = 99

# What each kind of notification is about, as a word the list shows beside it.
KIND_LABELS = {
    Kind.CLAIM_EXPIRING: "Claim",
    Kind.CLAIM_EXPIRED: "Claim",
    Kind.CLAIM_CLOSED: "Claim",
    Kind.SUBMISSION_RECEIVED: "Review",
    Kind.SUBMISSION_APPROVED: "Approved",
    Kind.SUBMISSION_REJECTED: "Rejected",
    Kind.REVISION_REQUESTED: "Revision",
    Kind.CAMPAIGN_FUNDED: "Campaign",
    Kind.CAMPAIGN_EXHAUSTED: "Campaign",
    Kind.CAMPAIGN_COMPLETED: "Campaign",
    Kind.RATED: "Rating",
    Kind.PAYOUT_PAID: "Payout",
    Kind.PAYOUT_FAILED: "Payout",
    Kind.PAYOUT_ACCOUNT_UPDATED: "Payout",
    Kind.COUNTS_REPORTED: "Views",
    Kind.COUNTS_CONFIRMED: "Views",
    Kind.COUNTS_DECLINED: "Views",
    Kind.POST_VERIFIED: "Views",
    Kind.POST_REFUSED: "Views",
}


def in_app_link(link: str) -> str:
    """The notification's link if it is a path of this app; "" for anything else."""
    return link if routes.is_app_path(link) else ""


def notification_row(view: NotificationView, now: datetime) -> dict[str, str]:
    """One notification as the bell and the page show it: plain strings only."""
    return {
        "id": str(view.id),
        "kind": KIND_LABELS.get(view.kind, "Update"),
        "message": view.message,
        "age": age(view.created_at, now),
        "at": when(view.created_at),
        "status": "read" if view.is_read else "unread",
        "has_link": "yes" if in_app_link(view.link) else "",
    }


def notification_id(value: object) -> int:
    """A notification id sent by the page (see `forms.row_id`), or a refusal in words."""
    found = row_id(value)
    if not found:
        raise InvalidInput("That notification was not found.")
    return found


def _latest(*, session, actor: UserView, limit: int) -> tuple[int, list[NotificationView]]:
    """The unread count and the latest notifications, in one unit of work."""
    return (
        notifications.unread_count(session=session, actor=actor),
        notifications.list_notifications(session=session, actor=actor, limit=limit),
    )


def _read_one(*, session, actor: UserView, notification_id: int) -> str:
    """Mark one of the actor's notifications read; the in-app link it points to, or ""."""
    notifications.mark_read(session=session, actor=actor, notification_id=notification_id)
    for view in notifications.list_notifications(
        session=session, actor=actor, limit=notifications.MAX_LIST
    ):
        if view.id == notification_id:
            return in_app_link(view.link)
    return ""


class NotificationsState(SessionState):
    """The signed-in user's unread count, the bell's list and the Notifications page."""

    unread: int = 0
    bell_open: bool = False
    bell_items: list[dict[str, str]] = []
    bell_loaded: bool = False
    page_items: list[dict[str, str]] = []
    page_loaded: bool = False
    error: str = ""

    @rx.var
    def badge(self) -> str:
        """The badge's text; empty (hidden) when nothing is unread."""
        if self.unread <= 0:
            return ""
        return f"{MAX_BADGE}+" if self.unread > MAX_BADGE else str(self.unread)

    @rx.var
    def bell_label(self) -> str:
        if self.unread <= 0:
            return "Notifications"
        return f"Notifications, {self.unread} unread"

    def _forget(self) -> None:
        """Signed out (or never in): nothing to show."""
        self.unread = 0
        self.bell_items = []
        self.page_items = []
        self.bell_open = False

    def _load(self, *, bell: bool = False, page: bool = False) -> bool:
        """Read the count (and the lists asked for); whether the user is signed in."""
        self.error = ""
        limit = PAGE_ITEMS if page else BELL_ITEMS
        try:
            unread, latest = self._call_service(_latest, limit=limit)
        except NotAuthenticated:
            self._forget()
            return False
        except ServiceError as error:
            self.error = str(error)
            return True
        now = utcnow()
        rows = [notification_row(view, now) for view in latest]
        self.unread = unread
        if bell or self.bell_open:
            self.bell_items, self.bell_loaded = rows[:BELL_ITEMS], True
        if page:
            self.page_items, self.page_loaded = rows, True
        return True

    def _to_sign_in(self):
        self._forget()
        return self._to_login()

    @rx.event
    @limited("expensive_read")
    def refresh(self, _now: str = ""):
        """The count, on every signed-in page's load and on a timer (quiet when signed out)."""
        self._load()

    @rx.event
    @limited("expensive_read")
    def toggle_bell(self, is_open: bool):
        """The bell opened or closed; opening it loads the latest notifications."""
        self.bell_open = is_open is True
        if self.bell_open and not self._load(bell=True):
            return self._to_sign_in()
        return None

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        """The Notifications page: the latest `PAGE_ITEMS`, read or not."""
        self.page_loaded = False
        if not self._load(page=True):
            return self._to_sign_in()
        return None

    @rx.event
    @limited("write")
    def open_notification(self, sent_id: str):
        """Mark one notification read and go where it points (only ever inside the app)."""
        try:
            link = self._call_service(_read_one, notification_id=notification_id(sent_id))
        except NotAuthenticated:
            return self._to_sign_in()
        except ServiceError as error:
            self._load(page=self.page_loaded)  # it may have been deleted meanwhile
            self.error = str(error)
            return rx.toast.error(str(error))
        self.bell_open = False
        self._load(page=self.page_loaded)
        return rx.redirect(link) if link else None

    @rx.event
    @limited("write")
    def mark_all_read(self):
        """Mark every unread notification of the user read."""
        try:
            self._call_service(notifications.mark_all_read)
        except NotAuthenticated:
            return self._to_sign_in()
        except ServiceError as error:
            self.error = str(error)
            return rx.toast.error(str(error))
        self._load(page=self.page_loaded)
        return None
