"""The one ownership check of media rows: another user's row does not exist for you."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel

from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotFound

Row = TypeVar("Row", bound=SQLModel)


def fresh(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row as the database has it now (never a stale copy from this session)."""
    return session.get(model, row_id, populate_existing=True)


def owned(
    session: Session,
    model: type[Row],
    row_id: int,
    actor: UserView,
    *,
    noun: str,
    owner_attr: str = "owner_id",
) -> Row:
    """The actor's row, or NotFound: someone else's is indistinguishable from none."""
    row = fresh(session, model, row_id)
    if row is None or getattr(row, owner_attr) != actor.id:
        raise NotFound(f"That {noun} was not found.")
    return row
