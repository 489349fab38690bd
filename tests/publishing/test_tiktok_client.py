"""The TikTok module over real HTTP (httpx) against a local fake of Login Kit and the
Display API; and the TikTok post addresses `publications.parse_post_url` accepts."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from clipgen.config import get_settings
from clipgen.models import Platform
from clipgen.services.errors import InvalidInput
from clipgen.services.publishing import tiktok as tt
from clipgen.services.publishing.publications import parse_post_url
from tests.support.fake_tiktok import FakeTikTok

VERIFIER = "v" * 43 + "-verifier.of_the~pkce-pair"
CALLBACK = "http://localhost:3000/account/tiktok/callback"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTikTok]:
    monkeypatch.delenv("APP_URL", raising=False)
    with FakeTikTok() as running:
        running.apply_env(monkeypatch)
        yield running
    get_settings.cache_clear()


@pytest.fixture
def token(fake: FakeTikTok) -> str:
    access, _ = fake.issue_tokens()
    return access


def _consent(url: str) -> dict[str, str]:
    """Open the consent URL like a browser but stop at the redirect; its query."""

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(KeepRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=5)
    assert redirect.value.code == 302
    location = redirect.value.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {name: values[0] for name, values in parse_qs(urlparse(location).query).items()}


def _connect(fake: FakeTikTok) -> tt.TikTokTokens:
    back = _consent(tt.consent_url(state="s", code_verifier=VERIFIER))
    return tt.exchange_code(code=back["code"], code_verifier=VERIFIER)


# -- consent and tokens ----------------------------------------------------------------


def test_consent_url_carries_the_app_scopes_state_and_a_hex_s256_challenge(
    fake: FakeTikTok,
) -> None:
    url = tt.consent_url(state="state-123", code_verifier=VERIFIER)

    parsed = urlparse(url)
    query = {name: values[0] for name, values in parse_qs(parsed.query).items()}
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == f"{fake.url}/v2/auth/authorize/"
    assert query == {
        "client_key": fake.client_key,
        "response_type": "code",
        "scope": "user.info.basic,video.list",
        "redirect_uri": CALLBACK,
        "state": "state-123",
        "code_challenge": hashlib.sha256(VERIFIER.encode()).hexdigest(),
        "code_challenge_method": "S256",
    }


def test_the_default_authorize_page_is_tiktoks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", "key")
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", "secret")
    for name in ("TIKTOK_AUTH_URL", "TIKTOK_API_URL", "TIKTOK_REDIRECT_URI", "APP_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        url = tt.consent_url(state="s", code_verifier=VERIFIER)
        assert url.startswith("https://www.tiktok.com/v2/auth/authorize/?client_key=key&")
        assert get_settings().tiktok_api_url == "https://open.tiktokapis.com"
    finally:
        get_settings.cache_clear()


def test_consent_needs_the_app_credentials_and_a_valid_verifier(
    fake: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="code_verifier"):
        tt.consent_url(state="s", code_verifier="too-short")
    with pytest.raises(ValueError, match="code_verifier"):
        tt.consent_url(state="s", code_verifier="x" * 42 + " spaced")
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", "")
    get_settings.cache_clear()
    with pytest.raises(tt.TikTokError, match="set TIKTOK_CLIENT_SECRET"):
        tt.consent_url(state="s", code_verifier=VERIFIER)


def test_pkce_round_trip_gives_tokens_for_the_consenting_user(fake: FakeTikTok) -> None:
    back = _consent(tt.consent_url(state="state-9", code_verifier=VERIFIER))
    assert back["state"] == "state-9" and back["scopes"] == "user.info.basic,video.list"

    before = datetime.now(UTC)
    tokens = tt.exchange_code(code=back["code"], code_verifier=VERIFIER)

    assert tokens.open_id == fake.consenting
    assert tokens.access_token.startswith("act.") and tokens.refresh_token.startswith("rft.")
    assert tokens.scopes == ("user.info.basic", "video.list")
    assert tokens.expires_at.tzinfo is not None
    assert timedelta(hours=24) <= tokens.expires_at - before < timedelta(hours=24, minutes=1)
    assert timedelta(days=365) <= tokens.refresh_expires_at - before < timedelta(days=366)
    [call] = fake.calls("POST", "/v2/oauth/token/")
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.form == {
        "client_key": fake.client_key,
        "client_secret": fake.client_secret,
        "code": back["code"],
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
    }


def test_the_wrong_verifier_is_refused(fake: FakeTikTok) -> None:
    back = _consent(tt.consent_url(state="s", code_verifier=VERIFIER))

    with pytest.raises(tt.TikTokError, match="Connect your TikTok account again") as refused:
        tt.exchange_code(code=back["code"], code_verifier="w" * 50)
    assert refused.value.code == "invalid_request" and refused.value.log_id


def test_a_bad_or_reused_code_is_refused(fake: FakeTikTok) -> None:
    with pytest.raises(tt.TikTokError, match="may have expired or been used") as bad:
        tt.exchange_code(code="not-a-code", code_verifier=VERIFIER)
    assert bad.value.code == "invalid_grant"
    assert not isinstance(bad.value, tt.NotConnected)

    back = _consent(tt.consent_url(state="s", code_verifier=VERIFIER))
    tt.exchange_code(code=back["code"], code_verifier=VERIFIER)
    with pytest.raises(tt.TikTokError, match="invalid_grant"):
        tt.exchange_code(code=back["code"], code_verifier=VERIFIER)


def test_a_consent_without_video_access_is_refused(fake: FakeTikTok) -> None:
    fake.granted_scopes = ("user.info.basic",)

    with pytest.raises(tt.TikTokError, match=r"not granted: video\.list.*allow both"):
        _connect(fake)


def test_wrong_app_credentials_name_the_settings(
    fake: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", "not-the-secret")
    get_settings.cache_clear()

    with pytest.raises(tt.TikTokError, match="TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET"):
        tt.exchange_code(code="c", code_verifier=VERIFIER)


def test_refresh_rotates_tokens_and_a_dead_refresh_token_means_reconnect(
    fake: FakeTikTok,
) -> None:
    first = _connect(fake)

    renewed = tt.refresh(first.refresh_token)

    assert renewed.open_id == first.open_id
    assert renewed.access_token != first.access_token
    assert renewed.refresh_token != first.refresh_token  # keep the newest one
    assert tt.user_info(renewed.access_token).open_id == fake.consenting
    [call] = fake.calls("POST", "/v2/oauth/token/")[1:]
    assert call.form["grant_type"] == "refresh_token"
    assert call.form["refresh_token"] == first.refresh_token
    with pytest.raises(tt.NotConnected, match="Connect your TikTok account again"):
        tt.refresh(first.refresh_token)  # replaced by the rotation
    fake.revoke_all()
    with pytest.raises(tt.NotConnected):
        tt.refresh(renewed.refresh_token)


def test_revoke_ends_access_and_reports_failure_without_raising(fake: FakeTikTok) -> None:
    tokens = _connect(fake)

    assert tt.revoke(tokens.access_token) is True
    [call] = fake.calls("POST", "/v2/oauth/revoke/")
    assert call.form == {
        "client_key": fake.client_key,
        "client_secret": fake.client_secret,
        "token": tokens.access_token,
    }
    with pytest.raises(tt.NotConnected):
        tt.user_info(tokens.access_token)
    assert tt.revoke("act.unknown") is False
    fake.drop_next("/v2/oauth/revoke/")
    assert tt.revoke(tokens.access_token) is False


# -- user info ---------------------------------------------------------------------------


def test_user_info_reads_the_token_owners_profile(fake: FakeTikTok, token: str) -> None:
    user = tt.user_info(token)

    assert user == tt.TikTokUser(
        open_id=fake.consenting,
        union_id=f"union-{fake.consenting}",
        display_name="Alice Clips",
        avatar_url=f"https://p16.tiktokcdn.example/{fake.consenting}.jpeg",
    )
    [call] = fake.calls("GET", "/v2/user/info/")
    assert call.query == {"fields": ["open_id,union_id,avatar_url,display_name"]}
    assert call.headers["Authorization"] == f"Bearer {token}"


def test_an_invalid_or_expired_token_means_reconnect(fake: FakeTikTok, token: str) -> None:
    with pytest.raises(tt.NotConnected, match="Connect your TikTok account again") as invalid:
        tt.user_info("act.not-a-token")
    assert invalid.value.code == "access_token_invalid" and invalid.value.log_id

    fake.expire_access_tokens()
    with pytest.raises(tt.NotConnected):
        tt.query_videos(token, ["7301234567890123456"])


def test_a_withdrawn_scope_means_reconnect(fake: FakeTikTok) -> None:
    access, _ = fake.issue_tokens(scopes=("user.info.basic",))

    with pytest.raises(tt.NotConnected, match="allow both") as refused:
        tt.query_videos(access, ["7301234567890123456"])
    assert refused.value.code == "scope_not_authorized"


# -- video query -------------------------------------------------------------------------


def test_query_videos_parses_times_durations_and_counts(fake: FakeTikTok, token: str) -> None:
    fake.add_video(
        "7301234567890123456",
        create_time=1_700_000_000,
        duration=37,
        description="my clip #fyp",
        views=120_000,
        likes=5_400,
        comments=210,
        shares=33,
    )

    result = tt.query_videos(token, ["7301234567890123456"])

    assert result.found == {
        "7301234567890123456": tt.TikTokVideo(
            id="7301234567890123456",
            create_time=datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
            duration=37,
            description="my clip #fyp",
            views=120_000,
            likes=5_400,
            comments=210,
            shares=33,
        )
    }
    assert result.missing == frozenset() and result.calls == 1
    [call] = fake.calls("POST", "/v2/video/query/")
    assert call.query == {
        "fields": [
            "id,create_time,duration,video_description,view_count,like_count,comment_count,"
            "share_count"
        ]
    }
    assert call.headers["Content-Type"] == "application/json"
    assert call.json == {"filters": {"video_ids": ["7301234567890123456"]}}


def test_45_ids_are_asked_in_three_batches_of_at_most_20(fake: FakeTikTok, token: str) -> None:
    ids = [str(7300000000000000000 + n) for n in range(45)]
    for video_id in ids[::2]:
        fake.add_video(video_id)

    result = tt.query_videos(token, ids + ids[:5])  # repeats are asked once

    sizes = [len(call.json["filters"]["video_ids"]) for call in fake.calls("POST")]
    assert sizes == [20, 20, 5] and result.calls == 3
    assert set(result.found) == set(ids[::2])
    assert result.missing == frozenset(ids[1::2])


def test_another_users_video_and_a_deleted_one_are_missing(fake: FakeTikTok, token: str) -> None:
    fake.add_user("open-id-bob", "Bob")
    fake.add_video("7301111111111111111")  # Alice's
    fake.add_video("7302222222222222222", owner="open-id-bob")
    fake.add_video("7303333333333333333")
    fake.delete("7303333333333333333")

    result = tt.query_videos(
        token, ["7301111111111111111", "7302222222222222222", "7303333333333333333"]
    )

    assert set(result.found) == {"7301111111111111111"}
    assert result.missing == {"7302222222222222222", "7303333333333333333"}
    bob_token, _ = fake.issue_tokens("open-id-bob")
    assert set(tt.query_videos(bob_token, ["7302222222222222222"]).found) == {"7302222222222222222"}


def test_no_ids_make_no_call_and_a_non_numeric_id_is_a_bug(fake: FakeTikTok, token: str) -> None:
    assert tt.query_videos(token, []) == tt.VideoQuery()
    assert tt.query_videos(token, ["", " "]).calls == 0
    with pytest.raises(ValueError, match="numbers"):
        tt.query_videos(token, ["abc"])
    assert fake.calls("POST") == []


def test_429_is_rate_limited_with_tiktoks_retry_time(fake: FakeTikTok, token: str) -> None:
    fake.fail_next("/v2/video/query/", 429, "rate_limit_exceeded", headers={"Retry-After": "42"})
    before = datetime.now(UTC)

    with pytest.raises(tt.RateLimited, match="slow down; try again after") as limited:
        tt.query_videos(token, ["7301234567890123456"])

    assert limited.value.code == "rate_limit_exceeded"
    assert before + timedelta(seconds=42) <= limited.value.retry_at
    assert limited.value.retry_at <= datetime.now(UTC) + timedelta(seconds=42)


def test_429_without_retry_after_waits_out_the_one_minute_window(
    fake: FakeTikTok, token: str
) -> None:
    fake.fail_next("/v2/user/info/", 429, "rate_limit_exceeded")
    before = datetime.now(UTC)

    with pytest.raises(tt.RateLimited) as limited:
        tt.user_info(token)

    assert before + timedelta(minutes=1) <= limited.value.retry_at
    assert limited.value.retry_at <= datetime.now(UTC) + timedelta(minutes=1)
    assert isinstance(limited.value, tt.TikTokError)


def test_a_rate_limited_token_exchange_keeps_the_retry_time(fake: FakeTikTok) -> None:
    fake.fail_next(
        "POST /v2/oauth/token/", 429, "rate_limit_exceeded", headers={"Retry-After": "5"}
    )

    with pytest.raises(tt.RateLimited) as limited:
        tt.exchange_code(code="c", code_verifier=VERIFIER)
    assert limited.value.retry_at > datetime.now(UTC)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        b'{"error": {"code": "ok", "message": "", "log_id": "1"}}',
        b'{"data": {"videos": "none"}, "error": {"code": "ok"}}',
        b'{"data": {"videos": [{"id": "7301234567890123456"}]}, "error": {"code": "ok"}}',
        b'{"data": {"videos": [{"id": "7301234567890123456", "create_time": "soon"}]}}',
        b'{"data": {"videos": [{"id": "1", "create_time": 1, "view_count": -4}]}}',
    ],
)
def test_a_malformed_answer_is_a_clear_error(fake: FakeTikTok, token: str, body: bytes) -> None:
    fake.fail_next("/v2/video/query/", 200, body=body)

    with pytest.raises(tt.TikTokError, match="could not read when trying to read your TikTok"):
        tt.query_videos(token, ["7301234567890123456"])


def test_a_malformed_token_answer_is_a_clear_error(fake: FakeTikTok) -> None:
    fake.fail_next("/v2/oauth/token/", 200, body=b'{"access_token": "act.x", "expires_in": 1}')

    with pytest.raises(tt.TikTokError, match="could not read when trying to finish connecting"):
        tt.exchange_code(code="c", code_verifier=VERIFIER)


def test_server_errors_and_network_failures_say_try_again(fake: FakeTikTok, token: str) -> None:
    fake.fail_next("/v2/video/query/", 500, "internal_error")
    with pytest.raises(tt.TikTokError, match=r"TikTok had a problem \(HTTP 500\); try again"):
        tt.query_videos(token, ["7301234567890123456"])

    fake.drop_next("/v2/user/info/")
    with pytest.raises(tt.TikTokError, match="Could not reach TikTok; try again later"):
        tt.user_info(token)


def test_an_invalid_params_refusal_carries_tiktoks_message(fake: FakeTikTok, token: str) -> None:
    fake.fail_next("/v2/video/query/", 400, "invalid_params", message="Invalid fields.")

    with pytest.raises(tt.TikTokError, match="refused to read your TikTok videos: Invalid") as e:
        tt.query_videos(token, ["7301234567890123456"])
    assert not isinstance(e.value, tt.NotConnected) and e.value.code == "invalid_params"


# -- post addresses (publications.parse_post_url already knows TikTok) -------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://www.tiktok.com/@ada.clips/video/7301234567890123456",
        "https://www.tiktok.com/@ada.clips/video/7301234567890123456/",
        "https://m.tiktok.com/@ada.clips/video/7301234567890123456",
        "tiktok.com/@ada.clips/video/7301234567890123456",
    ],
)
def test_full_tiktok_post_addresses_give_the_video_id(text: str) -> None:
    address = parse_post_url(text)

    assert address.platform == Platform.TIKTOK
    assert address.external_id == "7301234567890123456"
    assert address.url == "https://www.tiktok.com/@ada.clips/video/7301234567890123456"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("https://vm.tiktok.com/ZMabc123/", "short link: open it and paste the full address"),
        ("https://vt.tiktok.com/ZSxyz/", "short link"),
        ("https://www.tiktok.com/@ada.clips", "names no video"),
        ("https://www.tiktok.com/@ada.clips/video/abc", "names no video"),
        ("https://www.tiktok.com/@ada.clips/photo/7301234567890123456", "names no video"),
    ],
)
def test_short_links_and_other_tiktok_pages_are_refused(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_post_url(text)
