"""Who may do what: the one place services check roles and ownership.

Every service call takes the acting user and checks here before it reads or
changes anything. Another user's row is indistinguishable from a missing one.
"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel

from clipgen.models import Role
from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotAuthenticated, NotFound, PermissionDenied

Row = TypeVar("Row", bound=SQLModel)

# What each role is for, in the words a refusal uses.
_ROLE_PURPOSE = {
    Role.CLIPPER: "Making clips is part of a clipper account.",
    Role.CLIENT: "Running campaigns is part of a client account.",
    Role.ADMIN: "Only admins can do that.",
}


def require_role(actor: UserView | None, *roles: Role) -> UserView:
    """The actor, who must be signed in and hold one of `roles`."""
    if actor is None:
        raise NotAuthenticated()
    if not any(actor.has_role(role) for role in roles):
        raise PermissionDenied(_ROLE_PURPOSE.get(roles[0], "You do not have access to that."))
    return actor


MAX_ID = 2**31 - 1  # the id columns are 32-bit integers


def as_id(value: object) -> int | None:
    """`value` as a row id, or None when it cannot be one (text, a bool, out of range):
    an id from a browser is untrusted, and the database would refuse a huge one."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 1 <= number <= MAX_ID else None


def fresh(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row as the database has it now (never a stale copy from this session)."""
    checked = as_id(row_id)
    if checked is None:
        return None
    return session.get(model, checked, populate_existing=True)


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
