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
    settings = Settings(_env_file=None)
    with pytest.raises(UnsafeConfigurationError) as refused:
        settings.check_production_safety()
    message = str(refused.value)
    for needed in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "STORAGE_BUCKET", "APP_URL"):
        assert needed in message
    with pytest.raises(UnsafeConfigurationError, match="SECRET_KEY must be set"):
        settings.effective_secret_key()


def test_production_accepts_a_safe_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CLIPGEN_ENV": "production",
        "SECRET_KEY": "k" * 48,
        "DATABASE_URL": "postgresql://u:p@db/clipgen",
        "REDIS_URL": "redis://cache:6379/0",
        "STORAGE_BUCKET": "clips",
        "APP_URL": "https://clipgen.example.com",
    }.items():
        monkeypatch.setenv(name, value)
    Settings(_env_file=None).check_production_safety()


def test_a_non_numeric_upload_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="max_upload_mb"):
        Settings(_env_file=None)
