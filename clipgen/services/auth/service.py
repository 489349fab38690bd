"""Accounts and sign-in sessions.

Sessions are random bearer tokens; only their SHA-256 is stored, so a copy
of the database does not sign anyone in.

Failed sign-ins are throttled so that guessing is slow but an attacker cannot
lock the real owner out:
- per (email, client address): `LOGIN_MAX_FAILURES` in the window lock that
  email for that address only;
- per client address: `LOGIN_MAX_FAILURES_PER_IP` lock the address;
- per email across all addresses: past `LOGIN_GLOBAL_BACKOFF_AFTER` failures each
  further try waits a delay that doubles with every failure, up to
  `LOGIN_GLOBAL_BACKOFF_MAX_SECONDS` after the last one. An address the account
  signed in from recently is spared this (it still has its own limits above).

Services only flush; the caller's `session_scope()` commits once. A wrong password
raises a `RecordedRefusal`, so its failure row is kept although the sign-in fails.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.config import get_settings
from clipgen.models import AuditLog, AuthSession, LoginFailure, Role, User, utcnow
from clipgen.services import rate_limits
from clipgen.services.audit import record_audit
from clipgen.services.auth.agents import agent_family, same_family
from clipgen.services.auth.passwords import (
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from clipgen.services.errors import (
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    RecordedRefusal,
)

_EMAIL_RE = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
SELF_SERVICE_ROLES = (Role.CLIPPER, Role.CLIENT)
# How often a used session's last use (and so its idle end) is written: not on every event.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# A successful sign-in from an address within this long spares it the per-email backoff.
KNOWN_ADDRESS_DAYS = 30
WRONG_CREDENTIALS = "Wrong email or password."


class WrongCredentials(InvalidInput, RecordedRefusal):
    """The email or password is wrong; the failure row is kept (it counts towards limits)."""


class LockedAfterFailure(RateLimited, RecordedRefusal):
    """This failure reached a limit; the failure row is kept and the message says when to retry."""


class SessionFromOtherBrowser(NotAuthenticated, RecordedRefusal):
    """The token came from another kind of browser than it signed in with: the session is
    revoked (kept, with its audit row) and the caller must sign in."""


class AccountSuspended(PermissionDenied):
    """The right password, but an admin suspended the account: says why and how to appeal."""


def suspension_message(reason: str | None) -> str:
    """What a suspended account is told when it tries to sign in."""
    why = f" Reason: {reason.strip()}" if reason and reason.strip() else ""
    why = why if not why or why.endswith((".", "!", "?")) else why + "."
    return (
        f"This account is suspended.{why} If you think this is a mistake, you can appeal "
        f"at {routes.APPEAL}."
    )


@dataclass(frozen=True)
class UserView:
    """What the rest of the app may know of a user: never the hash."""

    id: int
    email: str
    display_name: str
    roles: tuple[str, ...]
    tier: str
    # Set only when the user was resolved from a browser session (`current_user`): which
    # one, and when its password was last typed. Money actions check the second.
    session_id: int | None = field(default=None, compare=False)
    reauthenticated_at: datetime | None = field(default=None, compare=False)

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=tuple(role.value for role in user.roles),
            tier=user.tier,
        )


def normalize_email(email: str) -> str:
    """The canonical form of an email (trimmed, lower case), or a clear refusal."""
    cleaned = (email or "").strip().lower()
    if not cleaned:
        raise InvalidInput("Enter your email address.")
    if len(cleaned) > 254 or not _EMAIL_RE.match(cleaned):
        raise InvalidInput("That does not look like an email address (name@example.com).")
    return cleaned


def _clean_display_name(display_name: str) -> str:
    cleaned = " ".join((display_name or "").split())
    if not cleaned:
        raise InvalidInput("Enter the name other people will see.")
    if len(cleaned) > 80:
        raise InvalidInput("Keep your display name to 80 characters or fewer.")
    return cleaned


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _create_user(
    *, session: Session, email: str, display_name: str, password: str, roles: set[Role]
) -> User:
    email = normalize_email(email)
    display_name = _clean_display_name(display_name)
    check_password_strength(password, email=email, display_name=display_name)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise InvalidInput("An account with that email already exists. Sign in instead.")
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password),
        is_clipper=Role.CLIPPER in roles,
        is_client=Role.CLIENT in roles,
        is_admin=Role.ADMIN in roles,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # A concurrent registration won. The caller's unit of work is now unusable and
        # its session_scope() rolls all of it back; rolling back here would silently
        # drop the caller's earlier work and let it go on as if nothing happened.
        raise InvalidInput("An account with that email already exists. Sign in instead.") from None
    return user


def register(
    *,
    session: Session,
    email: str,
    display_name: str,
    password: str,
    role: str,
    client_ip: str = "",
) -> UserView:
    """Open a clipper or client account. Admins are made only from the CLI."""
    if role not in {r.value for r in SELF_SERVICE_ROLES}:
        raise InvalidInput("Choose whether you are joining as a clipper or a client.")
    user = _create_user(
        session=session,
        email=email,
        display_name=display_name,
        password=password,
        roles={Role(role)},
    )
    record_audit(
        session=session,
        action="user.registered",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
        role=role,
    )
    session.flush()
    return UserView.of(user)


def _lock_lifts_at(
    session: Session, where: ColumnElement[bool], limit: int, now: datetime, window: timedelta
) -> datetime | None:
    """When the failures matching `where` fall below `limit` again, or None if they are below."""
    recent = (where, LoginFailure.attempted_at > now - window)
    count = session.exec(select(func.count()).select_from(LoginFailure).where(*recent)).one()
    if count < limit:
        return None
    # The lock lifts when the failure that made it `limit` strong leaves the window.
    pivot = session.exec(
        select(LoginFailure.attempted_at)
        .where(*recent)
        .order_by(col(LoginFailure.attempted_at))
        .offset(count - limit)
        .limit(1)
    ).one()
    return pivot + window


def _is_known_address(session: Session, user: User | None, client_ip: str, now: datetime) -> bool:
    """Whether the account signed in from this address recently (a trusted place)."""
    if user is None or not client_ip:
        return False
    found = session.exec(
        select(AuditLog.id)
        .where(
            AuditLog.actor_id == user.id,
            AuditLog.action == "user.signed_in",
            AuditLog.client_ip == client_ip[:64],
            AuditLog.created_at > now - timedelta(days=KNOWN_ADDRESS_DAYS),
        )
        .limit(1)
    ).first()
    return found is not None


def _minutes_message(subject: str, retry_at: datetime, now: datetime) -> str:
    minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
    return (
        f"Too many failed sign-ins {subject}. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''} (at {retry_at:%H:%M} UTC)."
    )


def _lock_reason(
    session: Session, email: str, client_ip: str, user: User | None
) -> tuple[str, datetime] | None:
    """Why a sign-in for `email` from `client_ip` must wait now, and until when; None if free."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_lockout_minutes)
    now = utcnow()
    address = client_ip[:64]

    # This email from this address: the guesser's own lock, never anyone else's.
    pair = (LoginFailure.email == email) & (LoginFailure.client_ip == address)
    retry_at = _lock_lifts_at(session, pair, settings.login_max_failures, now, window)
    if retry_at is not None:
        return _minutes_message("for this account from your network", retry_at, now), retry_at

    # This address, whatever the emails: one place guessing at many accounts.
    if address:
        per_ip = LoginFailure.client_ip == address
        retry_at = _lock_lifts_at(session, per_ip, settings.login_max_failures_per_ip, now, window)
        if retry_at is not None:
            return _minutes_message("from your network", retry_at, now), retry_at

    # This email from everywhere: a slow backoff, so many addresses cannot guess fast
    # and no one can lock the owner out for longer than the cap.
    count, last = session.exec(
        select(func.count(), func.max(LoginFailure.attempted_at)).where(
            LoginFailure.email == email, LoginFailure.attempted_at > now - window
        )
    ).one()
    excess = count - settings.login_global_backoff_after
    if excess < 0 or last is None:
        return None
    delay = min(settings.login_global_backoff_max_seconds, 2 ** min(excess, 32))
    retry_at = last + timedelta(seconds=delay)
    if retry_at <= now or _is_known_address(session, user, address, now):
        return None
    seconds = max(1, -(-int((retry_at - now).total_seconds() * 1000) // 1000))
    message = (
        "There have been many failed sign-ins to this account, so each try must wait a "
        f"little. Wait {seconds} second{'s' if seconds != 1 else ''}, then try again."
    )
    return message, retry_at


def _checked_credentials(session: Session, email: str, password: str, client_ip: str) -> User:
    """The user whose (normalized) email and password these are; a wrong pair is counted
    as a failed sign-in and every lockout applies (see the module)."""
    if not password:
        raise InvalidInput("Enter your password.")
    user = session.exec(select(User).where(User.email == email)).first()
    locked = _lock_reason(session, email, client_ip, user)
    if locked is not None:
        raise RateLimited(locked[0], retry_at=locked[1])
    if user is None or not verify_password(user.password_hash, password[:1024]):
        session.add(LoginFailure(email=email, client_ip=client_ip[:64]))
        session.flush()
        locked = _lock_reason(session, email, client_ip, user)
        if locked is not None:
            raise LockedAfterFailure(f"{WRONG_CREDENTIALS} {locked[0]}", retry_at=locked[1])
        raise WrongCredentials(WRONG_CREDENTIALS)
    return user


def verify_credentials(
    *, session: Session, email: str, password: str, client_ip: str = ""
) -> UserView:
    """The account these credentials open, without opening a session (a suspended account
    appealing). Failures count and lock exactly like sign-in's; a suspended account passes."""
    return UserView.of(_checked_credentials(session, normalize_email(email), password, client_ip))


def sign_in(
    *,
    session: Session,
    email: str,
    password: str,
    client_ip: str = "",
    user_agent: str = "",
) -> tuple[str, UserView]:
    """Check the credentials and open a session; returns its token and the user.

    `client_ip` is the caller's address as resolved from trusted proxies; failures
    are counted per (email, address), per address, and per email (see the module).
    """
    email = normalize_email(email)
    user = _checked_credentials(session, email, password, client_ip)
    if not user.is_active:
        raise PermissionDenied("This account has been suspended. Contact support.")
    if user.suspended_at is not None:
        raise AccountSuspended(suspension_message(user.suspension_reason))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # Only this address's failures for this email: other addresses' stay counted.
    session.exec(
        delete(LoginFailure).where(
            col(LoginFailure.email) == email, col(LoginFailure.client_ip) == client_ip[:64]
        )
    )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=_session_end(now, now),
            reauthenticated_at=now,
            client_ip=client_ip[:64],
            user_agent=user_agent[:255],
        )
    )
    record_audit(
        session=session,
        action="user.signed_in",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
    )
    session.flush()
    return token, UserView.of(user)


