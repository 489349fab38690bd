"""The rules of accounts and sessions, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from clipgen.db import session_scope
from clipgen.models import AuditLog, AuthSession, LoginFailure, User, utcnow
from clipgen.services.auth import service as auth
from clipgen.services.auth.passwords import hash_password, verify_password
from clipgen.services.errors import (
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
    RecordedRefusal,
)
from clipgen.state.client import client_address, request_client_address

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


VICTIM_IP = "198.51.100.7"
ATTACKER_IP = "203.0.113.66"


def _try(session: Session, ip: str, password: str = "wrong password!", email: str = ""):
    return auth.sign_in(
        session=session, email=email or "ada@example.com", password=password, client_ip=ip
    )


def _failures(session: Session, **where) -> int:
    query = select(func.count()).select_from(LoginFailure)
    for name, value in where.items():
        query = query.where(getattr(LoginFailure, name) == value)
    return session.exec(query).one()


def _add_failures(session: Session, count: int, *, email: str = "ada@example.com") -> None:
    """`count` failures for `email` just now, each from a different address (a botnet)."""
    now = utcnow()
    session.add_all(
        LoginFailure(email=email, client_ip=f"10.9.{n // 200}.{n % 200 + 1}", attempted_at=now)
        for n in range(count)
    )
    session.commit()


def _age_failures(session: Session, seconds: float) -> None:
    """Move every failure `seconds` into the past, as if that time had passed."""
    for failure in session.exec(select(LoginFailure)).all():
        failure.attempted_at -= timedelta(seconds=seconds)
    session.commit()


def test_a_wrong_password_is_a_recorded_refusal_that_reads_as_invalid_input(
    session: Session,
) -> None:
    _register(session)
    with pytest.raises(InvalidInput) as refused:
        _try(session, ATTACKER_IP)
    assert isinstance(refused.value, RecordedRefusal)
    assert str(refused.value) == "Wrong email or password."


def test_through_session_scope_failures_are_kept_and_everything_else_commits_once(
    database_url: str,
) -> None:
    with session_scope() as session:
        _register(session)
    for _ in range(2):
        with (
            pytest.raises(InvalidInput, match="Wrong email or password"),
            session_scope() as session,
        ):
            _try(session, ATTACKER_IP)
    with session_scope() as session:
        assert _failures(session) == 2
        token, _ = _try(session, VICTIM_IP, password=PASSWORD)
    with session_scope() as session:  # a new transaction sees the committed session
        assert auth.current_user(session=session, token=token) is not None
        assert _failures(session) == 2  # the attacker's, not cleared by the victim
    for _ in range(3):
        with pytest.raises(RecordedRefusal), session_scope() as session:
            _try(session, ATTACKER_IP)
    with session_scope() as session:
        assert _failures(session, client_ip=ATTACKER_IP) == 5
    # A refusal before the password is checked writes nothing.
    with pytest.raises(RateLimited, match="Try again in 15 minutes"), session_scope() as session:
        _try(session, ATTACKER_IP)
    with session_scope() as session:
        assert _failures(session) == 5
    # A refusal that is not recorded rolls the whole unit of work back.
    with pytest.raises(InvalidInput, match="already exists"), session_scope() as session:
        _register(session, email="grace@example.com")
        _register(session, email="ADA@example.com")
    with session_scope() as session:
        assert _user_count(session) == 1


def test_an_attacker_at_one_address_cannot_lock_the_victim_out_at_another(
    session: Session,
) -> None:
    _register(session)
    for _ in range(4):
        with pytest.raises(InvalidInput, match="^Wrong email or password.$"):
            _try(session, ATTACKER_IP)
    with pytest.raises(RateLimited, match=r"^Wrong email or password\. Too many") as locked:
        _try(session, ATTACKER_IP)
    assert isinstance(locked.value, RecordedRefusal)
    for _ in range(3):
        with pytest.raises(RateLimited, match="for this account from your network"):
            _try(session, ATTACKER_IP, password=PASSWORD)  # even the right one, from there
    # The victim's own address is untouched: a typo says so, the password works.
    with pytest.raises(InvalidInput, match="^Wrong email or password.$"):
        _try(session, VICTIM_IP, password="my usual typo")
    token, user = _try(session, VICTIM_IP, password=PASSWORD)
    assert auth.current_user(session=session, token=token) == user
    assert _failures(session, client_ip=ATTACKER_IP) == 5


def test_an_address_over_its_limit_is_locked_for_every_email_but_others_are_not(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_IP", "4")
    auth.get_settings.cache_clear()
    _register(session)
    for n in range(3):
        with pytest.raises(InvalidInput):
            _try(session, ATTACKER_IP, email=f"guess{n}@example.com")
    with pytest.raises(RateLimited, match="from your network. Try again in 15 minutes") as lock:
        _try(session, ATTACKER_IP, email="guess9@example.com")
    assert lock.value.retry_at > utcnow() + timedelta(minutes=14)
    # Locked: even a right password from that address waits; another address does not.
    with pytest.raises(RateLimited, match="from your network"):
        _try(session, ATTACKER_IP, password=PASSWORD)
    _try(session, VICTIM_IP, password=PASSWORD)
    # The lock lifts when the oldest failure leaves the window.
    session.exec(
        update(LoginFailure)
        .where(LoginFailure.email == "guess0@example.com")
        .values(attempted_at=utcnow() - timedelta(minutes=16))
    )
    session.commit()
    _try(session, ATTACKER_IP, password=PASSWORD)


def test_the_global_backoff_grows_with_each_failure_and_is_capped(session: Session) -> None:
    _register(session)
    _add_failures(session, 20)  # LOGIN_GLOBAL_BACKOFF_AFTER's default
    expected_waits = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    for attempt, wait in enumerate(expected_waits):
        address = f"192.0.2.{attempt + 1}"  # a fresh address each time: no local lock
        with pytest.raises(RateLimited) as refused:
            _try(session, address)
        unit = "second" if wait == 1 else "seconds"
        assert f"Wait {wait} {unit}, then try again." in str(refused.value)
        last = session.exec(select(func.max(LoginFailure.attempted_at))).one()
        assert refused.value.retry_at == last + timedelta(seconds=wait)
        assert _failures(session) == 20 + attempt  # a refusal before checking is not counted
        _age_failures(session, wait)
        # Once the wait is over the try is allowed; being wrong, it doubles the next wait.
        next_wait = min(60, 2 * wait)
        with pytest.raises(RateLimited, match=f"^Wrong email or password. .*Wait {next_wait} "):
            _try(session, address)
        assert _failures(session) == 21 + attempt


def test_the_owner_gets_in_while_many_addresses_hammer_the_account(session: Session) -> None:
    _register(session)
    _add_failures(session, 200)
    with pytest.raises(RateLimited) as refused:
        _try(session, VICTIM_IP, password=PASSWORD)
    assert refused.value.retry_at <= utcnow() + timedelta(seconds=60)
    _age_failures(session, 60)  # the owner waits out the capped delay
    token, _ = _try(session, VICTIM_IP, password=PASSWORD)
    assert auth.current_user(session=session, token=token) is not None
    # The attackers' failures stay counted: their next guess still waits.
    _add_failures(session, 1)
    with pytest.raises(RateLimited, match="Wait 60 seconds"):
        _try(session, ATTACKER_IP)
    # ... but an address the account signed in from recently is spared the backoff.
    token, _ = _try(session, VICTIM_IP, password=PASSWORD)
    assert auth.current_user(session=session, token=token) is not None
    with pytest.raises(InvalidInput, match="^Wrong email or password.$"):
        _try(session, VICTIM_IP, password="my usual typo")


def test_an_unknown_email_is_throttled_exactly_like_a_real_one(session: Session) -> None:
    _register(session)
    _add_failures(session, 26)
    _add_failures(session, 26, email="nobody@example.com")
    with pytest.raises(RateLimited) as real:
        _try(session, VICTIM_IP)
    with pytest.raises(RateLimited) as unknown:
        _try(session, VICTIM_IP, email="nobody@example.com")
    assert str(real.value) == str(unknown.value)


def test_success_clears_only_its_own_address_failures(session: Session) -> None:
    _register(session)
    for ip in (VICTIM_IP, VICTIM_IP, ATTACKER_IP, ATTACKER_IP, ATTACKER_IP):
        with pytest.raises(InvalidInput):
            _try(session, ip)
    with pytest.raises(InvalidInput):
        _try(session, VICTIM_IP, email="someone.else@example.com")
    _try(session, VICTIM_IP, password=PASSWORD)
    assert _failures(session, email="ada@example.com", client_ip=VICTIM_IP) == 0
    assert _failures(session, email="ada@example.com", client_ip=ATTACKER_IP) == 3
    assert _failures(session, email="someone.else@example.com") == 1
    # The attacker's count goes on from 3: two more and that address is locked.
    with pytest.raises(InvalidInput):
        _try(session, ATTACKER_IP)
    with pytest.raises(RateLimited):
        _try(session, ATTACKER_IP)


PROXY = "10.0.0.2"
CLIENT = "203.0.113.9"


@pytest.mark.parametrize(
    "spoofed",
    ["", "6.6.6.6", "6.6.6.6, 7.7.7.7", "198.51.100.7, " * 10, "garbage, ::1", "127.0.0.1"],
)
def test_a_client_cannot_choose_its_address_with_its_own_forwarded_for(spoofed: str) -> None:
    # One proxy appends the address it saw to whatever the client sent.
    header = f"{spoofed}, {CLIENT}" if spoofed else CLIENT
    assert client_address(PROXY, header, 1) == CLIENT
    # Two proxies: the outer one saw the client, the inner one the outer proxy.
    assert client_address(PROXY, f"{header}, 10.0.0.1", 2) == CLIENT
    # No proxy: the header is the client's own words, ignored.
    assert client_address(CLIENT, f"{spoofed}, 6.6.6.6", 0) == CLIENT


@pytest.mark.parametrize(
    ("peer", "header", "hops", "expected"),
    [
        (PROXY, "", 1, PROXY),  # did not come through the proxy: the peer, not a guess
        (PROXY, CLIENT, 2, PROXY),  # fewer entries than proxies
        (PROXY, f"6.6.6.6, {CLIENT}, not-an-ip", 1, PROXY),  # a proxy wrote junk
        (PROXY, "6.6.6.6,, ,203.0.113.9", 1, CLIENT),  # empty items are not entries
        (PROXY, "203.0.113.9:51234", 1, CLIENT),  # a port is dropped
        (PROXY, "[2001:db8::1]:443", 1, "2001:db8::1"),
        (PROXY, "2001:DB8:0::1", 1, "2001:db8::1"),
        (PROXY, "::ffff:203.0.113.9", 1, CLIENT),  # one client, one key
        ("::ffff:203.0.113.9", "6.6.6.6", 0, CLIENT),
    ],
)
def test_client_address_edge_cases(peer: str, header: str, hops: int, expected: str) -> None:
    assert client_address(peer, header, hops) == expected


def test_the_request_address_uses_trusted_proxy_hops(monkeypatch: pytest.MonkeyPatch) -> None:
    from reflex.istate.data import RouterData

    router = RouterData.from_router_data(
        {"ip": PROXY, "headers": {"x-forwarded-for": f"6.6.6.6, {CLIENT}"}}
    )
    assert request_client_address(router) == PROXY  # unset: no proxy is trusted
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    auth.get_settings.cache_clear()
    assert request_client_address(router) == CLIENT
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "0")
    auth.get_settings.cache_clear()
    assert request_client_address(router) == PROXY


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
