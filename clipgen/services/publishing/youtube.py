"""The only module that talks to Google: OAuth consent, resumable uploads, view counts.

Plain functions over google-auth-oauthlib and google-api-python-client; no database.
Every failure the user can act on becomes a `YouTubeError` whose message says what to do.
The API root, the OAuth endpoints and the client come from the settings, so tests and
local runs point the real client libraries at a fake (`tests/support/fake_youtube.py`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from datetime import time as day_start
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import google.auth.exceptions
import google_auth_httplib2
import httplib2
import requests
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload
from oauthlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error

from clipgen.config import get_settings
from clipgen.services.errors import InvalidInput, ServiceError

log = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
)
STATS_BATCH = 50

PRIVACY_STATUSES = frozenset({"private", "unlisted", "public"})
CATEGORY_PEOPLE_AND_BLOGS = "22"
TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
UPLOAD_CHUNK_UNIT = 256 * 1024  # resumable chunks must be multiples of 256 KiB
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
NETWORK_ERRORS = (httplib2.HttpLib2Error, OSError, google.auth.exceptions.TransportError)
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
RATE_LIMIT_WAIT = timedelta(minutes=5)
MAX_BACKOFF_SECONDS = 64.0
READ_RETRIES = 2  # the client library's own retries of a 5xx or 429 on a read
FALLBACK_STATUSES = frozenset({400, 403, 404, 405, 501})  # batchGetStats not offered
PACIFIC = ZoneInfo("America/Los_Angeles")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HTTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class TokenGrant:
    """What a clipper's consent gives us: tokens and the channel they reach."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None  # aware UTC
    scopes: tuple[str, ...]
    channel_id: str
    channel_title: str


@dataclass(frozen=True)
class Stats:
    views: int
    likes: int
    comments: int


@dataclass
class StatsResult:
    """The counts read for a set of videos and what reading them cost."""

    found: dict[str, Stats] = field(default_factory=dict)  # video id -> counts
    missing: set[str] = field(default_factory=set)  # not returned: deleted, or private
    calls: int = 0  # requests made (the library's own retries of a 5xx not counted)
    quota_units: int = 0  # Data API units: 1 per videos.list call
    stats_calls: int = 0  # videos.batchGetStats calls, counted apart from the units
    method: str = "batchGetStats"  # what was finally used: "batchGetStats" or "list"


@dataclass(frozen=True)
class VideoFacts:
    """What YouTube says about a video: whose it is, when and how long, its words, counts."""

    video_id: str
    channel_id: str
    published_at: datetime | None  # aware UTC; None when YouTube gave none we could read
    duration_s: float | None  # None when YouTube gave none we could read
    title: str
    description: str
    tags: tuple[str, ...]  # () when the video has none (the API then omits the field)
    views: int
    likes: int
    comments: int


@dataclass
class FactsResult:
    """The facts read for a set of videos and what reading them cost."""

    found: dict[str, VideoFacts]  # video id -> facts; ids not returned (deleted, private) absent
    calls: int = 0  # videos.list requests made
    quota_units: int = 0  # 1 per videos.list call


class YouTubeError(ServiceError):
    """Google refused or could not be reached; the message says what the user can do."""


class QuotaExceeded(YouTubeError):
    """A quota or rate limit was hit; nothing more can be done before `retry_at`."""

    def __init__(self, message: str, *, retry_at: datetime, reason: str) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.reason = reason


class NotConnected(YouTubeError):
    """The channel's tokens no longer work (revoked or expired): consent is needed again."""

    def __init__(
        self,
        message: str = (
            "ClipGen no longer has access to your YouTube channel (access was removed or "
            "has expired). Connect your YouTube channel again."
        ),
    ) -> None:
        super().__init__(message)


def missing_settings() -> list[str]:
    """The settings an admin must set before clippers can connect a channel."""
    settings = get_settings()
    missing = []
    if not settings.youtube_client_id:
        missing.append("YOUTUBE_CLIENT_ID")
    if not settings.youtube_client_secret.get_secret_value():
        missing.append("YOUTUBE_CLIENT_SECRET")
    return missing


def _require_configured() -> None:
    missing = missing_settings()
    if missing:
        raise YouTubeError(
            "YouTube publishing is not set up on this server: set " + ", ".join(missing) + "."
        )


