"""A local stand-in for TikTok's Login Kit (web) and Display API, over real HTTP.

It speaks enough of both for `clipgen.services.publishing.tiktok`: the authorize page
(always agreed to, as the `consenting` user, back to redirect_uri with code + state),
the token endpoint (authorization_code with a PKCE check, refresh_token), revoke,
/v2/user/info/ and /v2/video/query/, which answers only for the token owner's videos.
Errors use TikTok's shapes: `{"error": "invalid_grant", "error_description", "log_id"}`
on the OAuth endpoints, `{"data": {}, "error": {"code", "message", "log_id"}}` on the API.
Tests inject faults (`fail_next`, `drop_next`) and read every request it received.

    with FakeTikTok() as fake:
        fake.apply_env(monkeypatch)  # this process: env vars + get_settings.cache_clear()
        app_env = {**os.environ, **fake.settings_env()}  # an app or worker process
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import pytest
from requests.structures import CaseInsensitiveDict

from clipgen.config import get_settings
from tests.support.fake_http import LocalHTTPFake

AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
VIDEO_QUERY_PATH = "/v2/video/query/"
OAUTH_PATHS = (AUTHORIZE_PATH, TOKEN_PATH, REVOKE_PATH)
ALL_SCOPES = ("user.info.basic", "video.list")
ACCESS_SECONDS = 86400  # 24 hours, as TikTok's access tokens
REFRESH_SECONDS = 31536000  # 365 days
MAX_QUERY_IDS = 20
USER_FIELDS = frozenset({"open_id", "union_id", "avatar_url", "display_name"})
VIDEO_FIELDS = frozenset(
    {
        "id",
        "create_time",
        "duration",
        "video_description",
        "view_count",
        "like_count",
        "comment_count",
        "share_count",
        "title",
        "share_url",
    }
)
API_STATUS = {
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "invalid_params": 400,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
}


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict  # names in any case
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(self.body.decode()).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    """An answer forced on the next matching requests (status 0: drop the connection)."""

    target: str
    status: int
    code: str | None
    message: str | None
    times: int
    headers: dict[str, str]
    body: bytes | None  # sent as is instead of an error envelope

    def matches(self, method: str, path: str) -> bool:
        wanted_method, _, wanted_path = self.target.partition(" ")
        if wanted_path:
            return method == wanted_method and path.startswith(wanted_path)
        if self.target.startswith("/"):
            return path.startswith(self.target)
        return method == self.target


@dataclass
class User:
    open_id: str
    display_name: str
    union_id: str = ""
    avatar_url: str = ""


@dataclass
class Video:
    owner: str  # open_id
    create_time: int  # UTC Unix seconds
    duration: int = 15
    description: str = ""
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0


@dataclass
class Grant:
    open_id: str
    scopes: tuple[str, ...]
    refresh_token: str
    revoked: bool = False
    access_tokens: set[str] = field(default_factory=set)


class FakeTikTok(LocalHTTPFake):
    """Login Kit + Display API on 127.0.0.1, with settable users, videos and faults."""

    client_key = "fake-client-key"
    client_secret = "fake-client-secret"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.users: dict[str, User] = {}
        self.videos: dict[str, Video] = {}
        self.consenting = self.add_user("open-id-alice", "Alice Clips").open_id
        self.granted_scopes: tuple[str, ...] | None = None  # None: what was asked
        self.consent_error: str | None = None  # e.g. "access_denied": the user declined
        self.requests: list[Recorded] = []
        self.authorizations: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._grants: dict[str, Grant] = {}  # refresh token -> grant
        self._access: dict[str, Grant] = {}  # access token -> grant
        self._faults: list[Fault] = []

    def _handler(self):
        return _handler_for(self)

    def settings_env(self) -> dict[str, str]:
        """The environment that points ClipGen's settings (and an app process) here."""
        return {
            "TIKTOK_CLIENT_KEY": self.client_key,
            "TIKTOK_CLIENT_SECRET": self.client_secret,
            "TIKTOK_AUTH_URL": f"{self.url}{AUTHORIZE_PATH}",
            "TIKTOK_API_URL": self.url,
        }

    def apply_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set `settings_env()` for this test and re-read the settings."""
        monkeypatch.delenv("TIKTOK_REDIRECT_URI", raising=False)
        for name, value in self.settings_env().items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    # -- state ----------------------------------------------------------------------

    def add_user(self, open_id: str, display_name: str = "") -> User:
        with self._lock:
            user = User(
                open_id=open_id,
                display_name=display_name or open_id,
                union_id=f"union-{open_id}",
                avatar_url=f"https://p16.tiktokcdn.example/{open_id}.jpeg",
            )
            self.users[open_id] = user
            return user

    def add_video(self, video_id: str, *, owner: str | None = None, **fields: Any) -> Video:
        """A video of `owner` (the consenting user by default); fields as `Video`'s."""
        fields.setdefault("create_time", 1_700_000_000)
        with self._lock:
            video = Video(owner=owner or self.consenting, **fields)
            self.videos[video_id] = video
            return video

    def delete(self, video_id: str) -> None:
        with self._lock:
            self.videos.pop(video_id, None)

    def issue_tokens(
        self, open_id: str | None = None, scopes: tuple[str, ...] = ALL_SCOPES
    ) -> tuple[str, str]:
        """A fresh (access token, refresh token), as after a consent."""
        with self._lock:
            refresh = "rft." + secrets.token_urlsafe(24)
            grant = Grant(open_id or self.consenting, tuple(scopes), refresh)
            self._grants[refresh] = grant
            return self._new_access_token(grant), refresh

    def revoke_all(self) -> None:
        """The user removed the app in TikTok's settings: every grant ends."""
        with self._lock:
            for grant in self._grants.values():
                grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (refresh tokens still do)."""
        with self._lock:
            for grant in self._grants.values():
                for token in grant.access_tokens:
                    self._access.pop(token, None)
                grant.access_tokens.clear()

    def fail_next(
        self,
        target: str,
        status: int,
        code: str | None = None,
        *,
        times: int = 1,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        """Answer the next `times` requests matching `target` with an error.

        `target` is a method ("POST"), a path prefix ("/v2/video/query/") or both
        ("POST /v2/oauth/token/"). The body is TikTok's error shape for the path, or
        `body` as given (a malformed answer).
        """
        with self._lock:
            self._faults.append(Fault(target, status, code, message, times, headers or {}, body))

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

    # -- internals ------------------------------------------------------------------

    def _new_access_token(self, grant: Grant) -> str:
        token = "act." + secrets.token_urlsafe(24)
        grant.access_tokens.add(token)
        self._access[token] = grant
        return token

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _bearer_grant(self, headers: Any) -> Grant | None:
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with self._lock:
            grant = self._access.get(auth.removeprefix("Bearer ").strip())
        return None if grant is None or grant.revoked else grant


def new_log_id() -> str:
    return "2026" + secrets.token_hex(13).upper()


def tiktok_error(code: str, message: str = "", *, log_id: str | None = None) -> dict:
    """The Display API's answer for an error: empty data and the error object."""
    return {
        "data": {},
        "error": {"code": code, "message": message, "log_id": log_id or new_log_id()},
    }


