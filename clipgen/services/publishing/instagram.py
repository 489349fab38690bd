"""The only module that talks to Instagram: Business Login, tokens, a clipper's own media and
the insights of one post.

Plain functions over httpx; no database. It speaks the Instagram API with Instagram Login
(Business Login for Instagram), which serves professional accounts only (business or
creator) and needs no Facebook Page. Every failure the user can act on becomes an
`InstagramError` whose message says what to do. The authorization window, the token
endpoint, the Graph API root and its version come from the settings, so tests and local
runs point this module at a fake (`tests/support/fake_instagram.py`).

Addresses typed by people are parsed by `publications.parse_post_url`; `shortcode_of` only
reduces the permalinks Instagram returns (and the one asked for) to comparable shortcodes.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from clipgen.config import get_settings
from clipgen.services.errors import InvalidInput, ServiceError

log = logging.getLogger(__name__)
# Meta takes the token (and, once, the app secret) in the query string, and httpx logs
# every request's URL at INFO: keep its request lines out of any log that runs at INFO.
logging.getLogger("httpx").setLevel(logging.WARNING)

SCOPES = ("instagram_business_basic", "instagram_business_manage_insights")
# `account_type` on /me: "Business" or "Media_Creator" in Meta's documentation (the API
# sends them upper-case); "PERSONAL" is a personal account. Compared upper-case.
PROFESSIONAL_ACCOUNT_TYPES = frozenset({"BUSINESS", "MEDIA_CREATOR"})
ACCOUNT_FIELDS = "user_id,username,account_type"
MEDIA_FIELDS = "id,permalink,timestamp,caption,media_product_type,media_type"
# Current metrics; `plays`, `clips_replays_count`, `ig_reels_aggregated_all_plays_count` and
# `impressions` were deprecated for all versions on April 21, 2025 (`views` replaces them).
INSIGHT_METRICS = ("views", "likes", "comments", "shares")
MEDIA_PAGE_SIZE = 50
MAX_MEDIA_PAGES = 100  # 5,000 posts: a bound on one search, not an expected length
SHORT_LIVED = timedelta(hours=1)  # the code exchange's token (Meta: valid for one hour)
HTTP_TIMEOUT_SECONDS = 30
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Graph API error codes (Meta's "Handling Errors" and "Rate Limits" pages).
TOKEN_CODES = frozenset({102, 190})  # session or access token expired, revoked or invalid
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})  # app, user, page, custom throttling
BUC_RATE_LIMIT_CODES = range(80000, 80100)  # Business Use Case throttling (Instagram Platform)
PERMISSION_CODES = frozenset({10, *range(200, 300)})
TRANSIENT_CODES = frozenset({1, 2})  # unknown / service: temporary, retry later
RATE_LIMIT_WAIT = timedelta(hours=1)  # Platform limits count calls over a rolling hour

_SHORTCODE = re.compile(r"[A-Za-z0-9_-]{5,64}")
_POST_KINDS = frozenset({"p", "reel", "reels", "tv"})
_INSTAGRAM_HOSTS = frozenset({"instagram.com", "instagr.am"})


@dataclass(frozen=True)
class InstagramTokens:
    """An access token and what Instagram said about it."""

    access_token: str
    expires_at: datetime | None  # aware UTC
    user_id: str = ""  # Instagram-scoped user id; only the code exchange names it
    permissions: tuple[str, ...] = ()  # only the code exchange lists them


@dataclass(frozen=True)
class InstagramAccount:
    """The professional account a token acts for."""

    user_id: str  # the Instagram professional account id (<IG_ID>)
    username: str
    account_type: str  # "BUSINESS" or "MEDIA_CREATOR"


@dataclass(frozen=True)
class InstagramMedia:
    """One of the account's posts, as /me/media lists it."""

    id: str
    permalink: str
    shortcode: str
    timestamp: datetime  # aware UTC
    caption: str
    media_product_type: str  # AD, FEED, STORY or REELS
    media_type: str  # CAROUSEL_ALBUM, IMAGE or VIDEO


