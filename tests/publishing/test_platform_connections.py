"""Connecting TikTok and Instagram the one way YouTube connects (`connections`), against the
local fakes of TikTok's Login Kit + Display API and Instagram's Business Login + Graph API,
with the real HTTP client doing the talking: the consent round trip (followed with httpx as
a browser would), the one-time `state`, PKCE at TikTok, tokens encrypted at rest, renewal
saved, a refused renewal marking the connection broken and telling the clipper, disconnect
(revoked at TikTok; Instagram has no revocation), a personal Instagram account refused, and
`account_id` / `usable_token` for the services that read posts. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from clipgen.config import get_settings
from clipgen.models import (
    AuditLog,
    Notification,
    OAuthRequest,
    Platform,
    PlatformConnection,
    Role,
    utcnow,
)
from clipgen.routes import INSTAGRAM_CALLBACK, TIKTOK_CALLBACK
from clipgen.services.errors import InvalidInput, PermissionDenied, RecordedRefusal
from clipgen.services.notification_kinds import Kind
from clipgen.services.publishing import connections, tiktok, tokens
from tests.support import fake_instagram as instagram_support
from tests.support import fake_tiktok as tiktok_support
from tests.support.fake_instagram import FakeInstagram
from tests.support.fake_tiktok import FakeTikTok, s256_hex
from tests.support.market import quick_password_hashing
from tests.support.money import person

TT, IG = Platform.TIKTOK, Platform.INSTAGRAM
# The running fakes, ClipGen's settings pointed at them.
fake_tiktok = tiktok_support.fake_tiktok
fake_instagram = instagram_support.fake_instagram


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def people(session: Session):
    client = person(session, Role.CLIENT, "brand")
    ada = person(session, Role.CLIPPER, "ada")
    bob = person(session, Role.CLIPPER, "bob")
    session.commit()
    return client, ada, bob


def _consent(url: str, callback: str) -> dict[str, str]:
    """Open the platform's consent page as the browser would; the query it sends back."""
    response = httpx.get(url, follow_redirects=False, timeout=5)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://localhost:3000" + callback + "?")
    return {name: values[0] for name, values in parse_qs(urlparse(location).query).items()}


def _start(session: Session, clipper, platform: Platform) -> dict[str, str]:
    callback = TIKTOK_CALLBACK if platform == TT else INSTAGRAM_CALLBACK
    back = _consent(
        connections.start_connection(session=session, actor=clipper, platform=platform), callback
    )
    session.commit()
    return back


def _connect(session: Session, clipper, platform: Platform) -> connections.ConnectionView:
    back = _start(session, clipper, platform)
    view = connections.finish_connection(
        session=session, actor=clipper, platform=platform, state=back["state"], code=back["code"]
    )
    session.commit()
    return view


def _row(session: Session, platform: Platform) -> PlatformConnection:
    session.expire_all()
    return session.exec(
        select(PlatformConnection).where(PlatformConnection.platform == platform)
    ).one()


def _connections(session: Session) -> list[PlatformConnection]:
    session.expire_all()
    return list(session.exec(select(PlatformConnection)).all())


def _audits(session: Session, action: str) -> list[AuditLog]:
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


def _notices(session: Session, user_id: int) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user_id)).all())


def _refused(session: Session, call, match: str) -> None:
    """`call` is refused with words matching `match`; what it wrote is kept only for a
    RecordedRefusal, as a unit of work would."""
    with pytest.raises((InvalidInput, RecordedRefusal), match=match) as refused:
        call()
    if isinstance(refused.value, RecordedRefusal):
        session.commit()
    else:
        session.rollback()


# --- TikTok -------------------------------------------------------------------------------


