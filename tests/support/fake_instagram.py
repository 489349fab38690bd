"""A local stand-in for Business Login for Instagram and the Instagram Graph API, over real HTTP.

It speaks enough of both for `clipgen.services.publishing.instagram`: the authorization
window (redirecting back with a code and the state), the code exchange on the token host,
the long-lived exchange and refresh, /me (a personal account too), /me/media in pages with
cursors and absolute `paging.next` links, and media insights. Refusals use the Graph error
envelope. Tests inject faults (`fail_next`, `drop_next`) and read every request it received.

    with FakeInstagram() as fake:
        fake.apply_env(monkeypatch)  # this process: env vars + get_settings.cache_clear()
        app_env = {**os.environ, **fake.settings_env()}  # an app or worker process
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import pytest
from requests.structures import CaseInsensitiveDict

from clipgen.config import get_settings
from tests.support.fake_http import LocalHTTPFake

VERSION = "v25.0"
LONG_LIVED_SECONDS = 5183944  # what Meta's examples show: about 60 days


@dataclass(frozen=True)
class Recorded:
    """One request the fake received (`form` for a POST body)."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: CaseInsensitiveDict  # names in any case


@dataclass
class Fault:
    """An answer forced on the next matching requests (status 0: drop the connection)."""

    target: str
    status: int
    code: int | None
    subcode: int | None
    message: str | None
    error_type: str
    times: int
    headers: dict[str, str]
    raw: bytes | None  # sent as the body instead of an error envelope

    def matches(self, method: str, path: str) -> bool:
        wanted_method, _, wanted_path = self.target.partition(" ")
        if wanted_path:
            return method == wanted_method and path.startswith(wanted_path)
        if self.target.startswith("/"):
            return path.startswith(self.target)
        return method == self.target


@dataclass
class Media:
    id: str
    shortcode: str
    timestamp: datetime
    permalink: str
    caption: str = ""
    media_product_type: str = "REELS"
    media_type: str = "VIDEO"
    insights: dict[str, int] = field(default_factory=dict)  # metric -> value; absent: no data


@dataclass
class Account:
    user_id: str  # the professional account id (<IG_ID>)
    username: str
    account_type: str  # "BUSINESS", "MEDIA_CREATOR" or "PERSONAL"
    media: list[Media] = field(default_factory=list)  # newest first, as the API lists them


@dataclass
class Token:
    user_id: str
    kind: str  # "short" or "long"
    valid: bool = True


