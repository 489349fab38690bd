"""A clipper's connections to YouTube, TikTok and Instagram, one way for all three.

Each platform is connected by OAuth 2.0 consent with a one-time `state` bound to the
clipper who asked (CSRF; stored hashed, used once, valid 15 minutes, for that platform
only) and, where the platform takes it, PKCE (Google's and TikTok's; Instagram's consent
has none, the `state` still protects its callback). The tokens are kept encrypted
(`tokens`), renewed before they run out (the new ones saved), and a disconnect revokes
them at the platform where it can and deletes them here. A renewal the platform refuses
(access removed there, or lapsed) marks the connection broken and tells the clipper.

The platform modules (`youtube`, `tiktok`, `instagram`) do the talking; this module only
decides, stores and audits.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import OAuthRequest, Platform, PlatformConnection, Role, utcnow
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, RecordedRefusal, ServiceError
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.publishing import instagram, tiktok, tokens, youtube

log = logging.getLogger(__name__)

CONSENT_TTL = timedelta(minutes=15)
# A TikTok access token lasts 24 hours: renew it when it has less than this left.
TIKTOK_RENEW_WITHIN = timedelta(minutes=10)
# An Instagram long-lived token lasts 60 days and can be renewed once it is a day old;
# renewing once it has less than 30 days left keeps any account used monthly connected.
INSTAGRAM_RENEW_WITHIN = timedelta(days=30)

INSTAGRAM_APP_REMOVAL = (
    "To remove ClipGen's access at Instagram too, open Instagram → Settings and activity → "
    "Website permissions → Apps and websites → ClipGen → Remove (Instagram lets no app "
    "withdraw its own access)."
)


@dataclass(frozen=True)
class _Spec:
    """What differs between platforms in connecting, in words and settings."""

    label: str  # "TikTok"
    account: str  # what is connected: "TikTok account"
    offering: str  # what is not set up without the settings: "TikTok"
    missing_settings: Callable[[], list[str]]
    pkce: bool
    lost_access: str  # the notification when the platform stops letting ClipGen in


_SPECS: dict[Platform, _Spec] = {
    Platform.YOUTUBE: _Spec(
        label="YouTube",
        account="YouTube channel",
        offering="YouTube publishing",
        missing_settings=youtube.missing_settings,
        pkce=True,
        lost_access=(
            "Google no longer lets ClipGen reach your YouTube channel. Connect it again to "
            "upload clips and keep their views up to date."
        ),
    ),
    Platform.TIKTOK: _Spec(
        label="TikTok",
        account="TikTok account",
        offering="TikTok",
        missing_settings=tiktok.missing_settings,
        pkce=True,
        lost_access=(
            "TikTok no longer lets ClipGen reach your TikTok account (access was removed in "
            "TikTok or has expired). Connect it again on your Account page so your TikTok "
            "posts can be verified and their views read."
        ),
    ),
    Platform.INSTAGRAM: _Spec(
        label="Instagram",
        account="Instagram account",
        offering="Instagram",
        missing_settings=instagram.missing_settings,
        pkce=False,
        lost_access=(
            "Instagram no longer lets ClipGen reach your Instagram account (access was "
            "removed in Instagram, or it lapsed after 60 days unused). Connect it again on "
            "your Account page so your Instagram posts can be verified and their views read."
        ),
    ),
}


def stale_link(platform: Platform | str) -> str:
    """What a callback with a state that is not (or no longer) this clipper's says."""
    label = _SPECS[Platform(platform)].label
    return (
        f"This {label} connection link is not valid any more (it expired, was already used, "
        f"or was started from another account). Press Connect {label} again."
    )


STALE_LINK = stale_link(Platform.YOUTUBE)


HOW_TO_GO_PROFESSIONAL = (
    "Instagram lets apps read the posts and views of professional accounts only. Switching "
    "is free and keeps your posts: in the Instagram app open your profile → ☰ → Settings "
    "and activity → Account type and tools → Switch to professional account, choose Creator "
    "(or Business), then press Connect Instagram again. Nothing was saved."
)


@dataclass(frozen=True)
class ConnectionView:
    """A clipper's connection to one platform, as their Account page shows it."""

    platform: str
    configured: bool  # the platform's app (OAuth client) is set on this server
    missing_settings: list[str]  # what to set when it is not
    connected: bool  # live: ClipGen can act for the account
    account_name: str  # channel title, TikTok display name, Instagram username
    account_id: str  # YouTube channel id, TikTok open_id, Instagram user id
    connected_at: datetime | None
    broken: bool = False  # connected once, but the platform no longer lets ClipGen in

    @property
    def channel_title(self) -> str:  # YouTube's words for the account name
        return self.account_name

    @property
    def channel_id(self) -> str:
        return self.account_id


