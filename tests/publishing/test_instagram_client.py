"""The Instagram module (plain httpx) against a local fake of Business Login for Instagram
and the Instagram Graph API, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from clipgen.config import get_settings
from clipgen.models import Platform
from clipgen.services.errors import InvalidInput
from clipgen.services.publishing import instagram as ig
from clipgen.services.publishing.publications import parse_post_url
from tests.support.fake_instagram import LONG_LIVED_SECONDS, FakeInstagram

SHORTCODE = "DAbc123_xY"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInstagram]:
    with FakeInstagram() as running:
        running.apply_env(monkeypatch)
        yield running


def _consent(url: str) -> dict[str, list[str]]:
    """Open the authorization window like a browser but stop at the redirect."""
    response = httpx.get(url, follow_redirects=False, timeout=5)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.endswith("#_")  # as Meta does; not part of the code
    return parse_qs(urlparse(location).query)


def _connected(fake: FakeInstagram) -> str:
    """A long-lived token through the whole consent round trip."""
    back = _consent(ig.consent_url("state-1"))
    short = ig.exchange_code(back["code"][0])
    return ig.long_lived(short.access_token).access_token


# -- consent and tokens -----------------------------------------------------------------


def test_consent_url_asks_business_login_for_our_scopes(fake: FakeInstagram) -> None:
    url = ig.consent_url("state-123")

    parsed = urlparse(url)
    query = {name: values[0] for name, values in parse_qs(parsed.query).items()}
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == f"{fake.url}/oauth/authorize"
    assert query == {
        "client_id": fake.client_id,
        "redirect_uri": "http://localhost:3000/account/instagram/callback",
        "response_type": "code",
        "scope": "instagram_business_basic,instagram_business_manage_insights",
        "state": "state-123",
    }


def test_the_real_defaults_point_at_instagram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTAGRAM_CLIENT_ID", "1234")
    monkeypatch.setenv("INSTAGRAM_CLIENT_SECRET", "s")
    get_settings.cache_clear()

    url = ig.consent_url("s1")

    assert url.startswith("https://www.instagram.com/oauth/authorize?client_id=1234&")
    settings = get_settings()
    assert settings.instagram_token_url == "https://api.instagram.com/oauth/access_token"
    assert settings.instagram_graph_url == "https://graph.instagram.com"
    assert settings.instagram_configured


def test_a_redirect_uri_setting_wins_over_the_default(
    fake: FakeInstagram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTAGRAM_REDIRECT_URI", "https://clips.example/ig/back")
    get_settings.cache_clear()

    query = parse_qs(urlparse(ig.consent_url("s")).query)

    assert query["redirect_uri"] == ["https://clips.example/ig/back"]


def test_consent_and_token_round_trip(fake: FakeInstagram) -> None:
    back = _consent(ig.consent_url("state-42"))
    assert back["state"] == ["state-42"]

    short = ig.exchange_code(back["code"][0] + "#_")  # a pasted "#_" is stripped

    assert short.access_token.startswith("IGQ-short-")
    assert short.user_id == fake.default_user_id
    assert short.permissions == ig.SCOPES
    assert short.expires_at is not None and short.expires_at.tzinfo is not None
    assert timedelta(minutes=59) < short.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    [exchange] = fake.calls("POST", "/oauth/access_token")
    assert {name: values[0] for name, values in exchange.form.items()} == {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": "http://localhost:3000/account/instagram/callback",
        "code": back["code"][0],
    }


def test_a_code_cannot_be_used_twice(fake: FakeInstagram) -> None:
    code = _consent(ig.consent_url("s"))["code"][0]
    ig.exchange_code(code)

    with pytest.raises(ig.InstagramError, match="already used.*Connect your Instagram account"):
        ig.exchange_code(code)


def test_consent_without_the_insights_permission_is_refused(fake: FakeInstagram) -> None:
    fake.granted_permissions = ("instagram_business_basic",)
    code = _consent(ig.consent_url("s"))["code"][0]

    with pytest.raises(ig.PermissionMissing, match="not granted: instagram_business_manage_ins"):
        ig.exchange_code(code)


def test_long_lived_exchange_and_refresh(fake: FakeInstagram) -> None:
    short = ig.exchange_code(_consent(ig.consent_url("s"))["code"][0])

    lasting = ig.long_lived(short.access_token)

    assert lasting.access_token.startswith("IGQ-long-")
    assert lasting.expires_at is not None
    expected = datetime.now(UTC) + timedelta(seconds=LONG_LIVED_SECONDS)
    assert abs(lasting.expires_at - expected) < timedelta(minutes=1)
    [exchange] = fake.calls("GET", "/access_token")
    assert exchange.query["grant_type"] == ["ig_exchange_token"]
    assert exchange.query["client_secret"] == [fake.client_secret]
    assert exchange.query["access_token"] == [short.access_token]

    renewed = ig.refresh(lasting.access_token)

    assert renewed.access_token.startswith("IGQ-long-")
    assert renewed.access_token != lasting.access_token
    assert renewed.expires_at is not None and renewed.expires_at >= lasting.expires_at
    [refreshing] = fake.calls("GET", "/refresh_access_token")
    assert refreshing.query["grant_type"] == ["ig_refresh_token"]
    assert "client_secret" not in refreshing.query


def test_a_short_lived_token_cannot_be_refreshed(fake: FakeInstagram) -> None:
    short = ig.exchange_code(_consent(ig.consent_url("s"))["code"][0])

    with pytest.raises(ig.NotConnected, match="Connect your Instagram account again"):
        ig.refresh(short.access_token)


def test_unconfigured_server_names_the_missing_settings() -> None:
    assert ig.missing_settings() == ["INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET"]
    with pytest.raises(ig.InstagramError, match="INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET"):
        ig.consent_url("s")
    with pytest.raises(ig.InstagramError, match="not set up"):
        ig.exchange_code("AQB-code")


def test_configured_server_misses_nothing(fake: FakeInstagram) -> None:
    assert ig.missing_settings() == []


def test_plain_http_is_refused_for_a_host_other_than_loopback(
    fake: FakeInstagram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTAGRAM_GRAPH_URL", "http://graph.example.test")
    get_settings.cache_clear()

    with pytest.raises(ig.InstagramError, match="INSTAGRAM_GRAPH_URL must be an https://"):
        ig.me("token")
    assert fake.requests == []


# -- the account --------------------------------------------------------------------------


def test_me_names_the_professional_account(fake: FakeInstagram) -> None:
    token = _connected(fake)

    account = ig.me(token)

    assert account == ig.InstagramAccount(
        user_id=fake.default_user_id, username="fake.clipper", account_type="MEDIA_CREATOR"
    )
    [call] = fake.calls("GET", f"/{fake.version}/me")
    assert call.query["fields"] == ["user_id,username,account_type"]
    assert call.query["access_token"] == [token]


def test_a_business_account_in_the_documented_shape_is_accepted(fake: FakeInstagram) -> None:
    fake.wrap_me_in_data = True  # {"data": [...]}, as Meta's get-started guide shows
    fake.accounts[fake.default_user_id].account_type = "Business"  # the documented casing

    account = ig.me(fake.issue_token())

    assert account.account_type == "BUSINESS" and account.user_id == fake.default_user_id


def test_a_personal_account_is_refused_in_words(fake: FakeInstagram) -> None:
    fake.accounts[fake.default_user_id].account_type = "PERSONAL"

    with pytest.raises(ig.NotProfessional) as refused:
        ig.me(fake.issue_token())

    message = str(refused.value)
    assert "Only Instagram professional accounts (business or creator)" in message
    assert "@fake.clipper is a personal account" in message
    assert "switch it to a professional account" in message.lower()


def test_the_graph_version_comes_from_the_settings(
    fake: FakeInstagram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTAGRAM_GRAPH_VERSION", "v19.0")
    get_settings.cache_clear()

    with pytest.raises(ig.InstagramError, match="Unknown path components: /v19.0/me"):
        ig.me(fake.issue_token())


# -- media ---------------------------------------------------------------------------------


def _nine_posts(fake: FakeInstagram) -> list:
    """Nine posts, three a page; the eighth (on the third page) is SHORTCODE."""
    posts = [fake.add_media() for _ in range(7)]
    posts.append(fake.add_media(SHORTCODE, caption="My clip #ad"))
    posts.append(fake.add_media())
    return posts


def test_media_is_found_by_permalink_on_the_third_page(fake: FakeInstagram) -> None:
    posts = _nine_posts(fake)
    token = fake.issue_token()

    found = ig.find_media(token, f"https://www.instagram.com/reel/{SHORTCODE}/")

    target = posts[7]
    assert found == ig.InstagramMedia(
        id=target.id,
        permalink=f"https://www.instagram.com/reel/{SHORTCODE}/",
        shortcode=SHORTCODE,
        timestamp=target.timestamp.replace(microsecond=0),
        caption="My clip #ad",
        media_product_type="REELS",
        media_type="VIDEO",
    )
    pages = fake.calls("GET", f"/{fake.version}/me/media")
    assert len(pages) == 3
    assert pages[0].query["fields"] == [ig.MEDIA_FIELDS]
    assert "after" not in pages[0].query
    assert all(page.query["access_token"] == [token] for page in pages)
    assert all("after" in page.query for page in pages[1:])


@pytest.mark.parametrize(
    "asked",
    [
        f"https://www.instagram.com/reel/{SHORTCODE}",
        f"https://www.instagram.com/p/{SHORTCODE}/",
        f"https://instagram.com/reels/{SHORTCODE}/?igsh=MWQ1ZGUxMzBkMA==",
        f"https://m.instagram.com/reel/{SHORTCODE}/?utm_source=ig_web_copy_link#comments",
        f"https://www.instagram.com/fake.clipper/reel/{SHORTCODE}/",
        f"instagram.com/reel/{SHORTCODE}",
    ],
)
def test_permalink_variants_find_the_same_post(fake: FakeInstagram, asked: str) -> None:
    posts = _nine_posts(fake)

    found = ig.find_media(fake.issue_token(), asked)

    assert found is not None and found.id == posts[7].id


def test_a_feed_permalink_matches_a_reel_address(fake: FakeInstagram) -> None:
    post = fake.add_media(
        SHORTCODE,
        media_product_type="FEED",
        media_type="CAROUSEL_ALBUM",
        permalink=f"https://www.instagram.com/p/{SHORTCODE}/",
    )

    found = ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/")

    assert found is not None and found.id == post.id
    assert (found.media_product_type, found.media_type) == ("FEED", "CAROUSEL_ALBUM")
    assert found.caption == ""


def test_media_of_another_account_is_not_found(fake: FakeInstagram) -> None:
    _ = [fake.add_media() for _ in range(4)]
    other = fake.add_account("17841400000000999", "someone.else", "BUSINESS")
    fake.add_media(SHORTCODE, user_id=other.user_id)

    found = ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/")

    assert found is None
    assert len(fake.calls("GET", f"/{fake.version}/me/media")) == 2  # read to the end
    assert ig.find_media(fake.issue_token(other.user_id), f"instagram.com/p/{SHORTCODE}")


def test_an_account_without_posts_has_none_to_find(fake: FakeInstagram) -> None:
    assert ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/") is None


def test_an_address_naming_no_post_is_refused_before_any_call(fake: FakeInstagram) -> None:
    with pytest.raises(InvalidInput, match="names no post"):
        ig.find_media(fake.issue_token(), "https://www.instagram.com/fake.clipper/")
    assert fake.calls("GET", f"/{fake.version}/me/media") == []


def test_timestamps_are_parsed_as_aware_utc(fake: FakeInstagram) -> None:
    moment = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
    fake.add_media(SHORTCODE, timestamp=moment)

    found = ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/")

    assert found is not None and found.timestamp == moment
    assert found.timestamp.utcoffset() == timedelta(0)
    assert ig.parse_timestamp("2019-04-05T07:56:32+0000") == datetime(
        2019, 4, 5, 7, 56, 32, tzinfo=UTC
    )
    assert ig.parse_timestamp("2019-04-05T09:56:32+02:00") == datetime(
        2019, 4, 5, 7, 56, 32, tzinfo=UTC
    )
    with pytest.raises(ig.InstagramError, match="post date ClipGen could not read"):
        ig.parse_timestamp("yesterday")


def test_a_next_link_to_another_host_is_not_followed_with_the_token(
    fake: FakeInstagram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token goes only to the Graph root: a foreign `paging.next` becomes a cursor."""
    posts = _nine_posts(fake)
    original = httpx.request
    seen: list[str] = []

    def rewriting(method: str, url: str, **kwargs):
        seen.append(str(url))
        response = original(method, url, **kwargs)
        if "/me/media" not in str(url):
            return response
        body = response.json()
        if "next" in body.get("paging", {}):
            body["paging"]["next"] = (
                "https://evil.example/steal?" + urlparse(body["paging"]["next"]).query
            )
        return httpx.Response(response.status_code, json=body, request=response.request)

    monkeypatch.setattr(httpx, "request", rewriting)

    found = ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/")

    assert found is not None and found.id == posts[7].id
    assert all(url.startswith(fake.url) for url in seen)
    assert len(fake.calls("GET", f"/{fake.version}/me/media")) == 3


