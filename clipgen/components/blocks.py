"""The small building blocks every page uses: a section card, figure cards, a status badge,
and the red callout that shows a refusal where the user acted."""

from __future__ import annotations

import reflex as rx

STATUS_COLORS = {
    "requested": "amber",
    "paid": "green",
    "rejected": "red",
    "processing": "blue",
    "failed": "red",
    "ready": "green",
    "incomplete": "amber",
    "draft": "gray",
    "active": "green",
    "paused": "amber",
    "completed": "blue",
    "cancelled": "gray",
}


def figure(label: str, value, testid: str, hint: str = "", icon: str = "") -> rx.Component:
    """One figure: a label, the value large, and what it means."""
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


def filter_select(
    label: str, testid: str, value, choices: list[tuple[str, str]], on_change
) -> rx.Component:
    """A list filter: a select of (value, text) choices whose change calls `on_change`."""
    return rx.select.root(
        rx.select.trigger(
            placeholder=label, aria_label=label, custom_attrs={"data-testid": testid}
        ),
        rx.select.content(*[rx.select.item(text, value=key) for key, text in choices]),
        value=value,
        on_change=on_change,
    )
