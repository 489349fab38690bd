"""Appeals: the clipper's Appeal button and dialog on a rejected claim or a confirmed flag,
the client's and the admins' list of appeals to decide, and the public /appeal page where
a suspended account (which cannot sign in) appeals with its email and password.

Handlers call one service each (the services check who is asking and what may be
appealed or decided) and copy plain values into vars.
"""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import AppealKind, AppealStatus
from clipgen.services import appeals
from clipgen.services.appeals import AppealTarget, AppealView
from clipgen.services.errors import InvalidInput, ServiceError
from clipgen.state.client import request_client_address
from clipgen.state.formats import when
from clipgen.state.forms import field, row_id
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

STATUS_WORDS = {
    AppealStatus.OPEN.value: "Waiting for a decision",
    AppealStatus.UPHELD.value: "Turned down",
    AppealStatus.OVERTURNED.value: "Accepted",
}
KIND_LABELS = {
    AppealKind.REJECTION.value: "Rejection",
    AppealKind.FLAG.value: "Fraud flag",
    AppealKind.SUSPENSION.value: "Suspension",
}
OVERTURN = "overturn"
UPHOLD = "uphold"


def appeal_card(view: AppealView) -> dict:
    """An appeal as its card shows it."""
    return {
        "id": view.id,
        "kind": view.kind,
        "kind_label": KIND_LABELS.get(view.kind, view.kind),
        "status": view.status,
        "status_words": STATUS_WORDS.get(view.status, view.status),
        "subject": view.subject,
        "decision": view.decision,
        "message": view.message,
        "decision_reason": view.decision_reason,
        "appellant": view.appellant_name,
        "filed_at": when(view.created_at),
        "decided_at": when(view.decided_at),
        "link": view.link,
    }


class AppealState(SessionState):
    """The clipper's appeal of the decision shown on this page (a claim's rejection, a
    clip's confirmed fraud flag)."""

    target_kind: str = ""
    target_id: int = 0
    appeal: dict = {}
    dialog_open: bool = False
    dialog_error: str = ""

    def _show(self, target: AppealTarget | None) -> None:
        self.target_kind = target.kind if target else ""
        self.target_id = target.subject_id if target else 0
        self.appeal = appeal_card(target.appeal) if target and target.appeal else {}

    @rx.var
    def can_appeal(self) -> bool:
        return self.target_id > 0 and not self.appeal

    @rx.event
    @limited("expensive_read")
    def open_for_claim(self):
        """The claim page (/work/<id>): its rejection, if any."""
        self._show(None)
        self.dialog_open = False
        if "clipper" not in self.roles:
            return None
        return self._load_claim()

    @shows_refusals("dialog_error")
    def _load_claim(self):
        self._show(
            self._call_service(appeals.claim_appeal_target, job_id=self._route_id(routes.MY_WORK))
        )

    @rx.event
    @limited("expensive_read")
    def open_for_performance(self):
        """A clip's performance page (/performance/<id>): its confirmed flag, if any."""
        self._show(None)
        self.dialog_open = False
        if "clipper" not in self.roles:
            return None
        return self._load_flag()

    @shows_refusals("dialog_error")
    def _load_flag(self):
        self._show(
            self._call_service(
                appeals.flag_appeal_target,
                submission_id=self._route_id(routes.CLIP_PERFORMANCE.split("/[")[0]),
            )
        )

    @rx.event
    def set_dialog(self, open_: bool):
        self.dialog_open = bool(open_) and self.can_appeal
        self.dialog_error = ""

    @rx.event
    @shows_refusals("dialog_error")
    @limited("write", "dialog_error")
    def send(self, form_data: dict):
        """File the appeal with the message typed in the dialog."""
        self.dialog_error = ""
        if self.target_kind not in (AppealKind.REJECTION, AppealKind.FLAG):
            raise InvalidInput("There is nothing on this page to appeal.")
        view = self._call_service(
            appeals.file_appeal,
            kind=self.target_kind,
            subject_id=self.target_id,
            message=field(form_data, "message"),
        )
        self.appeal = appeal_card(view)
        self.dialog_open = False
        who = "the client" if view.kind == AppealKind.REJECTION else "our admins"
        return rx.toast.success(f"Appeal sent; {who} will decide and you will be told.")


