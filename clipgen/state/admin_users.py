"""Admin Users: the list of accounts (search, role and standing filters, pages) and one
account's page (roles, sign-ins, work, money, audit trail) with Suspend, Lift suspension
and Add role.

Handlers call one service each (the services check that an admin is asking, and refuse
suspending yourself or another admin) and copy plain values into vars.
"""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.services import admin_users
from clipgen.services.admin_users import AccountDetail, UserRow
from clipgen.services.errors import InvalidInput
from clipgen.services.money.amounts import format_cents
from clipgen.state.client import request_client_address
from clipgen.state.formats import when
from clipgen.state.forms import field
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

ANY = "any"
SUSPEND = "suspend"
LIFT = "lift"
ROLE_WORDS = {"clipper": "Clipper", "client": "Client", "admin": "Admin"}


# --- plain values for the pages --------------------------------------------------------------


def user_row(row: UserRow) -> dict[str, str]:
    """An account as the list and the account page show it."""
    return {
        "id": str(row.id),
        "href": routes.admin_user(row.id),
        "email": row.email,
        "name": row.display_name,
        "roles": ", ".join(ROLE_WORDS.get(role, role) for role in row.roles) or "No role",
        "joined": when(row.created_at),
        "standing": "suspended" if row.suspended_at else "active",
        "suspended_at": when(row.suspended_at),
        "reason": row.suspension_reason,
    }


def _money(detail: AccountDetail) -> list[dict[str, str]]:
    figures: list[dict[str, str]] = []
    if detail.clipper_money is not None:
        money = detail.clipper_money
        figures += [
            {"label": "Pending", "value": format_cents(money.pending_cents)},
            {"label": "Available", "value": format_cents(money.available_cents)},
            {"label": "In payout", "value": format_cents(money.in_payout_cents)},
            {"label": "Paid out", "value": format_cents(money.paid_cents)},
            {"label": "Tier", "value": money.standing.tier.title()},
        ]
    if detail.client_balance_cents is not None:
        figures.append(
            {"label": "Client balance", "value": format_cents(detail.client_balance_cents)}
        )
    return figures


def account_page(detail: AccountDetail) -> dict:
    """Every section of the account page, as lists of plain rows."""
    return {
        "user": user_row(detail.user),
        "suspended_by": detail.suspended_by,
        "sign_ins": [
            {
                "at": when(row.at),
                "last_seen": when(row.last_seen_at),
                "address": row.address or "unknown",
                "browser": row.user_agent[:80],
                "state": "ended" if row.ended else "live",
            }
            for row in detail.sign_ins
        ],
        "campaigns": [
            {"title": row.title, "status": row.status, "at": when(row.at)}
            for row in detail.campaigns
        ],
        "claims": [
            {"title": row.title, "status": row.status, "at": when(row.at)} for row in detail.claims
        ],
        "submissions": [
            {"title": row.campaign_title, "status": row.status, "at": when(row.at)}
            for row in detail.submissions
        ],
        "flags": [
            {"reason": row.reason, "status": row.status, "at": when(row.at)} for row in detail.flags
        ],
        "money": _money(detail),
        "payouts": [
            {
                "amount": format_cents(row.amount_cents),
                "status": row.status,
                "at": when(row.requested_at),
            }
            for row in detail.payouts
        ],
        "audit": [
            {
                "at": when(row.at),
                "action": row.action,
                "by": row.by,
                "address": row.address,
                "details": row.details,
            }
            for row in detail.audit
        ],
    }


# --- /admin/users ----------------------------------------------------------------------------


class AdminUsersState(SessionState):
    """Accounts, searched by email or name and filtered by role and standing."""

    query: str = ""
    role: str = ANY
    standing: str = ANY
    page: int = 1
    page_count: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    error: str = ""
    # A new key draws the search form afresh (after clearing).
    form_key: int = 0

    @shows_refusals("error")
    def _load(self):
        self.error = ""
        self.rows, self.total, self.page_count = [], 0, 1  # what a refusal leaves
        result = self._call_service(
            admin_users.search_users,
            query=self.query,
            role="" if self.role == ANY else self.role,
            standing="" if self.standing == ANY else self.standing,
            page=self.page,
        )
        self.rows = [user_row(row) for row in result.items]
        self.page, self.total, self.page_count = result.page, result.total, result.pages
        return None

    @rx.event
    @limited("expensive_read", "error")
    def open_page(self):
        self.query, self.role, self.standing, self.page = "", ANY, ANY, 1
        self.form_key += 1
        return self._load()

    @rx.event
    @limited("expensive_read", "error")
    def search(self, form_data: dict):
        self.query = " ".join(field(form_data, "query").split())[:100]
        self.page = 1
        return self._load()

    @rx.event
    @limited("expensive_read", "error")
    def set_filter(self, name: str, value: str):
        """One setter for the role and standing selects; anything else is ignored."""
        if name not in ("role", "standing") or not isinstance(value, str):
            return None
        setattr(self, name, value[:20])
        self.page = 1
        return self._load()

    @rx.event
    @limited("expensive_read", "error")
    def clear_filters(self):
        self.query, self.role, self.standing, self.page = "", ANY, ANY, 1
        self.form_key += 1
        return self._load()

    @rx.event
    @limited("expensive_read", "error")
    def go_to_page(self, page: int):
        if isinstance(page, bool) or not isinstance(page, int):
            return None
        self.page = max(1, min(page, self.page_count))
        return self._load()


