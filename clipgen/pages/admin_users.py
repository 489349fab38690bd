"""Admin Users: every account, searched and filtered, and one account's page with its
roles, sign-ins, work, money and audit trail, where an admin suspends it (or lifts the
suspension) with a reason and adds the clipper or client role."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout, filter_select, section, status_badge
from clipgen.components.dialogs import reason_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.money import pager
from clipgen.state.admin_users import ANY, LIFT, SUSPEND, AdminUsersState, AdminUserState

MUTED = rx.color("gray", 11)
ROLE_CHOICES = [
    (ANY, "Any role"),
    ("clipper", "Clippers"),
    ("client", "Clients"),
    ("admin", "Admins"),
]
STANDING_CHOICES = [(ANY, "Any standing"), ("active", "Active"), ("suspended", "Suspended")]


def _muted(*children, **props) -> rx.Component:
    return rx.text(*children, size="2", color=MUTED, **props)


def _standing_badge(standing) -> rx.Component:
    return rx.badge(
        standing,
        color_scheme=rx.cond(standing == "suspended", "red", "green"),
        variant="soft",
        custom_attrs={"data-testid": "user-standing"},
    )


def _table(columns: list[tuple[str, str]], rows, testid: str, empty: str) -> rx.Component:
    """A small table of plain rows (`columns` are label, key), or a line saying it is empty."""

    def row(item: rx.Var) -> rx.Component:
        return rx.table.row(
            *[
                rx.table.cell(
                    status_badge(item[key]) if key == "status" else rx.text(item[key], size="2")
                )
                for _label, key in columns
            ],
            custom_attrs={"data-testid": f"{testid}-row"},
        )

    return rx.cond(
        rows.length() == 0,
        _muted(empty, custom_attrs={"data-testid": f"{testid}-empty"}),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(label) for label, _key in columns])
                ),
                rx.table.body(rx.foreach(rows, row)),
                variant="surface",
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
    )


# --- /admin/users ----------------------------------------------------------------------------


def _filter_select(label: str, name: str, value, choices: list[tuple[str, str]]) -> rx.Component:
    return filter_select(
        label,
        f"users-{name}",
        value,
        choices,
        lambda choice: AdminUsersState.set_filter(name, choice),
    )


def _filters() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.form(
                rx.hstack(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=16)),
                        name="query",
                        placeholder="Search email or name",
                        default_value=AdminUsersState.query,
                        max_length=100,
                        flex="1",
                        min_width="220px",
                        custom_attrs={"data-testid": "users-search"},
                    ),
                    rx.button(
                        "Search", type="submit", custom_attrs={"data-testid": "users-search-go"}
                    ),
                    spacing="2",
                    width="100%",
                ),
                key=AdminUsersState.form_key,
                on_submit=AdminUsersState.search,
                flex="1",
            ),
            _filter_select("Role", "role", AdminUsersState.role, ROLE_CHOICES),
            _filter_select("Standing", "standing", AdminUsersState.standing, STANDING_CHOICES),
            rx.button(
                "Clear",
                variant="ghost",
                on_click=AdminUsersState.clear_filters,
                custom_attrs={"data-testid": "users-clear"},
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        width="100%",
    )


def _user_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row["email"],
                href=row["href"],
                weight="medium",
                custom_attrs={"data-testid": "user-link"},
            )
        ),
        rx.table.cell(rx.text(row["name"], size="2")),
        rx.table.cell(rx.text(row["roles"], size="2")),
        rx.table.cell(_standing_badge(row["standing"])),
        rx.table.cell(rx.text(row["joined"], size="2", white_space="nowrap")),
        custom_attrs={"data-testid": "user-row"},
    )


@template(routes.ADMIN_USERS, "Users", role="admin", on_load=AdminUsersState.open_page)
def admin_users() -> rx.Component:
    return rx.vstack(
        page_header("Users", "Every account, its roles and standing. Open one to act on it."),
        _filters(),
        error_callout(AdminUsersState.error, "users-error"),
        _muted(
            AdminUsersState.total,
            rx.cond(AdminUsersState.total == 1, " account", " accounts"),
            custom_attrs={"data-testid": "users-total"},
        ),
        rx.cond(
            AdminUsersState.rows.length() == 0,
            _muted("No account matches.", custom_attrs={"data-testid": "users-empty"}),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(label)
                                for label in ("Email", "Name", "Roles", "Standing", "Joined")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(AdminUsersState.rows, _user_row)),
                    variant="surface",
                    size="2",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        pager(AdminUsersState.page, AdminUsersState.page_count, AdminUsersState.go_to_page),
        spacing="4",
        width="100%",
    )


# --- /admin/users/<id> -----------------------------------------------------------------------

State = AdminUserState


def _suspension_callout() -> rx.Component:
    return rx.cond(
        State.is_suspended,
        rx.vstack(
            rx.callout(
                rx.text(
                    rx.text.strong("Suspended "),
                    State.account["suspended_at"],
                    rx.cond(State.suspended_by != "", rx.fragment(" by ", State.suspended_by)),
                    ": ",
                    State.account["reason"],
                ),
                icon="ban",
                color_scheme="red",
                width="100%",
                custom_attrs={"data-testid": "suspension-callout"},
            ),
            rx.text(
                "Its sign-in is refused and its earnings are held (not taken). Lifting the "
                "suspension resumes the campaigns it paused; the claims it closed stay closed.",
                size="1",
                color=MUTED,
            ),
            spacing="1",
            width="100%",
        ),
    )


def _actions() -> rx.Component:
    return rx.hstack(
        rx.cond(
            State.can_add_clipper,
            rx.button(
                rx.icon("plus", size=14),
                "Add clipper role",
                variant="soft",
                on_click=State.add_role("clipper"),
                custom_attrs={"data-testid": "add-clipper"},
            ),
        ),
        rx.cond(
            State.can_add_client,
            rx.button(
                rx.icon("plus", size=14),
                "Add client role",
                variant="soft",
                on_click=State.add_role("client"),
                custom_attrs={"data-testid": "add-client"},
            ),
        ),
        rx.spacer(),
        rx.cond(
            State.is_suspended,
            rx.button(
                rx.icon("circle-check", size=14),
                "Lift suspension…",
                color_scheme="green",
                on_click=State.start_dialog(LIFT),
                custom_attrs={"data-testid": "lift-suspension"},
            ),
            rx.button(
                rx.icon("ban", size=14),
                "Suspend…",
                color_scheme="red",
                on_click=State.start_dialog(SUSPEND),
                custom_attrs={"data-testid": "suspend-user"},
            ),
        ),
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def _dialog() -> rx.Component:
    suspending = State.dialog_kind == SUSPEND
    return reason_dialog(
        open=State.dialog_open,
        on_close=State.close_dialog,
        title=rx.cond(suspending, "Suspend this account?", "Lift the suspension?"),
        description=rx.cond(
            suspending,
            "It is signed out everywhere at once and cannot sign in; it is told your reason "
            "and how to appeal. Its open claims close, its active campaigns pause and its "
            "earnings are held until the suspension is lifted.",
            "It may sign in again, the campaigns the suspension paused go live again and its "
            "earnings can be paid out. Claims closed by the suspension stay closed.",
        ),
        summary=State.account["email"],
        field_name="reason",
        placeholder=rx.cond(
            suspending,
            "Why the account is suspended (the account is told this)",
            "Why the suspension is lifted",
        ),
        field_testid="suspension-reason",
        field_label="Reason",
        field_props={"rows": "3", "max_length": 500},
        error=State.dialog_error,
        error_testid="suspension-dialog-error",
        submit_label=rx.cond(suspending, "Suspend", "Lift suspension"),
        submit_color=rx.cond(suspending, "red", "green"),
        submit_testid="suspension-submit",
        on_submit=State.decide,
        form_key=State.dialog_key,
    )


@template(routes.ADMIN_USER, "Account", role="admin", on_load=AdminUserState.open_page)
def admin_user() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "All users", align="center", spacing="1"),
            href=routes.ADMIN_USERS,
            size="2",
        ),
        error_callout(State.load_error, "user-error"),
        rx.cond(
            State.account.contains("email"),
            rx.vstack(
                rx.hstack(
                    rx.heading(
                        State.account["email"], size="6", custom_attrs={"data-testid": "page-title"}
                    ),
                    _standing_badge(State.account["standing"]),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                _muted(
                    State.account["name"],
                    " · ",
                    rx.el.span(State.account["roles"], custom_attrs={"data-testid": "user-roles"}),
                    " · joined ",
                    State.account["joined"],
                ),
                _suspension_callout(),
                error_callout(State.action_error, "user-action-error"),
                _actions(),
                section(
                    "Money",
                    rx.cond(
                        State.money.length() == 0,
                        _muted("No clipper or client money."),
                        rx.hstack(
                            rx.foreach(
                                State.money,
                                lambda item: rx.card(
                                    rx.text(item["label"], size="1", color=MUTED),
                                    rx.text(item["value"], size="4", weight="bold"),
                                    custom_attrs={"data-testid": "money-figure"},
                                ),
                            ),
                            spacing="3",
                            wrap="wrap",
                        ),
                    ),
                    _table(
                        [("Requested", "at"), ("Amount", "amount"), ("Status", "status")],
                        State.payouts,
                        "payout",
                        "No payouts.",
                    ),
                ),
                section(
                    "Sign-ins",
                    _table(
                        [
                            ("Signed in", "at"),
                            ("Last seen", "last_seen"),
                            ("Address", "address"),
                            ("Browser", "browser"),
                            ("Session", "state"),
                        ],
                        State.sign_ins,
                        "sign-in",
                        "Never signed in.",
                    ),
                ),
                section(
                    "Campaigns",
                    _table(
                        [("Created", "at"), ("Title", "title"), ("Status", "status")],
                        State.campaigns,
                        "campaign",
                        "No campaigns.",
                    ),
                ),
                section(
                    "Claims",
                    _table(
                        [("Claimed", "at"), ("Campaign", "title"), ("State", "status")],
                        State.claims,
                        "claim",
                        "No claims.",
                    ),
                ),
                section(
                    "Submissions",
                    _table(
                        [("Handed in", "at"), ("Campaign", "title"), ("Status", "status")],
                        State.submissions,
                        "submission",
                        "No submissions.",
                    ),
                ),
                section(
                    "Flags",
                    _table(
                        [("Raised", "at"), ("Reason", "reason"), ("Status", "status")],
                        State.flags,
                        "flag",
                        "No flags.",
                    ),
                ),
                section(
                    "Audit trail",
                    _table(
                        [
                            ("When", "at"),
                            ("Action", "action"),
                            ("By", "by"),
                            ("Address", "address"),
                            ("Details", "details"),
                        ],
                        State.audit,
                        "audit",
                        "Nothing recorded.",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
        ),
        _dialog(),
        spacing="4",
        width="100%",
    )