class AppealDecisionsState(SessionState):
    """Appeals to decide: a client's (rejections of their clips) on Reviews, the admins'
    (fraud flags, suspensions) on Admin Flags."""

    scope: str = ""  # "client" or "admin"
    status_filter: str = AppealStatus.OPEN.value
    items: list[dict] = []
    load_error: str = ""
    dialog_kind: str = ""  # OVERTURN or UPHOLD
    dialog_appeal_id: int = 0
    dialog_summary: str = ""
    dialog_error: str = ""

    @rx.var
    def dialog_open(self) -> bool:
        return self.dialog_appeal_id > 0 and self.dialog_kind != ""

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        self.items = []
        service = appeals.admin_appeals if self.scope == "admin" else appeals.client_appeals
        found = self._call_service(service, status=self.status_filter)
        self.items = [appeal_card(view) for view in found]

    @rx.event
    @limited("expensive_read")
    def open_client(self):
        self.scope = "client"
        self.status_filter = AppealStatus.OPEN.value
        self.dialog_appeal_id = 0
        if "client" not in self.roles:
            self.items = []
            return None
        return self._load()

    @rx.event
    @limited("expensive_read")
    def open_admin(self):
        self.scope = "admin"
        self.status_filter = AppealStatus.OPEN.value
        self.dialog_appeal_id = 0
        if "admin" not in self.roles:
            self.items = []
            return None
        return self._load()

    @rx.event
    @limited("expensive_read")
    def show_status(self, status: str):
        if status not in STATUS_WORDS:
            return None
        self.status_filter = status
        return self._load()

    @rx.event
    def open_dialog(self, kind: str, appeal_id: int):
        """Open the overturn / uphold dialog for a card on the page (others are ignored)."""
        card = next((c for c in self.items if c["id"] == row_id(appeal_id)), None)
        if card is None or kind not in (OVERTURN, UPHOLD) or card["status"] != "open":
            return
        self.dialog_kind = kind
        self.dialog_appeal_id = card["id"]
        self.dialog_summary = f"{card['kind_label']}: {card['subject']} ({card['appellant']})"
        self.dialog_error = ""

    @rx.event
    def close_dialog(self, open_: bool = False):
        if not open_:
            self.dialog_kind = ""
            self.dialog_appeal_id = 0
            self.dialog_error = ""

    @rx.event
    @shows_refusals("dialog_error")
    @limited("write", "dialog_error")
    def decide(self, form_data: dict):
        """Overturn or uphold the appeal with the reason typed in the dialog."""
        self.dialog_error = ""
        if self.dialog_kind not in (OVERTURN, UPHOLD):
            raise InvalidInput("Choose whether to accept or turn down the appeal again.")
        view = self._call_service(
            appeals.decide_appeal,
            appeal_id=self.dialog_appeal_id,
            overturn=self.dialog_kind == OVERTURN,
            reason=field(form_data, "reason"),
        )
        self.dialog_kind = ""
        self.dialog_appeal_id = 0
        self._load()
        words = "accepted" if view.status == AppealStatus.OVERTURNED else "turned down"
        return rx.toast.success(f"Appeal {words}; {view.appellant_name} has been told.")


class PublicAppealState(SessionState):
    """/appeal: a suspended account proves who it is (email and password, counted like
    sign-ins) to see why it was suspended and its appeal, or to send one. No session is
    opened and nothing about the account is kept in vars but what this page shows."""

    error: str = ""
    checked: bool = False
    reason: str = ""
    suspended_at: str = ""
    appeal: dict = {}

    def _client_ip(self) -> str:
        return request_client_address(self.router)

    def _status(self, email: str, password: str) -> None:
        with session_scope() as session:
            found = appeals.suspension_status(
                session=session, email=email, password=password, client_ip=self._client_ip()
            )
        self.checked = True
        self.reason = found.reason
        self.suspended_at = when(found.suspended_at)
        self.appeal = appeal_card(found.appeal) if found.appeal else {}

    @rx.event
    def open_page(self):
        self.error = ""
        self.checked = False
        self.reason = ""
        self.suspended_at = ""
        self.appeal = {}

    @rx.event
    @limited("auth_form", "error")
    def submit(self, form_data: dict):
        """With a message: send the appeal; without: show the suspension and its appeal."""
        self.error = ""
        email, password = field(form_data, "email"), field(form_data, "password")
        message = field(form_data, "message")
        try:
            if message.strip():
                with session_scope() as session:
                    appeals.file_suspension_appeal(
                        session=session,
                        email=email,
                        password=password,
                        message=message,
                        client_ip=self._client_ip(),
                    )
            self._status(email, password)
        except ServiceError as error:
            self.error = str(error)
            return None
        if message.strip():
            return rx.toast.success(
                "Appeal sent; an admin will decide and you will be emailed the decision."
            )
        return None
