"""Pieces the money pages share: a figure card, a statement table, a pager, badges."""

from __future__ import annotations

import reflex as rx

STATUS_COLORS = {
    "requested": "amber",
    "paid": "green",
    "rejected": "red",
    "draft": "gray",
    "active": "green",
    "paused": "amber",
    "completed": "blue",
    "cancelled": "gray",
}


def figure(label: str, value, testid: str, hint: str = "", icon: str = "") -> rx.Component:
    """One money figure: a label, the amount large, and what it means."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                *([rx.icon(icon, size=16, color=rx.color("accent", 10))] if icon else []),
                rx.text(label, size="2", weight="medium", color=rx.color("gray", 11)),
                align="center",
                spacing="2",
            ),
            rx.text(value, size="6", weight="bold", custom_attrs={"data-testid": testid}),
            *([rx.text(hint, size="1", color=rx.color("gray", 10))] if hint else []),
            spacing="1",
        ),
        width="100%",
    )


def figures(*cards: rx.Component) -> rx.Component:
    return rx.grid(
        *cards,
        columns=rx.breakpoints(initial="1", xs="2", md="4"),
        spacing="3",
        width="100%",
    )


def status_badge(status, testid: str = "") -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(
            status, *[(key, color) for key, color in STATUS_COLORS.items()], "gray"
        ),
        variant="soft",
        custom_attrs={"data-testid": testid} if testid else {},
    )


def error_callout(message, testid: str) -> rx.Component:
    """A refusal, in the service's words, shown where the user acted."""
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            width="100%",
            custom_attrs={"data-testid": testid},
        ),
    )


def section(title: str, *children: rx.Component, subtitle: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            *([rx.text(subtitle, size="2", color=rx.color("gray", 11))] if subtitle else []),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _statement_row(line: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(line["at"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(line["description"], size="2")),
        rx.table.cell(rx.badge(line["account"], variant="surface", color_scheme="gray")),
        rx.table.cell(
            rx.text(
                line["amount"],
                size="2",
                weight="medium",
                white_space="nowrap",
                color=rx.cond(
                    line["direction"] == "in", rx.color("green", 11), rx.color("gray", 12)
                ),
            ),
            text_align="right",
        ),
        custom_attrs={"data-testid": "statement-row"},
    )


def statement_table(lines, empty_text: str) -> rx.Component:
    """Date, what it was for, which balance, and the signed amount; newest first."""
    return rx.cond(
        lines.length() == 0,
        rx.text(
            empty_text,
            size="2",
            color=rx.color("gray", 11),
            custom_attrs={"data-testid": "statement-empty"},
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Date"),
                        rx.table.column_header_cell("Description"),
                        rx.table.column_header_cell("Balance"),
                        rx.table.column_header_cell("Amount", text_align="right"),
                    )
                ),
                rx.table.body(rx.foreach(lines, _statement_row)),
                variant="surface",
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
    )


def pager(page, page_count, go_to_page) -> rx.Component:
    """Previous / page N of M / Next, calling `go_to_page(page)`."""
    return rx.cond(
        page_count > 1,
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                size="1",
                disabled=page <= 1,
                on_click=go_to_page(page - 1),
                custom_attrs={"data-testid": "statement-previous"},
            ),
            rx.text("Page ", page, " of ", page_count, size="2"),
            rx.button(
                "Next",
                variant="soft",
                size="1",
                disabled=page >= page_count,
                on_click=go_to_page(page + 1),
                custom_attrs={"data-testid": "statement-next"},
            ),
            align="center",
            spacing="3",
        ),
    )
