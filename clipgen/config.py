"""The one settings object, read from the environment and `.env`.

The app, Alembic, the workers and the CLI all call `get_settings()`; nothing
else reads configuration from the environment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_LENGTH = 32


class UnsafeConfigurationError(RuntimeError):
    """Production mode was asked for with settings that are not safe to serve."""


# How often each kind of call may be made, per user and per client address (see
# `services/rate_limits.py`); `RATE_LIMITS` overrides entries, e.g.
# RATE_LIMITS="write=200/minute;generate=5/hour". Each value is a `limits` string.
RATE_LIMIT_DEFAULTS: dict[str, str] = {
    "auth_form": "10/minute",  # a sign-in attempt (on top of the failed-sign-in lockout)
    "register": "5/hour",  # creating an account
    "change_password": "10/hour",  # a Change password attempt
    "password_failures": "5/15 minutes",  # wrong current passwords, then refused even if right
    "write": "120/minute",  # any other handler that changes something
    "generate": "10/hour",  # queuing a clip generation job
    "expensive_read": "60/minute",  # a read that scans many rows or calls another service
    "oauth_callback": "20/minute",  # /account/<platform>/callback
    "http_signed_files": "600/minute",  # /files/... signed links
    "webhook": "30/minute",  # /stripe/webhook: posts with a bad signature (signed ones never)
}


def parse_rate_limits(text: str) -> dict[str, str]:
    """The overrides in `RATE_LIMITS` ("kind=limit;kind=limit"), or ValueError saying
    which entry is wrong (so a typo fails at start, not at the first request)."""
    from limits import parse

    overrides: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        kind, sep, value = (piece.strip() for piece in entry.partition("="))
        if not sep or kind not in RATE_LIMIT_DEFAULTS:
            raise ValueError(
                f"RATE_LIMITS entry {entry!r} must be kind=limit with a kind among "
                f"{', '.join(RATE_LIMIT_DEFAULTS)}"
            )
        try:
            parse(value)
        except ValueError:
            raise ValueError(
                f"RATE_LIMITS entry {entry!r} has no readable limit, e.g. {kind}=10/minute"
            ) from None
        overrides[kind] = value
    return overrides


def web_origin(url: str) -> str:
    """The origin a browser sends for pages of `url` ("https://host[:port]", lower case, no
    default port), or ValueError when `url` is not an http(s) address."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// address")
    scheme, host = parts.scheme.lower(), parts.hostname
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has a port that is not a number") from None
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_cors_origins(text: str) -> list[str]:
    """The origins of `CORS_ALLOWED_ORIGINS` (comma-separated; "*" for any), or ValueError
    saying which entry is wrong."""
    origins = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        if entry == "*":
            origins.append(entry)
            continue
        parts = urlsplit(entry)
        if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError(
                f"CORS_ALLOWED_ORIGINS entry {entry!r} must be an origin only, "
                "like https://clips.example.com"
            )
        origins.append(web_origin(entry))
    return origins


SMTP_PORTS = {"smtp": 587, "smtps": 465}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class SmtpServer:
    """Where email is sent, read from `SMTP_URL`: `smtp://` (STARTTLS with `?starttls=1`)
    or `smtps://` (TLS from the first byte)."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    use_ssl: bool
    starttls: bool

    @property
    def encrypted(self) -> bool:
        return self.use_ssl or self.starttls


def parse_smtp_url(url: str) -> SmtpServer:
    """The SMTP server of `url`, or ValueError saying what is wrong with it (so a typo
    fails at start, not at the first email)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SMTP_PORTS:
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    try:
        port = parts.port or SMTP_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("SMTP_URL has a port that is not a number") from None
    if not parts.hostname:
        raise ValueError("SMTP_URL names no host, e.g. smtp://user:pass@mail.example.com:587")
    query = {name: values[-1].lower() for name, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ValueError(f"SMTP_URL has unknown options: {', '.join(unknown)} (only starttls)")
    starttls = query.get("starttls", "")
    if starttls not in _TRUE + _FALSE:
        raise ValueError("SMTP_URL's starttls must be 1 or 0")
    if parts.scheme == "smtps" and starttls in _TRUE:
        raise ValueError("smtps:// is encrypted already; drop starttls=1 (or use smtp://)")
    return SmtpServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=parts.scheme == "smtps",
        starttls=starttls in _TRUE,
    )


