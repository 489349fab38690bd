"""The Account page's TikTok and Instagram cards, their handlers called directly as a crafted
websocket event would call them: the card says what an admin must set, Connect goes to the
platform's consent page (a local fake) and its callback back to /account with a notice, a
personal Instagram account is refused in words, and Disconnect says what it did. The three
cards share one state shape (`state/connections.py`); YouTube's is tested with the other
publishing handlers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import OAuthRequest, PlatformConnection, Role
from clipgen.services.auth import service as auth
from clipgen.services.publishing import connections
from clipgen.state.connections import InstagramState, TikTokState
from tests.support import fake_instagram as instagram_support
from tests.support import fake_tiktok as tiktok_support
from tests.support.fake_instagram import FakeInstagram
from tests.support.fake_tiktok import FakeTikTok
from tests.support.market import quick_password_hashing
from tests.support.money import PASSWORD, person

fake_tiktok = tiktok_support.fake_tiktok
fake_instagram = instagram_support.fake_instagram


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def signed_in(database_url: str) -> dict[str, str]:
    """Session tokens of Ada and Bob (clippers) and Brand (a client)."""
    with session_scope() as session:
        users = {
            "ada": person(session, Role.CLIPPER, "ada"),
            "bob": person(session, Role.CLIPPER, "bob"),
            "brand": person(session, Role.CLIENT, "brand"),
        }
        return {
            name: auth.sign_in(session=session, email=user.email, password=PASSWORD)[0]
            for name, user in users.items()
        }


def _state(cls, token: str, path: str):
    """The handler's state as one browser tab holds it, on page `path` (with its query)."""
    from reflex.istate.data import RouterData
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {
            "pathname": path.split("?")[0],
            "asPath": path,
            "headers": {"origin": "http://localhost:3000"},
        }
    )
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _redirect_path(spec) -> str:
    """Where an `rx.redirect` event sends the browser."""
    return dict((str(name), value._var_value) for name, value in spec.args)["path"]


def _account(cls, token: str):
    tab = _state(cls, token, routes.ACCOUNT)
    cls.open_account.fn(tab)
    return tab


def _consent(url: str) -> dict[str, str]:
    """Open the consent page as the browser would; the query it sends the browser back with."""
    response = httpx.get(url, follow_redirects=False, timeout=5)
    assert response.status_code == 302
    return {
        name: values[0]
        for name, values in parse_qs(urlparse(response.headers["Location"]).query).items()
    }


def _callback(cls, route: str, token: str, query: dict[str, str]):
    """The platform's redirect lands on the callback page of a tab; it goes on to /account."""
    tab = _state(cls, token, f"{route}?{urlencode(query)}")
    assert _redirect_path(cls.finish_connection.fn(tab)) == routes.ACCOUNT
    return tab


def _connections(session: Session) -> int:
    session.expire_all()
    return len(session.exec(select(PlatformConnection)).all())


def test_the_cards_say_what_an_admin_must_set(
    session: Session, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "TIKTOK_CLIENT_KEY",
        "TIKTOK_CLIENT_SECRET",
        "INSTAGRAM_CLIENT_ID",
        "INSTAGRAM_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    tiktok = _account(TikTokState, signed_in["ada"])
    assert tiktok.for_clipper and not tiktok.configured and not tiktok.connected
    assert tiktok.missing == "TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET"
    assert TikTokState.connect.fn(tiktok) is None
    assert tiktok.error.startswith("TikTok is not set up on this server")
    instagram = _account(InstagramState, signed_in["ada"])
    assert instagram.missing == "INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET"
    # A client's Account has no such cards; a signed-out tab changes nothing.
    assert not _account(TikTokState, signed_in["brand"]).for_clipper
    forged = _account(InstagramState, "forged-token")
    assert not forged.for_clipper
    InstagramState.connect.fn(forged)
    InstagramState.disconnect.fn(forged)
    assert session.exec(select(OAuthRequest)).all() == []


def test_tiktok_connects_through_its_consent_and_back_then_disconnects(
    session: Session, signed_in, fake_tiktok: FakeTikTok
) -> None:
    token = signed_in["ada"]
    account = _account(TikTokState, token)
    assert account.configured and not account.connected
    consent_url = _redirect_path(TikTokState.connect.fn(account))
    assert account.error == "" and consent_url.startswith(fake_tiktok.url)
    back = _consent(consent_url)

    bob = _callback(TikTokState, routes.TIKTOK_CALLBACK, signed_in["bob"], back)
    assert bob.notice == connections.stale_link("tiktok") and not bob.notice_ok
    assert _connections(session) == 0
    tab = _callback(TikTokState, routes.TIKTOK_CALLBACK, token, back)
    assert tab.notice == "TikTok connected: Alice Clips." and tab.notice_ok
    TikTokState.open_account.fn(tab)  # the redirect lands on /account: the notice stays
    assert tab.notice == "TikTok connected: Alice Clips."
    assert tab.connected and tab.account == "Alice Clips" and tab.since.endswith("UTC")
    TikTokState.open_account.fn(tab)  # a later visit: gone
    assert tab.notice == ""
    TikTokState.finish_connection.fn(tab)  # the same callback loaded again: nothing more
    assert tab.notice == "" and _connections(session) == 1

    TikTokState.disconnect.fn(tab)
    assert tab.error == "" and not tab.connected
    assert tab.notice == "TikTok disconnected. TikTok confirmed ClipGen's access is removed."
    assert fake_tiktok.calls("POST", "/v2/oauth/revoke/")
    TikTokState.disconnect.fn(tab)
    assert tab.error == "No TikTok account is connected."
    assert _connections(session) == 0


def test_declining_at_tiktok_says_so_on_the_account_page(
    session: Session, signed_in, fake_tiktok: FakeTikTok
) -> None:
    fake_tiktok.consent_error = "access_denied"
    token = signed_in["ada"]
    back = _consent(_redirect_path(TikTokState.connect.fn(_account(TikTokState, token))))
    tab = _callback(TikTokState, routes.TIKTOK_CALLBACK, token, back)
    assert tab.notice == "TikTok was not connected: you declined access."
    assert not tab.notice_ok and not tab.connected and _connections(session) == 0


def test_instagram_refuses_a_personal_account_and_connects_a_professional_one(
    session: Session, signed_in, fake_instagram: FakeInstagram
) -> None:
    token = signed_in["ada"]
    profile = fake_instagram.accounts[fake_instagram.default_user_id]
    profile.account_type = "PERSONAL"
    account = _account(InstagramState, token)
    back = _consent(_redirect_path(InstagramState.connect.fn(account)))
    tab = _callback(InstagramState, routes.INSTAGRAM_CALLBACK, token, back)
    assert tab.notice.startswith("Only Instagram professional accounts")
    assert "Switch to professional account" in tab.notice and not tab.notice_ok
    InstagramState.open_account.fn(tab)
    assert not tab.connected and _connections(session) == 0

    profile.account_type = "MEDIA_CREATOR"  # switched to a creator account
    back = _consent(_redirect_path(InstagramState.connect.fn(tab)))
    tab = _callback(InstagramState, routes.INSTAGRAM_CALLBACK, token, back)
    assert tab.notice == "Instagram connected: @fake.clipper." and tab.notice_ok
    InstagramState.open_account.fn(tab)
    assert tab.connected and tab.account == "@fake.clipper"

    InstagramState.disconnect.fn(tab)
    assert not tab.connected and tab.notice_ok
    assert tab.notice.startswith("Instagram disconnected: ClipGen deleted its access")
    assert connections.INSTAGRAM_APP_REMOVAL in tab.notice
    assert _connections(session) == 0
