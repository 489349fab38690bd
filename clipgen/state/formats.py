"""Plain words for the pages: moments and ages as every page shows them (UTC).

Money has its own (`clipgen.services.money.amounts.format_cents`); these are the rest.
"""

from __future__ import annotations

from datetime import datetime


def when(moment: datetime | None) -> str:
    """A moment as pages show it, "2026-12-06 14:05 UTC" ("" for none)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def age(moment: datetime, now: datetime) -> str:
    """How long ago, roughly: "just now", "5 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day ago" if days == 1 else f"{days} days ago"


# A platform's short name, where the campaign's label ("YouTube Shorts") is too long.
PLATFORM_NAMES = {"youtube": "YouTube", "tiktok": "TikTok", "instagram": "Instagram"}