def _flow(code_verifier: str) -> Flow:
    settings = get_settings()
    config = {
        "web": {
            "client_id": settings.youtube_client_id,
            "client_secret": settings.youtube_client_secret.get_secret_value(),
            "auth_uri": settings.google_auth_uri,
            "token_uri": settings.google_token_uri,
            "redirect_uris": [settings.effective_youtube_redirect_uri],
        }
    }
    return Flow.from_client_config(
        config,
        scopes=list(SCOPES),
        redirect_uri=settings.effective_youtube_redirect_uri,
        code_verifier=code_verifier,
        autogenerate_code_verifier=False,
    )


_transport_lock = threading.Lock()


@contextmanager
def _plain_http_allowed_for(uri: str) -> Iterator[None]:
    """Let oauthlib use plain http for a loopback address (a local fake), never otherwise."""
    parsed = urlparse(uri)
    if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
        yield
        return
    with _transport_lock:
        previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
            else:
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous


def authorization_url(*, state: str, code_verifier: str) -> str:
    """Google's consent page for our scopes: offline access, PKCE (S256), our `state`."""
    _require_configured()
    flow = _flow(code_verifier)
    try:
        with _plain_http_allowed_for(get_settings().google_auth_uri):
            url, _ = flow.authorization_url(
                state=state,
                access_type="offline",
                prompt="consent",
                include_granted_scopes="true",
            )
    except InsecureTransportError as error:
        raise YouTubeError("GOOGLE_AUTH_URI must be an https:// address.") from error
    return url


def exchange_code(*, code: str, code_verifier: str) -> TokenGrant:
    """Trade the code from Google's redirect for tokens and name the channel they reach."""
    _require_configured()
    token = _fetch_token(code=code, code_verifier=code_verifier)
    granted = tuple(token.get("scope") or SCOPES)
    refused = [scope.rsplit("/", 1)[-1] for scope in SCOPES if scope not in granted]
    if refused:
        raise YouTubeError(
            "ClipGen needs permission to upload videos and to read your channel's views "
            f"(not granted: {', '.join(refused)}). Connect again and allow both."
        )
    if not token.get("refresh_token"):
        raise YouTubeError("Google did not grant lasting access to the channel; connect again.")
    expires_at = (
        datetime.fromtimestamp(float(token["expires_at"]), UTC) if token.get("expires_at") else None
    )
    creds = credentials(
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=expires_at,
    )
    channel_id, channel_title = _own_channel(client(creds=creds))
    return TokenGrant(
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=expires_at,
        scopes=granted,
        channel_id=channel_id,
        channel_title=channel_title,
    )


def _fetch_token(*, code: str, code_verifier: str) -> dict[str, Any]:
    flow = _flow(code_verifier)
    try:
        with _plain_http_allowed_for(get_settings().google_token_uri):
            return dict(flow.fetch_token(code=code, timeout=HTTP_TIMEOUT_SECONDS))
    except Warning as changed:
        # include_granted_scopes: Google may return more scopes than asked; oauthlib
        # raises a Warning carrying the token. Which scopes count is checked by the caller.
        if getattr(changed, "token", None):
            return dict(changed.token)
        raise
    except InsecureTransportError as error:
        raise YouTubeError("GOOGLE_TOKEN_URI must be an https:// address.") from error
    except OAuth2Error as error:
        log.warning("Google refused the authorization code: %s", error.error)
        raise YouTubeError(
            f"Google did not accept the sign-in ({error.error}): the link may have expired "
            "or been used already. Connect your YouTube channel again."
        ) from error
    except requests.RequestException as error:
        log.warning("Token endpoint unreachable: %s", error)
        raise YouTubeError("Could not reach Google to finish connecting; try again.") from error


def _own_channel(service: Any) -> tuple[str, str]:
    """The id and title of the channel the credentials act for (channels.list, 1 unit)."""
    request = service.channels().list(part="snippet", mine=True)
    items = _execute(request, doing="read your channel").get("items") or []
    if not items:
        raise YouTubeError(
            "This Google account has no YouTube channel. Create one on youtube.com, "
            "then connect again."
        )
    channel = items[0]
    return channel["id"], channel.get("snippet", {}).get("title", "")


