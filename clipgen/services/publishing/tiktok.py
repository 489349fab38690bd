"""The only module that talks to TikTok: Login Kit for Web (OAuth 2.0) and the Display API.

Plain functions over httpx; no database. A clipper connects a TikTok account (scopes
`user.info.basic,video.list`); ClipGen then reads that user's profile and asks for the
user's own videos by id (/v2/video/query/ answers only for the token owner's videos,
so a post it returns is proven to be the clipper's). Every failure the user can act on
becomes a `TikTokError` whose message says what to do. The authorize page and the API
root come from the settings, so tests point this module at a fake
(`tests/support/fake_tiktok.py`).

Post addresses are parsed by `publications.parse_post_url`, which already knows TikTok's
https://www.tiktok.com/@<user>/video/<number> and refuses vm./vt.tiktok.com short links.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from clipgen.config import get_settings
from clipgen.services.errors import ServiceError

log = logging.getLogger(__name__)

SCOPES = ("user.info.basic", "video.list")
QUERY_BATCH = 20  # /v2/video/query/ takes up to 20 video ids a request
USER_FIELDS = "open_id,union_id,avatar_url,display_name"
VIDEO_FIELDS = (
    "id,create_time,duration,video_description,view_count,like_count,comment_count,share_count"
)
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
VIDEO_QUERY_PATH = "/v2/video/query/"
# TikTok counts requests over a one-minute sliding window (600 a minute by default).
RATE_LIMIT_WAIT = timedelta(minutes=1)
HTTP_TIMEOUT_SECONDS = 30
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_VIDEO_ID = re.compile(r"\d{1,25}")
# Display API codes meaning the token no longer carries what ClipGen needs.
TOKEN_CODES = frozenset({"access_token_invalid"})
SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})


@dataclass(frozen=True)
class TikTokTokens:
    """What a consent (or a refresh) gives us: tokens and the user they act for."""

    access_token: str
    expires_at: datetime  # aware UTC; TikTok's access tokens last 24 hours
    refresh_token: str  # may change on refresh: always keep the newest
    refresh_expires_at: datetime  # aware UTC; 365 days after the consent
    open_id: str  # the TikTok user, as this app sees them
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class TikTokUser:
    open_id: str
    union_id: str
    display_name: str
    avatar_url: str


@dataclass(frozen=True)
class TikTokVideo:
    """One of the authorised user's own videos, as /v2/video/query/ describes it."""

    id: str
    create_time: datetime  # aware UTC
    duration: int  # seconds
    description: str
    views: int
    likes: int
    comments: int
    shares: int


@dataclass(frozen=True)
class VideoQuery:
    """The videos found among the ids asked for, and what asking cost."""

    found: Mapping[str, TikTokVideo] = field(default_factory=dict)  # video id -> video
    # Not returned: not this user's video, deleted, or not visible to the API.
    missing: frozenset[str] = frozenset()
    calls: int = 0  # requests made, one per batch of up to 20 ids


class TikTokError(ServiceError):
    """TikTok refused or could not be reached; the message says what the user can do."""

    def __init__(self, message: str, *, code: str = "", log_id: str = "") -> None:
        super().__init__(message)
        self.code = code  # TikTok's error code ("invalid_grant", "access_token_invalid")
        self.log_id = log_id  # what TikTok support asks for


class NotConnected(TikTokError):
    """The tokens no longer work (revoked, expired, or a scope withdrawn): connect again."""

    def __init__(
        self,
        message: str = (
            "ClipGen no longer has access to your TikTok account (access was removed or "
            "has expired). Connect your TikTok account again."
        ),
        *,
        code: str = "",
        log_id: str = "",
    ) -> None:
        super().__init__(message, code=code, log_id=log_id)


class RateLimited(TikTokError):
    """TikTok asked ClipGen to slow down; nothing more can be done before `retry_at`."""

    def __init__(self, message: str, *, retry_at: datetime, code: str, log_id: str = "") -> None:
        super().__init__(message, code=code, log_id=log_id)
        self.retry_at = retry_at


def missing_settings() -> list[str]:
    """The settings an admin must set before clippers can connect a TikTok account."""
    settings = get_settings()
    missing = []
    if not settings.tiktok_client_key:
        missing.append("TIKTOK_CLIENT_KEY")
    if not settings.tiktok_client_secret.get_secret_value():
        missing.append("TIKTOK_CLIENT_SECRET")
    return missing


