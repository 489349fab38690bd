"""The baseline migration builds exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import clipgen.models  # noqa: F401
from alembic import command
from clipgen.db import alembic_config


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_models(database_url: str) -> None:
    assert _diff(database_url) == []


def test_every_model_table_exists_after_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables


def test_the_migration_can_be_undone_and_redone(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    assert _diff(database_url) == []


def test_timestamps_come_back_timezone_aware_utc(session) -> None:
    from sqlmodel import select

    from clipgen.models import User, utcnow

    session.add(User(email="t@example.com", display_name="T", password_hash="x"))
    session.commit()
    session.expire_all()
    stamp = session.exec(select(User.created_at)).one()
    assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0
    assert abs((utcnow() - stamp).total_seconds()) < 60


def test_a_naive_timestamp_is_refused(session) -> None:
    from datetime import datetime

    from sqlalchemy.exc import StatementError

    from clipgen.models import User

    session.add(
        User(
            email="n@example.com",
            display_name="N",
            password_hash="x",
            created_at=datetime(2026, 1, 1),
        )
    )
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()
