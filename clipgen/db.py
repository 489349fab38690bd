"""The database engine, the one session factory, and migrations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from clipgen.config import PROJECT_ROOT, get_settings

log = logging.getLogger(__name__)

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

        @event.listens_for(engine, "savepoint")
        def _sqlite_savepoint_inside_a_transaction(conn, _name) -> None:
            # pysqlite begins no transaction for SAVEPOINT, so releasing one outside a
            # transaction would commit the unit of work: begin it first.
            dbapi_connection = conn.connection.dbapi_connection
            if not dbapi_connection.in_transaction:
                dbapi_connection.execute("BEGIN")

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


class KeepsWork(Exception):  # noqa: N818  (a marker, not an error of its own)
    """An error after which the unit of work still commits what it wrote, then propagates."""


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commits once when the block ends, rolls back on error.

    Services only flush; whoever opens the scope (a state helper, an actor, a
    CLI command) owns the commit. A `KeepsWork` error (a failed sign-in) keeps
    what was written before it and still propagates.
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except KeepsWork:
            session.commit()
            raise
        except BaseException:
            session.rollback()
            raise


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction has committed; never if it rolls back.

    For side effects that must not happen for a change that did not stick, such as
    sending a worker the id of a row this transaction inserted.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


_AFTER_COMMIT = "clipgen_after_commit"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:
            log.exception("An after-commit action failed")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


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
