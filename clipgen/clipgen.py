"""The Reflex app: every page of the product (the theme is in rxconfig.py)."""

import logging

import reflex as rx
from reflex.event import EventSpec

from clipgen.api import files_app
from clipgen.pages import (  # noqa: F401
    account,
    admin_flags,
    admin_money,
    admin_users,
    analytics,
    appeal,
    auth,
    billing,
    campaigns,
    clips,
    dashboard,
    earnings,
    generate,
    job,
    landing,
    marketplace,
    notifications,
    performance,
    profile,
    reviews,
    work,
)
from workers.embedded import in_process_worker

log = logging.getLogger("clipgen")


def show_unexpected_error(exception: Exception) -> EventSpec:
    """An unexpected error: the details go to the log, the user gets words, never a trace."""
    log.error("Unexpected error in an event handler", exc_info=exception)
    return rx.toast.error(
        "Something went wrong on our side. It has been logged; please try again.",
        id="backend_error",
    )


app = rx.App(api_transformer=files_app, backend_exception_handler=show_unexpected_error)
app.register_lifespan_task(in_process_worker)