def _require_configured() -> None:
    missing = missing_settings()
    if missing:
        raise TikTokError(
            "TikTok connections are not set up on this server: set " + ", ".join(missing) + "."
        )


def code_challenge(code_verifier: str) -> str:
    """TikTok's S256 challenge: the SHA-256 of the verifier as lowercase hex.

    TikTok documents hex ("You must use hex encoding of SHA256"), not RFC 7636's
    unpadded base64url; a base64url challenge fails TikTok's check at the token exchange.
    """
    return hashlib.sha256(code_verifier.encode("ascii")).hexdigest()


def consent_url(*, state: str, code_verifier: str) -> str:
    """TikTok's authorize page for our scopes, carrying our `state` and a PKCE challenge."""
    _require_configured()
    if not state:
        raise ValueError("state must be set")
    if not _VERIFIER.fullmatch(code_verifier):
        raise ValueError("code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~")
    settings = get_settings()
    query = {
        "client_key": settings.tiktok_client_key,
        "response_type": "code",
        "scope": ",".join(SCOPES),
        "redirect_uri": settings.effective_tiktok_redirect_uri,
        "state": state,
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    return settings.tiktok_auth_url + "?" + urlencode(query)


def exchange_code(*, code: str, code_verifier: str) -> TikTokTokens:
    """Trade the code from TikTok's redirect for tokens; both scopes must be granted."""
    _require_configured()
    settings = get_settings()
    form = {
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": settings.effective_tiktok_redirect_uri,
        "code_verifier": code_verifier,
    }
    tokens = _token_request(form, refreshing=False)
    refused = [scope for scope in SCOPES if scope not in tokens.scopes]
    if refused:
        raise TikTokError(
            "ClipGen needs to read your TikTok profile and your videos (not granted: "
            f"{', '.join(refused)}). Connect TikTok again and allow both.",
            code="scope_not_granted",
        )
    return tokens


def refresh(refresh_token: str) -> TikTokTokens:
    """New tokens from a refresh token; keep the refresh token returned (it may change)."""
    _require_configured()
    if not refresh_token:
        raise NotConnected()
    return _token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}, refreshing=True
    )


def revoke(access_token: str) -> bool:
    """Ask TikTok to end the app's access; False, never an exception, on failure."""
    if missing_settings() or not access_token:
        return False
    try:
        response = _post_form(REVOKE_PATH, {"token": access_token})
    except TikTokError as error:
        log.warning("Could not revoke a TikTok token: %s", error)
        return False
    code, _, log_id = _error_fields(_json_or_none(response))
    if response.status_code != 200 or code not in ("", "ok"):
        log.warning(
            "TikTok refused to revoke a token: HTTP %s %s (log %s)",
            response.status_code,
            code,
            log_id,
        )
        return False
    return True


def user_info(access_token: str) -> TikTokUser:
    """The profile of the user the token acts for."""
    data = _api("GET", USER_INFO_PATH, access_token, {"fields": USER_FIELDS}, doing="read")
    user = data.get("user")
    if not isinstance(user, dict) or not user.get("open_id"):
        raise _malformed("read your TikTok profile")
    return TikTokUser(
        open_id=str(user["open_id"]),
        union_id=str(user.get("union_id") or ""),
        display_name=str(user.get("display_name") or ""),
        avatar_url=str(user.get("avatar_url") or ""),
    )


def query_videos(access_token: str, video_ids: Iterable[str]) -> VideoQuery:
    """The user's own videos among `video_ids`, asked 20 ids a request.

    TikTok answers only for videos of the user the token acts for: an id it leaves out
    is another user's video, deleted, or otherwise not visible.
    """
    unique = list(dict.fromkeys(str(video_id).strip() for video_id in video_ids))
    unique = [video_id for video_id in unique if video_id]
    bad = [video_id for video_id in unique if not _VIDEO_ID.fullmatch(video_id)]
    if bad:
        raise ValueError(f"TikTok video ids are numbers, not {bad[0]!r}")
    found: dict[str, TikTokVideo] = {}
    calls = 0
    with _client() as client:
        for start in range(0, len(unique), QUERY_BATCH):
            batch = unique[start : start + QUERY_BATCH]
            calls += 1
            data = _api(
                "POST",
                VIDEO_QUERY_PATH,
                access_token,
                {"fields": VIDEO_FIELDS},
                json_body={"filters": {"video_ids": batch}},
                doing="read your TikTok videos",
                client=client,
            )
            videos = data.get("videos")
            if videos is None:
                videos = []
            if not isinstance(videos, list):
                raise _malformed("read your TikTok videos")
            asked = set(batch)
            for item in videos:
                video = _video(item)
                if video.id in asked:  # never trust an id that was not asked for
                    found[video.id] = video
    return VideoQuery(found=found, missing=frozenset(set(unique) - found.keys()), calls=calls)


