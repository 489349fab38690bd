"""Small shared pieces: a confirm-before-delete dialog, and a page's link-renewal timer."""

from __future__ import annotations

import reflex as rx

from clipgen.state.job import RENEW_CHECK_MS


def confirm_delete(
    trigger: rx.Component, *, title: str, description: str, on_confirm, confirm_testid: str
) -> rx.Component:
    """`trigger` opens a dialog that says what is lost; only "Delete" does it."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        on_click=on_confirm,
                        custom_attrs={"data-testid": confirm_testid},
                    )
                ),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
    )


def link_renewer(handler) -> rx.Component:
    """An invisible timer that lets the page re-sign its file links before they expire."""
    return rx.moment(interval=RENEW_CHECK_MS, on_change=handler, display="none")