# -- insights ------------------------------------------------------------------------------


def test_insights_are_parsed(fake: FakeInstagram) -> None:
    post = fake.add_media(
        SHORTCODE, insights={"views": 120_000, "likes": 5400, "comments": 210, "shares": 96}
    )

    counts = ig.insights(fake.issue_token(), post.id)

    assert counts == ig.InstagramInsights(
        media_id=post.id, views=120_000, likes=5400, comments=210, shares=96
    )
    assert counts.missing == ()
    [call] = fake.calls("GET", f"/{fake.version}/{post.id}/insights")
    assert call.query["metric"] == ["views,likes,comments,shares"]


def test_metrics_without_data_yet_are_none_not_zero(fake: FakeInstagram) -> None:
    post = fake.add_media(SHORTCODE, insights={"likes": 3})

    counts = ig.insights(fake.issue_token(), post.id)

    assert (counts.views, counts.likes, counts.comments, counts.shares) == (None, 3, None, None)
    assert counts.missing == ("views", "comments", "shares")


def test_a_breakdown_style_total_value_is_read_too(fake: FakeInstagram) -> None:
    post = fake.add_media(SHORTCODE)
    body = {"data": [{"name": "views", "period": "lifetime", "total_value": {"value": 77}}]}
    fake.fail_next(f"/{fake.version}/{post.id}/insights", 200, raw=json.dumps(body).encode())

    assert ig.insights(fake.issue_token(), post.id).views == 77