# --- /admin/users/<id> -----------------------------------------------------------------------


class AdminUserState(SessionState):
    """One account, with Suspend / Lift suspension (each asks for a reason) and Add role."""

    user_id: int = 0
    account: dict[str, str] = {}
    suspended_by: str = ""
    sign_ins: list[dict[str, str]] = []
    campaigns: list[dict[str, str]] = []
    claims: list[dict[str, str]] = []
    submissions: list[dict[str, str]] = []
    flags: list[dict[str, str]] = []
    money: list[dict[str, str]] = []
    payouts: list[dict[str, str]] = []
    audit: list[dict[str, str]] = []
    load_error: str = ""
    action_error: str = ""
    # The suspend / lift dialog: which, and its refusal.
    dialog_kind: str = ""
    dialog_error: str = ""
    dialog_key: int = 0

    @rx.var
    def dialog_open(self) -> bool:
        return self.dialog_kind != ""

    @rx.var
    def is_suspended(self) -> bool:
        return self.account.get("standing", "") == "suspended"

    @rx.var
    def can_add_clipper(self) -> bool:
        return bool(self.account) and "Clipper" not in self.account.get("roles", "")

    @rx.var
    def can_add_client(self) -> bool:
        return bool(self.account) and "Client" not in self.account.get("roles", "")

    def _clear(self) -> None:
        self.account, self.suspended_by = {}, ""
        self.sign_ins, self.campaigns, self.claims, self.submissions = [], [], [], []
        self.flags, self.money, self.payouts, self.audit = [], [], [], []

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        self._clear()  # what a refusal leaves
        detail = self._call_service(admin_users.user_detail, user_id=self.user_id)
        page = account_page(detail)
        self.account = page["user"]
        self.suspended_by = page["suspended_by"]
        for name in (
            "sign_ins",
            "campaigns",
            "claims",
            "submissions",
            "flags",
            "money",
            "payouts",
            "audit",
        ):
            setattr(self, name, page[name])
        return None

    def _close(self) -> None:
        self.dialog_kind, self.dialog_error = "", ""

    @rx.event
    @limited("expensive_read", "load_error")
    def open_page(self):
        self.user_id = self._route_id("/admin/users")
        self.action_error = ""
        self._close()
        return self._load()

    @rx.event
    def start_dialog(self, kind: str):
        """Open the suspend or the lift dialog (anything else is ignored)."""
        if kind not in (SUSPEND, LIFT) or not self.account:
            return
        self.dialog_kind, self.dialog_error = kind, ""
        self.dialog_key += 1

    @rx.event
    def close_dialog(self, open_: bool = False):
        if not open_:
            self._close()

    @rx.event
    @shows_refusals("dialog_error")
    @limited("write", "dialog_error")
    def decide(self, form_data: dict):
        """Suspend the account or lift its suspension, with the reason typed in the dialog;
        the service refuses an empty reason, yourself, an admin, and a repeat."""
        self.dialog_error = ""
        reason = field(form_data, "reason")
        address = request_client_address(self.router)
        if self.dialog_kind == SUSPEND:
            done = self._call_service(
                admin_users.suspend_user, user_id=self.user_id, reason=reason, client_ip=address
            )
            message = (
                f"{done.email} is suspended: signed out everywhere, open claims closed, "
                "active campaigns paused and earnings held."
            )
        elif self.dialog_kind == LIFT:
            done = self._call_service(
                admin_users.lift_suspension, user_id=self.user_id, reason=reason, client_ip=address
            )
            message = (
                f"{done.email} may sign in again; the campaigns the suspension paused are "
                "live again and earnings can be paid out."
            )
        else:
            raise InvalidInput("Choose Suspend or Lift suspension first.")
        self._close()
        reloaded = self._load()
        return [rx.toast.success(message), *([reloaded] if reloaded else [])]

    @rx.event
    @shows_refusals("action_error")
    @limited("write", "action_error")
    def add_role(self, role: str):
        """Give the account the clipper or client role (the service refuses any other)."""
        self.action_error = ""
        done = self._call_service(
            admin_users.add_role,
            user_id=self.user_id,
            role=role if isinstance(role, str) else "",
            client_ip=request_client_address(self.router),
        )
        reloaded = self._load()
        toast = rx.toast.success(f"{done.email} now has the {role} role.")
        return [toast, *([reloaded] if reloaded else [])]
