"""A local stand-in for Google's OAuth server and the YouTube Data API, over real HTTP.

It speaks enough of both protocols for the real google-auth-oauthlib and
google-api-python-client: consent with PKCE, the token and revoke endpoints, channels.list,
resumable uploads (308 + Range), videos.list (parts snippet, contentDetails and statistics)
and videos.batchGetStats. Tests register videos (`add_video`, `set_stats`), inject faults
(`fail_next`, `drop_next`, `commit_partial_next`) and read every request it received.

    with FakeYouTube() as fake:
        fake.apply_env(monkeypatch)  # this process: env vars + get_settings.cache_clear()
        app_env = {**os.environ, **fake.settings_env()}  # an app or worker process
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import pytest
from requests.structures import CaseInsensitiveDict

from clipgen.config import get_settings
from tests.support.fake_http import LocalHTTPFake

# google-api-python-client posts to /upload/...; the discovery document also names the
# /resumable/upload/... variant, which other clients use.
UPLOAD_PATHS = ("/upload/youtube/v3/videos", "/resumable/upload/youtube/v3/videos")
ERROR_DOMAINS = {
    "quotaExceeded": "youtube.quota",
    "uploadLimitExceeded": "youtube.video",
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
}


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict  # names in any case


@dataclass
class Fault:
    """An answer forced on the next matching requests (status 0: drop the connection)."""

    target: str
    status: int
    reason: str | None
    message: str | None
    times: int
    headers: dict[str, str]

    def matches(self, method: str, path: str) -> bool:
        wanted_method, _, wanted_path = self.target.partition(" ")
        if wanted_path:
            return method == wanted_method and path.startswith(wanted_path)
        if self.target.startswith("/"):
            return path.startswith(self.target)
        return method == self.target


@dataclass
class Video:
    views: int = 0
    likes: int | None = 0  # None: the owner hides likes (the API omits likeCount)
    comments: int | None = 0  # None: comments are off (the API omits commentCount)
    channel_id: str = ""  # "": the fake's own channel (`FakeYouTube.channel_id`)
    published_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0  # 0: "P0D", as YouTube says while a video is processed
    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()  # (): the API omits snippet.tags


@dataclass
class UploadSession:
    """A resumable upload: the bytes committed so far, in the order they came."""

    metadata: dict
    total: int | None
    content_type: str
    owner: str
    data: bytearray = field(default_factory=bytearray)
    chunks: list[tuple[int, int]] = field(default_factory=list)  # committed (start, end)
    rejected: list[str] = field(default_factory=list)  # Content-Range of misplaced chunks
    video_id: str | None = None


@dataclass
class Grant:
    refresh_token: str
    scopes: tuple[str, ...]
    revoked: bool = False
    access_tokens: set[str] = field(default_factory=set)


class FakeYouTube(LocalHTTPFake):
    """Google OAuth + YouTube Data API v3 on 127.0.0.1, with settable state and faults."""

    client_id = "fake-client-id.apps.googleusercontent.com"
    client_secret = "fake-client-secret"
    api_key = "fake-api-key"

    def __init__(
        self,
        *,
        channel_id: str = "UCfakeChannel0000000000a",
        channel_title: str = "Fake Clipper Channel",
    ) -> None:
        self.channel_id = channel_id
        self.channel_title = channel_title
        self.has_channel = True
        self.granted_scopes: tuple[str, ...] | None = None  # None: what was asked
        self.batch_get_stats_enabled = True
        self.videos: dict[str, Video] = {}
        self.uploads: dict[str, UploadSession] = {}
        self.requests: list[Recorded] = []
        self.authorizations: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._grants: dict[str, Grant] = {}  # refresh token -> grant
        self._access: dict[str, Grant] = {}  # access token -> grant
        self._faults: list[Fault] = []
        self._partial_commits: list[int] = []
        self._lock = threading.Lock()

    def _handler(self):
        return _handler_for(self)

    def settings_env(self, *, with_api_key: bool = False) -> dict[str, str]:
        """The environment that points ClipGen's settings (and an app process) here."""
        env = {
            "YOUTUBE_CLIENT_ID": self.client_id,
            "YOUTUBE_CLIENT_SECRET": self.client_secret,
            "YOUTUBE_API_URL": f"{self.url}/",
            "GOOGLE_AUTH_URI": f"{self.url}/o/oauth2/auth",
            "GOOGLE_TOKEN_URI": f"{self.url}/token",
            "GOOGLE_REVOKE_URI": f"{self.url}/revoke",
        }
        if with_api_key:
            env["YOUTUBE_API_KEY"] = self.api_key
        return env

    def apply_env(self, monkeypatch: pytest.MonkeyPatch, *, with_api_key: bool = False) -> None:
        """Set `settings_env()` for this test and re-read the settings."""
        monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
        monkeypatch.delenv("YOUTUBE_REDIRECT_URI", raising=False)
        for name, value in self.settings_env(with_api_key=with_api_key).items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    def set_stats(
        self, video_id: str, views: int, likes: int | None = 0, comments: int | None = 0
    ) -> None:
        """A video the fake knows, with these counts (None hides likes / comments).

        A video already known keeps its channel, publish time, duration and words.
        """
        with self._lock:
            known = self.videos.get(video_id) or Video()
            self.videos[video_id] = replace(known, views=views, likes=likes, comments=comments)

    def add_video(
        self,
        video_id: str,
        *,
        channel_id: str | None = None,
        published_at: datetime | None = None,
        duration_s: float = 30.0,
        title: str = "",
        description: str = "",
        tags: tuple[str, ...] | list[str] = (),
        views: int = 0,
        likes: int | None = 0,
        comments: int | None = 0,
    ) -> Video:
        """A video on `channel_id` (the fake's own channel by default), replacing any known.

        `published_at` (aware; now by default) is served as snippet.publishedAt, and
        `duration_s` as contentDetails.duration (`iso_duration`).
        """
        video = Video(
            views=views,
            likes=likes,
            comments=comments,
            channel_id=channel_id or self.channel_id,
            published_at=published_at or datetime.now(UTC),
            duration_s=duration_s,
            title=title,
            description=description,
            tags=tuple(tags),
        )
        with self._lock:
            self.videos[video_id] = video
        return video

    def delete(self, video_id: str) -> None:
        with self._lock:
            self.videos.pop(video_id, None)

    def disable_batch_get_stats(self) -> None:
        """videos.batchGetStats answers 404, as for a client Google does not offer it to."""
        self.batch_get_stats_enabled = False

    def fail_next(
        self,
        target: str,
        status: int,
        reason: str | None = None,
        *,
        times: int = 1,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests matching `target` with an error.

        `target` is a method ("PUT"), a path prefix ("/youtube/v3/videos") or both
        ("POST /upload/youtube/v3/videos"). The body has Google's JSON error shape.
        """
        with self._lock:
            self._faults.append(Fault(target, status, reason, message, times, headers or {}))

    def drop_next(self, target: str, *, times: int = 1) -> None:
        """Close the connection without an answer (a network failure) `times` times."""
        self.fail_next(target, 0, times=times)

    def commit_partial_next(self, nbytes: int) -> None:
        """Keep only `nbytes` of the next upload chunk, answering 308 with a shorter Range."""
        with self._lock:
            self._partial_commits.append(nbytes)

    def issue_grant(self, scopes: tuple[str, ...] | None = None) -> tuple[str, str]:
        """A fresh (access token, refresh token), as after a consent."""
        with self._lock:
            refresh = "1//fake-refresh-" + secrets.token_urlsafe(12)
            grant = Grant(refresh, tuple(scopes or ()))
            self._grants[refresh] = grant
            return self._new_access_token(grant), refresh

    def revoke_token(self, token: str) -> bool:
        """Revoke the grant an access or refresh token belongs to (as Google does)."""
        with self._lock:
            grant = self._grants.get(token) or self._access.get(token)
            if grant is None or grant.revoked:
                return False
            grant.revoked = True
            return True

    def revoke_all(self) -> None:
        """The owner removed the app's access in their Google account: every grant ends."""
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

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The requests received, filtered by method and exact path."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def uploaded(self, video_id: str) -> UploadSession:
        return next(s for s in self.uploads.values() if s.video_id == video_id)

    def _new_access_token(self, grant: Grant) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(16)
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


def google_error(status: int, reason: str, message: str) -> dict:
    """Google's JSON error body."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [
                {
                    "message": message,
                    "domain": ERROR_DOMAINS.get(reason, "global"),
                    "reason": reason,
                }
            ],
        }
    }


def iso_duration(seconds: float) -> str:
    """contentDetails.duration as YouTube writes it: PT#M#S, PT#H#M#S, P#DT#H#M#S, P0D.

    Seconds are kept to the millisecond ("PT1M2.5S").
    """
    millis = max(round(seconds * 1000), 0)
    whole, fraction = divmod(millis, 1000)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if secs or fraction:
        clock += f"{secs}.{fraction:03d}".rstrip("0").rstrip(".") + "S"
    if not days and not clock:
        return "P0D"
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")


def rfc3339(moment: datetime) -> str:
    """snippet.publishedAt as YouTube writes it: UTC, whole seconds, "Z"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _handler_for(fake: FakeYouTube) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.fake = fake
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    fake: FakeYouTube

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        parsed = urlparse(self.path)
        path = unquote(parsed.path)
        query = parse_qs(parsed.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.fake._lock:
            self.fake.requests.append(
                Recorded(method, path, query, CaseInsensitiveDict(self.headers.items()))
            )
        fault = self.fake._take_fault(method, path)
        if fault is not None:
            self._send_fault(fault, path)
            return
        route = _ROUTES.get((method, path))
        if route is None and method == "POST" and path in UPLOAD_PATHS:
            route = _Handler._start_upload
        if route is None and method == "PUT" and path in UPLOAD_PATHS:
            route = _Handler._upload_chunk
        if route is None:
            self._json(404, google_error(404, "notFound", f"No route for {method} {path}"))
            return
        route(self, query, body)

    def _send_fault(self, fault: Fault, path: str) -> None:
        if fault.status == 0:
            self.close_connection = True
            return
        if path in ("/token", "/revoke"):
            payload: dict = {"error": fault.reason or "server_error"}
        else:
            reason = fault.reason or ("backendError" if fault.status >= 500 else "badRequest")
            payload = google_error(fault.status, reason, fault.message or f"Injected {reason}")
        self._json(fault.status, payload, fault.headers)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _unauthorized(self) -> None:
        payload = google_error(401, "authError", "Request had invalid authentication credentials.")
        payload["error"]["status"] = "UNAUTHENTICATED"
        self._json(
            401, payload, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        )

    def _authorized(self, query: dict[str, list[str]], *, key_allowed: bool) -> bool:
        """A valid bearer token, or (for public reads) the API key; else answer 4xx."""
        if self.fake._bearer_grant(self.headers) is not None:
            return True
        key = query.get("key", [""])[0]
        if key_allowed and key:
            if key == self.fake.api_key:
                return True
            self._json(400, google_error(400, "keyInvalid", "API key not valid."))
            return False
        self._unauthorized()
        return False

    def _consent(self, query: dict[str, list[str]], body: bytes) -> None:
        """The consent page, always agreed to: back to redirect_uri with a code."""
        params = {name: values[0] for name, values in query.items()}
        self.fake.authorizations.append(params)
        if params.get("client_id") != self.fake.client_id or not params.get("redirect_uri"):
            self._json(400, {"error": "invalid_request"})
            return
        code = "4/fake-code-" + secrets.token_urlsafe(12)
        asked = tuple(params.get("scope", "").split())
        with self.fake._lock:
            self.fake._codes[code] = {
                "challenge": params.get("code_challenge", ""),
                "method": params.get("code_challenge_method", ""),
                "redirect_uri": params.get("redirect_uri", ""),
                "scope": " ".join(self.fake.granted_scopes or asked),
            }
        back = {"state": params.get("state", ""), "code": code, "scope": params.get("scope", "")}
        self._empty(302, {"Location": params["redirect_uri"] + "?" + urlencode(back)})

    def _client_authenticated(self, form: dict[str, str]) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth.removeprefix("Basic ")).decode()
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.fake.client_id and secret == self.fake.client_secret

    def _token(self, query: dict[str, list[str]], body: bytes) -> None:
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if not self._client_authenticated(form):
            self._json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
            return
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            self._token_for_code(form)
        elif grant_type == "refresh_token":
            self._token_for_refresh(form)
        else:
            self._json(400, {"error": "unsupported_grant_type"})

    def _invalid_grant(self, description: str) -> None:
        self._json(400, {"error": "invalid_grant", "error_description": description})

    def _token_for_code(self, form: dict[str, str]) -> None:
        fake = self.fake
        with fake._lock:
            issued = fake._codes.pop(form.get("code", ""), None)
        if issued is None:
            self._invalid_grant("Malformed auth code.")
            return
        if form.get("redirect_uri") != issued["redirect_uri"]:
            self._invalid_grant("Bad Request")  # Google: redirect_uri_mismatch
            return
        verifier = form.get("code_verifier", "")
        if issued["method"] != "S256" or _s256(verifier) != issued["challenge"]:
            self._invalid_grant("Invalid code verifier.")
            return
        scopes = tuple(issued["scope"].split())
        access, refresh = fake.issue_grant(scopes)
        self._json(
            200,
            {
                "access_token": access,
                "expires_in": 3599,
                "refresh_token": refresh,
                "scope": issued["scope"],
                "token_type": "Bearer",
            },
        )

    def _token_for_refresh(self, form: dict[str, str]) -> None:
        fake = self.fake
        with fake._lock:
            grant = fake._grants.get(form.get("refresh_token", ""))
            live = grant is not None and not grant.revoked
            access = fake._new_access_token(grant) if live else None
        if access is None:
            self._invalid_grant("Token has been expired or revoked.")
            return
        payload = {"access_token": access, "expires_in": 3599, "token_type": "Bearer"}
        if grant.scopes:
            payload["scope"] = " ".join(grant.scopes)
        self._json(200, payload)

    def _revoke(self, query: dict[str, list[str]], body: bytes) -> None:
        form = parse_qs(body.decode())
        token = (form.get("token") or query.get("token") or [""])[0]
        if self.fake.revoke_token(token):
            self._json(200, {})
        else:
            self._json(400, {"error": "invalid_token", "error_description": "Bad Request"})

    def _channels(self, query: dict[str, list[str]], body: bytes) -> None:
        if not self._authorized(query, key_allowed=False):
            return
        items = []
        if self.fake.has_channel and query.get("mine") == ["true"]:
            items.append(
                {
                    "kind": "youtube#channel",
                    "id": self.fake.channel_id,
                    "snippet": {"title": self.fake.channel_title},
                }
            )
        self._json(200, {"kind": "youtube#channelListResponse", "items": items})

    def _video_resource(self, video_id: str, parts: set[str]) -> dict:
        """A `youtube#video` with the asked parts the fake knows (id always)."""
        video = self.fake.videos[video_id]
        resource: dict[str, Any] = {"kind": "youtube#video", "id": video_id}
        if "snippet" in parts:
            snippet: dict[str, Any] = {
                "publishedAt": rfc3339(video.published_at),
                "channelId": video.channel_id or self.fake.channel_id,
                "title": video.title,
                "description": video.description,
                "categoryId": "22",
            }
            if video.tags:
                snippet["tags"] = list(video.tags)
            resource["snippet"] = snippet
        if "contentDetails" in parts:
            resource["contentDetails"] = {"duration": iso_duration(video.duration_s)}
        if "statistics" in parts:
            resource["statistics"] = _counts(video)
        return resource

    def _known(self, ids: list[str]) -> list[str] | None:
        if not ids or len(ids) > 50:
            self._json(400, google_error(400, "invalidParameter", "Give 1 to 50 video ids."))
            return None
        with self.fake._lock:
            return [video_id for video_id in ids if video_id in self.fake.videos]

    def _videos_list(self, query: dict[str, list[str]], body: bytes) -> None:
        if not self._authorized(query, key_allowed=True):
            return
        parts = {part.strip() for part in query.get("part", [""])[0].split(",") if part.strip()}
        if not parts:
            self._json(400, google_error(400, "required", "Required parameter: part"))
            return
        ids = [i for i in query.get("id", [""])[0].split(",") if i]
        known = self._known(ids)
        if known is None:
            return
        with self.fake._lock:
            items = [self._video_resource(i, parts) for i in known if i in self.fake.videos]
        self._json(200, {"kind": "youtube#videoListResponse", "items": items})

    def _batch_get_stats(self, query: dict[str, list[str]], body: bytes) -> None:
        if not self.fake.batch_get_stats_enabled:
            payload = google_error(404, "notFound", "Method not found.")
            payload["error"]["status"] = "NOT_FOUND"
            self._json(404, payload)
            return
        if not self._authorized(query, key_allowed=True):
            return
        known = self._known(query.get("id", []))
        if known is None:
            return
        items = [
            {"kind": "youtube#videoStats", "id": i, "statistics": _counts(self.fake.videos[i])}
            for i in known
        ]
        self._json(200, {"kind": "youtube#batchGetStatsResponse", "items": items})

    def _start_upload(self, query: dict[str, list[str]], body: bytes) -> None:
        if query.get("uploadType") != ["resumable"]:
            self._json(400, google_error(400, "badRequest", "Only resumable uploads here."))
            return
        grant = self.fake._bearer_grant(self.headers)
        if grant is None:
            self._unauthorized()
            return
        total = self.headers.get("X-Upload-Content-Length")
        session = UploadSession(
            metadata=json.loads(body or b"{}"),
            total=int(total) if total else None,
            content_type=self.headers.get("X-Upload-Content-Type", ""),
            owner=grant.refresh_token,
        )
        upload_id = secrets.token_urlsafe(16)
        with self.fake._lock:
            self.fake.uploads[upload_id] = session
        location = f"{self.fake.url}{urlparse(self.path).path}?" + urlencode(
            {"uploadType": "resumable", "upload_id": upload_id}
        )
        self._empty(200, {"Location": location, "X-GUploader-UploadID": upload_id})

    def _upload_chunk(self, query: dict[str, list[str]], body: bytes) -> None:
        session = self.fake.uploads.get(query.get("upload_id", [""])[0])
        if session is None:
            self._json(404, google_error(404, "notFound", "Upload session not found."))
            return
        if session.video_id is not None:
            self._finished(session)
            return
        start, total = _content_range(self.headers.get("Content-Range", ""))
        if total is not None:
            session.total = total
        if start is not None:
            self._commit(session, start, body)
        if session.total is not None and len(session.data) >= session.total:
            self._finish(session)
            return
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        self._empty(308, headers)

    def _commit(self, session: UploadSession, start: int, body: bytes) -> None:
        if start != len(session.data):
            session.rejected.append(self.headers.get("Content-Range", ""))
            return
        with self.fake._lock:
            keep = self.fake._partial_commits.pop(0) if self.fake._partial_commits else None
        kept = body if keep is None else body[:keep]
        session.data.extend(kept)
        session.chunks.append((start, start + len(kept) - 1))

    def _finish(self, session: UploadSession) -> None:
        video_id = secrets.token_urlsafe(8)[:11]
        snippet = session.metadata.get("snippet", {})
        with self.fake._lock:
            session.video_id = video_id
            self.fake.videos[video_id] = Video(
                channel_id=self.fake.channel_id,
                title=snippet.get("title", ""),
                description=snippet.get("description", ""),
                tags=tuple(snippet.get("tags", ())),
            )
        self._finished(session)

    def _finished(self, session: UploadSession) -> None:
        resource = {
            "kind": "youtube#video",
            "id": session.video_id,
            "snippet": session.metadata.get("snippet", {}),
            "status": {"uploadStatus": "uploaded", **session.metadata.get("status", {})},
        }
        self._json(200, resource)


def _counts(video: Video) -> dict[str, str]:
    """The statistics part: counts as strings, likes / comments omitted when hidden / off."""
    counts = {"viewCount": str(video.views)}
    if video.likes is not None:
        counts["likeCount"] = str(video.likes)
    if video.comments is not None:
        counts["commentCount"] = str(video.comments)
    return counts


def _content_range(header: str) -> tuple[int | None, int | None]:
    """(first byte, total) from "bytes 0-99/1000" or "bytes */1000" (a status query)."""
    if not header.startswith("bytes "):
        return None, None
    span, _, total = header.removeprefix("bytes ").partition("/")
    first = None if span == "*" else int(span.split("-")[0])
    return first, None if total in ("", "*") else int(total)


_ROUTES = {
    ("GET", "/o/oauth2/auth"): _Handler._consent,
    ("POST", "/token"): _Handler._token,
    ("POST", "/revoke"): _Handler._revoke,
    ("GET", "/youtube/v3/channels"): _Handler._channels,
    ("GET", "/youtube/v3/videos"): _Handler._videos_list,
    ("GET", "/youtube/v3/videos:batchGetStats"): _Handler._batch_get_stats,
}


@pytest.fixture
def fake_youtube(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    """A running fake with ClipGen's settings pointed at it (import it into a test module)."""
    with FakeYouTube() as fake:
        fake.apply_env(monkeypatch)
        yield fake
    get_settings.cache_clear()