def test_insights_of_another_accounts_post_are_refused(fake: FakeInstagram) -> None:
    other = fake.add_account("17841400000000999", "someone.else", "BUSINESS")
    post = fake.add_media(SHORTCODE, user_id=other.user_id, insights={"views": 1})

    with pytest.raises(ig.InstagramError, match="does not exist"):
        ig.insights(fake.issue_token(), post.id)


def test_a_story_with_too_few_viewers_says_so(fake: FakeInstagram) -> None:
    post = fake.add_media(SHORTCODE, media_product_type="STORY")
    fake.fail_next(
        f"/{fake.version}/{post.id}/insights",
        code=10,
        message="(#10) Not enough viewers for the media to show insights",
    )

    with pytest.raises(ig.InstagramError, match="too few viewers"):
        ig.insights(fake.issue_token(), post.id)


# -- errors --------------------------------------------------------------------------------


def test_an_expired_token_asks_to_reconnect(fake: FakeInstagram) -> None:
    token = fake.issue_token()
    fake.expire_tokens()

    with pytest.raises(ig.NotConnected, match="Connect your Instagram account again"):
        ig.me(token)
    with pytest.raises(ig.NotConnected):
        ig.find_media(token, f"https://www.instagram.com/reel/{SHORTCODE}/")


def test_error_190_with_a_subcode_asks_to_reconnect(fake: FakeInstagram) -> None:
    fake.fail_next(f"/{fake.version}/me", code=190, subcode=463)

    with pytest.raises(ig.NotConnected):
        ig.me(fake.issue_token())


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_rate_limits_say_when_to_retry(fake: FakeInstagram, code: int) -> None:
    fake.fail_next(f"/{fake.version}/me/media", 403, code)
    before = datetime.now(UTC)

    with pytest.raises(ig.RateLimitExceeded, match="slow down; try again after") as limited:
        ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/")

    assert limited.value.code == code
    assert before + ig.RATE_LIMIT_WAIT <= limited.value.retry_at
    assert limited.value.retry_at <= datetime.now(UTC) + ig.RATE_LIMIT_WAIT


