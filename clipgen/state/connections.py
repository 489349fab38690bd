"""A clipper's connected accounts on the Account page: YouTube, TikTok and Instagram, one
card each and one state shape for all three (connect, the platform's callback, disconnect).

`ConnectionCard` is the shape; `YouTubeState`, `TikTokState` and `InstagramState` only say
which platform they are. Handlers read what the browser sends as untrusted text, call
`services.publishing.connections` (which checks who is asking, every call), and copy plain
values into vars; a refusal's words are shown on the card and nothing changes.
"""

from __future__ import annotations

import hashlib

import reflex as rx

from clipgen import routes
from clipgen.models import Platform
from clipgen.services.errors import NotAuthenticated, PermissionDenied, ServiceError
from clipgen.services.publishing import connections
from clipgen.services.publishing.connections import ConnectionView
from clipgen.state.formats import when
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

LABELS = {Platform.YOUTUBE: "YouTube", Platform.TIKTOK: "TikTok", Platform.INSTAGRAM: "Instagram"}

# What a disconnect says: (the platform confirmed the revocation, it did not).
DISCONNECTED = {
    Platform.YOUTUBE: (
        "YouTube disconnected. Google confirmed ClipGen's access is removed.",
        "YouTube disconnected here, but Google did not confirm the revocation: remove "
        "ClipGen at myaccount.google.com/permissions to be sure.",
    ),
    Platform.TIKTOK: (
        "TikTok disconnected. TikTok confirmed ClipGen's access is removed.",
        "TikTok disconnected here, but TikTok did not confirm the revocation: remove ClipGen "
        "in the TikTok app (Settings and privacy → Security and permissions → Apps and "
        "services permissions) to be sure.",
    ),
    Platform.INSTAGRAM: (
        "Instagram disconnected: ClipGen deleted its access to your account.",
        "Instagram disconnected: ClipGen deleted its access to your account. "
        + connections.INSTAGRAM_APP_REMOVAL,
    ),
}


def account_label(view: ConnectionView) -> str:
    """How the card names the connected account: "@name" on Instagram."""
    name = view.account_name or view.account_id
    if view.platform == Platform.INSTAGRAM and view.account_name:
        return f"@{view.account_name}"
    return name


class ConnectionCard(rx.State, mixin=True):
    """One platform's card on /account; a subclass (with SessionState) names the platform
    in `_platform`."""

    loaded: bool = False
    for_clipper: bool = False
    configured: bool = False
    missing: str = ""
    connected: bool = False
    broken: bool = False  # connected once; the platform no longer lets ClipGen in
    account: str = ""
    since: str = ""
    error: str = ""
    # What the last connect or disconnect came to, shown on /account.
    notice: str = ""
    notice_ok: bool = True
    keep_notice: bool = False
    # The callback handled last (hashed): a second run of the same load does nothing.
    handled_callback: str = ""

    def _platform(self) -> Platform:
        raise NotImplementedError

    def _show(self, view: ConnectionView) -> None:
        self.configured = view.configured
        self.missing = ", ".join(view.missing_settings)
        self.connected = view.connected
        self.broken = view.broken
        self.account = account_label(view)
        self.since = when(view.connected_at)
        self.for_clipper = True
        self.loaded = True

    def _load(self) -> None:
        self.error = ""
        try:
            self._show(self._call_service(connections.connection_view, platform=self._platform()))
        except ServiceError:
            # Not a clipper (or signed out: the page guard sends them to sign in).
            self.for_clipper = False
            self.loaded = True

    def _notice(self, message: str, ok: bool) -> None:
        self.notice, self.notice_ok = message, ok

    @rx.event
    @limited("expensive_read")
    def open_account(self):
        if self.keep_notice:
            self.keep_notice = False
        else:
            self.notice = ""
        self._load()

    @rx.event
    @shows_refusals("error")
    @limited("write", "error")
    def connect(self):
        """Send the browser to the platform's consent page (the service binds it to this
        user)."""
        self.error = ""
        self.notice = ""
        url = self._call_service(connections.start_connection, platform=self._platform())
        # Another host's address: the browser leaves the app in this tab (no pop-up).
        return rx.redirect(url)

    @rx.event
    @shows_refusals("error")
    @limited("write", "error")
    def disconnect(self):
        """Revoke ClipGen's access at the platform (where it can) and forget the tokens."""
        self.error = ""
        platform = self._platform()
        revoked = self._call_service(connections.disconnect, platform=platform)
        confirmed, unconfirmed = DISCONNECTED[platform]
        # Instagram never confirms (it has no revocation for apps): that is no failure.
        self._notice(
            confirmed if revoked else unconfirmed, revoked or platform == Platform.INSTAGRAM
        )
        self._load()
        return None

    @rx.event
    @limited("oauth_callback")
    def finish_connection(self):
        """The platform sent the browser back with `state` and `code` (or `error`): finish
        the connection, then show how it went on the Account page."""
        given = self.router.url.query_parameters
        state, code, error = (
            str(given.get(name, ""))[:2000] for name in ("state", "code", "error")
        )
        marker = hashlib.sha256(f"{state}|{code}|{error}".encode()).hexdigest()
        if marker == self.handled_callback:
            return rx.redirect(routes.ACCOUNT, replace=True)
        platform = self._platform()
        try:
            view = self._call_service(
                connections.finish_connection,
                platform=platform,
                state=state,
                code=code,
                error=error,
            )
        except NotAuthenticated:
            return None  # the page guard sends the visitor to sign in
        except PermissionDenied as refused:  # not a clipper: Account has no such card
            return [rx.redirect(routes.ACCOUNT, replace=True), rx.toast.error(str(refused))]
        except ServiceError as refused:
            self._notice(str(refused), False)
        else:
            self._notice(f"{LABELS[platform]} connected: {account_label(view)}.", True)
        self.handled_callback = marker
        self.keep_notice = True
        return rx.redirect(routes.ACCOUNT, replace=True)


def _alias(name: str) -> property:
    return property(lambda self: getattr(self, name), doc=f"The card's `{name}`.")


class YouTubeState(ConnectionCard, SessionState):
    """The clipper's YouTube channel, as the Account page shows it."""

    def _platform(self) -> Platform:
        return Platform.YOUTUBE

    # The names these vars had before the three cards shared one shape, for Python
    # callers (the handlers' tests); the page uses the card's own names.
    yt_loaded = _alias("loaded")
    yt_for_clipper = _alias("for_clipper")
    yt_configured = _alias("configured")
    yt_missing = _alias("missing")
    yt_connected = _alias("connected")
    yt_channel = _alias("account")
    yt_since = _alias("since")
    yt_error = _alias("error")
    yt_notice = _alias("notice")
    yt_notice_ok = _alias("notice_ok")


class TikTokState(ConnectionCard, SessionState):
    """The clipper's TikTok account, as the Account page shows it."""

    def _platform(self) -> Platform:
        return Platform.TIKTOK


class InstagramState(ConnectionCard, SessionState):
    """The clipper's Instagram professional account, as the Account page shows it."""

    def _platform(self) -> Platform:
        return Platform.INSTAGRAM
