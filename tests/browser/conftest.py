"""The real app, started with `reflex run` on free ports, and headless Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clipgen.config import PROJECT_ROOT
from tests.support.rate_limits import GENEROUS_RATE_LIMITS
from tests.support.services import free_port

# A 2-core CI machine runs the app, its worker, Chromium and the tests at once: a page
# that answers in a second when idle can take several under that load. Assertions wait
# up to 10 s (Playwright's default is 5) before they count as failed.
expect.set_options(timeout=10_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def _wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def running_app(
    data_dir: Path, *, backend_port: int | None = None, **settings: str
) -> Iterator[str]:
    """`reflex run` on free ports with these settings; yields the app's address.

    `backend_port` is for a fake that must know the backend before it starts (Stripe's
    webhook goes to `http://localhost:<backend_port>/stripe/webhook`).
    One at a time: every instance compiles into the project's one `.web`.
    """
    frontend_port, backend_port = free_port(), backend_port or free_port()
    venv_bin = Path(sys.executable).parent
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STORAGE_BUCKET")},
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATA_DIR": str(data_dir),
        "APP_URL": f"http://localhost:{frontend_port}",
        "REFLEX_USE_NPM": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
        # One address (this machine) registers and signs in many users in a row.
        "RATE_LIMITS": GENEROUS_RATE_LIMITS,
        **settings,
    }
    log = data_dir / "app.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(venv_bin / "reflex"),
                "run",
                "--frontend-port",
                str(frontend_port),
                "--backend-port",
                str(backend_port),
                "--loglevel",
                "info",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_http(f"http://localhost:{backend_port}/ping", process, log, timeout=600)
        _wait_for_http(f"http://localhost:{frontend_port}/", process, log, timeout=600)
        yield f"http://localhost:{frontend_port}"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def app_data_dir() -> Iterator[Path]:
    """A folder inside the default data dir, so the app runs where `make run` keeps data.

    Writes there (SQLite, uploads) must not restart the dev server: a visible
    folder would, and these tests would fail.
    """
    from clipgen.config import Settings

    default = Settings.model_fields["data_dir"].default
    folder = default / "browser-tests" / uuid.uuid4().hex[:8]
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def app_database_url(app_data_dir: Path) -> str:
    """The embedded default database (SQLite in the data dir), migrated."""
    from clipgen.db import migrate

    url = f"sqlite:///{app_data_dir / 'clipgen.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="module")
def app_url(app_data_dir: Path, app_database_url: str) -> Iterator[str]:
    """The whole app on its embedded defaults, as `make run` starts it."""
    with running_app(app_data_dir, DATABASE_URL=app_database_url) as url:
        yield url


@pytest.fixture(scope="module")
def production_database_url(postgres_admin_url: str) -> str:
    """A migrated PostgreSQL database for the production app of this module."""
    from sqlalchemy import create_engine, text

    from clipgen.db import migrate

    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS clipgen_production_browser WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE clipgen_production_browser"))
    admin.dispose()
    database_url = postgres_admin_url.rsplit("/", 1)[0] + "/clipgen_production_browser"
    migrate(database_url)
    return database_url


@pytest.fixture(scope="module")
def production_app_url(
    tmp_path_factory: pytest.TempPathFactory,
    production_database_url: str,
    redis_url: str,
    moto_endpoint: str,
) -> Iterator[str]:
    """The app as deployed: PostgreSQL, Redis (state and jobs), S3, and a separate worker."""
    import boto3

    database_url = production_database_url
    bucket = f"clipgen-browser-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIATESTINGFAKEKEY00",
        aws_secret_access_key="fake-secret",
    ).create_bucket(Bucket=bucket)
    redis_db = redis_url.rsplit("/", 1)[0] + "/9"
    settings = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_db,
        "STORAGE_BUCKET": bucket,
        "STORAGE_ENDPOINT": moto_endpoint,
        "STORAGE_ACCESS_KEY": "AKIATESTINGFAKEKEY00",
        "STORAGE_SECRET_KEY": "fake-secret",
        "STORAGE_REGION": "us-east-1",
    }
    data_dir = tmp_path_factory.mktemp("production-app")
    worker_log = data_dir / "worker.log"
    venv_bin = Path(sys.executable).parent
    with worker_log.open("w") as out:
        worker = subprocess.Popen(
            [str(venv_bin / "dramatiq"), "workers", "--processes", "1", "--threads", "1"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATA_DIR": str(data_dir / "worker"), **settings},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with running_app(data_dir, **settings) as url:
            yield url
    finally:
        _stop(worker)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def second_page(browser) -> Iterator:
    """Another browser (its own cookies) for a second person signed in at the same time."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