@dataclass(frozen=True)
class InstagramInsights:
    """Lifetime counts of one post; None where Instagram returned no value yet.

    Meta: the data behind the metrics can lag up to 48 hours, and unavailable data comes
    back as an empty set rather than 0.
    """

    media_id: str
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in INSIGHT_METRICS if getattr(self, name) is None)


class InstagramError(ServiceError):
    """Instagram refused or could not be reached; the message says what the user can do."""


class NotConnected(InstagramError):
    """The token no longer works (expired, revoked or invalid): consent is needed again."""

    def __init__(
        self,
        message: str = (
            "ClipGen no longer has access to your Instagram account (access was removed or "
            "has expired). Connect your Instagram account again."
        ),
    ) -> None:
        super().__init__(message)


class NotProfessional(InstagramError):
    """A personal account: Instagram serves only professional (business or creator) ones."""


class PermissionMissing(InstagramError):
    """The token lacks a permission the call needs."""


class RateLimitExceeded(InstagramError):
    """Instagram throttled ClipGen; nothing more should be asked before `retry_at`."""

    def __init__(self, message: str, *, retry_at: datetime, code: int) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.code = code


# ---------------------------------------------------------------------------------------
# Settings


def missing_settings() -> list[str]:
    """The settings an admin must set before clippers can connect an Instagram account."""
    settings = get_settings()
    missing = []
    if not settings.instagram_client_id:
        missing.append("INSTAGRAM_CLIENT_ID")
    if not settings.instagram_client_secret.get_secret_value():
        missing.append("INSTAGRAM_CLIENT_SECRET")
    return missing


def _require_configured() -> None:
    missing = missing_settings()
    if missing:
        raise InstagramError(
            "Instagram is not set up on this server: set " + ", ".join(missing) + "."
        )


def _checked(url: str, setting: str) -> str:
    """`url` when it is https (or plain http to a loopback fake), else InstagramError."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return url
    raise InstagramError(f"{setting} must be an https:// address.")


def _graph_root() -> str:
    return _checked(get_settings().instagram_graph_url, "INSTAGRAM_GRAPH_URL").rstrip("/")


def _graph(path: str) -> str:
    """A versioned Graph API address, e.g. /me -> https://graph.instagram.com/v25.0/me."""
    version = get_settings().instagram_graph_version.strip("/")
    return f"{_graph_root()}/{version}/{path.lstrip('/')}"


# ---------------------------------------------------------------------------------------
# Business Login and tokens


def consent_url(state: str) -> str:
    """Instagram's authorization window for our scopes, carrying our `state` back."""
    if not state:
        raise ValueError("a consent URL needs a state (it protects the callback from CSRF)")
    _require_configured()
    settings = get_settings()
    query = {
        "client_id": settings.instagram_client_id,
        "redirect_uri": settings.effective_instagram_redirect_uri,
        "response_type": "code",
        "scope": ",".join(SCOPES),
        "state": state,
    }
    return _checked(settings.instagram_auth_url, "INSTAGRAM_AUTH_URL") + "?" + urlencode(query)


def exchange_code(code: str) -> InstagramTokens:
    """Trade the code from Instagram's redirect for a short-lived token (one hour)."""
    _require_configured()
    settings = get_settings()
    code = code.strip().removesuffix("#_")  # Meta appends "#_" to the redirect
    if not code:
        raise InstagramError("Instagram sent no sign-in code back. Connect your account again.")
    form = {
        "client_id": settings.instagram_client_id,
        "client_secret": settings.instagram_client_secret.get_secret_value(),
        "grant_type": "authorization_code",
        "redirect_uri": settings.effective_instagram_redirect_uri,
        "code": code,
    }
    url = _checked(settings.instagram_token_url, "INSTAGRAM_TOKEN_URL")
    response = _send("POST", url, data=form)
    if response.status_code != 200:
        raise _sign_in_refused(response)
    body = _json(response)
    # Meta's Business Login guide shows {"data": [{...}]}; its reference, a flat object.
    grant = _first_item(body)
    token = str(grant.get("access_token") or "")
    if not token:
        raise InstagramError("Instagram finished the sign-in but sent no token; try again.")
    permissions = _split_permissions(grant.get("permissions"))
    refused = [scope for scope in SCOPES if permissions and scope not in permissions]
    if refused:
        raise PermissionMissing(
            "ClipGen needs permission to read your profile and your posts' insights (not "
            f"granted: {', '.join(refused)}). Connect again and allow both."
        )
    return InstagramTokens(
        access_token=token,
        expires_at=datetime.now(UTC) + SHORT_LIVED,
        user_id=str(grant.get("user_id") or ""),
        permissions=permissions,
    )


