"""The rules of accounts and sessions, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from clipgen.models import AuditLog, AuthSession, LoginFailure, User, utcnow
from clipgen.services.auth import service as auth
from clipgen.services.auth.passwords import hash_password, verify_password
from clipgen.services.errors import (
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
)

PASSWORD = "a sturdy passphrase"


def _register(session: Session, email: str = "ada@example.com", role: str = "clipper"):
    return auth.register(
        session=session, email=email, display_name="Ada", password=PASSWORD, role=role
    )


def _user_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def test_password_is_stored_as_an_argon2_hash_never_as_text(session: Session) -> None:
    _register(session)
    stored = session.exec(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")


def test_unknown_user_verification_is_false_not_an_error() -> None:
    assert verify_password(None, "anything at all") is False
    assert verify_password("not-a-hash", "anything at all") is False
    assert verify_password(hash_password("correct one here"), "correct one here")


def test_registration_gives_the_chosen_role_and_normalises_the_email(session: Session) -> None:
    user = _register(session, email="  Ada@Example.COM ", role="client")
    assert user.email == "ada@example.com"
    assert user.roles == ("client",)
    assert user.display_name == "Ada"
    assert session.exec(select(AuditLog.action)).all() == ["user.registered"]


def test_the_user_view_carries_no_password_hash(session: Session) -> None:
    user = _register(session)
    assert "hash" not in " ".join(vars(user))
    assert "argon2" not in repr(user)


@pytest.mark.parametrize(
    ("email", "name", "password", "role", "message"),
    [
        ("not-an-email", "Ada", PASSWORD, "clipper", "does not look like an email"),
        ("ada@", "Ada", PASSWORD, "clipper", "does not look like an email"),
        ("", "Ada", PASSWORD, "clipper", "Enter your email"),
        ("ada@example.com", "   ", PASSWORD, "clipper", "Enter the name"),
        ("ada@example.com", "Ada", "short1", "clipper", "at least 10 characters"),
        ("ada@example.com", "Ada", "password123", "clipper", "too easy to guess"),
        ("ada@example.com", "Ada", "aaaaaaaaaaaa", "clipper", "too easy to guess"),
        (
            "lovelace@example.com",
            "Ada",
            "lovelace-rocks-hard",
            "clipper",
            "must not contain your email",
        ),
        ("ada@example.com", "Ada", PASSWORD, "admin", "clipper or a client"),
        ("ada@example.com", "Ada", PASSWORD, "", "clipper or a client"),
    ],
)
def test_bad_registration_is_refused_with_a_clear_message_and_changes_nothing(
    session: Session, email: str, name: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        auth.register(session=session, email=email, display_name=name, password=password, role=role)
    assert _user_count(session) == 0


def test_duplicate_email_is_refused_whatever_its_case(session: Session) -> None:
    _register(session)
    with pytest.raises(InvalidInput, match="already exists"):
        _register(session, email="ADA@example.com")
    assert _user_count(session) == 1


def test_sign_in_opens_a_session_whose_token_is_stored_only_as_a_hash(session: Session) -> None:
    _register(session)
    token, user = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    assert len(token) >= 40
    stored = session.exec(select(AuthSession)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert auth.current_user(session=session, token=token) == user


def test_wrong_password_and_unknown_email_get_the_same_message(session: Session) -> None:
    _register(session)
    with pytest.raises(InvalidInput, match="^Wrong email or password.$"):
        auth.sign_in(session=session, email="ada@example.com", password="not the password")
    with pytest.raises(InvalidInput, match="^Wrong email or password.$"):
        auth.sign_in(session=session, email="nobody@example.com", password=PASSWORD)
    assert session.exec(select(func.count()).select_from(AuthSession)).one() == 0


def test_an_unknown_or_empty_token_is_nobody(session: Session) -> None:
    assert auth.current_user(session=session, token="") is None
    assert auth.current_user(session=session, token="made-up-token") is None
    with pytest.raises(NotAuthenticated):
        auth.require_user(session=session, token="made-up-token")


def test_an_expired_session_signs_nobody_in(session: Session) -> None:
    _register(session)
    token, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    session.exec(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert auth.current_user(session=session, token=token) is None


def test_sign_out_revokes_the_session_on_the_server(session: Session) -> None:
    _register(session)
    token, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    auth.sign_out(session=session, token=token)
    assert auth.current_user(session=session, token=token) is None
    assert session.exec(select(AuthSession.revoked_at)).one() is not None


def test_a_suspended_account_cannot_sign_in_or_use_its_sessions(session: Session) -> None:
    _register(session)
    token, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    session.exec(update(User).values(is_active=False))
    session.commit()
    assert auth.current_user(session=session, token=token) is None
    with pytest.raises(PermissionDenied, match="suspended"):
        auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)


def test_require_user_checks_the_role(session: Session) -> None:
    _register(session, role="client")
    token, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    assert auth.require_user(session=session, token=token, role=auth.Role.CLIENT).email
    with pytest.raises(PermissionDenied):
        auth.require_user(session=session, token=token, role=auth.Role.CLIPPER)
    with pytest.raises(PermissionDenied):
        auth.require_user(session=session, token=token, role=auth.Role.ADMIN)


def test_changing_the_password_ends_every_other_session(session: Session) -> None:
    _register(session)
    here, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    elsewhere, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    auth.change_password(
        session=session,
        token=here,
        current_password=PASSWORD,
        new_password="an even better passphrase",
    )
    assert auth.current_user(session=session, token=here) is not None
    assert auth.current_user(session=session, token=elsewhere) is None
    with pytest.raises(InvalidInput):
        auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    auth.sign_in(session=session, email="ada@example.com", password="an even better passphrase")


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong current password", "an even better passphrase", "current password is not right"),
        (PASSWORD, PASSWORD, "must differ"),
        (PASSWORD, "tiny", "at least 10"),
    ],
)
def test_a_refused_password_change_keeps_the_old_password(
    session: Session, current: str, new: str, message: str
) -> None:
    _register(session)
    token, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    before = session.exec(select(User.password_hash)).one()
    with pytest.raises(InvalidInput, match=message):
        auth.change_password(
            session=session, token=token, current_password=current, new_password=new
        )
    session.expire_all()
    assert session.exec(select(User.password_hash)).one() == before


def test_password_change_needs_a_live_session(session: Session) -> None:
    with pytest.raises(NotAuthenticated):
        auth.change_password(
            session=session,
            token="nope",
            current_password=PASSWORD,
            new_password="an even better passphrase",
        )


def test_repeated_failures_lock_the_email_and_say_when_to_retry(session: Session) -> None:
    _register(session)
    for _ in range(4):
        with pytest.raises(InvalidInput):
            auth.sign_in(session=session, email="ada@example.com", password="wrong password!")
    with pytest.raises(
        RateLimited, match=r"Try again in 15 minutes \(at \d\d:\d\d UTC\)"
    ) as locked:
        auth.sign_in(session=session, email="ada@example.com", password="wrong password!")
    assert locked.value.retry_at > utcnow() + timedelta(minutes=14)
    # Even the right password is refused while locked: guessing gains nothing.
    with pytest.raises(RateLimited):
        auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    assert session.exec(select(func.count()).select_from(AuthSession)).one() == 0


def test_the_lock_lifts_after_the_window(session: Session) -> None:
    _register(session)
    for _ in range(4):
        with pytest.raises(InvalidInput):
            auth.sign_in(session=session, email="ada@example.com", password="wrong password!")
    with pytest.raises(RateLimited):
        auth.sign_in(session=session, email="ada@example.com", password="wrong password!")
    session.exec(update(LoginFailure).values(attempted_at=utcnow() - timedelta(minutes=16)))
    session.commit()
    auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    assert session.exec(select(func.count()).select_from(LoginFailure)).one() == 0


def test_one_address_guessing_many_emails_is_locked(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_IP", "3")
    auth.get_settings.cache_clear()
    for n in range(2):
        with pytest.raises(InvalidInput):
            auth.sign_in(
                session=session,
                email=f"u{n}@example.com",
                password="guess guess",
                client_ip="203.0.113.9",
            )
    with pytest.raises(RateLimited, match="your network"):
        auth.sign_in(
            session=session, email="u9@example.com", password="guess guess", client_ip="203.0.113.9"
        )
    # Another address is not affected.
    with pytest.raises(InvalidInput):
        auth.sign_in(
            session=session,
            email="u9@example.com",
            password="guess guess",
            client_ip="198.51.100.1",
        )


def test_create_admin_makes_an_admin_and_lists_it(session: Session) -> None:
    admin = auth.create_admin(session=session, email="boss@example.com", password=PASSWORD)
    assert admin.roles == ("admin",)
    assert [a.email for a in auth.list_admins(session=session)] == ["boss@example.com"]


def test_create_admin_promotes_an_existing_account_only_with_its_password(session: Session) -> None:
    _register(session)
    with pytest.raises(InvalidInput, match="current password"):
        auth.create_admin(session=session, email="ada@example.com", password="not hers at all")
    assert auth.list_admins(session=session) == []
    admin = auth.create_admin(session=session, email="ada@example.com", password=PASSWORD)
    assert admin.roles == ("clipper", "admin")


def test_purge_removes_dead_sessions_and_keeps_live_ones(session: Session) -> None:
    _register(session)
    live, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    dead, _ = auth.sign_in(session=session, email="ada@example.com", password=PASSWORD)
    auth.sign_out(session=session, token=dead)
    assert auth.purge_expired_sessions(session=session) == 1
    assert auth.current_user(session=session, token=live) is not None