def credentials(
    *, access_token: str, refresh_token: str, expires_at: datetime | None
) -> Credentials:
    """Credentials that google-auth refreshes by itself once the access token expires."""
    settings = get_settings()
    expiry = expires_at.astimezone(UTC).replace(tzinfo=None) if expires_at else None
    return Credentials(
        token=access_token or None,
        refresh_token=refresh_token or None,
        token_uri=settings.google_token_uri,
        client_id=settings.youtube_client_id,
        client_secret=settings.youtube_client_secret.get_secret_value(),
        scopes=list(SCOPES),
        expiry=expiry,
    )


def expiry_of(creds: Credentials) -> datetime | None:
    """The credentials' expiry as aware UTC (google-auth keeps it naive)."""
    return creds.expiry.replace(tzinfo=UTC) if creds.expiry else None


def refresh_if_needed(creds: Credentials) -> bool:
    """Refresh an expired (or missing) access token now; True when the token changed."""
    if creds.valid:
        return False
    if not creds.refresh_token:
        raise NotConnected()
    before = creds.token
    try:
        creds.refresh(Request())
    except google.auth.exceptions.RefreshError as error:
        raise _refresh_failure(error) from error
    except google.auth.exceptions.TransportError as error:
        raise YouTubeError("Could not reach Google to renew access; try again.") from error
    return creds.token != before


def _refresh_failure(error: google.auth.exceptions.RefreshError) -> YouTubeError:
    details = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
    if details.get("error") == "invalid_grant" or "invalid_grant" in str(error):
        return NotConnected()
    log.warning("Token refresh failed: %s", error)
    return YouTubeError(f"Google refused to renew access to the channel ({error.args[0]}).")