def long_lived(short_token: str) -> InstagramTokens:
    """Exchange a valid short-lived token for a long-lived one (60 days)."""
    _require_configured()
    params = {
        "grant_type": "ig_exchange_token",
        "client_secret": get_settings().instagram_client_secret.get_secret_value(),
        "access_token": short_token,
    }
    body = _get(f"{_graph_root()}/access_token", params, doing="keep access to your account")
    return _lasting_token(body)


def refresh(long_token: str) -> InstagramTokens:
    """Renew a long-lived token (at least 24 hours old, not expired) for another 60 days."""
    params = {"grant_type": "ig_refresh_token", "access_token": long_token}
    body = _get(
        f"{_graph_root()}/refresh_access_token", params, doing="renew access to your account"
    )
    return _lasting_token(body)


def _lasting_token(body: dict) -> InstagramTokens:
    token = str(body.get("access_token") or "")
    if not token:
        raise InstagramError("Instagram sent no token back; connect your account again.")
    try:
        seconds = int(body["expires_in"])
    except (KeyError, TypeError, ValueError):
        expires_at = None
    else:
        expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
    return InstagramTokens(access_token=token, expires_at=expires_at)


def _split_permissions(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    if isinstance(value, list):
        return tuple(str(p).strip() for p in value if str(p).strip())
    return ()


def _sign_in_refused(response: httpx.Response) -> InstagramError:
    """The token endpoint's refusal: {"error_type", "code", "error_message"} (or Graph's)."""
    body = _json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return _graph_error(response, body, doing="finish connecting")
    if response.status_code >= 500:
        return InstagramError(
            f"Instagram had a problem (HTTP {response.status_code}); try connecting again later."
        )
    detail = ""
    if isinstance(body, dict):
        detail = str(body.get("error_message") or body.get("error_description") or "")
    log.warning("Instagram refused the authorization code: %s", detail or response.status_code)
    return InstagramError(
        f"Instagram did not accept the sign-in{f' ({detail})' if detail else ''}: the link "
        "may have expired or been used already. Connect your Instagram account again."
    )


# ---------------------------------------------------------------------------------------
# The account, its media, their insights


def me(token: str) -> InstagramAccount:
    """The account the token acts for; a personal account is refused."""
    body = _get(
        _graph("me"),
        {"fields": ACCOUNT_FIELDS, "access_token": token},
        doing="read your profile",
    )
    # Meta's get-started guide shows {"data": [{...}]}; the API answers with the object.
    user = _first_item(body)
    username = str(user.get("username") or "")
    account_type = str(user.get("account_type") or "").upper()
    if account_type not in PROFESSIONAL_ACCOUNT_TYPES:
        who = f"@{username}" if username else "this account"
        kind = "a personal account" if account_type == "PERSONAL" else "not a professional account"
        raise NotProfessional(
            f"Only Instagram professional accounts (business or creator) can be connected, "
            f"and {who} is {kind}. Switch it to a professional account in Instagram's "
            "settings, then connect again."
        )
    user_id = str(user.get("user_id") or "")  # not `id`: that one is app-scoped
    if not user_id:
        raise InstagramError("Instagram did not say which account this is; try again.")
    return InstagramAccount(user_id=user_id, username=username, account_type=account_type)


def find_media(token: str, permalink: str) -> InstagramMedia | None:
    """The account's post at `permalink`, or None when it is not among the account's media.

    Pages through /me/media (newest first) until a post's shortcode matches, so /p/ and
    /reel/ forms, a trailing slash, a username in the path or a query all match.
    """
    wanted = shortcode_of(permalink)
    if wanted is None:
        raise InvalidInput(
            "That Instagram address names no post: use https://www.instagram.com/reel/<code>/."
        )
    url = _graph("me/media")
    params: dict[str, str] | None = {
        "fields": MEDIA_FIELDS,
        "limit": str(MEDIA_PAGE_SIZE),
        "access_token": token,
    }
    for _ in range(MAX_MEDIA_PAGES):
        body = _get(url, params, doing="list your posts")
        for item in body.get("data") or []:
            if isinstance(item, dict) and shortcode_of(str(item.get("permalink") or "")) == wanted:
                return _media(item)
        next_page = _next_page(body, token)
        if next_page is None:
            return None
        url, params = next_page
    log.warning("Stopped looking for Instagram post %s after %d pages", wanted, MAX_MEDIA_PAGES)
    return None


def _next_page(body: dict, token: str) -> tuple[str, dict[str, str] | None] | None:
    """Where the next page is: `paging.next` on the Graph host, else the `after` cursor."""
    paging = body.get("paging")
    if not isinstance(paging, dict):
        return None
    following = paging.get("next")
    if not following:
        return None  # the only reliable end: a page may be empty and still have a next
    root = urlsplit(_graph_root())
    link = urlsplit(str(following))
    if (link.scheme, link.netloc) == (root.scheme, root.netloc):
        return str(following), None
    # Never send the token to another host; ask our own root for the same cursor.
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if not after:
        return None
    return _graph("me/media"), {
        "fields": MEDIA_FIELDS,
        "limit": str(MEDIA_PAGE_SIZE),
        "after": str(after),
        "access_token": token,
    }


def _media(item: dict) -> InstagramMedia:
    permalink = str(item.get("permalink") or "")
    media_id = str(item.get("id") or "")
    if not media_id:
        raise InstagramError("Instagram listed a post without an id; try again later.")
    return InstagramMedia(
        id=media_id,
        permalink=permalink,
        shortcode=shortcode_of(permalink) or "",
        timestamp=parse_timestamp(item.get("timestamp")),
        caption=str(item.get("caption") or ""),
        media_product_type=str(item.get("media_product_type") or ""),
        media_type=str(item.get("media_type") or ""),
    )


def insights(token: str, media_id: str) -> InstagramInsights:
    """Lifetime views, likes, comments and shares of one of the account's posts.

    The counts can lag up to 48 hours; a metric Instagram has no value for yet is None.
    """
    body = _get(
        _graph(f"{media_id}/insights"),
        {"metric": ",".join(INSIGHT_METRICS), "access_token": token},
        doing="read your post's insights",
    )
    counts: dict[str, int | None] = dict.fromkeys(INSIGHT_METRICS)
    for entry in body.get("data") or []:
        if isinstance(entry, dict) and entry.get("name") in counts:
            counts[entry["name"]] = _metric_value(entry)
    return InstagramInsights(media_id=media_id, **counts)


def _metric_value(entry: dict) -> int | None:
    """values[0].value (lifetime), else total_value.value; None when neither is a count."""
    values = entry.get("values")
    candidates = [values[0].get("value")] if values and isinstance(values[0], dict) else []
    total = entry.get("total_value")
    if isinstance(total, dict):
        candidates.append(total.get("value"))
    for value in candidates:
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


# ---------------------------------------------------------------------------------------
# Permalinks and timestamps


def shortcode_of(url: str) -> str | None:
    """The shortcode of an Instagram post address, or None when it names no post.

    https://www.instagram.com/reel/<code>/, /reels/, /p/, /tv/, an optional /<username>/
    before them, m. or www., any query or fragment, with or without the trailing slash.
    """
    raw = str(url or "").strip()
    if not raw or any(ch.isspace() for ch in raw):
        return None
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if parts.scheme not in ("http", "https") or host not in _INSTAGRAM_HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) == 3:
        segments = segments[1:]  # /<username>/reel/<code>/
    if len(segments) != 2 or segments[0].lower() not in _POST_KINDS:
        return None
    code = segments[1]
    return code if _SHORTCODE.fullmatch(code) else None


