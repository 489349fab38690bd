"""Accounts and sign-in sessions.

Sessions are random bearer tokens; only their SHA-256 is stored, so a copy
of the database does not sign anyone in. Failed sign-ins are counted per
email and per client address and lock further tries for a while.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.models import AuthSession, LoginFailure, Role, User, utcnow
from clipgen.services.audit import record_audit
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
)

_EMAIL_RE = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
SELF_SERVICE_ROLES = (Role.CLIPPER, Role.CLIENT)
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class UserView:
    """What the rest of the app may know of a user: never the hash."""

    id: int
    email: str
    display_name: str
    roles: tuple[str, ...]
    tier: str

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
        session.rollback()
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
    session.commit()
    return UserView.of(user)


def _failures_since(session: Session, column, value: str, since: datetime):
    return session.exec(
        select(func.count(), func.min(LoginFailure.attempted_at)).where(
            column == value, LoginFailure.attempted_at > since
        )
    ).one()


def _check_not_locked(session: Session, email: str, client_ip: str) -> None:
    settings = get_settings()
    window = timedelta(minutes=settings.login_lockout_minutes)
    now = utcnow()
    checks = [(LoginFailure.email, email, settings.login_max_failures, "this email")]
    if client_ip:
        checks.append(
            (LoginFailure.client_ip, client_ip, settings.login_max_failures_per_ip, "your network")
        )
    for column, value, limit, subject in checks:
        count, oldest = _failures_since(session, column, value, now - window)
        if count >= limit:
            retry_at = oldest + window
            minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
            raise RateLimited(
                f"Too many failed sign-ins from {subject}. Try again in "
                f"{minutes} minute{'s' if minutes != 1 else ''} "
                f"(at {retry_at:%H:%M} UTC).",
                retry_at=retry_at,
            )


def sign_in(
    *,
    session: Session,
    email: str,
    password: str,
    client_ip: str = "",
    user_agent: str = "",
) -> tuple[str, UserView]:
    """Check the credentials and open a session; returns its token and the user."""
    email = normalize_email(email)
    if not password:
        raise InvalidInput("Enter your password.")
    _check_not_locked(session, email, client_ip)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or not verify_password(user.password_hash, password[:1024]):
        session.add(LoginFailure(email=email, client_ip=client_ip[:64]))
        session.commit()
        _check_not_locked(session, email, client_ip)
        raise InvalidInput("Wrong email or password.")
    if not user.is_active:
        raise PermissionDenied("This account has been suspended. Contact support.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.exec(delete(LoginFailure).where(col(LoginFailure.email) == email))
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=get_settings().session_ttl_hours),
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
    session.commit()
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
        )
    ).first()
    return (row[0], row[1]) if row else None


def current_user(*, session: Session, token: str) -> UserView | None:
    """The user a session token belongs to, or None when it is not live."""
    found = _live_session(session, token)
    if found is None:
        return None
    auth_session, user = found
    now = utcnow()
    if now - auth_session.last_seen_at > LAST_SEEN_RESOLUTION:
        auth_session.last_seen_at = now
        session.commit()
    return UserView.of(user)


def require_user(*, session: Session, token: str, role: Role | None = None) -> UserView:
    """The signed-in user, who must hold `role` when one is given."""
    user = current_user(session=session, token=token)
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
    session.commit()


def change_password(
    *,
    session: Session,
    token: str,
    current_password: str,
    new_password: str,
    client_ip: str = "",
) -> None:
    """Replace the password and end every other session of the user."""
    found = _live_session(session, token)
    if found is None:
        raise NotAuthenticated()
    auth_session, user = found
    if not verify_password(user.password_hash, current_password[:1024]):
        raise InvalidInput("Your current password is not right.")
    if new_password == current_password:
        raise InvalidInput("The new password must differ from the current one.")
    check_password_strength(new_password, email=user.email, display_name=user.display_name)
    now = utcnow()
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
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
    session.commit()


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
    session.commit()
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
    session.commit()
    return removed or 0
