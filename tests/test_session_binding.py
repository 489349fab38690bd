"""Sessions are bound to the browser family they signed in from, end when unused or too
old, and money actions need the password typed recently; the services on SQLite and
PostgreSQL, and the handlers called directly as a crafted websocket event would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import AuditLog, AuthSession, LoginFailure, Payout, PayoutAccount, Role, utcnow
from clipgen.services.auth import service as auth
from clipgen.services.auth.agents import agent_family
from clipgen.services.errors import (
    InvalidInput,
    NotAuthenticated,
    RateLimited,
    ReauthRequired,
    ServiceError,
)
from clipgen.services.money import connect, payouts
from clipgen.state.auth_forms import PasswordState
from clipgen.state.money import EarningsState
from clipgen.state.session import SessionState
from tests.support.aio import run_coroutine
from tests.support.fake_stripe import FakeStripe
from tests.support.handlers import redirect_path, state_on
from tests.support.money import PASSWORD, clipper_with_available, person

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
CHROME_LINUX_LATER = CHROME_LINUX.replace("Chrome/120.0.0.0", "Chrome/131.0.6778.85")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME_WINDOWS = CHROME_LINUX.replace("X11; Linux x86_64", "Windows NT 10.0; Win64; x64")


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        (CHROME_LINUX, "Chrome/Linux"),
        (CHROME_LINUX_LATER, "Chrome/Linux"),
        (CHROME_WINDOWS, "Chrome/Windows"),
        (FIREFOX_LINUX, "Firefox/Linux"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "Safari/macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "Safari/iOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            "Chrome/iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "Chrome/Android",
        ),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
            "Firefox/Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            "Samsung Internet/Android",
        ),
        (CHROME_WINDOWS + " Edg/120.0.2210.91", "Edge/Windows"),
        (CHROME_WINDOWS + " OPR/106.0.0.0", "Opera/Windows"),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "Chrome/ChromeOS",
        ),
        ("curl/8.5.0", "Other/Other"),
        ("", "Other/Other"),
        (None, "Other/Other"),
    ],
)
def test_the_family_is_browser_and_system_whatever_the_version(
    user_agent: str | None, family: str
) -> None:
    assert agent_family(user_agent) == family


class Clock:
    """The auth service's `utcnow`, moved by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **elapsed: float) -> None:
        self.now += timedelta(**elapsed)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth, "utcnow", fake)
    return fake


def _sign_in(session: Session, user_agent: str = CHROME_LINUX, ip: str = "198.51.100.7") -> str:
    user = person(session, Role.CLIPPER, "ada")
    token, _ = auth.sign_in(
        session=session, email=user.email, password=PASSWORD, client_ip=ip, user_agent=user_agent
    )
    return token


def _row(session: Session) -> AuthSession:
    return session.exec(select(AuthSession).execution_options(populate_existing=True)).one()


def test_a_token_used_from_another_browser_family_is_revoked_and_audited(
    session: Session,
) -> None:
    token = _sign_in(session)
    assert auth.current_user(session=session, token=token, user_agent=FIREFOX_LINUX) is None
    assert _row(session).revoked_at is not None
    # Revoked for good: the browser it signed in with is signed out too.
    assert auth.current_user(session=session, token=token, user_agent=CHROME_LINUX) is None
    audit = session.exec(select(AuditLog).where(AuditLog.action == "user.session_refused")).one()
    assert audit.details == {
        "reason": "other browser",
        "signed_in_with": "Chrome/Linux",
        "used_from": "Firefox/Linux",
    }


def test_the_refusal_is_kept_although_the_call_fails(database_url: str) -> None:
    with session_scope() as session:
        token = _sign_in(session)
    with pytest.raises(NotAuthenticated), session_scope() as session:
        auth.require_user(session=session, token=token, user_agent=CHROME_WINDOWS)
    with session_scope() as session:
        assert _row(session).revoked_at is not None
        assert (
            session.exec(
                select(func.count()).where(AuditLog.action == "user.session_refused")
            ).one()
            == 1
        )


def test_a_browser_update_keeps_the_session(session: Session) -> None:
    token = _sign_in(session)
    user = auth.current_user(session=session, token=token, user_agent=CHROME_LINUX_LATER)
    assert user is not None and user.email.startswith("ada")
    assert _row(session).revoked_at is None


