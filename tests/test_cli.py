"""`python -m clipgen` as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clipgen.config import PROJECT_ROOT


def _cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clipgen", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_then_admin_create_and_list(isolated_settings: Path) -> None:
    assert _cli("migrate", data_dir=isolated_settings).returncode == 0
    made = _cli(
        "admin",
        "create",
        "--email",
        "Boss@Example.com",
        "--password",
        "a sturdy passphrase",
        data_dir=isolated_settings,
    )
    assert made.returncode == 0, made.stderr
    assert "boss@example.com is an admin" in made.stdout
    listed = _cli("admin", "list", data_dir=isolated_settings)
    assert "boss@example.com" in listed.stdout


def test_admin_create_with_bad_input_says_why_and_exits_2(isolated_settings: Path) -> None:
    _cli("migrate", data_dir=isolated_settings)
    weak = _cli(
        "admin",
        "create",
        "--email",
        "boss@example.com",
        "--password",
        "short",
        data_dir=isolated_settings,
    )
    assert weak.returncode == 2
    assert "at least 10 characters" in weak.stderr
    assert "Traceback" not in weak.stderr
    assert "No admins yet" in _cli("admin", "list", data_dir=isolated_settings).stdout


def test_check_config_refuses_unsafe_production(isolated_settings: Path) -> None:
    refused = _cli("check-config", data_dir=isolated_settings, CLIPGEN_ENV="production")
    assert refused.returncode == 2
    assert "SECRET_KEY" in refused.stderr and "Traceback" not in refused.stderr


SAFE_PRODUCTION = {
    "CLIPGEN_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql://u:p@db/clipgen",
    "REDIS_URL": "redis://cache:6379/0",
    "STORAGE_BUCKET": "clips",
    "APP_URL": "https://clipgen.example.com",
}


def test_check_config_refuses_production_without_trusted_proxy_hops(
    isolated_settings: Path,
) -> None:
    # Blank is unset (and overrides any TRUSTED_PROXY_HOPS in the caller's environment).
    refused = _cli(
        "check-config", data_dir=isolated_settings, **SAFE_PRODUCTION, TRUSTED_PROXY_HOPS=""
    )
    assert refused.returncode == 2
    assert "TRUSTED_PROXY_HOPS must be set" in refused.stderr
    assert "SECRET_KEY" not in refused.stderr and "Traceback" not in refused.stderr
    for hops in ("0", "1"):
        fine = _cli(
            "check-config", data_dir=isolated_settings, **SAFE_PRODUCTION, TRUSTED_PROXY_HOPS=hops
        )
        assert fine.returncode == 0, fine.stderr
        assert "Configuration is fine." in fine.stdout


def test_check_config_says_which_setting_is_malformed(isolated_settings: Path) -> None:
    refused = _cli("check-config", data_dir=isolated_settings, TRUSTED_PROXY_HOPS="-1")
    assert refused.returncode == 2
    assert "TRUSTED_PROXY_HOPS" in refused.stderr and "Traceback" not in refused.stderr


def test_the_app_refuses_to_start_in_production_without_trusted_proxy_hops(
    isolated_settings: Path,
) -> None:
    # `reflex run` imports rxconfig.py first, which checks the settings.
    started = subprocess.run(
        [sys.executable, "-c", "import rxconfig"],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DATA_DIR": str(isolated_settings),
            **SAFE_PRODUCTION,
            "TRUSTED_PROXY_HOPS": "",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "TRUSTED_PROXY_HOPS must be set" in started.stderr


def test_generate_refuses_an_unknown_layout_and_names_the_choices(
    isolated_settings: Path, tmp_path: Path
) -> None:
    refused = _cli(
        "generate",
        str(tmp_path / "talk.mp4"),
        "--out",
        str(tmp_path / "clips"),
        "--layout",
        "grid",
        data_dir=isolated_settings,
    )
    assert refused.returncode == 2
    assert "--layout: invalid choice: 'grid'" in refused.stderr
    assert "'auto', 'speaker', 'split', 'fit'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "clips").exists()