def test_tiktok_connects_through_the_consent_with_pkce_and_keeps_tokens_encrypted(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    before = connections.connection_view(session=session, actor=ada, platform=TT)
    assert before.configured and before.missing_settings == [] and not before.connected
    back = _start(session, ada, TT)
    # The challenge TikTok saw is the hex SHA-256 of the verifier kept (encrypted) here.
    pending = session.exec(select(OAuthRequest)).one()
    verifier = tokens.decrypt(pending.code_verifier_encrypted)
    assert len(verifier) >= 43 and verifier not in pending.code_verifier_encrypted
    [asked] = fake_tiktok.authorizations
    assert asked["code_challenge"] == s256_hex(verifier)
    assert asked["code_challenge_method"] == "S256"
    assert asked["scope"] == "user.info.basic,video.list"
    assert asked["redirect_uri"] == get_settings().app_url + TIKTOK_CALLBACK
    assert back["state"] not in pending.state_hash and pending.platform == TT

    view = connections.finish_connection(
        session=session, actor=ada, platform=TT, state=back["state"], code=back["code"]
    )
    session.commit()
    assert view.connected and view.platform == "tiktok"
    assert (view.account_name, view.account_id) == ("Alice Clips", "open-id-alice")
    assert view.connected_at is not None and not view.broken
    assert connections.connection_view(session=session, actor=ada, platform=TT) == view

    raw = session.execute(
        text(
            "SELECT access_token_encrypted, refresh_token_encrypted, scopes "
            "FROM platform_connections"
        )
    ).one()
    [grant] = [g for g in fake_tiktok._grants.values() if g.open_id == "open-id-alice"]
    [access] = grant.access_tokens
    assert access not in raw[0] and grant.refresh_token not in raw[1]
    assert tokens.decrypt(raw[0]) == access and tokens.decrypt(raw[1]) == grant.refresh_token
    assert raw[2] == "user.info.basic video.list"
    assert connections.is_connected(session, ada.id, TT)
    assert not connections.is_connected(session, ada.id)  # YouTube: not connected
    assert connections.account_id(session, ada.id, TT) == "open-id-alice"
    assert connections.account_id(session, ada.id, IG) is None
    [audit] = _audits(session, "tiktok.connected")
    assert audit.actor_id == ada.id and audit.details["account"] == "open-id-alice"
    assert session.exec(select(OAuthRequest)).one().used_at is not None
    # A fresh token is used as it is: no call to TikTok's token endpoint.
    calls = len(fake_tiktok.calls("POST", "/v2/oauth/token/"))
    assert connections.usable_token(ada.id, TT) == access
    assert len(fake_tiktok.calls("POST", "/v2/oauth/token/")) == calls


def test_a_forged_foreign_reused_expired_or_other_platform_state_stores_nothing(
    session: Session, fake_tiktok: FakeTikTok, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, bob = people
    back = _start(session, ada, TT)
    stale = connections.stale_link(TT)
    assert "TikTok connection link is not valid any more" in stale
    for actor, platform, state in (
        (ada, TT, "forged"),
        (ada, TT, ""),
        (bob, TT, back["state"]),  # Ada's link opened by Bob
        (ada, IG, back["state"]),  # a TikTok state at the Instagram callback
    ):
        _refused(
            session,
            lambda actor=actor, platform=platform, state=state: connections.finish_connection(
                session=session, actor=actor, platform=platform, state=state, code=back["code"]
            ),
            "not valid any more",
        )
    assert _connections(session) == []
    assert session.exec(select(OAuthRequest)).one().used_at is None  # still Ada's to use

    connections.finish_connection(
        session=session, actor=ada, platform=TT, state=back["state"], code=back["code"]
    )
    session.commit()
    _refused(  # the same link twice
        session,
        lambda: connections.finish_connection(
            session=session, actor=ada, platform=TT, state=back["state"], code=back["code"]
        ),
        "not valid any more",
    )
    # An expired link: refused, and the connection made before stays as it was.
    first = _row(session, TT)
    again = _start(session, ada, TT)
    for row in session.exec(select(OAuthRequest).where(OAuthRequest.used_at == None)):  # noqa: E711
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    session.commit()
    _refused(
        session,
        lambda: connections.finish_connection(
            session=session, actor=ada, platform=TT, state=again["state"], code=again["code"]
        ),
        "not valid any more",
    )
    assert _row(session, TT).access_token_encrypted == first.access_token_encrypted
    assert len(_audits(session, "tiktok.connected")) == 1


def test_declined_consent_at_tiktok_stores_nothing_and_uses_the_link(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    fake_tiktok.consent_error = "access_denied"
    back = _start(session, ada, TT)
    assert back["error"] == "access_denied" and "code" not in back
    _refused(
        session,
        lambda: connections.finish_connection(
            session=session, actor=ada, platform=TT, state=back["state"], error=back["error"]
        ),
        "TikTok was not connected: you declined access.",
    )
    assert _connections(session) == []
    assert session.exec(select(OAuthRequest)).one().used_at is not None
    assert fake_tiktok.calls("POST", "/v2/oauth/token/") == []


def test_a_refused_code_exchange_says_so_and_stores_nothing(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    back = _start(session, ada, TT)
    fake_tiktok.fail_next("POST /v2/oauth/token/", 400, "invalid_grant")
    _refused(
        session,
        lambda: connections.finish_connection(
            session=session, actor=ada, platform=TT, state=back["state"], code=back["code"]
        ),
        "TikTok did not accept the sign-in",
    )
    assert _connections(session) == []


def test_an_expired_tiktok_token_is_renewed_and_the_new_tokens_saved_encrypted(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, TT)
    row = _row(session, TT)
    old_refresh = tokens.decrypt(row.refresh_token_encrypted)
    row.token_expires_at = utcnow() + timedelta(minutes=2)  # about to expire
    session.add(row)
    session.commit()
    fake_tiktok.expire_access_tokens()

    token = connections.usable_token(ada.id, TT)
    assert token is not None
    assert tiktok.user_info(token).open_id == "open-id-alice"  # TikTok takes it
    row = _row(session, TT)
    assert tokens.decrypt(row.access_token_encrypted) == token
    new_refresh = tokens.decrypt(row.refresh_token_encrypted)
    assert new_refresh != old_refresh and new_refresh in fake_tiktok._grants  # rotated, kept
    assert (
        token not in row.access_token_encrypted and new_refresh not in row.refresh_token_encrypted
    )
    assert row.token_expires_at > utcnow() + timedelta(hours=23)
    [refresh_call] = [
        c
        for c in fake_tiktok.calls("POST", "/v2/oauth/token/")
        if c.form["grant_type"] == "refresh_token"
    ]
    assert refresh_call.form["refresh_token"] == old_refresh
    assert connections.usable_token(ada.id, TT) == token  # fresh now: used as it is


def test_a_renewal_tiktok_refuses_marks_the_connection_broken_and_tells_the_clipper(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, TT)
    row = _row(session, TT)
    row.token_expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    fake_tiktok.revoke_all()  # the clipper removed ClipGen in TikTok's settings

    assert connections.usable_token(ada.id, TT) is None
    row = _row(session, TT)
    assert row.revoked_at is not None
    assert row.access_token_encrypted == "" and row.refresh_token_encrypted == ""
    assert not connections.is_connected(session, ada.id, TT)
    assert connections.account_id(session, ada.id, TT) == "open-id-alice"  # whose it was
    view = connections.connection_view(session=session, actor=ada, platform=TT)
    assert view.broken and not view.connected and view.account_name == ""
    [notice] = _notices(session, ada.id)
    assert notice.kind == Kind.CHANNEL_DISCONNECTED and "TikTok" in notice.message
    assert notice.link == "/account"
    # Asked again: nothing to renew, and the clipper is not told twice.
    assert connections.usable_token(ada.id, TT) is None
    assert len(_notices(session, ada.id)) == 1
    # Connecting again mends it.
    assert _connect(session, ada, TT).connected
    assert connections.usable_token(ada.id, TT) is not None


def test_a_renewal_another_worker_made_first_is_used_not_taken_for_a_refusal(
    session: Session, fake_tiktok: FakeTikTok, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TikTok rotates refresh tokens: of two renewals at once, the second is refused. The
    one that lost finds the connection renewed meanwhile and uses that token."""
    _client, ada, _bob = people
    _connect(session, ada, TT)
    row = _row(session, TT)
    row.token_expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    real_refresh = tiktok.refresh
    raced: list[str | None] = []

    def refresh_after_another_worker(refresh_token: str):
        if not raced:
            raced.append(None)
            raced[0] = connections.usable_token(ada.id, TT)  # the other worker wins
        return real_refresh(refresh_token)  # the old refresh token: invalid_grant now

    monkeypatch.setattr(connections.tiktok, "refresh", refresh_after_another_worker)
    token = connections.usable_token(ada.id, TT)
    assert raced[0] is not None and token == raced[0]
    assert connections.is_connected(session, ada.id, TT) and _notices(session, ada.id) == []


def test_disconnect_revokes_at_tiktok_and_forgets_the_account(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, TT)
    access = tokens.decrypt(_row(session, TT).access_token_encrypted)
    assert connections.disconnect(session=session, actor=ada, platform=TT) is True
    session.commit()
    [revoke] = fake_tiktok.calls("POST", "/v2/oauth/revoke/")
    assert revoke.form["token"] == access
    assert revoke.form["client_key"] == fake_tiktok.client_key
    assert all(grant.revoked for grant in fake_tiktok._grants.values())
    assert _connections(session) == []
    assert connections.account_id(session, ada.id, TT) is None
    assert connections.usable_token(ada.id, TT) is None
    [audit] = _audits(session, "tiktok.disconnected")
    assert audit.details["revoked_at_platform"] is True
    with pytest.raises(InvalidInput, match="No TikTok account is connected."):
        connections.disconnect(session=session, actor=ada, platform=TT)


def test_disconnect_renews_an_expired_tiktok_token_to_revoke_it(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, TT)
    row = _row(session, TT)
    row.token_expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    fake_tiktok.expire_access_tokens()
    assert connections.disconnect(session=session, actor=ada, platform=TT) is True
    session.commit()
    assert fake_tiktok.calls("POST", "/v2/oauth/revoke/")
    assert all(grant.revoked for grant in fake_tiktok._grants.values())
    # TikTok unreachable: deleted here all the same, and the caller is told it was not
    # confirmed.
    _connect(session, ada, TT)
    fake_tiktok.drop_next("POST /v2/oauth/revoke/")
    assert connections.disconnect(session=session, actor=ada, platform=TT) is False
    session.commit()
    assert _connections(session) == []
    assert [a.details["revoked_at_platform"] for a in _audits(session, "tiktok.disconnected")] == [
        True,
        False,
    ]


def test_one_tiktok_account_belongs_to_one_clipper(
    session: Session, fake_tiktok: FakeTikTok, people
) -> None:
    _client, ada, bob = people
    _connect(session, ada, TT)
    back = _start(session, bob, TT)  # the same TikTok user consents for Bob
    _refused(
        session,
        lambda: connections.finish_connection(
            session=session, actor=bob, platform=TT, state=back["state"], code=back["code"]
        ),
        "already connected to another ClipGen account",
    )
    assert [row.user_id for row in _connections(session)] == [ada.id]
    assert connections.account_id(session, bob.id, TT) is None


def test_without_tiktok_settings_the_card_says_what_to_set(
    session: Session, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "INSTAGRAM_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    _client, ada, _bob = people
    view = connections.connection_view(session=session, actor=ada, platform=TT)
    assert not view.configured and not view.connected
    assert view.missing_settings == ["TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"]
    with pytest.raises(InvalidInput, match="TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET"):
        connections.start_connection(session=session, actor=ada, platform=TT)
    assert connections.connection_view(
        session=session, actor=ada, platform=IG
    ).missing_settings == ["INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET"]
    assert session.exec(select(OAuthRequest)).all() == []


def test_only_clippers_connect(session: Session, fake_tiktok: FakeTikTok, people) -> None:
    client, ada, _bob = people
    back = _start(session, ada, TT)
    for call in (
        lambda: connections.connection_view(session=session, actor=client, platform=TT),
        lambda: connections.start_connection(session=session, actor=client, platform=IG),
        lambda: connections.finish_connection(
            session=session, actor=client, platform=TT, state=back["state"], code=back["code"]
        ),
        lambda: connections.disconnect(session=session, actor=client, platform=TT),
    ):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(InvalidInput, match="Choose YouTube, TikTok or Instagram"):
        connections.connection_view(session=session, actor=ada, platform="myspace")
    session.rollback()
    assert session.exec(select(OAuthRequest)).one().used_at is None


# --- Instagram ----------------------------------------------------------------------------


def test_instagram_connects_a_professional_account_with_a_long_lived_token(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    back = _start(session, ada, IG)
    [asked] = fake_instagram.authorizations
    assert "code_challenge" not in asked  # no PKCE at Instagram: the state protects it
    assert asked["scope"] == "instagram_business_basic,instagram_business_manage_insights"
    assert asked["redirect_uri"] == get_settings().app_url + INSTAGRAM_CALLBACK
    assert session.exec(select(OAuthRequest)).one().code_verifier_encrypted == ""

    view = connections.finish_connection(
        session=session, actor=ada, platform=IG, state=back["state"], code=back["code"]
    )
    session.commit()
    assert view.connected and view.platform == "instagram"
    assert (view.account_name, view.account_id) == ("fake.clipper", "17841400000000001")
    row = _row(session, IG)
    stored = tokens.decrypt(row.access_token_encrypted)
    assert fake_instagram._tokens[stored].kind == "long"  # the 60-day token, not the 1-hour
    assert stored not in row.access_token_encrypted and row.refresh_token_encrypted == ""
    assert row.token_expires_at > utcnow() + timedelta(days=59)
    assert connections.is_connected(session, ada.id, IG)
    assert connections.account_id(session, ada.id, IG) == "17841400000000001"
    assert connections.usable_token(ada.id, IG) == stored
    assert fake_instagram.calls("GET", "/refresh_access_token") == []
    [audit] = _audits(session, "instagram.connected")
    assert audit.details["account_name"] == "fake.clipper"


def test_a_personal_instagram_account_is_refused_with_how_to_switch(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    fake_instagram.accounts[fake_instagram.default_user_id].account_type = "PERSONAL"
    back = _start(session, ada, IG)
    with pytest.raises(RecordedRefusal) as refused:
        connections.finish_connection(
            session=session, actor=ada, platform=IG, state=back["state"], code=back["code"]
        )
    session.commit()
    message = str(refused.value)
    assert message.startswith("Only Instagram professional accounts (business or creator)")
    assert "@fake.clipper is a personal account" in message
    assert "Switch to professional account" in message and "Creator" in message
    assert "Nothing was saved." in message
    assert _connections(session) == [] and _audits(session, "instagram.connected") == []
    assert session.exec(select(OAuthRequest)).one().used_at is not None  # the link is spent


def test_declined_consent_at_instagram_stores_nothing(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    fake_instagram.deny_consent = True
    back = _start(session, ada, IG)
    _refused(
        session,
        lambda: connections.finish_connection(
            session=session, actor=ada, platform=IG, state=back["state"], error=back["error"]
        ),
        "Instagram was not connected: you declined access.",
    )
    assert _connections(session) == []


def test_an_instagram_token_near_its_end_is_renewed_and_saved(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, IG)
    row = _row(session, IG)
    old = tokens.decrypt(row.access_token_encrypted)
    row.token_expires_at = utcnow() + timedelta(days=3)
    session.add(row)
    session.commit()

    token = connections.usable_token(ada.id, IG)
    assert token is not None and token != old
    [call] = fake_instagram.calls("GET", "/refresh_access_token")
    assert call.query["access_token"] == [old]
    row = _row(session, IG)
    assert tokens.decrypt(row.access_token_encrypted) == token
    assert token not in row.access_token_encrypted
    assert row.token_expires_at > utcnow() + timedelta(days=59)
    assert connections.usable_token(ada.id, IG) == token  # renewed: used as it is
    assert len(fake_instagram.calls("GET", "/refresh_access_token")) == 1


def test_an_instagram_renewal_that_fails_for_now_keeps_the_token_while_it_lasts(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, IG)
    row = _row(session, IG)
    old = tokens.decrypt(row.access_token_encrypted)
    row.token_expires_at = utcnow() + timedelta(days=3)
    session.add(row)
    session.commit()
    fake_instagram.fail_next("GET /refresh_access_token", 500, 2)
    assert connections.usable_token(ada.id, IG) == old
    assert connections.is_connected(session, ada.id, IG) and _notices(session, ada.id) == []


def test_a_renewal_instagram_refuses_marks_the_connection_broken_and_tells_the_clipper(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, IG)
    row = _row(session, IG)
    row.token_expires_at = utcnow() + timedelta(days=1)
    session.add(row)
    session.commit()
    fake_instagram.expire_tokens()  # the app was removed in Instagram's settings

    assert connections.usable_token(ada.id, IG) is None
    row = _row(session, IG)
    assert row.revoked_at is not None and row.access_token_encrypted == ""
    assert not connections.is_connected(session, ada.id, IG)
    assert connections.account_id(session, ada.id, IG) == "17841400000000001"
    [notice] = _notices(session, ada.id)
    assert notice.kind == Kind.CHANNEL_DISCONNECTED and "Instagram" in notice.message


def test_disconnecting_instagram_deletes_the_token_and_says_it_is_not_revoked(
    session: Session, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, IG)
    asked = len(fake_instagram.requests)
    assert connections.disconnect(session=session, actor=ada, platform=IG) is False
    session.commit()
    assert len(fake_instagram.requests) == asked  # Instagram has nothing to call
    assert _connections(session) == []
    assert connections.account_id(session, ada.id, IG) is None
    [audit] = _audits(session, "instagram.disconnected")
    assert audit.details == {"account": "17841400000000001", "revoked_at_platform": False}
    assert "Remove" in connections.INSTAGRAM_APP_REMOVAL


def test_the_three_connections_of_a_clipper_are_apart(
    session: Session, fake_tiktok: FakeTikTok, fake_instagram: FakeInstagram, people
) -> None:
    _client, ada, _bob = people
    _connect(session, ada, TT)
    _connect(session, ada, IG)
    assert {row.platform for row in _connections(session)} == {"tiktok", "instagram"}
    connections.disconnect(session=session, actor=ada, platform=TT)
    session.commit()
    assert connections.is_connected(session, ada.id, IG)
    assert not connections.is_connected(session, ada.id, TT)
    assert connections.usable_token(ada.id, Platform.YOUTUBE) is None