@dataclass(frozen=True)
class _Grant:
    """What a consent gave, the same for every platform."""

    access_token: str
    refresh_token: str  # "" for Instagram (its long-lived access token renews itself)
    expires_at: datetime | None
    scopes: tuple[str, ...]
    account_id: str
    account_name: str


def _platform(platform: Platform | str) -> Platform:
    try:
        return Platform(platform)
    except ValueError:
        raise InvalidInput("Choose YouTube, TikTok or Instagram.") from None


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _connection(
    session: Session, user_id: int, platform: Platform, *, lock: bool = False
) -> PlatformConnection | None:
    query = select(PlatformConnection).where(
        PlatformConnection.user_id == user_id, PlatformConnection.platform == platform
    )
    return session.exec(query.with_for_update() if lock else query).first()


def _lasting(row: PlatformConnection) -> str:
    """The stored (encrypted) token that renews access: the refresh token, or Instagram's
    long-lived access token, which renews itself."""
    if row.platform == Platform.INSTAGRAM:
        return row.access_token_encrypted
    return row.refresh_token_encrypted


def _live(row: PlatformConnection | None) -> bool:
    """A connection ClipGen can use: not broken, with a token that renews access."""
    return row is not None and row.revoked_at is None and bool(_lasting(row))


def _view(session: Session, user_id: int, platform: Platform) -> ConnectionView:
    row = _connection(session, user_id, platform)
    live = _live(row)
    missing = _SPECS[platform].missing_settings()
    return ConnectionView(
        platform=platform.value,
        configured=not missing,
        missing_settings=missing,
        connected=live,
        account_name=row.account_name if live else "",
        account_id=row.external_account_id if live else "",
        connected_at=row.created_at if live else None,
        broken=row is not None and not live,
    )


# --- what the Account page calls ---------------------------------------------------------


def connection_view(*, session: Session, actor: UserView, platform: Platform) -> ConnectionView:
    """Whether the clipper's account on `platform` is connected, and whether the server
    can connect one."""
    require_role(actor, Role.CLIPPER)
    return _view(session, actor.id, _platform(platform))


def start_connection(*, session: Session, actor: UserView, platform: Platform) -> str:
    """The platform's consent address to send the clipper's browser to."""
    require_role(actor, Role.CLIPPER)
    platform = _platform(platform)
    spec = _SPECS[platform]
    missing = spec.missing_settings()
    if missing:
        raise InvalidInput(
            f"{spec.offering} is not set up on this server (an admin sets "
            f"{', '.join(missing)}). You can still add your posts by their address."
        )
    now = utcnow()
    session.exec(delete(OAuthRequest).where(col(OAuthRequest.expires_at) < now))
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if spec.pkce else ""  # 86 unreserved characters
    session.add(
        OAuthRequest(
            user_id=actor.id,
            platform=platform,
            state_hash=_hash(state),
            code_verifier_encrypted=tokens.encrypt(verifier),
            expires_at=now + CONSENT_TTL,
        )
    )
    session.flush()
    if platform == Platform.YOUTUBE:
        return youtube.authorization_url(state=state, code_verifier=verifier)
    if platform == Platform.TIKTOK:
        return tiktok.consent_url(state=state, code_verifier=verifier)
    return instagram.consent_url(state)