def _live_session(session: Session, token: str) -> tuple[AuthSession, User] | None:
    if not token:
        return None
    row = session.exec(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(
            AuthSession.token_hash == _token_hash(token),
            col(AuthSession.revoked_at).is_(None),
            AuthSession.expires_at > utcnow(),
            col(User.is_active).is_(True),
            col(User.suspended_at).is_(None),
        )
    ).first()
    return (row[0], row[1]) if row else None


def _session_end(created_at: datetime, used_at: datetime) -> datetime:
    """When a session used at `used_at` ends: `SESSION_IDLE_HOURS` later, and never past
    `SESSION_TTL_HOURS` after it began."""
    settings = get_settings()
    return min(
        used_at + timedelta(hours=settings.session_idle_hours),
        created_at + timedelta(hours=settings.session_ttl_hours),
    )


def _session_user(session: Session, token: str, user_agent: str | None) -> UserView | None:
    """The live session's user, its idle end slid forward; a token from another browser
    family than it signed in with is revoked and refused (`SessionFromOtherBrowser`).
    `user_agent` None (no browser: a worker, the CLI) skips the family check."""
    found = _live_session(session, token)
    if found is None:
        return None
    auth_session, user = found
    now = utcnow()
    if user_agent is not None and not same_family(auth_session.user_agent, user_agent):
        auth_session.revoked_at = now
        record_audit(
            session=session,
            action="user.session_refused",
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
            reason="other browser",
            signed_in_with=agent_family(auth_session.user_agent),
            used_from=agent_family(user_agent),
        )
        session.flush()
        raise SessionFromOtherBrowser()
    if now - auth_session.last_seen_at >= LAST_SEEN_RESOLUTION:
        auth_session.last_seen_at = now
        auth_session.expires_at = _session_end(auth_session.created_at, now)
        session.flush()
    return replace(
        UserView.of(user),
        session_id=auth_session.id,
        reauthenticated_at=auth_session.reauthenticated_at,
    )


