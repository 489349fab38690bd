"""The admins' dashboard: platform revenue, gross volume, money owed to clippers, the
payout queue, open fraud flags and signups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    FlagStatus,
    FraudFlag,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Role,
    User,
    utcnow,
)
from clipgen.services.access import require_role
from clipgen.services.analytics.common import amount_if, running_by_day, spend_kinds
from clipgen.services.analytics.periods import (
    DEFAULT_RANGE,
    Window,
    as_day,
    day_of,
    days_of,
    window,
)
from clipgen.services.auth.service import UserView

OWED_KINDS = (
    AccountKind.CLIPPER_PENDING,
    AccountKind.CLIPPER_AVAILABLE,
    AccountKind.CLIPPER_PAYOUT_PENDING,
)


@dataclass(frozen=True)
class AdminDay:
    day: date
    revenue_cents: int
    gross_volume_cents: int
    owed_cents: int  # to clippers at the end of the day
    clipper_signups: int
    client_signups: int


@dataclass(frozen=True)
class AdminDashboard:
    period: Window
    days: tuple[AdminDay, ...]
    owed_pending_cents: int
    owed_available_cents: int
    owed_in_payout_cents: int
    payouts_waiting: int
    payouts_waiting_cents: int
    oldest_payout_waiting: timedelta | None
    flags_open: int
    oldest_flag_open: timedelta | None

    @property
    def revenue_in_range_cents(self) -> int:
        return sum(day.revenue_cents for day in self.days)

    @property
    def gross_volume_in_range_cents(self) -> int:
        return sum(day.gross_volume_cents for day in self.days)

    @property
    def owed_cents(self) -> int:
        return self.owed_pending_cents + self.owed_available_cents + self.owed_in_payout_cents

    @property
    def signups_in_range(self) -> int:
        return sum(day.clipper_signups + day.client_signups for day in self.days)


def _money_by_day(session: Session, period: Window):
    """One pass over the range's entries on the platform's and clippers' accounts, per day:
    platform revenue (the platform's cut), gross volume (everything clips took from
    escrow: the clipper's share and the cut, net of fraud reversals) and the movement of
    what is owed to clippers, with its running total."""
    kind = LedgerAccount.kind
    parts = {
        "revenue": amount_if(kind == AccountKind.PLATFORM_REVENUE),
        "gross": amount_if(
            col(kind).in_([str(AccountKind.PLATFORM_REVENUE), str(AccountKind.CLIPPER_PENDING)])
            & col(LedgerTransaction.kind).in_(spend_kinds())
        ),
        "owed": amount_if(col(kind).in_([str(k) for k in OWED_KINDS])),
    }
    where = [col(kind).in_([str(AccountKind.PLATFORM_REVENUE), *(str(k) for k in OWED_KINDS)])]
    if period.since is not None:
        where.append(col(LedgerEntry.created_at) >= period.since)
    return running_by_day(session, parts, where=where)


def _signups_by_day(session: Session, period: Window) -> dict[date, tuple[int, int]]:
    day = day_of(User.created_at)
    where = [] if period.since is None else [col(User.created_at) >= period.since]
    rows = session.exec(
        select(
            day,
            func.sum(case((col(User.is_clipper), 1), else_=0)),
            func.sum(case((col(User.is_client), 1), else_=0)),
        )
        .where(*where)
        .group_by(day)
    ).all()
    return {as_day(d): (int(clippers), int(clients)) for d, clippers, clients in rows}


def admin_dashboard(
    *,
    session: Session,
    actor: UserView,
    range_key: str = DEFAULT_RANGE,
    now: datetime | None = None,
) -> AdminDashboard:
    """The platform's figures for the range (admins only)."""
    require_role(actor, Role.ADMIN)
    now = now or utcnow()
    period = window(range_key, now=now)
    money_rows = _money_by_day(session, period)
    signups = _signups_by_day(session, period)
    balances = dict(
        session.exec(
            select(LedgerAccount.kind, func.coalesce(func.sum(LedgerAccount.balance_cents), 0))
            .where(col(LedgerAccount.kind).in_([str(kind) for kind in OWED_KINDS]))
            .group_by(col(LedgerAccount.kind))
        ).all()
    )
    # What is owed at the end of a day: what is owed now, less the range's movements since.
    owed_now = sum(int(cents) for cents in balances.values())
    moved = money_rows[-1][2]["owed"] if money_rows else 0
    by_day = {day: (daily, running) for day, daily, running in money_rows}
    days = days_of(period, [*signups, *by_day])
    owed = 0
    grid = []
    for day in days:
        daily, running = by_day.get(day, ({"revenue": 0, "gross": 0}, {"owed": owed}))
        owed = running["owed"]
        clippers, clients = signups.get(day, (0, 0))
        grid.append(
            AdminDay(
                day,
                daily["revenue"],
                daily["gross"],
                owed_now - moved + owed,
                clippers,
                clients,
            )
        )

    waiting, waiting_cents, oldest_payout = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(Payout.amount_cents), 0),
            func.min(Payout.requested_at),
        ).where(Payout.status == PayoutStatus.REQUESTED)
    ).one()
    flags, oldest_flag = session.exec(
        select(func.count(), func.min(FraudFlag.created_at)).where(
            FraudFlag.status == FlagStatus.OPEN
        )
    ).one()
    return AdminDashboard(
        period=period,
        days=tuple(grid),
        owed_pending_cents=int(balances.get(str(AccountKind.CLIPPER_PENDING), 0)),
        owed_available_cents=int(balances.get(str(AccountKind.CLIPPER_AVAILABLE), 0)),
        owed_in_payout_cents=int(balances.get(str(AccountKind.CLIPPER_PAYOUT_PENDING), 0)),
        payouts_waiting=int(waiting),
        payouts_waiting_cents=int(waiting_cents),
        oldest_payout_waiting=_age(oldest_payout, now),
        flags_open=int(flags),
        oldest_flag_open=_age(oldest_flag, now),
    )


def _age(moment: datetime | str | None, now: datetime) -> timedelta | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # an aggregate of a timestamp comes back as text on SQLite
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=now.tzinfo)
    return max(timedelta(0), now - moment)
