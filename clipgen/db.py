"""The database engine, the one session factory, and migrations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from clipgen.config import PROJECT_ROOT, get_settings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine() -> Engine:
    """The engine for the configured database (one per URL per process)."""
    settings = get_settings()
    url = settings.effective_database_url
    with _engines_lock:
        if url not in _engines:
            if settings.uses_sqlite:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            _engines[url] = _make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    """Close every pooled connection (at shutdown, and between tests)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(database_url: str | None = None):
    """Alembic's config for this project, pointed at the configured database."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str | None = None) -> None:
    """Bring the database schema up to the newest migration."""
    from alembic import command

    if database_url is None:
        get_engine()  # makes the SQLite data dir when needed
    command.upgrade(alembic_config(database_url), "head")
