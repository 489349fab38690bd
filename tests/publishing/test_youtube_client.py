"""The YouTube module through the real google-auth-oauthlib and google-api-python-client,
against a local fake of Google's OAuth server and the Data API (and HttpMockSequence)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from googleapiclient.http import HttpMockSequence

from clipgen.config import get_settings
from clipgen.services.errors import InvalidInput
from clipgen.services.publishing import youtube as yt
from tests.support.fake_youtube import FakeYouTube, google_error
from tests.support.services import free_port

KIB = 1024
CHUNK = 256 * KIB
VERIFIER = "v" * 43 + "-verifier-of-the-pkce-pair"
UPLOAD_PATH = "/upload/youtube/v3/videos"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    with FakeYouTube() as running:
        running.apply_env(monkeypatch)
        yield running


@pytest.fixture
def service(fake: FakeYouTube):
    access, refresh = fake.issue_grant(yt.SCOPES)
    creds = yt.credentials(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return yt.client(creds=creds)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A 1 MiB + 1000 byte "video": four full 256 KiB chunks and a short last one."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(4 * CHUNK + 1000))
    return path


def _upload(service, path: Path, **overrides) -> str:
    arguments = {
        "title": "My clip",
        "description": "A clip",
        "tags": ["shorts"],
        "privacy": "public",
        "chunk_size": CHUNK,
        "sleep": lambda seconds: None,
    }
    arguments.update(overrides)
    return yt.upload_video(service, path, **arguments)


def _consent_code(url: str) -> tuple[str, dict[str, list[str]]]:
    """Open the consent URL like a browser but stop at the redirect; the code and query."""

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(KeepRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=5)
    assert redirect.value.code == 302
    back = parse_qs(urlparse(redirect.value.headers["Location"]).query)
    return back["code"][0], back


def _between_resets(before: datetime, moment: datetime) -> bool:
    return moment in {yt.quota_reset_after(before), yt.quota_reset_after(datetime.now(UTC))}


def test_authorization_url_asks_offline_consent_with_pkce_and_state(fake: FakeYouTube) -> None:
    url = yt.authorization_url(state="state-123", code_verifier=VERIFIER)

    parsed = urlparse(url)
    query = {name: values[0] for name, values in parse_qs(parsed.query).items()}
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == f"{fake.url}/o/oauth2/auth"
    assert query["state"] == "state-123"
    assert query["scope"].split() == list(yt.SCOPES)
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["include_granted_scopes"] == "true"
    assert query["response_type"] == "code"
    assert query["client_id"] == fake.client_id
    assert query["redirect_uri"] == "http://localhost:3000/account/youtube/callback"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == _s256(VERIFIER)
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_exchange_code_returns_tokens_and_the_channel(fake: FakeYouTube) -> None:
    code, back = _consent_code(yt.authorization_url(state="s1", code_verifier=VERIFIER))
    assert back["state"] == ["s1"]

    grant = yt.exchange_code(code=code, code_verifier=VERIFIER)

    assert grant.channel_id == fake.channel_id
    assert grant.channel_title == fake.channel_title
    assert grant.access_token.startswith("ya29.") and grant.refresh_token.startswith("1//")
    assert set(grant.scopes) == set(yt.SCOPES)
    assert grant.expires_at is not None and grant.expires_at.tzinfo is not None
    assert timedelta(minutes=55) < grant.expires_at - datetime.now(UTC) < timedelta(hours=1)
    [channels] = fake.calls("GET", "/youtube/v3/channels")
    assert channels.query["mine"] == ["true"] and channels.query["part"] == ["snippet"]
    assert channels.headers["Authorization"] == f"Bearer {grant.access_token}"
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_exchange_with_the_wrong_code_verifier_is_refused(fake: FakeYouTube) -> None:
    code, _ = _consent_code(yt.authorization_url(state="s", code_verifier=VERIFIER))

    with pytest.raises(yt.YouTubeError, match="Connect your YouTube channel again"):
        yt.exchange_code(code=code, code_verifier="w" * 50)


def test_a_code_cannot_be_used_twice(fake: FakeYouTube) -> None:
    code, _ = _consent_code(yt.authorization_url(state="s", code_verifier=VERIFIER))
    yt.exchange_code(code=code, code_verifier=VERIFIER)

    with pytest.raises(yt.YouTubeError, match="invalid_grant"):
        yt.exchange_code(code=code, code_verifier=VERIFIER)


def test_consent_without_the_upload_permission_is_refused(fake: FakeYouTube) -> None:
    fake.granted_scopes = ("https://www.googleapis.com/auth/youtube.readonly",)
    code, _ = _consent_code(yt.authorization_url(state="s", code_verifier=VERIFIER))

    with pytest.raises(yt.YouTubeError, match=r"not granted: youtube\.upload"):
        yt.exchange_code(code=code, code_verifier=VERIFIER)


def test_previously_granted_extra_scopes_are_accepted(fake: FakeYouTube) -> None:
    fake.granted_scopes = (*yt.SCOPES, "openid", "https://www.googleapis.com/auth/drive.file")
    code, _ = _consent_code(yt.authorization_url(state="s", code_verifier=VERIFIER))

    grant = yt.exchange_code(code=code, code_verifier=VERIFIER)

    assert "openid" in grant.scopes and grant.channel_id == fake.channel_id


def test_an_account_without_a_channel_is_told_to_create_one(fake: FakeYouTube) -> None:
    fake.has_channel = False
    code, _ = _consent_code(yt.authorization_url(state="s", code_verifier=VERIFIER))

    with pytest.raises(yt.YouTubeError, match="no YouTube channel"):
        yt.exchange_code(code=code, code_verifier=VERIFIER)


def test_plain_http_is_refused_for_a_host_other_than_loopback(
    fake: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_AUTH_URI", "http://accounts.example.test/o/oauth2/auth")
    get_settings.cache_clear()

    with pytest.raises(yt.YouTubeError, match="https://"):
        yt.authorization_url(state="s", code_verifier=VERIFIER)
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_unconfigured_server_names_the_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOUTUBE_CLIENT_ID", raising=False)
    monkeypatch.delenv("YOUTUBE_CLIENT_SECRET", raising=False)
    get_settings.cache_clear()

    assert yt.missing_settings() == ["YOUTUBE_CLIENT_ID", "YOUTUBE_CLIENT_SECRET"]
    with pytest.raises(yt.YouTubeError, match="YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET"):
        yt.authorization_url(state="s", code_verifier=VERIFIER)


def test_configured_server_misses_nothing(fake: FakeYouTube) -> None:
    assert yt.missing_settings() == []


def test_expired_credentials_are_refreshed_from_the_token_endpoint(fake: FakeYouTube) -> None:
    access, refresh = fake.issue_grant(yt.SCOPES)
    creds = yt.credentials(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    assert creds.expiry.tzinfo is None  # google-auth compares naive UTC

    assert yt.refresh_if_needed(creds) is True

    assert creds.token != access and creds.valid
    assert yt.expiry_of(creds) > datetime.now(UTC) + timedelta(minutes=55)
    [refreshed] = fake.calls("POST", "/token")
    assert refreshed.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_valid_credentials_are_left_alone(fake: FakeYouTube) -> None:
    access, refresh = fake.issue_grant(yt.SCOPES)
    creds = yt.credentials(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )

    assert yt.refresh_if_needed(creds) is False
    assert creds.token == access and fake.calls("POST", "/token") == []


def test_a_revoked_refresh_token_means_connect_again(fake: FakeYouTube) -> None:
    access, refresh = fake.issue_grant(yt.SCOPES)
    fake.revoke_token(refresh)
    creds = yt.credentials(access_token=access, refresh_token=refresh, expires_at=None)
    creds.expiry = datetime(2000, 1, 1)  # long expired

    with pytest.raises(yt.NotConnected, match="Connect your YouTube channel again"):
        yt.refresh_if_needed(creds)


def test_revoke_tells_google_and_the_grant_stops_working(fake: FakeYouTube) -> None:
    access, refresh = fake.issue_grant(yt.SCOPES)

    assert yt.revoke(refresh) is True

    [request] = fake.calls("POST", "/revoke")
    assert request.query == {}
    creds = yt.credentials(access_token=access, refresh_token=refresh, expires_at=None)
    with pytest.raises(yt.NotConnected):
        yt.fetch_stats(yt.client(creds=creds), ["abc"])
    assert yt.revoke(refresh) is False  # already gone: Google answers 400


def test_revoke_returns_false_when_google_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_REVOKE_URI", f"http://127.0.0.1:{free_port()}/revoke")
    get_settings.cache_clear()

    assert yt.revoke("some-token") is False


def test_credentials_without_a_refresh_token_mean_connect_again(fake: FakeYouTube) -> None:
    creds = yt.credentials(access_token="", refresh_token="", expires_at=None)

    with pytest.raises(yt.NotConnected):
        yt.refresh_if_needed(creds)


def test_a_client_without_a_channel_reads_with_the_configured_api_key(
    fake: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.apply_env(monkeypatch, with_api_key=True)
    fake.set_stats("public00002", views=9)

    result = yt.fetch_stats(yt.client(), ["public00002"])

    assert result.found == {"public00002": yt.Stats(9, 0, 0)}
    [call] = fake.calls("GET", "/youtube/v3/videos:batchGetStats")
    assert call.query["key"] == [fake.api_key]


def test_a_client_needs_some_credentials(fake: FakeYouTube) -> None:
    with pytest.raises(yt.NotConnected, match="YOUTUBE_API_KEY"):
        yt.client()


def test_resumable_upload_resumes_and_retries_a_failed_chunk(
    fake: FakeYouTube, service, video: Path
) -> None:
    progress: list[int] = []

    def on_progress(percent: int) -> None:
        progress.append(percent)
        if len(progress) == 1:
            fake.commit_partial_next(100 * KIB)  # YouTube keeps part of chunk 2: 308 resume
        if len(progress) == 3:
            fake.fail_next("PUT", 500)  # the 4th chunk's first attempt

    video_id = _upload(service, video, on_progress=on_progress)

    session = fake.uploaded(video_id)
    assert bytes(session.data) == video.read_bytes()
    assert session.rejected == []
    starts = [start for start, _ in session.chunks]
    ends = [end for _, end in session.chunks]
    assert starts == [0] + [end + 1 for end in ends[:-1]]  # each byte once, in order
    assert ends[-1] == video.stat().st_size - 1
    assert progress[-1] == 100 and progress == sorted(progress)
    puts = fake.calls("PUT", UPLOAD_PATH)
    status_queries = [p for p in puts if p.headers["Content-Range"].startswith("bytes */")]
    assert len(status_queries) == 1  # after the 500, the client asked what YouTube had
    assert len(puts) == len(session.chunks) + 2  # + the failed attempt + the status query
    [start] = fake.calls("POST", UPLOAD_PATH)
    assert start.query["uploadType"] == ["resumable"]
    assert start.query["part"] == ["snippet,status"]
    assert start.headers["X-Upload-Content-Type"] == "video/mp4"
    assert start.headers["X-Upload-Content-Length"] == str(video.stat().st_size)
    assert session.metadata == {
        "snippet": {
            "title": "My clip",
            "description": "A clip",
            "tags": ["shorts"],
            "categoryId": "22",
        },
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
    }
    assert yt.fetch_stats(service, [video_id]).found[video_id] == yt.Stats(0, 0, 0)


def test_a_dropped_connection_is_retried_after_a_pause(
    fake: FakeYouTube, service, video: Path
) -> None:
    pauses: list[float] = []

    def on_progress(percent: int) -> None:
        if percent and not pauses:
            fake.drop_next("PUT", times=2)  # httplib2 retries once by itself

    video_id = _upload(service, video, on_progress=on_progress, sleep=pauses.append)

    assert len(pauses) == 1 and 1 <= pauses[0] <= 2
    session = fake.uploaded(video_id)
    assert bytes(session.data) == video.read_bytes() and session.rejected == []
    ranges = [c.headers["Content-Range"] for c in fake.calls("PUT", UPLOAD_PATH)]
    size = video.stat().st_size
    second = f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}"
    assert ranges[1:5] == [second, second, f"bytes */{size}", second]  # 2 drops, ask, resend


def test_an_upload_gives_up_after_max_retries(fake: FakeYouTube, service, video: Path) -> None:
    pauses: list[float] = []
    fake.fail_next("PUT", 503, times=10)

    with pytest.raises(yt.YouTubeError, match=r"HTTP 503.*try again later"):
        _upload(service, video, max_retries=2, sleep=pauses.append)

    assert len(pauses) == 2 and 1 <= pauses[0] <= 2 <= pauses[1] <= 3  # 1 s, then 2 s


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (403, "quotaExceeded", r"daily upload quota .*100 uploads a day.*00:00 Pacific"),
        (400, "uploadLimitExceeded", r"Your channel reached YouTube's daily upload limit"),
    ],
)
def test_upload_quota_errors_say_when_to_try_again(
    fake: FakeYouTube, service, video: Path, status: int, reason: str, message: str
) -> None:
    fake.fail_next(f"POST {UPLOAD_PATH}", status, reason)
    before = datetime.now(UTC)

    with pytest.raises(yt.QuotaExceeded, match=message) as refused:
        _upload(service, video)

    assert refused.value.reason == reason
    assert _between_resets(before, refused.value.retry_at)
    assert refused.value.retry_at.strftime("%Y-%m-%d %H:%M UTC") in str(refused.value)
    assert fake.calls("PUT") == []


def test_a_rate_limited_upload_waits_as_google_asks(
    fake: FakeYouTube, service, video: Path
) -> None:
    fake.fail_next(f"POST {UPLOAD_PATH}", 429, "rateLimitExceeded", headers={"Retry-After": "120"})
    before = datetime.now(UTC)

    with pytest.raises(yt.QuotaExceeded, match="slow down") as refused:
        _upload(service, video)

    assert refused.value.reason == "rateLimitExceeded"
    wait = refused.value.retry_at - before
    assert timedelta(seconds=119) < wait < timedelta(seconds=125)


def test_an_upload_still_unauthorized_after_refreshing_means_connect_again(
    fake: FakeYouTube, service, video: Path
) -> None:
    fake.fail_next(f"POST {UPLOAD_PATH}", 401, "authError", times=3)

    with pytest.raises(yt.NotConnected):
        _upload(service, video)

    assert len(fake.calls("POST", "/token")) == 2  # google-auth refreshed twice first


def test_an_expired_access_token_is_refreshed_during_an_upload(
    fake: FakeYouTube, service, video: Path
) -> None:
    fake.expire_access_tokens()

    video_id = _upload(service, video)

    assert len(fake.calls("POST", "/token")) == 1
    assert bytes(fake.uploaded(video_id).data) == video.read_bytes()


def test_an_upload_to_a_revoked_channel_means_connect_again(
    fake: FakeYouTube, service, video: Path
) -> None:
    fake.revoke_all()

    with pytest.raises(yt.NotConnected, match="Connect your YouTube channel again"):
        _upload(service, video)


def test_other_refusals_carry_youtubes_message(fake: FakeYouTube, service, video: Path) -> None:
    fake.fail_next(f"POST {UPLOAD_PATH}", 400, "invalidTitle", message="The title is invalid.")

    with pytest.raises(yt.YouTubeError, match="The title is invalid") as refused:
        _upload(service, video)

    assert not isinstance(refused.value, yt.QuotaExceeded | yt.NotConnected)


def test_title_description_and_tags_are_made_acceptable(
    fake: FakeYouTube, service, video: Path
) -> None:
    tags = [f"tag number {n}" for n in range(60)]

    video_id = _upload(
        service,
        video,
        title="<b>" + "t" * 150,
        description="é" * 3000 + "<script>",
        tags=[" #shorts ", "", "Shorts", *tags],
    )

    snippet = fake.uploaded(video_id).metadata["snippet"]
    assert snippet["title"] == "b" + "t" * 99
    assert "<" not in snippet["description"] and len(snippet["description"].encode()) <= 5000
    assert snippet["description"] == "é" * 2500
    assert snippet["tags"][0] == "shorts" and "Shorts" not in snippet["tags"]
    counted = sum(len(t) + 2 * (" " in t) for t in snippet["tags"]) + len(snippet["tags"]) - 1
    assert 480 < counted <= 500


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"privacy": "friends"}, "private, unlisted or public"),
        ({"title": " <> "}, "Give the video a title"),
    ],
)
def test_bad_video_details_are_refused_before_anything_is_sent(
    fake: FakeYouTube, service, video: Path, change: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _upload(service, video, **change)
    assert fake.requests == []


def test_a_missing_video_file_is_refused(fake: FakeYouTube, service, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="gone.mp4 is missing"):
        _upload(service, tmp_path / "gone.mp4")
    assert fake.requests == []


def test_mocked_upload_resumes_after_308_then_a_500(video: Path) -> None:
    size = video.stat().st_size
    session = "https://youtube.googleapis.com/upload/youtube/v3/videos?upload_id=xyz"
    http = HttpMockSequence(
        [
            ({"status": "200", "location": session}, b""),
            ({"status": "308", "range": f"bytes=0-{CHUNK - 1}"}, b""),
            ({"status": "500"}, json.dumps(google_error(500, "backendError", "Oops"))),
            ({"status": "308", "range": f"bytes=0-{CHUNK - 1}"}, b""),  # status query
            ({"status": "308", "range": f"bytes=0-{2 * CHUNK - 1}"}, b""),
            ({"status": "308", "range": f"bytes=0-{3 * CHUNK - 1}"}, b""),
            ({"status": "308", "range": f"bytes=0-{4 * CHUNK - 1}"}, b""),
            ({"status": "200"}, json.dumps({"id": "mockedVid01"})),
        ]
    )
    pauses: list[float] = []
    progress: list[int] = []

    video_id = _upload(
        yt.client(http=http), video, sleep=pauses.append, on_progress=progress.append
    )

    assert video_id == "mockedVid01"
    assert len(pauses) == 1 and progress[-1] == 100
    uri, method, _, _ = http.request_sequence[0]
    assert method == "POST"
    assert uri.startswith("https://youtube.googleapis.com/upload/youtube/v3/videos?")
    assert "uploadType=resumable" in uri
    ranges = [headers.get("Content-Range") for _, _, _, headers in http.request_sequence[1:]]
    assert ranges == [
        f"bytes 0-{CHUNK - 1}/{size}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"bytes */{size}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{size}",
        f"bytes {3 * CHUNK}-{4 * CHUNK - 1}/{size}",
        f"bytes {4 * CHUNK}-{size - 1}/{size}",
    ]


def test_mocked_401_means_connect_again(video: Path) -> None:
    http = HttpMockSequence(
        [({"status": "401"}, json.dumps(google_error(401, "authError", "Invalid Credentials")))]
    )

    with pytest.raises(yt.NotConnected):
        _upload(yt.client(http=http), video)


def test_mocked_quota_exceeded_on_a_chunk(video: Path) -> None:
    http = HttpMockSequence(
        [
            ({"status": "200", "location": "https://upload.example/s"}, b""),
            ({"status": "403"}, json.dumps(google_error(403, "quotaExceeded", "Quota"))),
        ]
    )

    with pytest.raises(yt.QuotaExceeded) as refused:
        _upload(yt.client(http=http), video)
    assert refused.value.reason == "quotaExceeded"


def _known_videos(fake: FakeYouTube, count: int) -> list[str]:
    ids = [f"vid{n:08d}" for n in range(count)]
    for n, video_id in enumerate(ids):
        fake.set_stats(video_id, views=1000 + n, likes=10 + n, comments=n)
    return ids


def test_batch_get_stats_reads_120_videos_in_3_calls(fake: FakeYouTube, service) -> None:
    ids = _known_videos(fake, 120)
    fake.delete(ids[5])
    fake.set_stats(ids[7], views=70, likes=None, comments=None)  # hidden likes, comments off

    result = yt.fetch_stats(service, ids + ids[:10])  # duplicates are read once

    assert (result.calls, result.stats_calls, result.quota_units) == (3, 3, 0)
    assert result.method == "batchGetStats"
    assert result.missing == {ids[5]}
    assert result.found[ids[7]] == yt.Stats(views=70, likes=0, comments=0)
    assert result.found[ids[119]] == yt.Stats(views=1119, likes=129, comments=119)
    assert len(result.found) == 119
    calls = fake.calls("GET", "/youtube/v3/videos:batchGetStats")
    assert [len(c.query["id"]) for c in calls] == [50, 50, 20]
    assert all(c.query["part"] == ["statistics"] for c in calls)
    assert fake.calls("GET", "/youtube/v3/videos") == []


def test_videos_list_reads_120_videos_in_3_calls_of_one_unit(fake: FakeYouTube, service) -> None:
    ids = _known_videos(fake, 120)
    fake.delete(ids[0])

    result = yt.fetch_stats(service, ids, method="list")

    assert (result.calls, result.stats_calls, result.quota_units) == (3, 0, 3)
    assert result.method == "list" and result.missing == {ids[0]}
    assert result.found[ids[1]] == yt.Stats(views=1001, likes=11, comments=1)
    calls = fake.calls("GET", "/youtube/v3/videos")
    assert [len(c.query["id"][0].split(",")) for c in calls] == [50, 50, 20]
    assert all("maxResults" not in c.query for c in calls)  # not allowed with `id`


def test_batch_get_stats_falls_back_to_videos_list_when_unavailable(
    fake: FakeYouTube, service
) -> None:
    ids = _known_videos(fake, 120)
    fake.disable_batch_get_stats()

    result = yt.fetch_stats(service, ids)

    assert result.method == "list"
    assert (result.calls, result.stats_calls, result.quota_units) == (4, 1, 3)
    assert len(result.found) == 120 and result.missing == set()
    assert len(fake.calls("GET", "/youtube/v3/videos:batchGetStats")) == 1


def test_a_forbidden_batch_get_stats_also_falls_back(fake: FakeYouTube, service) -> None:
    ids = _known_videos(fake, 3)
    fake.fail_next("/youtube/v3/videos:batchGetStats", 403, "forbidden")

    result = yt.fetch_stats(service, ids)

    assert result.method == "list" and len(result.found) == 3


@pytest.mark.parametrize("method", ["batchGetStats", "list"])
def test_stats_quota_exceeded_is_not_a_reason_to_fall_back(
    fake: FakeYouTube, service, method: str
) -> None:
    ids = _known_videos(fake, 3)
    fake.fail_next("/youtube/v3/videos", 403, "quotaExceeded")
    before = datetime.now(UTC)

    with pytest.raises(yt.QuotaExceeded, match="daily API quota") as refused:
        yt.fetch_stats(service, ids, method=method)

    assert _between_resets(before, refused.value.retry_at)
    assert len(fake.requests) == 1


def test_public_stats_can_be_read_with_an_api_key(fake: FakeYouTube) -> None:
    fake.set_stats("public00001", views=5, likes=1, comments=0)

    result = yt.fetch_stats(yt.client(api_key=fake.api_key), ["public00001"], method="list")

    assert result.found == {"public00001": yt.Stats(5, 1, 0)}
    [call] = fake.calls("GET", "/youtube/v3/videos")
    assert call.query["key"] == [fake.api_key] and "Authorization" not in call.headers


def test_a_rejected_api_key_on_stats_is_a_clear_error(fake: FakeYouTube) -> None:
    with pytest.raises(yt.YouTubeError, match="API key not valid"):
        yt.fetch_stats(yt.client(api_key="wrong"), ["abc"], method="list")


def test_no_ids_make_no_calls(fake: FakeYouTube, service) -> None:
    result = yt.fetch_stats(service, [])

    assert (result.calls, result.found, result.missing) == (0, {}, set())
    assert fake.requests == []


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        # Saturday before DST starts (2025-03-09 02:00 PST -> PDT): midnight PST is 08:00 UTC.
        (datetime(2025, 3, 8, 12, 0, tzinfo=UTC), datetime(2025, 3, 9, 8, 0, tzinfo=UTC)),
        # The DST day itself: the next midnight is already PDT, 07:00 UTC.
        (datetime(2025, 3, 9, 12, 0, tzinfo=UTC), datetime(2025, 3, 10, 7, 0, tzinfo=UTC)),
        # Late evening Pacific is already the next day in UTC.
        (datetime(2025, 7, 1, 6, 59, tzinfo=UTC), datetime(2025, 7, 1, 7, 0, tzinfo=UTC)),
        # Exactly midnight Pacific: the next reset is a day later.
        (datetime(2025, 7, 1, 7, 0, tzinfo=UTC), datetime(2025, 7, 2, 7, 0, tzinfo=UTC)),
        # The day DST ends (2025-11-02 02:00 PDT -> PST): 25 hours long.
        (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), datetime(2025, 11, 2, 7, 0, tzinfo=UTC)),
        (datetime(2025, 11, 2, 7, 30, tzinfo=UTC), datetime(2025, 11, 3, 8, 0, tzinfo=UTC)),
    ],
)
def test_quota_resets_at_the_next_pacific_midnight(now: datetime, reset: datetime) -> None:
    assert yt.quota_reset_after(now) == reset
    assert yt.quota_reset_after(now).utcoffset() == timedelta(0)


def test_video_url_is_the_shorts_page() -> None:
    assert yt.video_url("abc123XYZ_-") == "https://www.youtube.com/shorts/abc123XYZ_-"