# ---------------------------------------------------------------------------------------
# HTTP


def _client() -> httpx.Client:
    return httpx.Client(
        base_url=get_settings().tiktok_api_url.rstrip("/"), timeout=HTTP_TIMEOUT_SECONDS
    )


def _post_form(path: str, form: dict[str, str]) -> httpx.Response:
    """A form POST to an OAuth endpoint, with the app's own key and secret."""
    settings = get_settings()
    body = {
        "client_key": settings.tiktok_client_key,
        "client_secret": settings.tiktok_client_secret.get_secret_value(),
        **form,
    }
    try:
        with _client() as client:
            return client.post(
                path,
                data=body,
                headers={"Cache-Control": "no-cache"},
            )
    except httpx.HTTPError as error:
        log.warning("TikTok OAuth endpoint unreachable: %s", error)
        raise TikTokError("Could not reach TikTok; try again later.") from error


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_fields(body: Any) -> tuple[str, str, str]:
    """(code, message, log_id) from either of TikTok's error shapes.

    OAuth endpoints: {"error": "invalid_grant", "error_description": ..., "log_id": ...};
    the Display API: {"error": {"code": "ok" | ..., "message": ..., "log_id": ...}}.
    """
    if not isinstance(body, dict):
        return "", "", ""
    error = body.get("error")
    if isinstance(error, dict):
        return (
            str(error.get("code") or ""),
            str(error.get("message") or ""),
            str(error.get("log_id") or ""),
        )
    if isinstance(error, str):
        return error, str(body.get("error_description") or ""), str(body.get("log_id") or "")
    return "", "", ""