def test_a_call_with_no_browser_is_not_bound(session: Session) -> None:
    token = _sign_in(session)
    assert auth.require_user(session=session, token=token).email.startswith("ada")
    assert _row(session).revoked_at is None


def test_an_unused_session_ends_after_the_idle_hours(session: Session, clock: Clock) -> None:
    token = _sign_in(session)
    clock.advance(hours=11, minutes=59)
    assert auth.current_user(session=session, token=token, user_agent=CHROME_LINUX) is not None
    clock.advance(hours=12, seconds=1)
    assert auth.current_user(session=session, token=token, user_agent=CHROME_LINUX) is None
    with pytest.raises(NotAuthenticated):
        auth.require_user(session=session, token=token, user_agent=CHROME_LINUX)


def test_each_use_slides_the_end_at_most_once_a_minute_and_never_past_the_limit(
    session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_TTL_HOURS", "30")
    auth.get_settings.cache_clear()
    token = _sign_in(session)
    started = _row(session).created_at
    assert _row(session).expires_at == clock.now + timedelta(hours=12)

    clock.advance(hours=11)
    auth.current_user(session=session, token=token, user_agent=CHROME_LINUX)
    assert _row(session).expires_at == clock.now + timedelta(hours=12)
    slid_to = _row(session).expires_at
    clock.advance(seconds=30)  # within a minute of the last write: nothing written
    auth.current_user(session=session, token=token, user_agent=CHROME_LINUX)
    assert _row(session).expires_at == slid_to
    clock.advance(seconds=31)
    auth.current_user(session=session, token=token, user_agent=CHROME_LINUX)
    assert _row(session).expires_at == clock.now + timedelta(hours=12)

    clock.advance(hours=11)  # 22 h in: the idle end would pass the 30 h limit
    assert auth.current_user(session=session, token=token, user_agent=CHROME_LINUX) is not None
    assert _row(session).expires_at == started + timedelta(hours=30)
    clock.advance(hours=8, seconds=1)  # used every 11 h, still over at 30 h
    assert auth.current_user(session=session, token=token, user_agent=CHROME_LINUX) is None


# --- money actions need the password typed recently -------------------------------------


@pytest.fixture
def rich_clipper(session: Session) -> tuple[str, auth.UserView]:
    """A signed-in clipper with $25 available, and the token of that session."""
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    user = clipper_with_available(session, admin, client, 2_500)
    token, _ = auth.sign_in(
        session=session, email=user.email, password=PASSWORD, user_agent=CHROME_LINUX
    )
    return token, user


def _actor(session: Session, token: str) -> auth.UserView:
    return auth.require_user(session=session, token=token, user_agent=CHROME_LINUX)


def _payouts(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Payout)).one()


def test_a_payout_right_after_sign_in_goes_ahead(
    session: Session, rich_clipper: tuple[str, auth.UserView]
) -> None:
    token, _ = rich_clipper
    paid = payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)
    assert paid.amount_cents == 1_000 and _payouts(session) == 1


def test_a_stale_session_must_give_the_password_before_a_payout(
    session: Session, rich_clipper: tuple[str, auth.UserView], clock: Clock
) -> None:
    token, user = rich_clipper
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(ReauthRequired, match="enter your password again to request a payout"):
        payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)
    assert _payouts(session) == 0
    auth.reauthenticate(
        session=session, token=token, password=PASSWORD, user_agent=CHROME_LINUX, client_ip="x"
    )
    assert _row_of(session, token).reauthenticated_at == clock.now
    payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)
    assert _payouts(session) == 1
    assert session.exec(
        select(AuditLog.client_ip).where(AuditLog.action == "user.reauthenticated")
    ).all() == ["x"]
    clock.advance(minutes=16)  # the window runs from the re-authentication
    with pytest.raises(ReauthRequired):
        payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)


def _row_of(session: Session, token: str) -> AuthSession:
    return session.exec(
        select(AuthSession)
        .where(AuthSession.token_hash == auth._token_hash(token))
        .execution_options(populate_existing=True)
    ).one()


