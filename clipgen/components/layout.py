"""The shell every page shares: navigation that fits the role, and `template`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from clipgen import routes
from clipgen.state.notifications import REFRESH_MS, NotificationsState
from clipgen.state.session import SessionState


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    icon: str

    @property
    def testid(self) -> str:
        return "nav-" + self.label.lower().replace(" ", "-")


DASHBOARD_ITEM = NavItem("Dashboard", routes.DASHBOARD, "layout-dashboard")
CLIPPER_ITEMS = (
    NavItem("Marketplace", routes.MARKETPLACE, "store"),
    NavItem("My work", routes.MY_WORK, "briefcase"),
    NavItem("Generate", routes.GENERATE, "wand-sparkles"),
    NavItem("My clips", routes.MY_CLIPS, "clapperboard"),
    NavItem("Earnings", routes.EARNINGS, "wallet"),
)
CLIENT_ITEMS = (
    NavItem("Campaigns", routes.CAMPAIGNS, "megaphone"),
    NavItem("Reviews", routes.REVIEWS, "circle-check-big"),
    NavItem("Billing", routes.BILLING, "credit-card"),
)
ADMIN_ITEMS = (
    NavItem("Payouts", routes.ADMIN_PAYOUTS, "banknote"),
    NavItem("Money", routes.ADMIN_MONEY, "landmark"),
    NavItem("Users", routes.ADMIN_USERS, "users"),
    NavItem("Flags", routes.ADMIN_FLAGS, "flag"),
)


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("scissors", size=22, color=rx.color("accent", 10)),
            rx.heading("ClipGen", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=routes.LANDING,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
    )


def nav_link(item: NavItem, on_click=None) -> rx.Component:
    active = SessionState.router.url.path == item.href
    return rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18),
            rx.text(item.label, size="3"),
            align="center",
            spacing="3",
            padding_x="12px",
            padding_y="8px",
            border_radius="var(--radius-3)",
            width="100%",
            background=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
            _hover={"background": rx.color("accent", 3)},
        ),
        href=item.href,
        underline="none",
        width="100%",
        on_click=on_click,
        custom_attrs={"data-testid": item.testid},
    )


def _section(title: str, items: tuple[NavItem, ...], on_click=None) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color=rx.color("gray", 9), padding_x="12px"),
        *[nav_link(item, on_click) for item in items],
        spacing="1",
        width="100%",
        padding_top="12px",
    )


def nav_links(on_click=None) -> rx.Component:
    """The links the signed-in user's roles open, grouped by role."""
    return rx.vstack(
        nav_link(DASHBOARD_ITEM, on_click),
        rx.cond(SessionState.is_clipper, _section("CLIPPING", CLIPPER_ITEMS, on_click)),
        rx.cond(SessionState.is_client, _section("CAMPAIGNS", CLIENT_ITEMS, on_click)),
        rx.cond(SessionState.is_admin, _section("ADMIN", ADMIN_ITEMS, on_click)),
        spacing="1",
        width="100%",
        custom_attrs={"data-testid": "nav"},
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=SessionState.initials, size="1", radius="full"),
                rx.text(SessionState.display_name, size="2", display=["none", "none", "inline"]),
                variant="ghost",
                custom_attrs={"data-testid": "user-menu"},
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(SessionState.email, size="1", color=rx.color("gray", 11)),
                padding_x="8px",
                padding_y="4px",
            ),
            rx.menu.separator(),
            rx.menu.item(
                "Account",
                on_click=rx.redirect(routes.ACCOUNT),
                custom_attrs={"data-testid": "menu-account"},
            ),
            rx.menu.item(
                "Sign out",
                color="red",
                on_click=SessionState.sign_out,
                custom_attrs={"data-testid": "sign-out"},
            ),
        ),
    )


def _bell_item(row: rx.Var) -> rx.Component:
    unread = row["status"] == "unread"
    return rx.el.button(
        rx.hstack(
            rx.box(
                width="8px",
                min_width="8px",
                height="8px",
                margin_top="6px",
                border_radius="50%",
                background=rx.cond(unread, rx.color("accent", 9), "transparent"),
            ),
            rx.vstack(
                rx.text(
                    row["message"],
                    size="2",
                    weight=rx.cond(unread, "bold", "regular"),
                    color=rx.cond(unread, rx.color("gray", 12), rx.color("gray", 11)),
                ),
                rx.text(
                    row["kind"],
                    " · ",
                    row["age"],
                    size="1",
                    color=rx.color("gray", 10),
                    title=row["at"],
                ),
                spacing="1",
                align="start",
            ),
            spacing="2",
            align="start",
        ),
        type="button",
        width="100%",
        padding="8px",
        border="none",
        border_radius="var(--radius-2)",
        background="transparent",
        color="inherit",
        font="inherit",
        text_align="left",
        cursor="pointer",
        _hover={"background": rx.color("accent", 3)},
        _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
        on_click=NotificationsState.open_notification(row["id"]),
        custom_attrs={"data-testid": "bell-item", "data-status": row["status"]},
    )