def finish_connection(
    *,
    session: Session,
    actor: UserView,
    platform: Platform,
    state: str,
    code: str = "",
    error: str = "",
) -> ConnectionView:
    """The platform sent the browser back: check `state` (one use, this clipper, this
    platform, in time), then exchange the code, name the account and keep the tokens
    encrypted. A refusal after the state check keeps the state used."""
    require_role(actor, Role.CLIPPER)
    platform = _platform(platform)
    spec = _SPECS[platform]
    state = str(state or "")
    pending = (
        session.exec(
            select(OAuthRequest).where(OAuthRequest.state_hash == _hash(state)).with_for_update()
        ).first()
        if state
        else None
    )
    if (
        pending is None
        or pending.user_id != actor.id
        or pending.platform != platform
        or pending.used_at is not None
        or pending.expires_at <= utcnow()
    ):
        raise InvalidInput(stale_link(platform))
    pending.used_at = utcnow()
    session.add(pending)
    if error or not code:
        why = "you declined access" if str(error) == "access_denied" else (error or "no code")
        raise RecordedRefusal(f"{spec.label} was not connected: {why}.")
    verifier = tokens.decrypt(pending.code_verifier_encrypted)
    try:
        grant = _exchange(platform, str(code), verifier)
    except instagram.NotProfessional as personal:
        # "Only Instagram professional accounts (business or creator) can be connected,
        # and @name is a personal account. ..." and how to switch.
        raise RecordedRefusal(f"{personal} {HOW_TO_GO_PROFESSIONAL}") from None
    except ServiceError as failure:
        raise RecordedRefusal(str(failure)) from None
    if not grant.account_id:
        raise RecordedRefusal(f"{spec.label} did not say which account this is; try again.")
    taken = session.exec(
        select(PlatformConnection.id).where(
            PlatformConnection.platform == platform,
            PlatformConnection.external_account_id == grant.account_id[:200],
            PlatformConnection.user_id != actor.id,
        )
    ).first()
    if taken is not None:
        raise RecordedRefusal(
            f"This {spec.account} is already connected to another ClipGen account. An "
            f"account can be connected to one ClipGen account only: disconnect it there first."
        )
    row = _connection(session, actor.id, platform) or PlatformConnection(
        user_id=actor.id, platform=platform
    )
    refresh = grant.refresh_token
    if platform != Platform.INSTAGRAM and not refresh:
        # Google gives a refresh token only at the first consent: keep the one we have.
        refresh = tokens.decrypt(row.refresh_token_encrypted) if row.revoked_at is None else ""
        if not refresh:
            raise RecordedRefusal(
                "Google did not give ClipGen lasting access. Remove ClipGen at "
                "myaccount.google.com/permissions, then connect again."
            )
    row.access_token_encrypted = tokens.encrypt(grant.access_token)
    row.refresh_token_encrypted = tokens.encrypt(refresh)
    row.token_expires_at = grant.expires_at
    row.scopes = " ".join(grant.scopes)[:1000]
    row.account_name = grant.account_name[:200]
    row.external_account_id = grant.account_id[:200]
    row.created_at = utcnow()
    row.revoked_at = None
    session.add(row)
    record_audit(
        session=session,
        action=f"{platform.value}.connected",
        actor_id=actor.id,
        target_type="user",
        target_id=actor.id,
        account=grant.account_id,
        account_name=grant.account_name,
    )
    session.flush()
    return _view(session, actor.id, platform)


def _exchange(platform: Platform, code: str, verifier: str) -> _Grant:
    """Trade the code for tokens and name the account they act for."""
    if platform == Platform.YOUTUBE:
        google = youtube.exchange_code(code=code, code_verifier=verifier)
        return _Grant(
            access_token=google.access_token,
            refresh_token=google.refresh_token,
            expires_at=google.expires_at,
            scopes=google.scopes,
            account_id=google.channel_id,
            account_name=google.channel_title,
        )
    if platform == Platform.TIKTOK:
        granted = tiktok.exchange_code(code=code, code_verifier=verifier)
        user = tiktok.user_info(granted.access_token)
        if user.open_id != granted.open_id:
            raise tiktok.TikTokError(
                "TikTok named two different accounts for one sign-in; connect again."
            )
        return _Grant(
            access_token=granted.access_token,
            refresh_token=granted.refresh_token,
            expires_at=granted.expires_at,
            scopes=granted.scopes,
            account_id=user.open_id,
            account_name=user.display_name,
        )
    short = instagram.exchange_code(code)
    lasting = instagram.long_lived(short.access_token)
    account = instagram.me(lasting.access_token)  # NotProfessional for a personal account
    return _Grant(
        access_token=lasting.access_token,
        refresh_token="",
        expires_at=lasting.expires_at,
        scopes=short.permissions,
        account_id=account.user_id,
        account_name=account.username,
    )


