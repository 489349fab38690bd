"""In-app notifications: what a user is told, shown under the bell until read.

Services add them inside their own unit of work (`notify`), so a message exists
exactly when the change it tells of was committed. Some kinds also come by email
(`clipgen.services.email`), queued by `notify` in the same unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from clipgen.models import Notification, User, utcnow
from clipgen.services.access import owned
from clipgen.services.auth.service import UserView
from clipgen.services.email.outbox import queue_email
from clipgen.services.errors import NotAuthenticated

MAX_LIST = 50
_MAX_MESSAGE = 500


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    message: str
    link: str
    created_at: datetime
    is_read: bool


def notify(session: Session, user_id: int, kind: str, message: str, link: str = "") -> None:
    """Tell `user_id` something, as part of the caller's unit of work (and by email too,
    when email is set up and the user wants this kind)."""
    notification = Notification(
        user_id=user_id, kind=kind, message=message[:_MAX_MESSAGE], link=link[:500]
    )
    session.add(notification)
    queue_email(session, notification)


def notify_admins(session: Session, kind: str, message: str, link: str = "") -> None:
    """Tell every active admin the same thing (a flag raised, an appeal filed, a card
    payment that needs a look)."""
    admins = session.exec(select(User.id).where(col(User.is_admin), col(User.is_active))).all()
    for admin_id in admins:
        notify(session, admin_id, kind, message, link)


def _signed_in(actor: UserView | None) -> UserView:
    if actor is None:
        raise NotAuthenticated()
    return actor


def list_notifications(
    *, session: Session, actor: UserView, limit: int = 20
) -> list[NotificationView]:
    """The actor's latest notifications, newest first."""
    actor = _signed_in(actor)
    limit = max(1, min(MAX_LIST, int(limit)))
    rows = session.exec(
        select(Notification)
        .where(Notification.user_id == actor.id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    ).all()
    return [
        NotificationView(
            row.id, row.kind, row.message, row.link, row.created_at, row.read_at is not None
        )
        for row in rows
    ]


def unread_count(*, session: Session, actor: UserView) -> int:
    actor = _signed_in(actor)
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == actor.id, col(Notification.read_at).is_(None))
        ).one()
    )


def mark_read(*, session: Session, actor: UserView, notification_id: int) -> None:
    """Mark one of the actor's notifications read (someone else's is not found)."""
    actor = _signed_in(actor)
    row = owned(
        session, Notification, notification_id, actor, noun="notification", owner_attr="user_id"
    )
    if row.read_at is None:
        row.read_at = utcnow()
        session.add(row)
        session.flush()


def mark_all_read(*, session: Session, actor: UserView) -> int:
    """Mark every unread notification of the actor read; how many were."""
    actor = _signed_in(actor)
    result = session.exec(
        update(Notification)
        .where(col(Notification.user_id) == actor.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)