class Settings(BaseSettings):
    """Every setting ClipGen reads, with the embedded defaults that need no keys."""

    # Errors never echo a value: SMTP_URL and SECRET_KEY carry secrets.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    clipgen_env: Literal["development", "production"] = "development"
    # Hidden, so `reflex run`'s file watcher ignores database and upload writes there
    # (a visible folder restarts the backend on every write and drops in-flight events).
    data_dir: Path = PROJECT_ROOT / ".data"
    app_url: str = "http://localhost:3000"
    # Origins, besides APP_URL's own, whose pages may call the backend (events, uploads)
    # with the user's cookies: comma-separated, e.g. "http://127.0.0.1:3000". "*" (any
    # site) is for development only; production refuses it.
    cors_allowed_origins: str = ""

    database_url: str = ""
    redis_url: str = ""
    secret_key: SecretStr = SecretStr("")

    storage_bucket: str = ""
    storage_access_key: str = ""
    storage_secret_key: SecretStr = SecretStr("")
    storage_endpoint: str = ""
    storage_region: str = "us-east-1"

    gemini_api_key: SecretStr = SecretStr("")
    gemini_model: str = "gemini-2.5-flash-lite"
    whisper_model: str = ""
    ffmpeg_binary: str = ""
    max_upload_mb: int = Field(default=4096, gt=0)
    max_video_minutes: int = Field(default=240, gt=0)
    user_quota_gb: float = Field(default=50, gt=0)
    max_concurrent_uploads: int = Field(default=2, gt=0)
    earnings_hold_days: int = Field(default=7, ge=0)

    # Publishing to YouTube (an OAuth client of a Google Cloud project; unset: posts are
    # added by URL and their views entered by hand). The redirect URI defaults to
    # APP_URL + /account/youtube/callback. YOUTUBE_API_KEY (optional) reads the views of
    # public videos posted by URL from clippers who did not connect a channel.
    youtube_client_id: str = ""
    youtube_client_secret: SecretStr = SecretStr("")
    youtube_redirect_uri: str = ""
    youtube_api_key: SecretStr = SecretStr("")
    # Where Google is: changed only to point the real client library at a local fake.
    youtube_api_url: str = ""
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    # TikTok's API for reading a clipper's own posts (Login Kit for Web + Display API,
    # scopes user.info.basic,video.list), used by `services/publishing/tiktok.py`; clippers
    # connect an account on their Account page (unset: the card says what to set). The
    # redirect URI defaults to APP_URL + /account/tiktok/callback.
    tiktok_client_key: str = ""
    tiktok_client_secret: SecretStr = SecretStr("")
    tiktok_redirect_uri: str = ""
    # Where TikTok is: changed only to point the client at a local fake.
    tiktok_auth_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_api_url: str = "https://open.tiktokapis.com"
    # When the views of published clips are read (five-field crontab, UTC): daily.
    view_sync_cron: str = "0 4 * * *"
    # Instagram's API for reading a clipper's own posts (Instagram API with Instagram Login,
    # professional accounts only, scopes instagram_business_basic and
    # instagram_business_manage_insights), used by `services/publishing/instagram.py`;
    # clippers connect an account on their Account page (unset: the card says what to set).
    # The redirect URI defaults to APP_URL + /account/instagram/callback.
    instagram_client_id: str = ""
    instagram_client_secret: SecretStr = SecretStr("")
    instagram_redirect_uri: str = ""
    # Where Instagram is: changed only to point the client at a local fake.
    instagram_auth_url: str = "https://www.instagram.com/oauth/authorize"
    instagram_token_url: str = "https://api.instagram.com/oauth/access_token"
    instagram_graph_url: str = "https://graph.instagram.com"
    instagram_graph_version: str = "v25.0"

    # Stripe (unset: deposits are recorded by an admin and payouts paid by hand, as
    # before). The secret key (sk_test_... in test mode) creates Checkout Sessions, Connect
    # accounts and transfers; the webhook secret (whsec_...) checks every event Stripe
    # sends to /stripe/webhook. A Connect endpoint of its own has its own secret.
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_connect_webhook_secret: SecretStr = SecretStr("")
    # Where Stripe is: changed only to point the stripe library at a local fake.
    stripe_api_url: str = ""
    # What a client may add by card at once, in cents ($10 to $10,000 by default).
    card_deposit_min_cents: int = Field(default=1000, gt=0)
    card_deposit_max_cents: int = Field(default=1_000_000, gt=0)

    # Email notifications (unset: none are sent; the bell works the same). A secret,
    # since the URL carries the SMTP password. EMAIL_FROM defaults to no-reply at
    # APP_URL's host.
    smtp_url: SecretStr = SecretStr("")
    email_from: str = ""

    # A session ends this long after sign-in however it is used (the absolute limit), and
    # sooner when unused for SESSION_IDLE_HOURS; each use slides the idle end forward.
    session_ttl_hours: int = Field(default=24 * 14, gt=0)
    session_idle_hours: int = Field(default=12, gt=0)
    # Money actions (payout requests, payout settings) need the password typed this recently.
    session_reauth_minutes: int = Field(default=15, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_max_failures_per_ip: int = Field(default=30, gt=0)
    login_lockout_minutes: int = Field(default=15, gt=0)
    # Overrides of `RATE_LIMIT_DEFAULTS`, e.g. RATE_LIMITS="write=200/minute;generate=5/hour".
    rate_limits: str = ""

    # Overrides of `workers.scheduler.SCHEDULE`: actor name -> "every 5m" or a crontab line
    # (UTC), e.g. SCHEDULE='{"recover_stale_jobs": "every 30s"}'.
    schedule: dict[str, str] = Field(default_factory=dict)
    login_global_backoff_after: int = Field(default=20, gt=0)
    login_global_backoff_max_seconds: int = Field(default=60, gt=0)
    # How many reverse proxies in front of the app append to X-Forwarded-For; None
    # (unset) is refused in production, where an explicit 0 means "no proxy".
    trusted_proxy_hops: int | None = Field(default=None, ge=0)

    @field_validator("trusted_proxy_hops", mode="before")
    @classmethod
    def _blank_hops_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, bool):
            raise ValueError("give a whole number of proxies, such as 0 or 1")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _readable_smtp_url(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip():
            parse_smtp_url(value.get_secret_value())
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _readable_cors_origins(cls, value: str) -> str:
        parse_cors_origins(value)
        return value

    @field_validator("rate_limits")
    @classmethod
    def _readable_rate_limits(cls, value: str) -> str:
        parse_rate_limits(value)
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def is_production(self) -> bool:
        return self.clipgen_env == "production"

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL: `DATABASE_URL`, or SQLite in the data dir."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'clipgen.db'}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def youtube_configured(self) -> bool:
        """Whether clippers can connect a YouTube channel (an OAuth client is set)."""
        return bool(self.youtube_client_id and self.youtube_client_secret.get_secret_value())

    @property
    def effective_youtube_redirect_uri(self) -> str:
        """Where Google sends the browser back after consent."""
        return self.youtube_redirect_uri or self.app_url.rstrip("/") + "/account/youtube/callback"

    @property
    def tiktok_configured(self) -> bool:
        """Whether clippers can connect a TikTok account (a Login Kit client is set)."""
        return bool(self.tiktok_client_key and self.tiktok_client_secret.get_secret_value())

    @property
    def effective_tiktok_redirect_uri(self) -> str:
        """Where TikTok sends the browser back after consent."""
        return self.tiktok_redirect_uri or self.app_url.rstrip("/") + "/account/tiktok/callback"

    @property
    def instagram_configured(self) -> bool:
        """Whether clippers can connect an Instagram account (an Instagram app is set)."""
        return bool(self.instagram_client_id and self.instagram_client_secret.get_secret_value())

    @property
    def effective_instagram_redirect_uri(self) -> str:
        """Where Instagram sends the browser back after consent."""
        return (
            self.instagram_redirect_uri or self.app_url.rstrip("/") + "/account/instagram/callback"
        )

    @property
    def stripe_configured(self) -> bool:
        """Whether money moves through Stripe (a secret key and a webhook secret are set)."""
        return bool(
            self.stripe_secret_key.get_secret_value()
            and self.stripe_webhook_secret.get_secret_value()
        )

    @property
    def email_configured(self) -> bool:
        """Whether email notifications are sent (an SMTP server is set)."""
        return bool(self.smtp_url.get_secret_value().strip())

    @property
    def smtp_server(self) -> SmtpServer | None:
        """The SMTP server emails go through, or None when email is off."""
        if not self.email_configured:
            return None
        return parse_smtp_url(self.smtp_url.get_secret_value())

    @property
    def effective_email_from(self) -> str:
        """Who emails come from: `EMAIL_FROM`, or no-reply at the app's host."""
        host = urlsplit(self.app_url).hostname or "localhost"
        return self.email_from.strip() or f"ClipGen <no-reply@{host}>"

    @property
    def effective_cors_allowed_origins(self) -> tuple[str, ...]:
        """Where the backend accepts calls with cookies from (Reflex's `cors_allowed_origins`):
        APP_URL's origin, then each of `CORS_ALLOWED_ORIGINS`; only ("*",) when that has *
        (Reflex's Socket.IO server reads "*" as any origin only when it stands alone)."""
        extra = parse_cors_origins(self.cors_allowed_origins)
        if "*" in extra:
            return ("*",)
        return tuple(dict.fromkeys([web_origin(self.app_url), *extra]))

    @property
    def rate_limit_table(self) -> dict[str, str]:
        """Every kind of limited call and its limit: the defaults with `RATE_LIMITS` applied."""
        return {**RATE_LIMIT_DEFAULTS, **parse_rate_limits(self.rate_limits)}

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def user_quota_bytes(self) -> int:
        return int(self.user_quota_gb * 1024**3)

    def effective_secret_key(self) -> str:
        """`SECRET_KEY`, or a key generated once and kept in the data dir."""
        configured = self.secret_key.get_secret_value()
        if configured:
            return configured
        if self.is_production:
            raise UnsafeConfigurationError("SECRET_KEY must be set in production.")
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key

    def production_problems(self) -> list[str]:
        """Why these settings are unsafe to serve in production (empty when safe)."""
        problems = []
        if len(self.secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"SECRET_KEY must be set to a random string of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters."
            )
        if self.uses_sqlite:
            problems.append("DATABASE_URL must point at PostgreSQL, not SQLite.")
        if not self.redis_url:
            problems.append("REDIS_URL must be set: production runs jobs on Redis-backed workers.")
        if not self.storage_bucket:
            problems.append(
                "STORAGE_BUCKET must be set: workers on other machines cannot "
                "read files from this machine's disk."
            )
        if not self.app_url.startswith("https://"):
            problems.append("APP_URL must be an https:// address in production.")
        smtp = self.smtp_server
        if smtp is not None and smtp.password and not smtp.encrypted:
            problems.append(
                "SMTP_URL sends its password unencrypted: use smtps:// or add ?starttls=1."
            )
        if self.stripe_secret_key.get_secret_value() and not (
            self.stripe_webhook_secret.get_secret_value()
        ):
            problems.append(
                "STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY: money is booked "
                "only from signed webhooks."
            )
        if self.card_deposit_min_cents > self.card_deposit_max_cents:
            problems.append("CARD_DEPOSIT_MIN_CENTS must not be above CARD_DEPOSIT_MAX_CENTS.")
        if "*" in parse_cors_origins(self.cors_allowed_origins) or "*" in os.environ.get(
            "REFLEX_CORS_ALLOWED_ORIGINS", ""
        ):
            problems.append(
                "CORS_ALLOWED_ORIGINS must not contain *: any site could then act for a "
                "signed-in user. List the origins (https://host) that may call the app "
                "(and leave Reflex's REFLEX_CORS_ALLOWED_ORIGINS unset)."
            )
        if self.trusted_proxy_hops is None:
            problems.append(
                "TRUSTED_PROXY_HOPS must be set: the number of reverse proxies in front of "
                "the app that add to X-Forwarded-For (1 for one TLS proxy, 0 when clients "
                "connect directly). Sign-in lockouts count failures per client address."
            )
        return problems

    def check_production_safety(self) -> None:
        """Refuse to go on in production mode with an unsafe configuration."""
        if not self.is_production:
            return
        problems = self.production_problems()
        if problems:
            raise UnsafeConfigurationError(
                "Refusing to start in production mode:\n- " + "\n- ".join(problems)
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once per process."""
    return Settings()
