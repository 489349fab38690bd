"""Invisible timers a page runs: re-signing its file links before they expire."""

from __future__ import annotations

import reflex as rx

from clipgen.state.job import RENEW_CHECK_MS


def link_renewer(handler) -> rx.Component:
    """An invisible timer that lets the page re-sign its file links before they expire."""
    return rx.moment(interval=RENEW_CHECK_MS, on_change=handler, display="none")