def parse_timestamp(value: object) -> datetime:
    """An ISO-8601 Graph timestamp ("2019-04-05T07:56:32+0000") as aware UTC."""
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(text, pattern).astimezone(UTC)
        except ValueError:
            continue
    raise InstagramError(f"Instagram sent a post date ClipGen could not read ({text!r}).")


# ---------------------------------------------------------------------------------------
# HTTP and errors


def _send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return httpx.request(
            method, url, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False, **kwargs
        )
    except httpx.HTTPError as error:
        log.warning("Instagram unreachable: %s", type(error).__name__)
        raise InstagramError("Could not reach Instagram; try again later.") from error


def _get(url: str, params: dict[str, str] | None, *, doing: str) -> dict:
    """GET a Graph API address; its JSON object, or the InstagramError its refusal means."""
    response = _send("GET", url, params=params)
    if response.status_code != 200:
        raise _graph_error(response, _json_or_none(response), doing=doing)
    body = _json(response)
    if isinstance(body.get("error"), dict):
        raise _graph_error(response, body, doing=doing)
    return body


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json(response: httpx.Response) -> dict:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        log.warning("Instagram sent unreadable JSON (HTTP %s)", response.status_code)
        raise InstagramError(
            "Instagram sent an answer ClipGen could not read; try again in a few minutes."
        )
    return body