def test_a_password_change_is_its_own_reauthentication(
    session: Session, rich_clipper: tuple[str, auth.UserView], clock: Clock
) -> None:
    """The form asks for the current password, so a stale session is not asked twice: the
    right current password changes it and counts as this session's fresh password."""
    token, user = rich_clipper
    clock.advance(minutes=20)
    with pytest.raises(ReauthRequired):
        payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)
    with pytest.raises(InvalidInput, match="current password is not right"):
        auth.change_password(
            session=session, token=token, current_password="not it", new_password="x" * 12
        )
    assert _row_of(session, token).reauthenticated_at < clock.now - timedelta(minutes=15)
    change = {"current_password": PASSWORD, "new_password": "another sturdy phrase"}
    auth.change_password(session=session, token=token, **change)
    assert auth.sign_in(session=session, email=user.email, password="another sturdy phrase")
    assert _row_of(session, token).reauthenticated_at == clock.now


def test_a_wrong_password_is_counted_like_a_failed_sign_in_and_locks(
    session: Session, rich_clipper: tuple[str, auth.UserView]
) -> None:
    token, user = rich_clipper
    stale = utcnow() - timedelta(minutes=30)  # not the clock: failures are timed for real
    session.exec(update(AuthSession).values(reauthenticated_at=stale))
    for _ in range(4):
        with pytest.raises(ServiceError, match="That password is not right."):
            auth.reauthenticate(session=session, token=token, password="not it", client_ip="a")
    with pytest.raises(RateLimited, match="Too many failed sign-ins"):
        auth.reauthenticate(session=session, token=token, password="not it", client_ip="a")
    # Locked: even the right password is refused until the lock lifts, and nothing changed.
    with pytest.raises(RateLimited):
        auth.reauthenticate(session=session, token=token, password=PASSWORD, client_ip="a")
    rows = session.exec(select(LoginFailure.email, LoginFailure.client_ip)).all()
    assert rows == [(user.email, "a")] * 5
    with pytest.raises(ReauthRequired):
        payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)


def test_the_wrong_password_rows_survive_the_refusal(database_url: str) -> None:
    with session_scope() as session:
        token = _sign_in(session)
    with pytest.raises(ServiceError), session_scope() as session:
        auth.reauthenticate(session=session, token=token, password="not it")
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(LoginFailure)).one() == 1


def test_a_session_that_never_took_a_password_is_asked(
    session: Session, rich_clipper: tuple[str, auth.UserView]
) -> None:
    token, _ = rich_clipper  # e.g. a session opened before the column existed
    session.exec(update(AuthSession).values(reauthenticated_at=None))
    with pytest.raises(ReauthRequired):
        payouts.request_payout(session=session, actor=_actor(session, token), amount_cents=1_000)


# --- the handlers -----------------------------------------------------------------------


