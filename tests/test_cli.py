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
