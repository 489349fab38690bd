"""Notifications: everything the user was told, newest first; a click opens what it is about."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.layout import page_header, template
from clipgen.state.notifications import PAGE_ITEMS, NotificationsState


def _row(row: rx.Var) -> rx.Component:
    unread = row["status"] == "unread"
    return rx.el.button(
        rx.hstack(
            rx.box(
                width="10px",
                min_width="10px",
                height="10px",
                margin_top="6px",
                border_radius="50%",
                background=rx.cond(unread, rx.color("accent", 9), rx.color("gray", 5)),
            ),
            rx.vstack(
                rx.text(
                    row["message"],
                    size="3",
                    weight=rx.cond(unread, "bold", "regular"),
                    color=rx.cond(unread, rx.color("gray", 12), rx.color("gray", 11)),
                ),
                rx.hstack(
                    rx.badge(row["kind"], variant="soft", color_scheme="gray", size="1"),
                    rx.text(row["age"], size="1", color=rx.color("gray", 10), title=row["at"]),
                    rx.cond(
                        row["has_link"] != "",
                        rx.hstack(
                            rx.text("Open", size="1", color=rx.color("accent", 11)),
                            rx.icon("arrow-right", size=12, color=rx.color("accent", 11)),
                            spacing="1",
                            align="center",
                        ),
                    ),
                    spacing="2",
                    align="center",
                ),
                spacing="1",
                align="start",
            ),
            spacing="3",
            align="start",
        ),
        type="button",
        padding="12px",
        border_radius="var(--radius-3)",
        border=f"1px solid {rx.color('gray', 4)}",
        background=rx.cond(unread, rx.color("accent", 2), "transparent"),
        color="inherit",
        font="inherit",
        text_align="left",
        cursor="pointer",
        width="100%",
        _hover={"border_color": rx.color("accent", 7)},
        _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
        on_click=NotificationsState.open_notification(row["id"]),
        custom_attrs={"data-testid": "notification-row", "data-status": row["status"]},
    )


@template(routes.NOTIFICATIONS, "Notifications", on_load=NotificationsState.open_page)
def notifications_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            page_header(
                "Notifications",
                f"What happened to your claims, clips and campaigns (the latest {PAGE_ITEMS}).",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("check-check", size=16),
                "Mark all read",
                variant="soft",
                disabled=NotificationsState.unread == 0,
                on_click=NotificationsState.mark_all_read,
                custom_attrs={"data-testid": "mark-all-read"},
            ),
            align="end",
            width="100%",
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            NotificationsState.error != "",
            rx.callout(
                NotificationsState.error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                custom_attrs={"data-testid": "notifications-error"},
            ),
        ),
        rx.cond(
            NotificationsState.page_items.length() == 0,
            rx.cond(
                NotificationsState.page_loaded,
                rx.callout(
                    "You have no notifications yet. Claims, reviews and campaign news "
                    "will show up here.",
                    icon="bell",
                    color_scheme="gray",
                    custom_attrs={"data-testid": "notifications-empty"},
                ),
                rx.center(rx.spinner(size="3"), width="100%", padding="32px"),
            ),
            rx.vstack(
                rx.foreach(NotificationsState.page_items, _row),
                spacing="2",
                width="100%",
                custom_attrs={"data-testid": "notification-list"},
            ),
        ),
        spacing="4",
        width="100%",
    )