@pytest.fixture
def fake(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        running.deliver_events = False
        running.apply_env(monkeypatch)
        yield running


@pytest.fixture
def clipper_token(database_url: str) -> str:
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        user = clipper_with_available(session, admin, client, 2_500)
        token, _ = auth.sign_in(
            session=session,
            email=user.email,
            password=PASSWORD,
            client_ip="198.51.100.7",
            user_agent=CHROME_LINUX,
        )
    return token


def _tab(cls, token: str, path: str = routes.EARNINGS, **browser):
    return state_on(cls, token, path, **({"user_agent": CHROME_LINUX} | browser))


def _go_stale() -> None:
    with session_scope() as session:
        session.exec(
            update(AuthSession).values(reauthenticated_at=utcnow() - timedelta(minutes=16))
        )


def _count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _sent_again(spec) -> tuple[str, dict]:
    """The handler an event returned by the prompt runs, and its arguments."""
    return spec.handler.fn.__name__, {str(name): value._var_value for name, value in spec.args}


def test_a_tab_of_another_browser_family_is_signed_out(clipper_token: str) -> None:
    firefox = _tab(EarningsState, clipper_token, user_agent=FIREFOX_LINUX)
    assert redirect_path(EarningsState.open_page.fn(firefox)).startswith(routes.LOGIN)
    chrome = _tab(EarningsState, clipper_token)
    assert redirect_path(EarningsState.open_page.fn(chrome)).startswith(routes.LOGIN)
    with session_scope() as session:
        assert _row(session).revoked_at is not None


def test_a_new_network_address_keeps_the_session(clipper_token: str) -> None:
    elsewhere = _tab(EarningsState, clipper_token, client_ip="203.0.113.50")
    assert EarningsState.open_page.fn(elsewhere) is None
    assert elsewhere.available == "$25.00" and elsewhere.load_error == ""


def test_the_payout_form_asks_for_the_password_then_sends_the_request_again(
    clipper_token: str,
) -> None:
    state = _tab(EarningsState, clipper_token)
    EarningsState.open_page.fn(state)
    _go_stale()
    form = {"amount": "12.00", "request_key": state.request_key}
    assert EarningsState.request_payout.fn(state, form) is None
    assert state.reauth_open and "request a payout" in state.reauth_reason
    assert state.payout_error == "" and _count(Payout) == 0

    prompt = state.parent_state
    SessionState.confirm_password.fn(prompt, {"password": "not it"})
    assert state.reauth_open and state.reauth_error == "That password is not right."
    assert _count(Payout) == 0 and _count(LoginFailure) == 1

    again = SessionState.confirm_password.fn(prompt, {"password": PASSWORD})
    assert not state.reauth_open and state.reauth_error == ""
    name, args = _sent_again(again)
    assert name == "request_payout" and args == {"form_data": form}
    EarningsState.request_payout.fn(state, args["form_data"])  # the browser sends it back
    assert _count(Payout) == 1 and state.payout_error == ""
    assert state.in_payout == "$12.00"


def test_cancelling_the_prompt_runs_nothing(clipper_token: str) -> None:
    state = _tab(EarningsState, clipper_token)
    EarningsState.open_page.fn(state)
    _go_stale()
    EarningsState.request_payout.fn(state, {"amount": "12.00", "request_key": state.request_key})
    SessionState.close_password_prompt.fn(state.parent_state, False)
    assert not state.reauth_open
    # A password given later (a crafted call) re-authenticates but sends nothing again.
    after = SessionState.confirm_password.fn(state.parent_state, {"password": PASSWORD})
    assert after.handler.fn.__name__ != "request_payout" and _count(Payout) == 0


def test_a_fresh_session_requests_a_payout_without_a_prompt(clipper_token: str) -> None:
    state = _tab(EarningsState, clipper_token)
    EarningsState.open_page.fn(state)
    EarningsState.request_payout.fn(state, {"amount": "12.00", "request_key": state.request_key})
    assert not state.reauth_open and _count(Payout) == 1


def test_payout_settings_ask_for_the_password_before_stripe_is_called(
    clipper_token: str, fake: FakeStripe
) -> None:
    state = _tab(EarningsState, clipper_token)
    _go_stale()
    assert EarningsState.set_up_payouts.fn(state) is None
    assert state.reauth_open and "change where your payouts go" in state.reauth_reason
    assert fake.created["account"] == 0 and _count(PayoutAccount) == 0
    name, args = _sent_again(
        SessionState.confirm_password.fn(state.parent_state, {"password": PASSWORD})
    )
    assert (name, args) == ("set_up_payouts", {})
    assert redirect_path(EarningsState.set_up_payouts.fn(state)).startswith(fake.url + "/connect/")
    assert _count(PayoutAccount) == 1


def test_onboarding_right_after_sign_in_needs_no_prompt(
    clipper_token: str, fake: FakeStripe
) -> None:
    with session_scope() as session:
        actor = auth.require_user(session=session, token=clipper_token, user_agent=CHROME_LINUX)
        assert connect.start_onboarding(session=session, actor=actor).startswith(fake.url)


async def _drain(events) -> list:
    return [event async for event in events]


def test_the_password_form_changes_a_stale_sessions_password_without_a_prompt(
    clipper_token: str,
) -> None:
    state = _tab(PasswordState, clipper_token, routes.ACCOUNT)
    _go_stale()
    form = {
        "current_password": PASSWORD,
        "new_password": "another sturdy phrase",
        "confirm_password": "another sturdy phrase",
    }
    run_coroutine(_drain(PasswordState.submit.fn(state, form)))
    assert state.error == "" and not state.reauth_open
    with session_scope() as session:
        assert (
            session.exec(
                select(func.count()).where(AuditLog.action == "user.password_changed")
            ).one()
            == 1
        )


def test_the_prompt_of_a_signed_out_tab_goes_to_sign_in(clipper_token: str) -> None:
    state = _tab(EarningsState, "forged-token")
    spec = SessionState.confirm_password.fn(state.parent_state, {"password": PASSWORD})
    assert redirect_path(spec).startswith(routes.LOGIN)
    assert _count(LoginFailure) == 0