def _first_item(body: dict) -> dict:
    data = body.get("data")
    if isinstance(data, list):
        return data[0] if data and isinstance(data[0], dict) else {}
    return body


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _graph_error(response: httpx.Response, body: Any, *, doing: str) -> InstagramError:
    """The user-facing error for a Graph API refusal (the {"error": {...}} envelope)."""
    status = response.status_code
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        if status == 429:
            return _rate_limited(response, 0)
        if status >= 500:
            return InstagramError(f"Instagram had a problem (HTTP {status}); try again later.")
        return InstagramError(
            f"Instagram refused to {doing} (HTTP {status}) with an answer ClipGen could not "
            "read; try again later."
        )
    code = _int_or_none(detail.get("code"))
    subcode = _int_or_none(detail.get("error_subcode"))
    message = str(detail.get("message") or detail.get("error_user_msg") or "")
    log.warning(
        "Instagram refused to %s: HTTP %s code %s subcode %s type %s fbtrace_id %s",
        doing,
        status,
        code,
        subcode,
        detail.get("type"),
        detail.get("fbtrace_id"),
    )
    if code in RATE_LIMIT_CODES or (code is not None and code in BUC_RATE_LIMIT_CODES):
        return _rate_limited(response, code)
    if status == 429:
        return _rate_limited(response, code or 0)
    if code in TOKEN_CODES:
        return NotConnected()
    if code == 10 and "not enough viewers" in message.lower():
        return InstagramError("Instagram shows no insights for this post yet: too few viewers.")
    if code in PERMISSION_CODES:
        return PermissionMissing(
            f"ClipGen may not {doing} on Instagram ({message or f'code {code}'}). Connect your "
            "Instagram account again and allow ClipGen to read your profile and insights."
        )
    if code in TRANSIENT_CODES or status >= 500:
        return InstagramError(f"Instagram had a problem (HTTP {status}); try again later.")
    return InstagramError(f"Instagram refused to {doing}: {message or f'code {code}'}")


def _rate_limited(response: httpx.Response, code: int) -> RateLimitExceeded:
    retry_at = datetime.now(UTC) + _wait_of(response.headers)
    return RateLimitExceeded(
        "Instagram asked ClipGen to slow down; try again after "
        f"{retry_at.strftime('%Y-%m-%d %H:%M UTC')}.",
        retry_at=retry_at,
        code=code,
    )


def _wait_of(headers: httpx.Headers) -> timedelta:
    """How long Instagram says to wait: X-Business-Use-Case-Usage's
    estimated_time_to_regain_access (minutes), else Retry-After (seconds), else an hour."""
    minutes = 0
    try:
        usage = json.loads(headers.get("x-business-use-case-usage") or "{}")
    except ValueError:
        usage = {}
    for entries in usage.values() if isinstance(usage, dict) else ():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict):
                regain = _int_or_none(entry.get("estimated_time_to_regain_access"))
                minutes = max(minutes, regain or 0)
    if minutes > 0:
        return timedelta(minutes=minutes)
    seconds = _int_or_none(headers.get("retry-after"))
    if seconds is not None and seconds > 0:
        return timedelta(seconds=seconds)
    return RATE_LIMIT_WAIT