def disconnect(*, session: Session, actor: UserView, platform: Platform) -> bool:
    """Revoke ClipGen's access at the platform where it can, and delete the tokens here;
    whether the platform confirmed the revocation (the tokens are deleted either way).
    Instagram has no revocation for apps: always False (the clipper removes the app in
    Instagram's settings, `INSTAGRAM_APP_REMOVAL`)."""
    require_role(actor, Role.CLIPPER)
    platform = _platform(platform)
    row = _connection(session, actor.id, platform, lock=True)
    if row is None:
        raise InvalidInput(f"No {_SPECS[platform].account} is connected.")
    access = tokens.decrypt(row.access_token_encrypted)
    refresh = tokens.decrypt(row.refresh_token_encrypted)
    if platform == Platform.YOUTUBE:
        token = refresh or access
        revoked = youtube.revoke(token) if token else True
    elif platform == Platform.TIKTOK:
        revoked = _revoke_at_tiktok(access, refresh, row.token_expires_at)
    else:
        revoked = False
    session.delete(row)
    record_audit(
        session=session,
        action=f"{platform.value}.disconnected",
        actor_id=actor.id,
        target_type="user",
        target_id=actor.id,
        account=row.external_account_id,
        revoked_at_platform=revoked,
    )
    session.flush()
    return revoked


def _revoke_at_tiktok(access: str, refresh: str, expires_at: datetime | None) -> bool:
    """TikTok revokes by access token: renew an expired one first so the revoke can work.
    Nothing to revoke (a broken connection) counts as revoked."""
    if not access and not refresh:
        return True
    if refresh and (not access or expires_at is None or expires_at <= utcnow()):
        try:
            access = tiktok.refresh(refresh).access_token
        except tiktok.NotConnected:
            return True  # TikTok already ended the grant
        except tiktok.TikTokError as failure:
            log.warning("Could not renew a TikTok token to revoke it: %s", failure)
    return tiktok.revoke(access)


# --- what other services call ------------------------------------------------------------


def is_connected(session: Session, user_id: int, platform: Platform = Platform.YOUTUBE) -> bool:
    """Whether the clipper's account on `platform` is connected and usable."""
    return _live(_connection(session, user_id, _platform(platform)))


def account_id(session: Session, user_id: int, platform: Platform) -> str | None:
    """The platform's id of the clipper's connected account (YouTube channel id, TikTok
    open_id, Instagram user id), live or broken; None when none was ever connected (or it
    was disconnected)."""
    row = _connection(session, user_id, _platform(platform))
    return (row.external_account_id or None) if row is not None else None


def usable_token(user_id: int, platform: Platform) -> str | None:
    """A valid access token for the clipper's account on `platform`, renewed first when it
    expired or is about to (the renewed tokens saved, encrypted, in their own unit of
    work); None when not connected. A renewal the platform refuses marks the connection
    broken and tells the clipper (None). When the platform cannot be reached, the current
    token if it is still valid, else the platform's error (a ServiceError) propagates."""
    platform = _platform(platform)
    if platform == Platform.YOUTUBE:
        creds = usable_credentials(user_id)
        return creds.token if creds is not None else None
    with session_scope() as session:
        row = _connection(session, user_id, platform)
        if not _live(row):
            return None
        tried = _lasting(row)
        access = tokens.decrypt(row.access_token_encrypted)
        refresh = tokens.decrypt(row.refresh_token_encrypted)
        expires_at = row.token_expires_at
    now = utcnow()
    if expires_at is None:
        # Instagram named no lifetime: use the token until it is refused. TikTok always
        # names one; without it, renew.
        due = platform == Platform.TIKTOK
    else:
        renew_within = (
            TIKTOK_RENEW_WITHIN if platform == Platform.TIKTOK else INSTAGRAM_RENEW_WITHIN
        )
        due = expires_at - now <= renew_within
    if access and not due:
        return access
    lasting = access if platform == Platform.INSTAGRAM else refresh
    if not lasting:  # unreadable (SECRET_KEY changed): only a new consent helps
        return mark_broken(user_id, platform, tried=tried)
    try:
        renewed = _renew(platform, lasting)
    except (tiktok.NotConnected, instagram.NotConnected):
        return mark_broken(user_id, platform, tried=tried)
    except ServiceError as failure:
        if access and expires_at is not None and expires_at > now:
            log.warning("Could not renew a %s token yet: %s", platform.value, failure)
            return access
        raise
    _save_renewed(user_id, platform, renewed, tried=tried)
    return renewed.access_token


def _renew(platform: Platform, lasting: str) -> _Grant:
    if platform == Platform.TIKTOK:
        fresh = tiktok.refresh(lasting)
        return _Grant(
            access_token=fresh.access_token,
            refresh_token=fresh.refresh_token,
            expires_at=fresh.expires_at,
            scopes=fresh.scopes,
            account_id=fresh.open_id,
            account_name="",
        )
    renewed = instagram.refresh(lasting)
    return _Grant(
        access_token=renewed.access_token,
        refresh_token="",
        expires_at=renewed.expires_at,
        scopes=(),
        account_id="",
        account_name="",
    )