def test_the_usage_header_sets_the_retry_time(fake: FakeInstagram) -> None:
    usage = {
        fake.default_user_id: [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 30,
                "estimated_time_to_regain_access": 17,
            }
        ]
    }
    fake.fail_next(
        f"/{fake.version}/me",
        400,
        80002,
        message="There have been too many calls to this Instagram account.",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    before = datetime.now(UTC)

    with pytest.raises(ig.RateLimitExceeded) as limited:
        ig.me(fake.issue_token())

    assert before + timedelta(minutes=17) <= limited.value.retry_at
    assert limited.value.retry_at <= datetime.now(UTC) + timedelta(minutes=17)


def test_an_http_429_with_retry_after_is_a_rate_limit(fake: FakeInstagram) -> None:
    fake.fail_next("GET /refresh_access_token", 429, raw=b"", headers={"Retry-After": "120"})
    before = datetime.now(UTC)

    with pytest.raises(ig.RateLimitExceeded) as limited:
        ig.refresh(fake.issue_token())

    assert before + timedelta(seconds=120) <= limited.value.retry_at


@pytest.mark.parametrize("code", [10, 200, 230])
def test_a_missing_permission_asks_to_allow_it(fake: FakeInstagram, code: int) -> None:
    post = fake.add_media(SHORTCODE)
    fake.fail_next(f"/{fake.version}/{post.id}/insights", 403, code)

    with pytest.raises(
        ig.PermissionMissing, match="Connect your Instagram account again and allow"
    ):
        ig.insights(fake.issue_token(), post.id)


def test_malformed_json_is_a_clear_error(fake: FakeInstagram) -> None:
    fake.fail_next(f"/{fake.version}/me/media", 200, raw=b'{"data": [{"id": "1", ')

    with pytest.raises(ig.InstagramError, match="could not read; try again in a few minutes"):
        ig.find_media(fake.issue_token(), f"https://www.instagram.com/reel/{SHORTCODE}/")


def test_an_unreadable_error_page_is_a_clear_error(fake: FakeInstagram) -> None:
    fake.fail_next("POST /oauth/access_token", 502, raw=b"<html>Bad gateway</html>")

    with pytest.raises(ig.InstagramError, match=r"Instagram had a problem \(HTTP 502\)"):
        ig.exchange_code("AQB-whatever")


def test_a_server_error_in_the_envelope_says_try_later(fake: FakeInstagram) -> None:
    fake.fail_next(f"/{fake.version}/me", 500, 2, message="Service temporarily unavailable")

    with pytest.raises(ig.InstagramError, match="try again later"):
        ig.me(fake.issue_token())


def test_a_dropped_connection_is_a_clear_error(fake: FakeInstagram) -> None:
    fake.drop_next(f"/{fake.version}/me")

    with pytest.raises(ig.InstagramError, match="Could not reach Instagram"):
        ig.me(fake.issue_token())


def test_errors_are_service_errors_safe_to_show(fake: FakeInstagram) -> None:
    from clipgen.services.errors import ServiceError

    fake.expire_tokens()
    with pytest.raises(ServiceError) as refused:
        ig.me("IGQ-long-gone")
    assert "IGQ" not in str(refused.value)


# -- post addresses (publications.parse_post_url already parses Instagram) ------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.instagram.com/reel/{SHORTCODE}/",
        f"https://www.instagram.com/reel/{SHORTCODE}",
        f"https://www.instagram.com/reels/{SHORTCODE}/",
        f"https://www.instagram.com/p/{SHORTCODE}/",
        f"https://instagram.com/p/{SHORTCODE}/?igsh=abc",
        f"https://m.instagram.com/reel/{SHORTCODE}/",
        f"instagram.com/reel/{SHORTCODE}/",
    ],
)
def test_instagram_post_urls_parse_to_the_shortcode(url: str) -> None:
    address = parse_post_url(url)

    assert address.platform == Platform.INSTAGRAM
    assert address.external_id == SHORTCODE
    assert address.url == f"https://www.instagram.com/reel/{SHORTCODE}/"
    assert ig.shortcode_of(url) == SHORTCODE  # the client reduces permalinks the same way


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("https://www.instagram.com/fake.clipper/", "names no post"),
        ("https://www.instagram.com/reel/", "names no post"),
        ("https://www.instagram.com/reel/abc/", "names no post"),  # too short for a shortcode
        ("https://www.instagram.com/stories/fake.clipper/123/", "names no post"),
        ("https://www.instagram.com/explore/tags/clips/", "names no post"),
        ("https://www.instagrarn.com/reel/DAbc123_xY/", "YouTube, TikTok or Instagram"),
        ("ftp://instagram.com/reel/DAbc123_xY/", "starts with https://"),
        ("https://www.instagram.com/reel/DAbc 123/", "not a post address"),
        ("", "Paste the address"),
    ],
)
def test_addresses_that_name_no_instagram_post_are_refused(url: str, refusal: str) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        parse_post_url(url)
    assert ig.shortcode_of(url) is None


def test_tokens_in_request_addresses_stay_out_of_info_logs() -> None:
    import logging

    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