def notification_bell() -> rx.Component:
    """The bell: a badge with the unread count (none at 0); opens the latest notifications."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.box(
                rx.icon_button(
                    rx.icon("bell", size=18),
                    variant="ghost",
                    custom_attrs={
                        "data-testid": "bell",
                        "aria-label": NotificationsState.bell_label,
                    },
                ),
                rx.cond(
                    NotificationsState.badge != "",
                    rx.badge(
                        NotificationsState.badge,
                        color_scheme="red",
                        variant="solid",
                        radius="full",
                        size="1",
                        position="absolute",
                        top="-6px",
                        right="-8px",
                        pointer_events="none",
                        custom_attrs={"data-testid": "bell-badge"},
                    ),
                ),
                position="relative",
                display="inline-flex",
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.text("Notifications", weight="bold", size="3"),
                    rx.spacer(),
                    rx.button(
                        rx.icon("check-check", size=14),
                        "Mark all read",
                        size="1",
                        variant="ghost",
                        disabled=NotificationsState.unread == 0,
                        on_click=NotificationsState.mark_all_read,
                        custom_attrs={"data-testid": "bell-mark-all"},
                    ),
                    align="center",
                    width="100%",
                ),
                rx.separator(),
                rx.cond(
                    NotificationsState.bell_items.length() == 0,
                    rx.text(
                        rx.cond(NotificationsState.bell_loaded, "Nothing yet.", "Loading…"),
                        size="2",
                        color=rx.color("gray", 11),
                        padding="8px",
                        custom_attrs={"data-testid": "bell-empty"},
                    ),
                    rx.vstack(
                        rx.foreach(NotificationsState.bell_items, _bell_item),
                        spacing="1",
                        width="100%",
                        max_height="60vh",
                        overflow_y="auto",
                    ),
                ),
                rx.separator(),
                rx.box(
                    rx.link(
                        "See all",
                        href=routes.NOTIFICATIONS,
                        size="2",
                        weight="medium",
                        on_click=NotificationsState.toggle_bell(False),
                        custom_attrs={"data-testid": "bell-see-all"},
                    ),
                    text_align="center",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            width="360px",
            max_width="calc(100vw - 24px)",
            align="end",
            custom_attrs={"data-testid": "bell-panel"},
        ),
        open=NotificationsState.bell_open,
        on_open_change=NotificationsState.toggle_bell,
    )


def mobile_menu() -> rx.Component:
    return rx.box(
        rx.drawer.root(
            rx.drawer.trigger(
                rx.icon_button(
                    rx.icon("menu"),
                    variant="ghost",
                    custom_attrs={"data-testid": "mobile-menu"},
                )
            ),
            rx.drawer.overlay(z_index="50"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.hstack(
                            brand(),
                            rx.spacer(),
                            rx.drawer.close(rx.icon_button(rx.icon("x"), variant="ghost")),
                            width="100%",
                        ),
                        nav_links(),
                        spacing="4",
                        padding="16px",
                        width="100%",
                    ),
                    width="78%",
                    max_width="300px",
                    height="100%",
                    background_color=rx.color("gray", 1),
                    z_index="60",
                )
            ),
            direction="left",
        ),
        display=["block", "block", "none"],
    )


def top_bar() -> rx.Component:
    return rx.hstack(
        mobile_menu(),
        rx.box(brand(), display=["block", "block", "none"]),
        rx.spacer(),
        rx.color_mode.button(variant="ghost", custom_attrs={"data-testid": "color-mode"}),
        notification_bell(),
        # Keeps the unread count current on a page left open.
        rx.moment(interval=REFRESH_MS, on_change=NotificationsState.refresh, display="none"),
        user_menu(),
        align="center",
        spacing="3",
        padding_x="20px",
        height="60px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        position="sticky",
        top="0",
        background_color=rx.color("gray", 1),
        z_index="10",
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.box(brand(), padding_x="12px", padding_y="16px"),
            nav_links(),
            spacing="2",
            width="100%",
        ),
        display=["none", "none", "block"],
        width="240px",
        min_width="240px",
        height="100vh",
        position="sticky",
        top="0",
        padding="12px",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 2),
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="60vh")


def app_shell(content: rx.Component) -> rx.Component:
    """Sidebar, top bar and the page, shown once the user is known."""
    return rx.hstack(
        sidebar(),
        rx.vstack(
            top_bar(),
            rx.box(
                rx.cond(SessionState.is_authenticated, content, loading()),
                padding=["16px", "24px", "32px"],
                width="100%",
                max_width="1100px",
            ),
            spacing="0",
            width="100%",
            min_width="0",
        ),
        spacing="0",
        width="100%",
        align="start",
    )


def page_header(title: str, subtitle: str = "") -> rx.Component:
    parts = [rx.heading(title, size="7", custom_attrs={"data-testid": "page-title"})]
    if subtitle:
        parts.append(rx.text(subtitle, color=rx.color("gray", 11), size="3"))
    return rx.vstack(*parts, spacing="1", margin_bottom="8px")


def template(
    route: str, title: str, role: str | None = None, on_load=None
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a signed-in page at `route` inside the shell, guarded by `role`.

    `on_load` (one event or a list, run in order) runs after the guard; each must check
    the user again itself. Every page also refreshes the bell's unread count as it loads.
    """

    def decorator(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        guard = SessionState.require_role(role) if role else SessionState.require_login
        events = [guard, NotificationsState.refresh]
        if on_load is not None:
            events.extend(on_load if isinstance(on_load, list) else [on_load])

        @rx.page(route=route, title=f"{title} · ClipGen", on_load=events)
        def wrapped() -> rx.Component:
            return app_shell(page())

        return wrapped

    return decorator