def _save_renewed(user_id: int, platform: Platform, renewed: _Grant, *, tried: str) -> None:
    """Keep renewed tokens, unless the connection changed meanwhile (disconnected,
    reconnected, or renewed by another worker: what is stored then stands)."""
    with session_scope() as session:
        row = _connection(session, user_id, platform, lock=True)
        if row is None or row.revoked_at is not None or _lasting(row) != tried:
            return
        row.access_token_encrypted = tokens.encrypt(renewed.access_token)
        if renewed.refresh_token:
            row.refresh_token_encrypted = tokens.encrypt(renewed.refresh_token)
        if renewed.expires_at is not None:
            row.token_expires_at = renewed.expires_at
        session.add(row)


def mark_broken(user_id: int, platform: Platform, *, tried: str | None = None) -> str | None:
    """The platform refused the clipper's tokens (access removed there, or lapsed): forget
    them, keep which account it was (`account_id`), and tell the clipper once. Its own unit
    of work; None. With `tried` (the stored token that was refused, encrypted), a
    connection renewed or made again since is left alone and its access token returned."""
    platform = _platform(platform)
    with session_scope() as session:
        row = _connection(session, user_id, platform, lock=True)
        if row is None or row.revoked_at is not None:
            return None
        if tried is not None and _lasting(row) != tried and _live(row):
            return tokens.decrypt(row.access_token_encrypted) or None
        row.revoked_at = utcnow()
        row.access_token_encrypted = ""
        row.refresh_token_encrypted = ""
        session.add(row)
        notify(
            session,
            user_id,
            Kind.CHANNEL_DISCONNECTED,
            _SPECS[platform].lost_access,
            routes.ACCOUNT,
        )
    return None


# --- YouTube's own names (the upload and the sync use Google's credentials) ---------------


def youtube_connection(*, session: Session, actor: UserView) -> ConnectionView:
    """Whether the clipper's channel is connected, and whether the server can connect it."""
    return connection_view(session=session, actor=actor, platform=Platform.YOUTUBE)


def start_youtube_connection(*, session: Session, actor: UserView) -> str:
    """The Google consent address to send the clipper's browser to."""
    return start_connection(session=session, actor=actor, platform=Platform.YOUTUBE)


def finish_youtube_connection(
    *, session: Session, actor: UserView, state: str, code: str = "", error: str = ""
) -> ConnectionView:
    """Google sent the browser back (see `finish_connection`)."""
    return finish_connection(
        session=session,
        actor=actor,
        platform=Platform.YOUTUBE,
        state=state,
        code=code,
        error=error,
    )


def disconnect_youtube(*, session: Session, actor: UserView) -> bool:
    """Revoke ClipGen's access at Google and delete the tokens here (see `disconnect`)."""
    return disconnect(session=session, actor=actor, platform=Platform.YOUTUBE)


def usable_credentials(user_id: int):
    """The clipper's Google credentials, refreshed if they expired (the new token saved,
    encrypted); None when not connected. A refresh Google refuses (access revoked at
    Google) marks the connection broken and tells the clipper. Its own units of work."""
    with session_scope() as session:
        row = _connection(session, user_id, Platform.YOUTUBE)
        if not _live(row):
            return None
        tried = _lasting(row)
        creds = youtube.credentials(
            access_token=tokens.decrypt(row.access_token_encrypted),
            refresh_token=tokens.decrypt(row.refresh_token_encrypted),
            expires_at=row.token_expires_at,
        )
    try:
        changed = youtube.refresh_if_needed(creds)
    except youtube.NotConnected:
        mark_broken(user_id, Platform.YOUTUBE, tried=tried)
        return None
    if changed:
        save_refreshed(user_id, creds)
    return creds


def save_refreshed(user_id: int, creds) -> None:
    """Keep a refreshed Google access token (and a rotated refresh token), encrypted."""
    with session_scope() as session:
        row = _connection(session, user_id, Platform.YOUTUBE)
        if row is None:
            return
        row.access_token_encrypted = tokens.encrypt(creds.token or "")
        if creds.refresh_token:
            row.refresh_token_encrypted = tokens.encrypt(creds.refresh_token)
        row.token_expires_at = youtube.expiry_of(creds)
        session.add(row)
