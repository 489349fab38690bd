"""Shared fixtures: real PostgreSQL and Redis, a fresh database per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from clipgen.config import get_settings
from clipgen.db import dispose_engines, get_engine, migrate
from tests.support.rate_limits import GENEROUS_RATE_LIMITS
from tests.support.services import postgres_server, redis_server

_SETTINGS_ENV = (
    "CLIPGEN_ENV",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DATA_DIR",
    "APP_URL",
    "STORAGE_BUCKET",
    "GEMINI_API_KEY",
    "WHISPER_MODEL",
    "MAX_UPLOAD_MB",
    "YOUTUBE_CLIENT_ID",
    "YOUTUBE_CLIENT_SECRET",
    "YOUTUBE_REDIRECT_URI",
    "YOUTUBE_API_KEY",
    "YOUTUBE_API_URL",
    "GOOGLE_AUTH_URI",
    "GOOGLE_TOKEN_URI",
    "GOOGLE_REVOKE_URI",
    "VIEW_SYNC_CRON",
    "SCHEDULE",
    "SMTP_URL",
    "EMAIL_FROM",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_CONNECT_WEBHOOK_SECRET",
    "STRIPE_API_URL",
    "RATE_LIMITS",
)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under pytest-xdist (`make test`), a module runs whole on one worker.

    Its module fixtures (rendered media, a running app) are built once, and its
    Hypothesis tallies see every example. The browser modules share one worker: each
    `reflex run` compiles into the project's one `.web`.
    """
    from xdist.scheduler import LoadScopeScheduling

    BROWSER = "tests/browser"

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return BROWSER if module.startswith(BROWSER + "/") else module

        def _assign_work_unit(self, node) -> None:
            # The browser modules take longest in all: started first, they end with the rest.
            if BROWSER in self.workqueue:
                self.workqueue.move_to_end(BROWSER, last=False)
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole run (TEST_POSTGRES_URL reuses one)."""
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server for the whole run (TEST_REDIS_URL reuses one)."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto S3 server over HTTP on a free loopback port (boto3 talks to it)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> str:
    """A migrated database that each test's database is copied from."""
    name = "clipgen_template"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    migrate(_with_database(postgres_admin_url, name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test starts from the embedded defaults in its own data dir."""
    for name in _SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("RATE_LIMITS", GENEROUS_RATE_LIMITS)
    get_settings.cache_clear()
    yield data_dir
    dispose_engines()
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, migrated database on SQLite and on PostgreSQL, set as DATABASE_URL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        drop = None
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        template = request.getfixturevalue("postgres_template")
        name = f"test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
        url = _with_database(admin_url, name)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()

    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    dispose_engines()
    if drop is not None:
        drop()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on the test's database."""
    with Session(get_engine(), expire_on_commit=False) as db_session:
        yield db_session
