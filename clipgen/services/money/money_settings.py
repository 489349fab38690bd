"""Money settings admins change in the app (rows of `money_settings`), each change audited.

- `payout_auto_approve_cents`: payout requests up to this amount are approved without an
  admin (0, the default, turns it off); at most `MAX_AUTO_APPROVE_CENTS`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from clipgen.models import MoneySetting, Role, utcnow
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.money.amounts import format_cents

AUTO_APPROVE = "payout_auto_approve_cents"
MAX_AUTO_APPROVE_CENTS = 100_000  # $1,000.00


def _value(session: Session, name: str) -> int:
    value = session.exec(select(MoneySetting.value).where(MoneySetting.name == name)).first()
    return int(value or 0)


def auto_approve_limit_cents(session: Session) -> int:
    """Payout requests up to this many cents are approved automatically; 0: never."""
    return max(0, min(_value(session, AUTO_APPROVE), MAX_AUTO_APPROVE_CENTS))


def set_auto_approve_limit(session: Session, actor: UserView, cents: Any) -> int:
    """Set the automatic approval limit (admins only): whole cents from 0 (off) to $1,000."""
    require_role(actor, Role.ADMIN)
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise InvalidInput("Enter the limit in dollars, like 25.00 (0 turns it off).")
    if not 0 <= cents <= MAX_AUTO_APPROVE_CENTS:
        raise InvalidInput(
            f"Payouts can be approved automatically up to {format_cents(MAX_AUTO_APPROVE_CENTS)}"
            " at most; enter an amount from 0 (off) to "
            f"{format_cents(MAX_AUTO_APPROVE_CENTS)}."
        )
    before = _store(session, AUTO_APPROVE, cents, actor.id)
    record_audit(
        session=session,
        action="money.setting_changed",
        actor_id=actor.id,
        target_type="money_setting",
        setting=AUTO_APPROVE,
        before=before,
        after=cents,
    )
    return cents


def _store(session: Session, name: str, value: int, actor_id: int) -> int:
    """Write the setting (its row locked, or made); the value it had before."""
    row = session.exec(
        select(MoneySetting).where(MoneySetting.name == name).with_for_update()
    ).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    MoneySetting(name=name, value=value, updated_by=actor_id, updated_at=utcnow())
                )
            return 0
        except IntegrityError:  # another admin made it at the same moment: update theirs
            row = session.exec(
                select(MoneySetting).where(MoneySetting.name == name).with_for_update()
            ).one()
    before = row.value
    row.value, row.updated_by, row.updated_at = value, actor_id, utcnow()
    session.add(row)
    session.flush()
    return before
