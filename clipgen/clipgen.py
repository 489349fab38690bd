"""The Reflex app: every page of the product (the theme is in rxconfig.py)."""

import reflex as rx

from clipgen.pages import account, auth, coming_soon, dashboard, landing  # noqa: F401

app = rx.App()
