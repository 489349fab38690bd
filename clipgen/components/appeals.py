"""Appeals on the pages: the clipper's Appeal button, dialog and the appeal's status; the
list a client (Reviews) or the admins (Admin Flags) decide appeals from."""

from __future__ import annotations

import reflex as rx

from clipgen.components.blocks import error_callout
from clipgen.components.dialogs import reason_dialog
from clipgen.state.appeals import (
    OVERTURN,
    STATUS_WORDS,
    UPHOLD,
    AppealDecisionsState,
    AppealState,
)

_STATUS_COLORS = (("open", "amber"), ("upheld", "red"), ("overturned", "green"))


def appeal_status_badge(status) -> rx.Component:
    return rx.badge(
        rx.match(status, *STATUS_WORDS.items(), status),
        color_scheme=rx.match(status, *_STATUS_COLORS, "gray"),
        variant="soft",
        custom_attrs={"data-testid": "appeal-status"},
    )


def appeal_summary(appeal) -> rx.Component:
    """An appeal as the clipper sees it: status, their message, the decision's reason."""
    return rx.vstack(
        rx.hstack(rx.text("Your appeal", weight="bold"), appeal_status_badge(appeal["status"])),
        rx.text(appeal["message"], size="2", white_space="pre-wrap"),
        rx.cond(
            appeal["decision_reason"] != "",
            rx.text(
                rx.text.strong("Decision: "),
                appeal["decision_reason"],
                size="2",
                custom_attrs={"data-testid": "appeal-decision"},
            ),
        ),
        spacing="1",
        width="100%",
        custom_attrs={"data-testid": "appeal-summary"},
    )


def appeal_panel(what: str) -> rx.Component:
    """Under a decision the clipper may appeal (`what`: "rejection", "fraud flag"): the
    Appeal button and its dialog, or the appeal already sent."""
    return rx.cond(
        AppealState.target_id > 0,
        rx.vstack(
            rx.cond(
                AppealState.can_appeal,
                rx.button(
                    rx.icon("scale", size=14),
                    "Appeal",
                    variant="soft",
                    on_click=AppealState.set_dialog(True),
                    custom_attrs={"data-testid": "appeal-open"},
                ),
                appeal_summary(AppealState.appeal),
            ),
            reason_dialog(
                open=AppealState.dialog_open,
                on_close=AppealState.set_dialog,
                title=f"Appeal the {what}",
                description=(
                    "Say why the decision is wrong. Each decision can be appealed once; "
                    + (
                        "the client decides and you will be told."
                        if what == "rejection"
                        else "an admin decides and you will be told."
                    )
                ),
                description_size="2",
                field_name="message",
                placeholder="Why should it be overturned?",
                field_testid="appeal-message",
                field_label="Your appeal",
                field_props={
                    "required": True,
                    "min_length": 3,
                    "max_length": 2000,
                    "rows": "5",
                    "auto_focus": True,
                },
                error=AppealState.dialog_error,
                error_testid="appeal-error",
                error_below_field=True,
                submit_label="Send appeal",
                submit_color="violet",
                submit_testid="appeal-send",
                on_submit=AppealState.send,
            ),
            spacing="2",
            width="100%",
        ),
    )


def _decision_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(card["kind_label"], variant="outline"),
                rx.text(card["subject"], weight="bold"),
                appeal_status_badge(card["status"]),
                spacing="2",
                wrap="wrap",
            ),
            rx.text("From ", card["appellant"], ", ", card["filed_at"], size="1", color="gray"),
            rx.cond(
                card["decision"] != "",
                rx.text(rx.text.strong("The decision: "), card["decision"], size="2"),
            ),
            rx.text(rx.text.strong("The appeal: "), card["message"], size="2"),
            rx.cond(
                card["decision_reason"] != "",
                rx.text(rx.text.strong("Decided: "), card["decision_reason"], size="2"),
            ),
            rx.hstack(
                rx.cond(
                    card["link"] != "",
                    rx.link("Open", href=card["link"], size="2"),
                ),
                rx.cond(
                    card["status"] == "open",
                    rx.hstack(
                        rx.button(
                            "Overturn",
                            color_scheme="green",
                            size="2",
                            on_click=AppealDecisionsState.open_dialog(OVERTURN, card["id"]),
                            custom_attrs={"data-testid": "appeal-overturn"},
                        ),
                        rx.button(
                            "Uphold",
                            color_scheme="red",
                            variant="soft",
                            size="2",
                            on_click=AppealDecisionsState.open_dialog(UPHOLD, card["id"]),
                            custom_attrs={"data-testid": "appeal-uphold"},
                        ),
                        spacing="2",
                    ),
                ),
                spacing="3",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "appeal-card"},
    )


def _decision_dialog() -> rx.Component:
    overturning = AppealDecisionsState.dialog_kind == OVERTURN
    return reason_dialog(
        open=AppealDecisionsState.dialog_open,
        on_close=AppealDecisionsState.close_dialog,
        title=rx.cond(overturning, "Overturn the decision", "Uphold the decision"),
        description=rx.cond(
            overturning,
            "The decision is undone: a rejected clip is approved (its earnings booked), a "
            "fraud flag's reversed earnings are booked back, a suspension is lifted. The "
            "clipper is told your reason.",
            "The decision stands and nothing changes; the clipper is told your reason.",
        ),
        description_size="2",
        summary=AppealDecisionsState.dialog_summary,
        field_name="reason",
        placeholder="Your reason",
        field_testid="appeal-decision-reason",
        field_label="Reason",
        field_props={"required": True, "min_length": 3, "max_length": 1000, "rows": "4"},
        error=AppealDecisionsState.dialog_error,
        error_testid="appeal-decision-error",
        error_below_field=True,
        submit_label=rx.cond(overturning, "Overturn", "Uphold"),
        submit_color=rx.cond(overturning, "green", "red"),
        submit_testid="appeal-decision-send",
        on_submit=AppealDecisionsState.decide,
        form_key=AppealDecisionsState.dialog_appeal_id,
    )


def appeals_to_decide(title: str, subtitle: str) -> rx.Component:
    """A section listing appeals by status, each with Overturn / Uphold while open."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.text(subtitle, size="2", color=rx.color("gray", 11)),
            rx.tabs.root(
                rx.tabs.list(
                    *[
                        rx.tabs.trigger(
                            label, value=value, custom_attrs={"data-testid": f"appeals-tab-{value}"}
                        )
                        for value, label in (
                            ("open", "Open"),
                            ("upheld", "Upheld"),
                            ("overturned", "Overturned"),
                        )
                    ]
                ),
                value=AppealDecisionsState.status_filter,
                on_change=AppealDecisionsState.show_status,
                width="100%",
            ),
            error_callout(AppealDecisionsState.load_error, "appeals-error"),
            rx.cond(
                AppealDecisionsState.items.length() == 0,
                rx.text(
                    "No appeals here.",
                    size="2",
                    color=rx.color("gray", 11),
                    custom_attrs={"data-testid": "appeals-empty"},
                ),
                rx.vstack(
                    rx.foreach(AppealDecisionsState.items, _decision_card),
                    spacing="3",
                    width="100%",
                ),
            ),
            _decision_dialog(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "appeals-section"},
    )