def revoke(token: str) -> bool:
    """Ask Google to drop a token (and its grant); False, never an exception, on failure."""
    try:
        response = requests.post(
            get_settings().google_revoke_uri,
            data={"token": token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        log.warning("Could not revoke a YouTube token: %s", error)
        return False
    if response.status_code != 200:
        log.warning("Google refused to revoke a token: HTTP %s", response.status_code)
        return False
    return True


@lru_cache(maxsize=4)
def _discovery_document(api_root: str) -> str:
    """The packaged youtube v3 document, its root moved to `api_root` when one is set.

    `client_options.api_endpoint` alone keeps https for media uploads (the library swaps
    only the host), so the root itself is rewritten for a plain-http fake.
    """
    document = json.loads(get_static_doc("youtube", "v3"))
    if api_root:
        root = api_root.rstrip("/") + "/"
        document["rootUrl"] = document["baseUrl"] = document["mtlsRootUrl"] = root
    return json.dumps(document)


def client(*, creds: Credentials | None = None, api_key: str = "", http: Any = None) -> Any:
    """A youtube v3 client from the packaged discovery document (no discovery request).

    `creds` act for a connected channel; `api_key` (or YOUTUBE_API_KEY) reads public
    data; `http` (an `HttpMockSequence` in tests) replaces the transport.
    """
    settings = get_settings()
    api_root = settings.youtube_api_url
    if creds is None and http is None and not api_key:
        # Only without OAuth: a key would bill the key's project for the channel's calls.
        api_key = settings.youtube_api_key.get_secret_value()
        if not api_key:
            raise NotConnected(
                "No YouTube access: connect a channel, or ask an admin to set YOUTUBE_API_KEY."
            )
    if creds is not None and http is not None:
        http = google_auth_httplib2.AuthorizedHttp(creds, http=http)
        creds = None
    return build_from_document(
        _discovery_document(api_root),
        http=http,
        credentials=creds,
        developerKey=api_key or None,
        client_options={"api_endpoint": api_root} if api_root else None,
    )


def _reason_and_message(error: HttpError) -> tuple[str, str]:
    """Google's first error reason and its message, from the JSON error body."""
    try:
        body = json.loads(error.content.decode("utf-8"))
        detail = body["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", error.reason or ""
    if not isinstance(detail, dict):
        return str(detail), str(body.get("error_description", detail))
    errors = detail.get("errors") or [{}]
    return errors[0].get("reason", "") or detail.get("status", ""), detail.get("message", "")


def _utc_label(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _rate_limit_retry_at(error: HttpError, now: datetime) -> datetime:
    try:
        seconds = int(error.resp.get("retry-after", ""))
    except ValueError:
        return now + RATE_LIMIT_WAIT
    return now + timedelta(seconds=max(seconds, 1))


def _api_error(error: HttpError, *, doing: str, quota_name: str = "API") -> YouTubeError:
    """The user-facing error for a refused API call."""
    status = error.resp.status
    reason, message = _reason_and_message(error)
    now = datetime.now(UTC)
    if reason in QUOTA_REASONS:
        reset = quota_reset_after(now)
        per_day = " (100 uploads a day per project)" if quota_name == "upload" else ""
        return QuotaExceeded(
            f"YouTube's daily {quota_name} quota for this app is used up{per_day}; try "
            f"again after 00:00 Pacific time ({_utc_label(reset)}).",
            retry_at=reset,
            reason=reason,
        )
    if reason == "uploadLimitExceeded":
        reset = quota_reset_after(now)
        return QuotaExceeded(
            "Your channel reached YouTube's daily upload limit; try again after 00:00 "
            f"Pacific time ({_utc_label(reset)}).",
            retry_at=reset,
            reason=reason,
        )
    if status == 429 or reason in RATE_REASONS:
        retry_at = _rate_limit_retry_at(error, now)
        return QuotaExceeded(
            f"YouTube asked ClipGen to slow down; try again after {_utc_label(retry_at)}.",
            retry_at=retry_at,
            reason=reason or "rateLimitExceeded",
        )
    if status == 401:
        return NotConnected()
    if status >= 500:
        return YouTubeError(f"YouTube had a problem (HTTP {status}); try again later.")
    return YouTubeError(f"YouTube refused to {doing}: {message or reason or f'HTTP {status}'}")


def _clean_text(text: str) -> str:
    return text.replace("<", "").replace(">", "").strip()


def _clean_title(title: str) -> str:
    cleaned = _clean_text(title)[:TITLE_MAX_CHARS].strip()
    if not cleaned:
        raise InvalidInput("Give the video a title.")
    return cleaned


def _clean_description(description: str) -> str:
    encoded = _clean_text(description).encode("utf-8")[:DESCRIPTION_MAX_BYTES]
    return encoded.decode("utf-8", errors="ignore")


def _clean_tags(tags: list[str]) -> list[str]:
    """Tags within YouTube's 500 characters (commas between, quotes around spaced tags)."""
    kept: list[str] = []
    seen: set[str] = set()
    used = 0
    for tag in tags:
        cleaned = _clean_text(tag).lstrip("#").strip()
        if not cleaned or cleaned.casefold() in seen:
            continue
        cost = len(cleaned) + (2 if " " in cleaned else 0) + (1 if kept else 0)
        if used + cost > TAGS_MAX_CHARS:
            break
        kept.append(cleaned)
        seen.add(cleaned.casefold())
        used += cost
    return kept


def _video_body(*, title: str, description: str, tags: list[str], privacy: str) -> dict:
    if privacy not in PRIVACY_STATUSES:
        raise InvalidInput("Choose who can see the video: private, unlisted or public.")
    return {
        "snippet": {
            "title": _clean_title(title),
            "description": _clean_description(description),
            "tags": _clean_tags(tags),
            "categoryId": CATEGORY_PEOPLE_AND_BLOGS,
        },
        "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": False},
    }


def upload_video(
    service: Any,
    path: Path,
    *,
    title: str,
    description: str,
    tags: list[str],
    privacy: str,
    on_progress: Callable[[int], None] | None = None,
    chunk_size: int = 8 * 1024 * 1024,
    max_retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Upload a video file by resumable upload (videos.insert); returns the new video id.

    Each chunk is retried up to `max_retries` times after a 5xx or a network error, with
    exponential backoff; the upload resumes from what YouTube says it has.
    """
    if chunk_size <= 0 or chunk_size % UPLOAD_CHUNK_UNIT:
        raise ValueError("chunk_size must be a positive multiple of 256 KiB")
    body = _video_body(title=title, description=description, tags=tags, privacy=privacy)
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"The video file {path.name} is missing; render the clip again.")
    with path.open("rb") as stream:
        media = _ChunkBytesUpload(
            stream, mimetype="video/mp4", chunksize=chunk_size, resumable=True
        )
        request = service.videos().insert(part="snippet,status", body=body, media_body=media)
        response = _send_chunks(request, on_progress, max_retries, sleep)
    video_id = response.get("id")
    if not video_id:
        raise YouTubeError("YouTube finished the upload but returned no video id; try again.")
    log.info("Uploaded %s as YouTube video %s", path.name, video_id)
    return video_id


class _ChunkBytesUpload(MediaIoBaseUpload):
    """Sends each chunk as bytes rather than a slice of the stream.

    httplib2 re-sends a request once by itself when the connection drops; a bytes body goes
    out again intact, while an already-read stream slice would go out empty and stall.
    """

    def has_stream(self) -> bool:
        return False


def _send_chunks(
    request: Any,
    on_progress: Callable[[int], None] | None,
    max_retries: int,
    sleep: Callable[[float], None],
) -> dict:
    """Drive `next_chunk` to the end, retrying each chunk's transient failures."""
    failures = 0
    response = None
    while response is None:
        try:
            status, response = request.next_chunk()
        except google.auth.exceptions.RefreshError as error:
            raise _refresh_failure(error) from error
        except HttpError as error:
            if error.resp.status not in RETRYABLE_STATUSES or failures >= max_retries:
                raise _api_error(error, doing="take the video", quota_name="upload") from error
            failures += 1
            _back_off(failures, f"HTTP {error.resp.status}", sleep)
            continue
        except NETWORK_ERRORS as error:
            if failures >= max_retries:
                raise YouTubeError(
                    "Could not reach YouTube to upload the video; try again later."
                ) from error
            failures += 1
            _back_off(failures, repr(error), sleep)
            continue
        failures = 0
        if status is not None and on_progress is not None:
            on_progress(int(status.progress() * 100))
    if on_progress is not None:
        on_progress(100)
    return response


def _back_off(attempt: int, cause: str, sleep: Callable[[float], None]) -> None:
    delay = min(2 ** (attempt - 1), MAX_BACKOFF_SECONDS) + random.uniform(0, 1)
    log.warning("YouTube upload chunk failed (%s); retry %d in %.1f s", cause, attempt, delay)
    sleep(delay)


def fetch_stats(service: Any, ids: list[str], *, method: str = "batchGetStats") -> StatsResult:
    """Views, likes and comments of videos, 50 ids a call.

    `batchGetStats` falls back to `videos.list` for this and later batches when the
    method is unavailable; `list` uses only `videos.list` (1 quota unit a call).
    """
    if method not in ("batchGetStats", "list"):
        raise ValueError(f"unknown statistics method {method!r}")
    result = StatsResult(method=method)
    for batch in _batches(ids):
        items = None
        if result.method == "batchGetStats":
            items = _batch_get_stats(service, batch, result)
        if items is None:
            result.method = "list"
            items = _list_stats(service, batch, result)
        _record_counts(batch, items, result)
    return result


def _batch_get_stats(service: Any, batch: list[str], result: StatsResult) -> list | None:
    """Items from videos.batchGetStats, or None when Google does not offer the method."""
    result.calls += 1
    result.stats_calls += 1
    request = service.videos().batchGetStats(id=batch, part=["statistics"])
    try:
        return _execute(request, doing="read video statistics").get("items") or []
    except YouTubeError as refused:
        if not _method_unavailable(refused):
            raise
        log.warning("videos.batchGetStats unavailable (%s); using videos.list", refused)
        return None


def _method_unavailable(refused: YouTubeError) -> bool:
    """A refusal of the method itself: neither quota nor credentials, nor a server fault."""
    cause = refused.__cause__
    return (
        isinstance(cause, HttpError)
        and cause.resp.status in FALLBACK_STATUSES
        and not isinstance(refused, QuotaExceeded | NotConnected)
    )


def _list_stats(service: Any, batch: list[str], result: StatsResult) -> list:
    return _videos_list(service, batch, result, part="statistics", doing="read video statistics")


def _batches(ids: list[str]) -> Iterator[list[str]]:
    """The distinct non-empty ids, in their order, `STATS_BATCH` at a time."""
    unique = list(dict.fromkeys(video_id for video_id in ids if video_id))
    for start in range(0, len(unique), STATS_BATCH):
        yield unique[start : start + STATS_BATCH]


def _videos_list(
    service: Any, batch: list[str], result: StatsResult | FactsResult, *, part: str, doing: str
) -> list:
    """The items of one videos.list call (1 quota unit), counted in `result` even if refused."""
    result.calls += 1
    result.quota_units += 1
    # No maxResults: videos.list does not support it together with `id`.
    request = service.videos().list(part=part, id=",".join(batch))
    return _execute(request, doing=doing).get("items") or []


def _execute(request: Any, *, doing: str) -> dict:
    """Run a read request; every failure becomes a YouTubeError caused by the original."""
    try:
        return request.execute(num_retries=READ_RETRIES)
    except google.auth.exceptions.RefreshError as error:
        raise _refresh_failure(error) from error
    except NETWORK_ERRORS as error:
        raise YouTubeError("Could not reach YouTube; try again later.") from error
    except HttpError as error:
        raise _api_error(error, doing=doing) from error


def _count(statistics: dict, key: str) -> int:
    try:
        return int(statistics.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _record_counts(batch: list[str], items: list, result: StatsResult) -> None:
    asked = set(batch)
    for item in items:
        video_id = item.get("id")
        if video_id not in asked:
            continue
        result.found[video_id] = _stats_of(item)
    result.missing.update(asked - result.found.keys())


def _stats_of(item: dict) -> Stats:
    statistics = item.get("statistics") or {}
    return Stats(
        views=_count(statistics, "viewCount"),
        likes=_count(statistics, "likeCount"),  # absent when the owner hides likes
        comments=_count(statistics, "commentCount"),  # absent when comments are off
    )


def fetch_facts(service: Any, ids: list[str]) -> FactsResult:
    """Channel, publish time, duration, title, description, tags and counts of videos.

    One `videos.list(part=snippet,contentDetails,statistics)` call (1 quota unit) per 50
    ids; an id YouTube does not return (deleted, private, never existed) is absent from
    `found`. Failures are the same `YouTubeError`s as `fetch_stats` raises.
    """
    result = FactsResult(found={})
    for batch in _batches(ids):
        items = _videos_list(
            service, batch, result, part="snippet,contentDetails,statistics", doing="read videos"
        )
        asked = set(batch)
        for item in items:
            if item.get("id") in asked:
                result.found[item["id"]] = _facts_of(item)
    return result


def _facts_of(item: dict) -> VideoFacts:
    snippet = item.get("snippet") or {}
    details = item.get("contentDetails") or {}
    stats = _stats_of(item)
    tags = snippet.get("tags") or []
    return VideoFacts(
        video_id=item["id"],
        channel_id=str(snippet.get("channelId") or ""),
        published_at=parse_published_at(snippet.get("publishedAt") or ""),
        duration_s=parse_duration(details.get("duration") or ""),
        title=str(snippet.get("title") or ""),
        description=str(snippet.get("description") or ""),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        views=stats.views,
        likes=stats.likes,
        comments=stats.comments,
    )


# contentDetails.duration: PT#M#S, PT#H#M#S, P#DT#H#M#S (and P0D before processing ends);
# weeks are accepted too. Years and months are refused: they have no fixed length.
_DURATION = re.compile(
    r"P(?:(?P<weeks>[0-9]+)W)?(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?=[0-9])(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?"
    r"(?:(?P<seconds>[0-9]+(?:\.[0-9]+)?)S)?)?"
)
_DURATION_UNITS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60}


def parse_duration(text: str) -> float | None:
    """Seconds in an ISO 8601 duration as YouTube gives it ("PT1M2S" -> 62.0); else None."""
    if not isinstance(text, str):
        return None
    match = _DURATION.fullmatch(text)
    if match is None or text == "P":
        return None
    parts = match.groupdict()
    whole = sum(int(parts[unit]) * size for unit, size in _DURATION_UNITS.items() if parts[unit])
    try:
        total = whole + (float(parts["seconds"]) if parts["seconds"] else 0.0)
    except OverflowError:
        return None
    return total if math.isfinite(total) else None


# RFC 3339 date-time: a full date, a full time and an offset ("Z" or +hh:mm).
_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?:[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2}):(?P<om>[0-9]{2}))"
)


def parse_published_at(text: str) -> datetime | None:
    """An RFC 3339 time ("2026-12-01T10:00:00Z", fractions and offsets too) as aware UTC."""
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    offset = timedelta(0)
    if match["sign"]:
        if int(match["om"]) > 59:
            return None
        offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"]))
        offset = -offset if match["sign"] == "-" else offset
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")  # to microseconds
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
        return moment.replace(tzinfo=timezone(offset)).astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, a 24 h offset, beyond year 1-9999
        return None


def quota_reset_after(now: datetime) -> datetime:
    """The next midnight in America/Los_Angeles (when YouTube quotas reset), aware UTC."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), day_start(0), tzinfo=PACIFIC)
    return midnight.astimezone(UTC)


def video_url(video_id: str) -> str:
    """Where a published Short is watched."""
    return f"https://www.youtube.com/shorts/{video_id}"