class FakeInstagram(LocalHTTPFake):
    """Instagram Business Login + Graph API on 127.0.0.1, with settable state and faults."""

    client_id = "990602627938098"
    client_secret = "fake-instagram-app-secret"
    version = VERSION

    def __init__(
        self,
        *,
        user_id: str = "17841400000000001",
        username: str = "fake.clipper",
        account_type: str = "MEDIA_CREATOR",
        page_size: int = 3,
    ) -> None:
        self._lock = threading.Lock()
        self.accounts: dict[str, Account] = {}
        self.default_user_id = user_id
        self.add_account(user_id, username, account_type)
        self.page_size = page_size  # the most media a page holds, whatever `limit` asks
        self.granted_permissions: tuple[str, ...] | None = None  # None: what was asked
        self.wrap_me_in_data = False  # answer /me as {"data": [...]}, as Meta's guide shows
        self.deny_consent = False  # the user cancels the authorization window
        self.requests: list[Recorded] = []
        self.authorizations: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._tokens: dict[str, Token] = {}
        self._faults: list[Fault] = []

    def _handler(self):
        return _handler_for(self)

    def settings_env(self) -> dict[str, str]:
        """The environment that points ClipGen's settings (and an app process) here."""
        return {
            "INSTAGRAM_CLIENT_ID": self.client_id,
            "INSTAGRAM_CLIENT_SECRET": self.client_secret,
            "INSTAGRAM_AUTH_URL": f"{self.url}/oauth/authorize",
            "INSTAGRAM_TOKEN_URL": f"{self.url}/oauth/access_token",
            "INSTAGRAM_GRAPH_URL": self.url,
            "INSTAGRAM_GRAPH_VERSION": self.version,
        }

    def apply_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set `settings_env()` for this test and re-read the settings."""
        monkeypatch.delenv("INSTAGRAM_REDIRECT_URI", raising=False)
        for name, value in self.settings_env().items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    # -- state ---------------------------------------------------------------------------

    def add_account(self, user_id: str, username: str, account_type: str) -> Account:
        with self._lock:
            account = Account(user_id, username, account_type)
            self.accounts[user_id] = account
            return account

    def add_media(
        self,
        shortcode: str | None = None,
        *,
        user_id: str | None = None,
        timestamp: datetime | None = None,
        permalink: str | None = None,
        caption: str = "",
        media_product_type: str = "REELS",
        media_type: str = "VIDEO",
        insights: dict[str, int] | None = None,
    ) -> Media:
        """A post on an account (the default one unless `user_id`), older than those before.

        Posts are listed newest first, so each one added lands after the earlier ones.
        """
        code = shortcode or "C" + secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")
        with self._lock:
            account = self.accounts[user_id or self.default_user_id]
            if timestamp is None:
                last = account.media[-1].timestamp if account.media else datetime.now(UTC)
                timestamp = last - timedelta(hours=1)
            kind = "reel" if media_product_type == "REELS" else "p"
            media = Media(
                id=str(17900000000000000 + len(self._all_media()) + 1),
                shortcode=code,
                timestamp=timestamp,
                permalink=permalink or f"https://www.instagram.com/{kind}/{code}/",
                caption=caption,
                media_product_type=media_product_type,
                media_type=media_type,
                insights=dict(insights or {}),
            )
            account.media.append(media)
            return media

    def issue_token(self, user_id: str | None = None, *, kind: str = "long") -> str:
        """A token acting for an account, as after a consent (and a long-lived exchange)."""
        with self._lock:
            return self._new_token(user_id or self.default_user_id, kind)

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as after 60 days, or a removed app)."""
        with self._lock:
            for token in self._tokens.values():
                token.valid = False

    def fail_next(
        self,
        target: str,
        status: int = 400,
        code: int | None = None,
        *,
        subcode: int | None = None,
        message: str | None = None,
        error_type: str = "OAuthException",
        times: int = 1,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        """Answer the next `times` requests matching `target` with an error.

        `target` is a method ("GET"), a path prefix ("/v25.0/me/media") or both
        ("GET /access_token"). The body is the Graph error envelope, or `raw` as it is.
        """
        with self._lock:
            self._faults.append(
                Fault(target, status, code, subcode, message, error_type, times, headers or {}, raw)
            )

    def drop_next(self, target: str, *, times: int = 1) -> None:
        """Close the connection without an answer (a network failure) `times` times."""
        self.fail_next(target, 0, times=times)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The requests received, filtered by method and exact path."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    # -- internals -----------------------------------------------------------------------

    def _all_media(self) -> list[Media]:
        return [media for account in self.accounts.values() for media in account.media]

    def _new_token(self, user_id: str, kind: str) -> str:
        prefix = "IGQ-short-" if kind == "short" else "IGQ-long-"
        token = prefix + secrets.token_urlsafe(16)
        self._tokens[token] = Token(user_id, kind)
        return token

    def _token(self, value: str, *, kind: str | None = None) -> Token | None:
        with self._lock:
            token = self._tokens.get(value)
        if token is None or not token.valid or (kind is not None and token.kind != kind):
            return None
        return token

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    error_type: str = "OAuthException",
) -> dict:
    """The Graph API's error envelope."""
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "A" + secrets.token_hex(10),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


DEFAULT_MESSAGES = {
    4: "(#4) Application request limit reached",
    10: "(#10) Application does not have permission for this action",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Unsupported get request.",
    190: "Error validating access token: Session has expired.",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"i:{index}".encode()).decode()