def current_user(*, session: Session, token: str, user_agent: str | None = None) -> UserView | None:
    """The user a session token belongs to, or None when it is not live (or was just
    refused for coming from another browser family; the caller's unit of work keeps the
    revocation)."""
    try:
        return _session_user(session, token, user_agent)
    except SessionFromOtherBrowser:
        return None


def require_user(
    *, session: Session, token: str, role: Role | None = None, user_agent: str | None = None
) -> UserView:
    """The signed-in user, who must hold `role` when one is given."""
    user = _session_user(session, token, user_agent)
    if user is None:
        raise NotAuthenticated()
    if role is not None and not user.has_role(role):
        raise PermissionDenied()
    return user


def sign_out(*, session: Session, token: str) -> None:
    """End the session the token names; a dead or unknown token is ignored."""
    found = _live_session(session, token)
    if found is None:
        return
    auth_session, user = found
    auth_session.revoked_at = utcnow()
    record_audit(
        session=session,
        action="user.signed_out",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    session.flush()


def change_password(
    *,
    session: Session,
    token: str,
    current_password: str,
    new_password: str,
    client_ip: str = "",
) -> None:
    """Replace the password and end every other session of the user. The current password
    typed in the form is this change's fresh re-authentication (money actions ask for it in
    a prompt instead); wrong ones are counted, so a stolen session cannot guess it."""
    found = _live_session(session, token)
    if found is None:
        raise NotAuthenticated()
    auth_session, user = found
    # Wrong current passwords count like failed sign-ins: past the limit even the
    # right one is refused until the window moves on (a stolen session cannot guess).
    failures = rate_limits.user_key(user.id)
    rate_limits.check("password_failures", failures)
    if not verify_password(user.password_hash, current_password[:1024]):
        rate_limits.hit("password_failures", failures)
        raise InvalidInput("Your current password is not right.")
    rate_limits.clear("password_failures", failures)
    if new_password == current_password:
        raise InvalidInput("The new password must differ from the current one.")
    check_password_strength(new_password, email=user.email, display_name=user.display_name)
    now = utcnow()
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    # The current password was just typed: that is a re-authentication of this session.
    auth_session.reauthenticated_at = now
    others = session.exec(
        select(AuthSession).where(
            AuthSession.user_id == user.id,
            AuthSession.id != auth_session.id,
            col(AuthSession.revoked_at).is_(None),
        )
    ).all()
    for other in others:
        other.revoked_at = now
    record_audit(
        session=session,
        action="user.password_changed",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
        sessions_ended=len(others),
    )
    session.flush()


def reauthenticate(
    *,
    session: Session,
    token: str,
    password: str,
    client_ip: str = "",
    user_agent: str | None = None,
) -> None:
    """Take the password again in a signed-in session, so money actions may go ahead for
    `SESSION_REAUTH_MINUTES`. A wrong password counts as a failed sign-in of the account
    from this address (the same lockouts apply, and its row is kept)."""
    user = _session_user(session, token, user_agent)
    if user is None:
        raise NotAuthenticated()
    try:
        _checked_credentials(session, user.email, password, client_ip)
    except WrongCredentials:
        raise WrongCredentials("That password is not right.") from None
    auth_session = session.get(AuthSession, user.session_id)
    auth_session.reauthenticated_at = utcnow()
    record_audit(
        session=session,
        action="user.reauthenticated",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
    )
    session.flush()


def require_recent_password(actor: UserView, *, to: str) -> None:
    """Refuse a money action (`ReauthRequired`) unless the actor's session took the
    password within `SESSION_REAUTH_MINUTES`. `to` completes "enter your password again
    to ...". An actor not from a browser session (the CLI, a worker) is not asked."""
    if actor.session_id is not None:
        _require_fresh(actor.reauthenticated_at, to=to)


def _require_fresh(reauthenticated_at: datetime | None, *, to: str) -> None:
    window = timedelta(minutes=get_settings().session_reauth_minutes)
    if reauthenticated_at is None or utcnow() - reauthenticated_at > window:
        raise ReauthRequired(f"For your security, enter your password again to {to}.")


def create_admin(
    *, session: Session, email: str, password: str, display_name: str = ""
) -> UserView:
    """Make an admin account, or give an existing account the admin role.

    Only the command line calls this: it trusts whoever runs it on the server.
    """
    email = normalize_email(email)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None:
        if not verify_password(user.password_hash, password):
            raise InvalidInput(
                "An account with that email exists; give its current password to make it an admin."
            )
        user.is_admin = True
    else:
        user = _create_user(
            session=session,
            email=email,
            display_name=display_name or email.split("@")[0],
            password=password,
            roles={Role.ADMIN},
        )
    record_audit(
        session=session,
        action="user.made_admin",
        actor_id=None,
        target_type="user",
        target_id=user.id,
        via="cli",
    )
    session.flush()
    return UserView.of(user)


def list_admins(*, session: Session) -> list[UserView]:
    """Every admin account, oldest first."""
    users = session.exec(select(User).where(col(User.is_admin).is_(True)).order_by(User.id)).all()
    return [UserView.of(user) for user in users]


def purge_expired_sessions(*, session: Session) -> int:
    """Delete sessions and failure records nobody can use any more."""
    now = utcnow()
    settings = get_settings()
    removed = session.exec(
        delete(AuthSession).where(
            (AuthSession.expires_at < now) | col(AuthSession.revoked_at).is_not(None)
        )
    ).rowcount
    session.exec(
        delete(LoginFailure).where(
            LoginFailure.attempted_at < now - timedelta(minutes=settings.login_lockout_minutes)
        )
    )
    session.flush()
    return removed or 0
