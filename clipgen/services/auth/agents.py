"""The family of a browser (which browser on which system) read from its User-Agent.

A session is bound to the family it signed in from, so a token copied to another kind
of browser or to a script stops working. Versions are ignored on purpose: browsers
update themselves every few weeks, and the session must survive that. The client
address is not bound at all (phones change networks all the time).
"""

from __future__ import annotations

# Checked in order: the first marker found names the family. Browsers built on Chrome
# also say "Chrome/" and "Safari/", and Chrome says "Safari/", so the specific ones
# come first.
_BROWSERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Edge", ("edg/", "edge/", "edga/", "edgios/")),
    ("Opera", ("opr/", "opera", "opios/")),
    ("Samsung Internet", ("samsungbrowser/",)),
    ("Firefox", ("firefox/", "fxios/")),
    ("Chrome", ("chrome/", "crios/", "chromium/")),
    ("Safari", ("safari/",)),
)
# Android says "Linux" and iOS says "like Mac OS X", so those come before Linux and macOS.
_SYSTEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Windows", ("windows",)),
    ("Android", ("android",)),
    ("iOS", ("iphone", "ipad", "ipod")),
    ("ChromeOS", ("cros",)),
    ("macOS", ("macintosh", "mac os x")),
    ("Linux", ("linux", "x11")),
)
OTHER = "Other"


def _first(text: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    for name, markers in table:
        if any(marker in text for marker in markers):
            return name
    return OTHER


def agent_family(user_agent: str | None) -> str:
    """The family "Browser/System" of a User-Agent string, e.g. "Chrome/Linux";
    "Other/Other" for an empty or unknown one (a script, a bot)."""
    text = (user_agent or "").lower()[:512]
    return f"{_first(text, _BROWSERS)}/{_first(text, _SYSTEMS)}"


def same_family(signed_in_with: str | None, now_using: str | None) -> bool:
    """Whether the User-Agent of a request is of the family the session began with."""
    return agent_family(signed_in_with) == agent_family(now_using)
