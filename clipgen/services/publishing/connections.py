"""A clipper's YouTube connection: OAuth 2.0 consent with a one-time `state` bound to the
clipper who asked (CSRF) and PKCE, tokens encrypted at rest, refreshed tokens saved,
and a disconnect that revokes at Google and deletes them here."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import OAuthRequest, Platform, PlatformConnection, Role, utcnow
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, RecordedRefusal
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.publishing import tokens, youtube

log = logging.getLogger(__name__)

CONSENT_TTL = timedelta(minutes=15)
STALE_LINK = (
    "This YouTube connection link is not valid any more (it expired, was already used, or "
    "was started from another account). Press Connect YouTube again."
)


@dataclass(frozen=True)
class ConnectionView:
    configured: bool  # an OAuth client is set on this server
    missing_settings: list[str]  # what to set when it is not
    connected: bool
    channel_title: str
    channel_id: str
    connected_at: datetime | None


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _connection(session: Session, user_id: int) -> PlatformConnection | None:
    return session.exec(
        select(PlatformConnection).where(
            PlatformConnection.user_id == user_id,
            PlatformConnection.platform == Platform.YOUTUBE,
        )
    ).first()


def _live(row: PlatformConnection | None) -> bool:
    """A connection ClipGen can use: not broken, with a refresh token."""
    return row is not None and row.revoked_at is None and bool(row.refresh_token_encrypted)


def youtube_connection(*, session: Session, actor: UserView) -> ConnectionView:
    """Whether the clipper's channel is connected, and whether the server can connect it."""
    require_role(actor, Role.CLIPPER)
    row = _connection(session, actor.id)
    live = _live(row)
    return ConnectionView(
        configured=get_settings().youtube_configured,
        missing_settings=youtube.missing_settings(),
        connected=live,
        channel_title=row.account_name if live else "",
        channel_id=row.external_account_id if live else "",
        connected_at=row.created_at if live else None,
    )


def is_connected(session: Session, user_id: int) -> bool:
    """Whether the clipper's YouTube channel is connected and usable."""
    return _live(_connection(session, user_id))


def start_youtube_connection(*, session: Session, actor: UserView) -> str:
    """The Google consent address to send the clipper's browser to."""
    require_role(actor, Role.CLIPPER)
    missing = youtube.missing_settings()
    if missing:
        raise InvalidInput(
            "YouTube publishing is not set up on this server (an admin sets "
            f"{', '.join(missing)}). You can still add your posts by their address."
        )
    now = utcnow()
    session.exec(delete(OAuthRequest).where(col(OAuthRequest.expires_at) < now))
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    session.add(
        OAuthRequest(
            user_id=actor.id,
            platform=Platform.YOUTUBE,
            state_hash=_hash(state),
            code_verifier_encrypted=tokens.encrypt(verifier),
            expires_at=now + CONSENT_TTL,
        )
    )
    session.flush()
    return youtube.authorization_url(state=state, code_verifier=verifier)


def finish_youtube_connection(
    *, session: Session, actor: UserView, state: str, code: str = "", error: str = ""
) -> ConnectionView:
    """Google sent the browser back: check `state` (one use, this clipper, in time), then
    exchange the code and keep the tokens encrypted."""
    require_role(actor, Role.CLIPPER)
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
        or pending.used_at is not None
        or pending.expires_at <= utcnow()
    ):
        raise InvalidInput(STALE_LINK)
    pending.used_at = utcnow()
    session.add(pending)
    if error or not code:
        why = "you declined access" if str(error) == "access_denied" else (error or "no code")
        raise RecordedRefusal(f"YouTube was not connected: {why}.")
    try:
        grant = youtube.exchange_code(
            code=str(code), code_verifier=tokens.decrypt(pending.code_verifier_encrypted)
        )
    except youtube.YouTubeError as failure:
        raise RecordedRefusal(str(failure)) from None
    row = _connection(session, actor.id) or PlatformConnection(
        user_id=actor.id, platform=Platform.YOUTUBE
    )
    refresh = grant.refresh_token or (
        tokens.decrypt(row.refresh_token_encrypted) if row.revoked_at is None else ""
    )
    if not refresh:
        raise RecordedRefusal(
            "Google did not give ClipGen lasting access. Remove ClipGen at "
            "myaccount.google.com/permissions, then connect again."
        )
    row.access_token_encrypted = tokens.encrypt(grant.access_token)
    row.refresh_token_encrypted = tokens.encrypt(refresh)
    row.token_expires_at = grant.expires_at
    row.scopes = " ".join(grant.scopes)[:1000]
    row.account_name = grant.channel_title[:200]
    row.external_account_id = grant.channel_id[:200]
    row.created_at = utcnow()
    row.revoked_at = None
    session.add(row)
    record_audit(
        session=session,
        action="youtube.connected",
        actor_id=actor.id,
        target_type="user",
        target_id=actor.id,
        channel=grant.channel_id,
    )
    session.flush()
    return youtube_connection(session=session, actor=actor)


def disconnect_youtube(*, session: Session, actor: UserView) -> bool:
    """Revoke ClipGen's access at Google and delete the tokens here; whether Google
    confirmed the revocation (the tokens are deleted either way)."""
    require_role(actor, Role.CLIPPER)
    row = _connection(session, actor.id)
    if row is None:
        raise InvalidInput("No YouTube channel is connected.")
    token = tokens.decrypt(row.refresh_token_encrypted) or tokens.decrypt(
        row.access_token_encrypted
    )
    revoked = youtube.revoke(token) if token else True
    session.delete(row)
    record_audit(
        session=session,
        action="youtube.disconnected",
        actor_id=actor.id,
        target_type="user",
        target_id=actor.id,
        revoked_at_google=revoked,
    )
    session.flush()
    return revoked


def usable_credentials(user_id: int):
    """The clipper's Google credentials, refreshed if they expired (the new token saved,
    encrypted); None when not connected. A refresh Google refuses (access revoked at
    Google) marks the connection broken and tells the clipper. Its own units of work."""
    with session_scope() as session:
        row = _connection(session, user_id)
        if not _live(row):
            return None
        creds = youtube.credentials(
            access_token=tokens.decrypt(row.access_token_encrypted),
            refresh_token=tokens.decrypt(row.refresh_token_encrypted),
            expires_at=row.token_expires_at,
        )
    try:
        changed = youtube.refresh_if_needed(creds)
    except youtube.NotConnected:
        _mark_broken(user_id)
        return None
    if changed:
        save_refreshed(user_id, creds)
    return creds


def save_refreshed(user_id: int, creds) -> None:
    """Keep a refreshed access token (and a rotated refresh token), encrypted."""
    with session_scope() as session:
        row = _connection(session, user_id)
        if row is None:
            return
        row.access_token_encrypted = tokens.encrypt(creds.token or "")
        if creds.refresh_token:
            row.refresh_token_encrypted = tokens.encrypt(creds.refresh_token)
        row.token_expires_at = youtube.expiry_of(creds)
        session.add(row)


def _mark_broken(user_id: int) -> None:
    with session_scope() as session:
        row = _connection(session, user_id)
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = utcnow()
        row.access_token_encrypted = ""
        row.refresh_token_encrypted = ""
        session.add(row)
        notify(
            session,
            user_id,
            Kind.CHANNEL_DISCONNECTED,
            "Google no longer lets ClipGen reach your YouTube channel. Connect it again to "
            "upload clips and keep their views up to date.",
            routes.ACCOUNT,
        )
