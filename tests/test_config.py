"""Settings: embedded defaults, the generated secret, production refusals."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clipgen.config import Settings, UnsafeConfigurationError


def test_embedded_defaults_need_no_keys(isolated_settings: Path) -> None:
    settings = Settings(_env_file=None)
    assert settings.effective_database_url == f"sqlite:///{isolated_settings / 'clipgen.db'}"
    assert settings.redis_url == ""
    assert settings.max_upload_mb == 4096
    assert not settings.is_production
    settings.check_production_safety()


def test_secret_key_is_generated_once_kept_private_and_reused(isolated_settings: Path) -> None:
    first = Settings(_env_file=None).effective_secret_key()
    second = Settings(_env_file=None).effective_secret_key()
    key_file = isolated_settings / "secret_key"
    assert first == second and len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_postgres_urls_use_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/clipgen")
    assert Settings(_env_file=None).effective_database_url == (
        "postgresql+psycopg://u:p@db:5432/clipgen"
    )


def test_production_refuses_an_unsafe_configuration_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLIPGEN_ENV", "production")
    monkeypatch.delenv("TRUSTED_PROXY_HOPS", raising=False)
    settings = Settings(_env_file=None)
    with pytest.raises(UnsafeConfigurationError) as refused:
        settings.check_production_safety()
    message = str(refused.value)
    for needed in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "STORAGE_BUCKET",
        "APP_URL",
        "TRUSTED_PROXY_HOPS must be set",
    ):
        assert needed in message
    with pytest.raises(UnsafeConfigurationError, match="SECRET_KEY must be set"):
        settings.effective_secret_key()


SAFE_PRODUCTION = {
    "CLIPGEN_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql://u:p@db/clipgen",
    "REDIS_URL": "redis://cache:6379/0",
    "STORAGE_BUCKET": "clips",
    "APP_URL": "https://clipgen.example.com",
    "TRUSTED_PROXY_HOPS": "1",
}


@pytest.mark.parametrize("hops", ["1", "2", "0"])
def test_production_accepts_a_safe_configuration(
    monkeypatch: pytest.MonkeyPatch, hops: str
) -> None:
    for name, value in {**SAFE_PRODUCTION, "TRUSTED_PROXY_HOPS": hops}.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    settings.check_production_safety()  # 0 is an explicit answer: no proxy in front
    assert settings.trusted_proxy_hops == int(hops)


@pytest.mark.parametrize("unset", [None, "", "  "])
def test_production_refuses_unset_trusted_proxy_hops_alone(
    monkeypatch: pytest.MonkeyPatch, unset: str | None
) -> None:
    for name, value in SAFE_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    if unset is None:
        monkeypatch.delenv("TRUSTED_PROXY_HOPS")
    else:
        monkeypatch.setenv("TRUSTED_PROXY_HOPS", unset)
    settings = Settings(_env_file=None)
    assert settings.trusted_proxy_hops is None
    problems = settings.production_problems()
    assert len(problems) == 1 and problems[0].startswith("TRUSTED_PROXY_HOPS must be set")
    with pytest.raises(UnsafeConfigurationError, match="TRUSTED_PROXY_HOPS must be set"):
        settings.check_production_safety()


def test_development_needs_no_trusted_proxy_hops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_PROXY_HOPS", raising=False)
    settings = Settings(_env_file=None)
    assert settings.trusted_proxy_hops is None
    settings.check_production_safety()


@pytest.mark.parametrize("bad", ["-1", "one", "1.5", "true"])
def test_a_bad_trusted_proxy_hops_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", bad)
    with pytest.raises(ValueError, match="trusted_proxy_hops"):
        Settings(_env_file=None)


def test_lockout_settings_have_their_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "LOGIN_MAX_FAILURES",
        "LOGIN_MAX_FAILURES_PER_IP",
        "LOGIN_LOCKOUT_MINUTES",
        "LOGIN_GLOBAL_BACKOFF_AFTER",
        "LOGIN_GLOBAL_BACKOFF_MAX_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.login_max_failures == 5
    assert settings.login_max_failures_per_ip == 30
    assert settings.login_lockout_minutes == 15
    assert settings.login_global_backoff_after == 20
    assert settings.login_global_backoff_max_seconds == 60
    monkeypatch.setenv("LOGIN_GLOBAL_BACKOFF_MAX_SECONDS", "0")
    with pytest.raises(ValueError, match="login_global_backoff_max_seconds"):
        Settings(_env_file=None)


def test_a_non_numeric_upload_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="max_upload_mb"):
        Settings(_env_file=None)


def test_production_refuses_a_stripe_key_without_its_webhook_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**SAFE_PRODUCTION, "STRIPE_SECRET_KEY": "sk_live_x"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    settings = Settings(_env_file=None)
    assert not settings.stripe_configured
    assert [p for p in settings.production_problems() if "STRIPE" in p] == [
        "STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY: money is booked "
        "only from signed webhooks."
    ]
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_x")
    settings = Settings(_env_file=None)
    assert settings.stripe_configured
    settings.check_production_safety()
