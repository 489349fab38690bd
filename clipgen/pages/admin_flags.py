"""Admin Flags: flagged posts by state, each with its evidence and views chart, the clear /
confirm decisions, and the view sync's latest runs with "Sync now"."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.appeals import appeals_to_decide
from clipgen.components.blocks import error_callout, section
from clipgen.components.dialogs import reason_dialog
from clipgen.components.layout import template
from clipgen.state.appeals import AppealDecisionsState
from clipgen.state.flags import CLEAR, CONFIRM, FLAG_TABS, AdminFlagsState

State = AdminFlagsState

_RUN_COLUMNS = (
    ("Started", "started"),
    ("Duration", "duration"),
    ("Posts", "posts"),
    ("Readings", "readings"),
    ("Verified", "verified"),
    ("Refused", "refused"),
    ("Unavailable", "unavailable"),
    ("Not readable", "unread"),
    ("API calls", "api_calls"),
    ("Quota units", "quota_units"),
    ("batchGetStats", "stats_calls"),
    ("Flags", "flags"),
    ("Bookings", "bookings"),
    ("Error", "error"),
)


def _muted(*children, **props) -> rx.Component:
    return rx.text(*children, size="2", color=rx.color("gray", 11), **props)


def _flag_badge(status) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(
            status, ("open", "amber"), ("cleared", "green"), ("overturned", "blue"), "red"
        ),
        variant="soft",
        custom_attrs={"data-testid": "flag-status"},
    )


# --- the view sync ------------------------------------------------------------------------


def _run_row(run: rx.Var) -> rx.Component:
    return rx.table.row(
        *[
            rx.table.cell(
                rx.text(
                    run[key],
                    size="1",
                    white_space="nowrap" if key != "error" else "normal",
                    color=rx.color("red", 11) if key == "error" else None,
                )
            )
            for _label, key in _RUN_COLUMNS
        ],
        custom_attrs={"data-testid": "sync-run-row"},
    )


def _view_sync() -> rx.Component:
    return section(
        "View sync",
        rx.hstack(
            _muted(
                "Verifies waiting posts and reads every verified post's views on YouTube, "
                "TikTok and Instagram on schedule. Posts ClipGen cannot ask about (the "
                "platform is not set up, or the clipper did not connect the account) are Not "
                "readable: their counts are entered or confirmed by the campaign's client. A "
                "reading far above a post's trend raises a flag."
            ),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Sync now",
                variant="soft",
                on_click=State.request_sync,
                custom_attrs={"data-testid": "sync-now"},
            ),
            rx.icon_button(
                rx.icon("rotate-ccw", size=14),
                variant="ghost",
                on_click=State.refresh,
                custom_attrs={"data-testid": "flags-refresh", "aria-label": "Refresh"},
            ),
            align="center",
            width="100%",
            spacing="3",
            wrap=rx.breakpoints(initial="wrap", sm="nowrap"),
        ),
        error_callout(State.sync_error, "sync-error"),
        rx.cond(
            State.runs.length() == 0,
            _muted("No sync has run yet.", custom_attrs={"data-testid": "sync-runs-empty"}),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(rx.text(label, size="1"))
                                for label, _key in _RUN_COLUMNS
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(State.runs, _run_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
    )


# --- one flag -----------------------------------------------------------------------------


def _evidence(flag: rx.Var) -> rx.Component:
    return rx.table.root(
        rx.table.body(
            rx.foreach(
                flag["evidence"].to(list[dict[str, str]]),
                lambda row: rx.table.row(
                    rx.table.row_header_cell(
                        rx.text(row["label"], size="1", color=rx.color("gray", 11))
                    ),
                    rx.table.cell(
                        rx.text(row["value"], size="2", weight="medium"), text_align="right"
                    ),
                    custom_attrs={"data-testid": "evidence-row"},
                ),
            )
        ),
        variant="surface",
        size="1",
        width="100%",
        custom_attrs={"data-testid": "flag-evidence"},
    )


def _chart(flag: rx.Var) -> rx.Component:
    """Views over time (left axis) and likes (right axis), one point a reading."""
    return rx.box(
        rx.recharts.line_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="at", tick={"fontSize": 11}),
            rx.recharts.y_axis(y_axis_id="views", width=70, tick={"fontSize": 11}),
            rx.recharts.y_axis(
                y_axis_id="likes", orientation="right", width=50, tick={"fontSize": 11}
            ),
            rx.recharts.line(
                data_key="views",
                name="Views",
                y_axis_id="views",
                type_="monotone",
                stroke=rx.color("violet", 9),
                stroke_width=2,
                is_animation_active=False,
            ),
            rx.recharts.line(
                data_key="likes",
                name="Likes",
                y_axis_id="likes",
                type_="monotone",
                stroke=rx.color("amber", 9),
                stroke_dasharray="4 3",
                is_animation_active=False,
            ),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(height=24),
            data=flag["series"].to(list[dict]),
            width="100%",
            height=240,
        ),
        width="100%",
        min_width="0",
        custom_attrs={"data-testid": "flag-chart"},
    )


def _decision_buttons(flag: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.spacer(),
        rx.button(
            rx.icon("circle-check", size=14),
            "Clear…",
            variant="soft",
            color_scheme="green",
            on_click=State.start_decision(CLEAR, flag["id"]),
            custom_attrs={"data-testid": "flag-clear"},
        ),
        rx.button(
            rx.icon("shield-x", size=14),
            "Confirm fraud…",
            color_scheme="red",
            on_click=State.start_decision(CONFIRM, flag["id"]),
            custom_attrs={"data-testid": "flag-confirm"},
        ),
        spacing="3",
        width="100%",
    )


def _resolution(flag: rx.Var) -> rx.Component:
    return rx.callout(
        rx.text(
            rx.cond(flag["status"] == "cleared", "Cleared", "Confirmed"),
            " on ",
            flag["resolved_at"],
            rx.cond(flag["note"] != "", rx.fragment(": ", flag["note"]), "."),
        ),
        icon=rx.cond(flag["status"] == "cleared", "circle-check", "shield-x"),
        color_scheme=rx.cond(flag["status"] == "cleared", "green", "red"),
        size="1",
        width="100%",
        custom_attrs={"data-testid": "flag-resolution"},
    )


def _flag_card(flag: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.hstack(
                        rx.badge(flag["platform"], variant="surface", color_scheme="gray"),
                        rx.link(
                            flag["url"],
                            rx.icon("external-link", size=12, flex_shrink="0"),
                            href=flag["url"],
                            is_external=True,
                            size="2",
                            weight="medium",
                            display="inline-flex",
                            align_items="center",
                            gap="4px",
                            word_break="break-all",
                            custom_attrs={"data-testid": "flag-post-link"},
                        ),
                        _flag_badge(flag["status"]),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.text(
                        "By ",
                        rx.link(
                            flag["clipper"],
                            href=flag["clipper_href"],
                            custom_attrs={"data-testid": "flag-clipper"},
                        ),
                        " · ",
                        rx.el.span(flag["campaign"], custom_attrs={"data-testid": "flag-campaign"}),
                        " · flagged ",
                        flag["raised_at"],
                        " · ",
                        flag["views"],
                        " views now",
                        size="2",
                        color=rx.color("gray", 11),
                    ),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                rx.vstack(
                    rx.text(
                        rx.match(
                            flag["status"],
                            ("cleared", "RELEASED"),
                            ("confirmed", "REVERSED"),
                            "HELD",
                        ),
                        size="1",
                        weight="bold",
                        color=rx.color("gray", 10),
                    ),
                    rx.text(
                        flag["held"],
                        size="5",
                        weight="bold",
                        custom_attrs={"data-testid": "flag-held"},
                    ),
                    spacing="0",
                    align="end",
                ),
                width="100%",
                align="start",
            ),
            rx.callout(
                flag["reason"],
                icon="flag",
                color_scheme="amber",
                size="1",
                width="100%",
                custom_attrs={"data-testid": "flag-reason"},
            ),
            rx.grid(
                rx.vstack(
                    rx.text("Evidence", size="2", weight="medium"),
                    _evidence(flag),
                    spacing="2",
                    width="100%",
                ),
                rx.vstack(
                    rx.text(
                        "Views over time (",
                        flag["readings"],
                        " readings)",
                        size="2",
                        weight="medium",
                    ),
                    _chart(flag),
                    spacing="2",
                    width="100%",
                    min_width="0",
                ),
                columns=rx.breakpoints(initial="1", md="2fr 3fr"),
                spacing="4",
                width="100%",
            ),
            rx.cond(flag["status"] == "open", _decision_buttons(flag), _resolution(flag)),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "flag-card", "data-flag-id": flag["id"]},
    )


# --- the decision dialog ---------------------------------------------------------------------


def _dialog() -> rx.Component:
    confirming = State.dialog_kind == CONFIRM
    return reason_dialog(
        open=State.dialog_open,
        on_close=State.close_dialog,
        title=rx.cond(confirming, "Confirm fraud?", "Clear this flag?"),
        description=(
            State.dialog_summary,
            rx.cond(
                confirming,
                rx.fragment(
                    ". The ",
                    State.dialog_held,
                    " of earnings booked while it was flagged are reversed, the post no "
                    "longer earns, and the clipper is told your reason.",
                ),
                rx.fragment(
                    ". The views look genuine: the held ",
                    State.dialog_held,
                    " follow the normal hold, and the clipper is told.",
                ),
            ),
        ),
        field_name="text",
        placeholder=rx.cond(
            confirming,
            "Why the views are not genuine (the clipper sees this)",
            "A note for the record (optional)",
        ),
        field_testid="flag-dialog-text",
        field_label="Reason",
        field_props={"rows": "3"},
        error=State.dialog_error,
        error_testid="flag-dialog-error",
        submit_label=rx.cond(confirming, "Confirm fraud", "Clear flag"),
        submit_color=rx.cond(confirming, "red", "green"),
        submit_testid="flag-dialog-submit",
        on_submit=State.decide,
        form_key=State.dialog_flag_id,
    )


# --- the page -----------------------------------------------------------------------------


def _empty_text() -> rx.Component:
    return _muted(
        rx.match(
            State.tab,
            ("open", "No flags are waiting for review."),
            ("cleared", "No flags were cleared yet."),
            "No fraud was confirmed yet.",
        ),
        padding_y="12px",
        custom_attrs={"data-testid": "flags-empty"},
    )


@template(
    routes.ADMIN_FLAGS,
    "Flags",
    role="admin",
    on_load=[AdminFlagsState.open_page, AppealDecisionsState.open_admin],
)
def admin_flags() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.hstack(
                rx.heading("Flags", size="7", custom_attrs={"data-testid": "page-title"}),
                rx.badge(
                    State.open_count,
                    " open",
                    color_scheme=rx.cond(State.open_count > 0, "amber", "green"),
                    size="2",
                    custom_attrs={"data-testid": "open-flag-count"},
                ),
                align="center",
                spacing="3",
            ),
            _muted(
                "Posts whose views jumped far above their own trend, or whose engagement no "
                "audience gives. Their clips' new earnings are held until you decide."
            ),
            spacing="1",
            margin_bottom="8px",
        ),
        error_callout(State.load_error, "flags-error"),
        _view_sync(),
        rx.tabs.root(
            rx.tabs.list(
                *[
                    rx.tabs.trigger(
                        label, value=value, custom_attrs={"data-testid": f"flags-tab-{value}"}
                    )
                    for value, label in FLAG_TABS.items()
                ]
            ),
            value=State.tab,
            on_change=State.show_tab,
            width="100%",
        ),
        rx.cond(
            State.flags.length() == 0,
            _empty_text(),
            rx.vstack(rx.foreach(State.flags, _flag_card), spacing="4", width="100%"),
        ),
        _dialog(),
        appeals_to_decide(
            "Appeals",
            "Clippers' appeals of confirmed fraud flags and of suspensions. Overturning a "
            "flag books back what it reversed (refused if the money is no longer there); "
            "overturning a suspension lifts it.",
        ),
        spacing="4",
        width="100%",
    )