def _utc_label(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _retry_at(response: httpx.Response, now: datetime) -> datetime:
    try:
        seconds = int(response.headers.get("Retry-After", ""))
    except ValueError:
        return now + RATE_LIMIT_WAIT
    return now + timedelta(seconds=max(seconds, 1))


def _rate_limited(response: httpx.Response, code: str, log_id: str) -> RateLimited:
    retry_at = _retry_at(response, datetime.now(UTC))
    return RateLimited(
        f"TikTok asked ClipGen to slow down; try again after {_utc_label(retry_at)}.",
        retry_at=retry_at,
        code=code or "rate_limit_exceeded",
        log_id=log_id,
    )


def _malformed(doing: str, log_id: str = "") -> TikTokError:
    return TikTokError(
        f"TikTok sent an answer ClipGen could not read when trying to {doing}; try again later.",
        code="malformed_response",
        log_id=log_id,
    )


def _api(
    method: str,
    path: str,
    access_token: str,
    params: dict[str, str],
    *,
    doing: str,
    json_body: dict | None = None,
    client: httpx.Client | None = None,
) -> dict:
    """Call the Display API as the token's user; the `data` object of a success."""
    if not access_token:
        raise NotConnected()
    headers = {"Authorization": f"Bearer {access_token}"}
    try:
        if client is None:
            with _client() as own:
                response = own.request(method, path, params=params, json=json_body, headers=headers)
        else:
            response = client.request(method, path, params=params, json=json_body, headers=headers)
    except httpx.HTTPError as error:
        log.warning("TikTok API unreachable: %s", error)
        raise TikTokError("Could not reach TikTok; try again later.") from error
    body = _json_or_none(response)
    code, message, log_id = _error_fields(body)
    status = response.status_code
    if status == 429 or code == "rate_limit_exceeded":
        raise _rate_limited(response, code, log_id)
    if code in TOKEN_CODES or (status == 401 and code not in SCOPE_CODES):
        raise NotConnected(code=code or "access_token_invalid", log_id=log_id)
    if code in SCOPE_CODES:
        raise NotConnected(
            "ClipGen is not allowed to read your TikTok profile and videos any more. "
            "Connect your TikTok account again and allow both.",
            code=code,
            log_id=log_id,
        )
    if status >= 500 or code == "internal_error":
        log.warning("TikTok error on %s: HTTP %s %s (log %s)", path, status, code, log_id)
        raise TikTokError(
            f"TikTok had a problem (HTTP {status}); try again later.", code=code, log_id=log_id
        )
    if status != 200 or code not in ("", "ok"):
        log.warning(
            "TikTok refused %s: HTTP %s %s %s (log %s)", path, status, code, message, log_id
        )
        detail = message or code or f"HTTP {status}"
        raise TikTokError(f"TikTok refused to {doing}: {detail}", code=code, log_id=log_id)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise _malformed(doing, log_id)
    return data


def _token_request(form: dict[str, str], *, refreshing: bool) -> TikTokTokens:
    response = _post_form(TOKEN_PATH, form)
    body = _json_or_none(response)
    code, message, log_id = _error_fields(body)
    status = response.status_code
    if status == 429 or code == "rate_limit_exceeded":
        raise _rate_limited(response, code, log_id)
    if code and code != "ok":
        raise _oauth_error(code, message, log_id, refreshing=refreshing)
    if status != 200:
        if status >= 500:
            raise TikTokError(f"TikTok had a problem (HTTP {status}); try again later.")
        raise _oauth_error("invalid_request", f"HTTP {status}", log_id, refreshing=refreshing)
    if not isinstance(body, dict):
        raise _malformed("finish connecting your account")
    return _tokens(body, log_id)


def _oauth_error(code: str, message: str, log_id: str, *, refreshing: bool) -> TikTokError:
    log.warning("TikTok OAuth refused: %s %s (log %s)", code, message, log_id)
    if code == "invalid_client":
        return TikTokError(
            "TikTok refused this server's app credentials: an admin must check "
            "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET.",
            code=code,
            log_id=log_id,
        )
    if code in ("server_error", "temporarily_unavailable"):
        return TikTokError("TikTok is not answering right now; try again later.", code=code)
    if refreshing:
        # A refresh token that is refused (invalid_grant: revoked or past its 365 days)
        # cannot be fixed by retrying: the user must consent again.
        return NotConnected(code=code, log_id=log_id)
    return TikTokError(
        f"TikTok did not accept the sign-in ({code}): the link may have expired or been "
        "used already. Connect your TikTok account again.",
        code=code,
        log_id=log_id,
    )


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    return int(value)


def _tokens(body: dict, log_id: str) -> TikTokTokens:
    now = datetime.now(UTC)
    try:
        access_token = str(body["access_token"])
        refresh_token = str(body["refresh_token"])
        open_id = str(body["open_id"])
        expires_in = _seconds(body["expires_in"])
        refresh_expires_in = _seconds(body["refresh_expires_in"])
    except (KeyError, ValueError, TypeError):
        raise _malformed("finish connecting your account", log_id) from None
    if not access_token or not refresh_token or not open_id:
        raise _malformed("finish connecting your account", log_id)
    scope = str(body.get("scope") or "")
    return TikTokTokens(
        access_token=access_token,
        expires_at=now + timedelta(seconds=expires_in),
        refresh_token=refresh_token,
        refresh_expires_at=now + timedelta(seconds=refresh_expires_in),
        open_id=open_id,
        scopes=tuple(part.strip() for part in scope.split(",") if part.strip()),
    )


def _count(item: dict, key: str) -> int:
    value = item.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(key)
    count = int(value)
    if count < 0:
        raise ValueError(key)
    return count


def _video(item: Any) -> TikTokVideo:
    """A video object; a missing or unreadable id, time or count is a malformed answer."""
    try:
        if not isinstance(item, dict):
            raise ValueError("video")
        video_id = str(item["id"])
        created = datetime.fromtimestamp(_seconds(item["create_time"]), UTC)
        return TikTokVideo(
            id=video_id,
            create_time=created,
            duration=_count(item, "duration"),
            description=str(item.get("video_description") or ""),
            views=_count(item, "view_count"),
            likes=_count(item, "like_count"),
            comments=_count(item, "comment_count"),
            shares=_count(item, "share_count"),
        )
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        raise _malformed("read your TikTok videos") from None


def video_url(username: str, video_id: str) -> str:
    """Where a TikTok post is watched."""
    return f"https://www.tiktok.com/@{username}/video/{video_id}"
