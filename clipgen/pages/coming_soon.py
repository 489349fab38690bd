"""Pages of the product that are not built yet, saying so plainly."""

from __future__ import annotations

import reflex as rx

from clipgen.components.layout import page_header, template


def _not_built(title: str, what: str) -> rx.Component:
    return rx.vstack(
        page_header(title),
        rx.callout(
            rx.text(rx.text.strong("Not built yet. "), what),
            icon="construction",
            color_scheme="amber",
            size="2",
            custom_attrs={"data-testid": "not-built"},
        ),
        width="100%",
    )


# (route, title, role, what it will do); Admin Users is built (pages/admin_users.py).
_PAGES: list[tuple[str, str, str, str]] = []


def _register(route: str, title: str, role: str, what: str) -> None:
    @template(route, title, role=role)
    def page() -> rx.Component:
        return _not_built(title, what)

    page.__name__ = "page_" + route.strip("/").replace("/", "_")


for _route, _title, _role, _what in _PAGES:
    _register(_route, _title, _role, _what)