def oauth_error(code: str, description: str = "", *, log_id: str | None = None) -> dict:
    """An OAuth endpoint's answer for an error."""
    return {"error": code, "error_description": description, "log_id": log_id or new_log_id()}


def s256_hex(verifier: str) -> str:
    """TikTok's code challenge: hex-encoded SHA-256 of the verifier."""
    return hashlib.sha256(verifier.encode()).hexdigest()


def _handler_for(fake: FakeTikTok) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.fake = fake
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    fake: FakeTikTok

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
        with self.fake._lock:
            self.fake.requests.append(
                Recorded(method, path, query, CaseInsensitiveDict(self.headers.items()), body)
            )
        fault = self.fake._take_fault(method, path)
        if fault is not None:
            self._send_fault(fault, path)
            return
        route = _ROUTES.get((method, path))
        if route is None:
            self._json(404, tiktok_error("invalid_params", f"No route for {method} {path}"))
            return
        route(self, query, body)

    def _send_fault(self, fault: Fault, path: str) -> None:
        if fault.status == 0:
            self.close_connection = True
            return
        if fault.body is not None:
            self._raw(fault.status, fault.body, "application/json", fault.headers)
            return
        if path in OAUTH_PATHS:
            payload = oauth_error(fault.code or "server_error", fault.message or "Injected")
        else:
            code = fault.code or ("internal_error" if fault.status >= 500 else "invalid_params")
            payload = tiktok_error(code, fault.message or f"Injected {code}")
        self._json(fault.status, payload, fault.headers)

    def _raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _api_error(self, code: str, message: str) -> None:
        self._json(API_STATUS.get(code, 400), tiktok_error(code, message))

    # -- Login Kit ------------------------------------------------------------------

    def _authorize(self, query: dict[str, list[str]], body: bytes) -> None:
        """The consent page, agreed to by the consenting user: back to redirect_uri."""
        fake = self.fake
        params = {name: values[0] for name, values in query.items()}
        fake.authorizations.append(params)
        redirect_uri = params.get("redirect_uri", "")
        if (
            params.get("client_key") != fake.client_key
            or params.get("response_type") != "code"
            or not redirect_uri
        ):
            self._json(400, oauth_error("invalid_request", "client_key or redirect_uri"))
            return
        method = params.get("code_challenge_method", "")
        if params.get("code_challenge") and method != "S256":
            self._json(400, oauth_error("invalid_request", "code_challenge_method must be S256"))
            return
        asked = tuple(s for s in params.get("scope", "").split(",") if s)
        unknown = [scope for scope in asked if scope not in ALL_SCOPES]
        back: dict[str, str] = {"state": params.get("state", "")}
        if fake.consent_error or unknown or not asked:
            back["error"] = fake.consent_error or "invalid_scope"
            back["error_description"] = (
                "The user did not authorize."
                if fake.consent_error
                else ("The requested scope is invalid.")
            )
            self._redirect(redirect_uri + "?" + urlencode(back))
            return
        granted = tuple(fake.granted_scopes if fake.granted_scopes is not None else asked)
        code = "code-" + secrets.token_urlsafe(16)
        with fake._lock:
            fake._codes[code] = {
                "challenge": params.get("code_challenge", ""),
                "redirect_uri": redirect_uri,
                "scope": ",".join(granted),
                "open_id": fake.consenting,
            }
        back.update({"code": code, "scopes": ",".join(granted)})
        self._redirect(redirect_uri + "?" + urlencode(back))

    def _form(self, body: bytes) -> dict[str, str] | None:
        """The form of an OAuth call from the app itself, or None after answering 401."""
        if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
            self._json(400, oauth_error("invalid_request", "The request parameters are malformed."))
            return None
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if (
            form.get("client_key") != self.fake.client_key
            or form.get("client_secret") != self.fake.client_secret
        ):
            self._json(401, oauth_error("invalid_client", "Client key or secret is incorrect."))
            return None
        return form

    def _token(self, query: dict[str, list[str]], body: bytes) -> None:
        form = self._form(body)
        if form is None:
            return
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            self._token_for_code(form)
        elif grant_type == "refresh_token":
            self._token_for_refresh(form)
        else:
            self._json(400, oauth_error("unsupported_grant_type", "Unsupported grant type."))

    def _tokens(self, grant: Grant, access: str) -> None:
        self._json(
            200,
            {
                "access_token": access,
                "expires_in": ACCESS_SECONDS,
                "open_id": grant.open_id,
                "refresh_expires_in": REFRESH_SECONDS,
                "refresh_token": grant.refresh_token,
                "scope": ",".join(grant.scopes),
                "token_type": "Bearer",
            },
        )

    def _token_for_code(self, form: dict[str, str]) -> None:
        fake = self.fake
        with fake._lock:
            issued = fake._codes.pop(form.get("code", ""), None)
        if issued is None:
            self._json(400, oauth_error("invalid_grant", "Authorization code is expired."))
            return
        if form.get("redirect_uri") != issued["redirect_uri"]:
            self._json(
                400,
                oauth_error(
                    "invalid_request",
                    "Redirect_uri is not matched with the uri when requesting code.",
                ),
            )
            return
        if issued["challenge"] and s256_hex(form.get("code_verifier", "")) != issued["challenge"]:
            self._json(
                400, oauth_error("invalid_request", "Code verifier or code challenge is invalid.")
            )
            return
        scopes = tuple(s for s in issued["scope"].split(",") if s)
        access, refresh = fake.issue_tokens(issued["open_id"], scopes)
        with fake._lock:
            grant = fake._grants[refresh]
        self._tokens(grant, access)

    def _token_for_refresh(self, form: dict[str, str]) -> None:
        fake = self.fake
        with fake._lock:
            grant = fake._grants.pop(form.get("refresh_token", ""), None)
            if grant is not None and not grant.revoked:
                # TikTok may rotate the refresh token: the old one stops working here.
                grant.refresh_token = "rft." + secrets.token_urlsafe(24)
                fake._grants[grant.refresh_token] = grant
                access = fake._new_access_token(grant)
            else:
                access = None
        if grant is None or access is None:
            self._json(400, oauth_error("invalid_grant", "Refresh token is invalid or expired."))
            return
        self._tokens(grant, access)

    def _revoke(self, query: dict[str, list[str]], body: bytes) -> None:
        form = self._form(body)
        if form is None:
            return
        with self.fake._lock:
            grant = self.fake._access.get(form.get("token", ""))
            if grant is not None:
                grant.revoked = True
        if grant is None:
            self._json(400, oauth_error("invalid_request", "The access token is invalid."))
            return
        self._raw(200, b"", "application/json")  # TikTok: "the response struct will be empty"

    # -- Display API ----------------------------------------------------------------

    def _grant_with(self, scope: str) -> Grant | None:
        grant = self.fake._bearer_grant(self.headers)
        if grant is None:
            self._api_error(
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
            return None
        if scope not in grant.scopes:
            self._api_error(
                "scope_not_authorized",
                f"The user did not authorize the scope required ({scope}).",
            )
            return None
        return grant

    def _fields(self, query: dict[str, list[str]], allowed: frozenset[str]) -> list[str] | None:
        fields = [f for f in query.get("fields", [""])[0].split(",") if f]
        if not fields or any(f not in allowed for f in fields):
            self._api_error("invalid_params", "Invalid fields.")
            return None
        return fields

    def _user_info(self, query: dict[str, list[str]], body: bytes) -> None:
        grant = self._grant_with("user.info.basic")
        if grant is None:
            return
        fields = self._fields(query, USER_FIELDS)
        if fields is None:
            return
        user = self.fake.users[grant.open_id]
        values = {
            "open_id": user.open_id,
            "union_id": user.union_id,
            "avatar_url": user.avatar_url,
            "display_name": user.display_name,
        }
        self._json(
            200,
            {
                "data": {"user": {name: values[name] for name in fields}},
                "error": {"code": "ok", "message": "", "log_id": new_log_id()},
            },
        )

    def _video_query(self, query: dict[str, list[str]], body: bytes) -> None:
        grant = self._grant_with("video.list")
        if grant is None:
            return
        fields = self._fields(query, VIDEO_FIELDS)
        if fields is None:
            return
        try:
            ids = json.loads(body or b"{}")["filters"]["video_ids"]
        except (ValueError, KeyError, TypeError):
            self._api_error("invalid_params", "filters.video_ids is required.")
            return
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_QUERY_IDS:
            self._api_error("invalid_params", f"Give 1 to {MAX_QUERY_IDS} video ids.")
            return
        with self.fake._lock:
            own = [
                (video_id, self.fake.videos[video_id])
                for video_id in ids
                if video_id in self.fake.videos
                and self.fake.videos[video_id].owner == grant.open_id
            ]
        videos = [
            {name: _video_field(video_id, video, name) for name in fields}
            for video_id, video in own
        ]
        self._json(
            200,
            {
                "data": {"videos": videos, "cursor": 0, "has_more": False},
                "error": {"code": "ok", "message": "", "log_id": new_log_id()},
            },
        )


def _video_field(video_id: str, video: Video, name: str) -> Any:
    return {
        "id": video_id,
        "create_time": video.create_time,
        "duration": video.duration,
        "video_description": video.description,
        "title": video.description[:150],
        "view_count": video.views,
        "like_count": video.likes,
        "comment_count": video.comments,
        "share_count": video.shares,
        "share_url": f"https://www.tiktok.com/@fake/video/{video_id}",
    }[name]


_ROUTES = {
    ("GET", AUTHORIZE_PATH): _Handler._authorize,
    ("POST", TOKEN_PATH): _Handler._token,
    ("POST", REVOKE_PATH): _Handler._revoke,
    ("GET", USER_INFO_PATH): _Handler._user_info,
    ("POST", VIDEO_QUERY_PATH): _Handler._video_query,
}


@pytest.fixture
def fake_tiktok(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTikTok]:
    """A running fake with ClipGen's settings pointed at it (import it into a test module)."""
    with FakeTikTok() as fake:
        fake.apply_env(monkeypatch)
        yield fake
    get_settings.cache_clear()