def _index_of(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.removeprefix("i:"))
    except (ValueError, UnicodeDecodeError):
        return None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _handler_for(fake: FakeInstagram) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.fake = fake
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    fake: FakeInstagram

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parsed = urlparse(self.path)
        path = unquote(parsed.path)
        query = parse_qs(parsed.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form = parse_qs(body.decode(), keep_blank_values=True) if body else {}
        with self.fake._lock:
            self.fake.requests.append(
                Recorded(method, path, query, form, CaseInsensitiveDict(self.headers.items()))
            )
        fault = self.fake._take_fault(method, path)
        if fault is not None:
            self._send_fault(fault)
            return
        params = {name: values[0] for name, values in {**query, **form}.items()}
        route = _ROUTES.get((method, path))
        if route is not None:
            route(self, params)
            return
        version, _, rest = path.lstrip("/").partition("/")
        if method == "GET" and version == self.fake.version:
            if rest == "me":
                self._me(params)
                return
            if rest == "me/media":
                self._media(params)
                return
            media_id, _, edge = rest.partition("/")
            if edge == "insights":
                self._insights(params, media_id)
                return
        self._json(
            400, graph_error(100, f"Unknown path components: {path}", error_type="IGApiException")
        )

    def _send_fault(self, fault: Fault) -> None:
        if fault.status == 0:
            self.close_connection = True
            return
        if fault.raw is not None:
            self._raw(fault.status, fault.raw, fault.headers)
            return
        code = fault.code if fault.code is not None else 1
        message = fault.message or DEFAULT_MESSAGES.get(code, "An unknown error has occurred.")
        payload = graph_error(code, message, subcode=fault.subcode, error_type=fault.error_type)
        self._json(fault.status, payload, fault.headers)

    def _raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(payload).encode(), headers)

    def _invalid_token(self) -> None:
        self._json(400, graph_error(190, "Invalid OAuth access token - Cannot parse access token"))

    def _authorized(self, params: dict[str, str]) -> Token | None:
        token = self.fake._token(params.get("access_token", ""))
        if token is None:
            self._invalid_token()
        return token

    # -- Business Login ------------------------------------------------------------------

    def _authorize(self, params: dict[str, str]) -> None:
        """The authorization window, always answered at once: back to redirect_uri."""
        self.fake.authorizations.append(params)
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.fake.client_id or not redirect_uri:
            self._oauth_refusal("Invalid platform app")
            return
        if params.get("response_type") != "code":
            self._oauth_refusal("Invalid response_type")
            return
        if self.fake.deny_consent:
            back = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "The user denied your request",
            }
        else:
            code = "AQB" + secrets.token_urlsafe(24)
            asked = tuple(s for s in params.get("scope", "").replace(" ", ",").split(",") if s)
            with self.fake._lock:
                self.fake._codes[code] = {
                    "redirect_uri": redirect_uri,
                    "permissions": ",".join(self.fake.granted_permissions or asked),
                    "user_id": self.fake.default_user_id,
                }
            back = {"code": code}
        if "state" in params:
            back["state"] = params["state"]
        self._empty(302, {"Location": f"{redirect_uri}?{urlencode(back)}#_"})

    def _empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _oauth_refusal(self, message: str) -> None:
        self._json(400, {"error_type": "OAuthException", "code": 400, "error_message": message})

    def _access_token_for_code(self, params: dict[str, str]) -> None:
        fake = self.fake
        if params.get("client_id") != fake.client_id:
            self._oauth_refusal("Invalid platform app")
            return
        if params.get("client_secret") != fake.client_secret:
            self._oauth_refusal("Error validating client secret.")
            return
        if params.get("grant_type") != "authorization_code":
            self._oauth_refusal("Unsupported grant_type")
            return
        with fake._lock:
            issued = fake._codes.pop(params.get("code", ""), None)
        if issued is None:
            self._oauth_refusal("Matching code was not found or was already used")
            return
        if params.get("redirect_uri") != issued["redirect_uri"]:
            self._oauth_refusal(
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request"
            )
            return
        with fake._lock:
            token = fake._new_token(issued["user_id"], "short")
        grant = {
            "access_token": token,
            "user_id": issued["user_id"],
            "permissions": issued["permissions"],
        }
        self._json(200, {"data": [grant]})

    def _long_lived(self, params: dict[str, str]) -> None:
        if params.get("grant_type") != "ig_exchange_token":
            self._json(400, graph_error(100, "Unsupported grant type"))
            return
        if params.get("client_secret") != self.fake.client_secret:
            self._json(400, graph_error(101, "Error validating client secret."))
            return
        short = self.fake._token(params.get("access_token", ""), kind="short")
        if short is None:
            self._invalid_token()
            return
        with self.fake._lock:
            token = self.fake._new_token(short.user_id, "long")
        self._json(
            200, {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS}
        )

    def _refresh(self, params: dict[str, str]) -> None:
        if params.get("grant_type") != "ig_refresh_token":
            self._json(400, graph_error(100, "Unsupported grant type"))
            return
        long = self.fake._token(params.get("access_token", ""), kind="long")
        if long is None:
            self._invalid_token()
            return
        with self.fake._lock:
            token = self.fake._new_token(long.user_id, "long")
        self._json(
            200, {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS}
        )

    # -- Graph API -----------------------------------------------------------------------

    def _me(self, params: dict[str, str]) -> None:
        token = self._authorized(params)
        if token is None:
            return
        account = self.fake.accounts[token.user_id]
        values = {
            "id": "app-scoped-" + account.user_id,
            "user_id": account.user_id,
            "username": account.username,
            "account_type": account.account_type,
        }
        fields = [name for name in params.get("fields", "id").split(",") if name]
        user = {name: values[name] for name in fields if name in values}
        user.setdefault("id", values["id"])
        self._json(200, {"data": [user]} if self.fake.wrap_me_in_data else user)

    def _media(self, params: dict[str, str]) -> None:
        token = self._authorized(params)
        if token is None:
            return
        media = self.fake.accounts[token.user_id].media
        start = 0
        if params.get("after"):
            index = _index_of(params["after"])
            if index is None:
                self._json(400, graph_error(100, "Invalid cursor", error_type="IGApiException"))
                return
            start = index + 1
        try:
            limit = max(1, min(int(params.get("limit") or 25), self.fake.page_size))
        except ValueError:
            limit = self.fake.page_size
        fields = [name for name in params.get("fields", "id").split(",") if name]
        page = media[start : start + limit]
        data = [self._media_fields(item, fields) for item in page]
        payload: dict[str, Any] = {"data": data}
        if page:
            cursors = {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}
            payload["paging"] = {"cursors": cursors}
            if start + len(page) < len(media):
                following = {**params, "after": cursors["after"], "limit": str(limit)}
                payload["paging"]["next"] = (
                    f"{self.fake.url}/{self.fake.version}/me/media?{urlencode(following)}"
                )
        self._json(200, payload)

    @staticmethod
    def _media_fields(item: Media, fields: list[str]) -> dict[str, Any]:
        values = {
            "id": item.id,
            "permalink": item.permalink,
            "timestamp": _timestamp(item.timestamp),
            "caption": item.caption,
            "media_product_type": item.media_product_type,
            "media_type": item.media_type,
            "shortcode": item.shortcode,
        }
        chosen = {name: values[name] for name in fields if name in values}
        if not item.caption:
            chosen.pop("caption", None)  # the API omits an empty caption
        chosen.setdefault("id", item.id)
        return chosen

    def _insights(self, params: dict[str, str], media_id: str) -> None:
        token = self._authorized(params)
        if token is None:
            return
        owned = {m.id: m for m in self.fake.accounts[token.user_id].media}
        item = owned.get(media_id)
        if item is None:
            message = (
                f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation."
            )
            self._json(400, graph_error(100, message, subcode=33, error_type="IGApiException"))
            return
        metrics = [name for name in params.get("metric", "").split(",") if name]
        if not metrics:
            self._json(400, graph_error(100, "(#100) The parameter metric is required"))
            return
        retired = [name for name in metrics if name in ("plays", "impressions", "video_views")]
        if retired:
            message = f"(#100) Starting from v22.0, the {retired[0]} metric is no longer supported"
            self._json(400, graph_error(100, message, error_type="IGApiException"))
            return
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": item.insights[name]}],
                "title": name.capitalize(),
                "description": f"The {name} of the post.",
                "id": f"{media_id}/insights/{name}/lifetime",
            }
            for name in metrics
            if name in item.insights
        ]
        self._json(200, {"data": data})


_ROUTES = {
    ("GET", "/oauth/authorize"): _Handler._authorize,
    ("POST", "/oauth/access_token"): _Handler._access_token_for_code,
    ("GET", "/access_token"): _Handler._long_lived,
    ("GET", "/refresh_access_token"): _Handler._refresh,
}


@pytest.fixture
def fake_instagram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInstagram]:
    """A running fake with ClipGen's settings pointed at it (import it into a test module)."""
    with FakeInstagram() as fake:
        fake.apply_env(monkeypatch)
        yield fake
    get_settings.cache_clear()
