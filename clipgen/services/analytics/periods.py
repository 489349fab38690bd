"""Date ranges a dashboard is shown for, and the UTC day of a timestamp in SQL on SQLite
and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from clipgen.models import utcnow
from clipgen.services.errors import InvalidInput

# What the range selector offers: the last N days (today included), or everything.
RANGES: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}
DEFAULT_RANGE = "30"
RANGE_LABELS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "all": "All time"}


@dataclass(frozen=True)
class Window:
    """A dashboard's date range: `first_day` to `today` (UTC days, both included);
    `first_day` None means since the beginning."""

    range_key: str
    first_day: date | None
    today: date

    @property
    def since(self) -> datetime | None:
        """The first moment inside the range, for filtering timestamps."""
        if self.first_day is None:
            return None
        return datetime.combine(self.first_day, time(), tzinfo=UTC)

    @property
    def label(self) -> str:
        return RANGE_LABELS[self.range_key]


def window(range_key: object, *, now: datetime | None = None) -> Window:
    """The range a browser asked for, or a refusal in words (it is untrusted input)."""
    if not isinstance(range_key, str) or range_key not in RANGES:
        raise InvalidInput("Choose a range of 7, 30 or 90 days, or all time.")
    today = (now or utcnow()).astimezone(UTC).date()
    days = RANGES[range_key]
    first = None if days is None else today - timedelta(days=days - 1)
    return Window(range_key, first, today)


def days_of(period: Window, found: Iterable[date]) -> list[date]:
    """Every day the charts show: the range's days, or for all time from the first day
    with data (today alone when there is none)."""
    first = period.first_day
    if first is None:
        first = min(found, default=period.today)
    count = (period.today - first).days + 1
    return [first + timedelta(days=offset) for offset in range(max(1, count))]


def as_day(value: object) -> date:
    """A day read back from SQL: a `date` on PostgreSQL, ISO text on SQLite."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class day_of(FunctionElement):  # noqa: N801 - used like a SQL function
    """The UTC calendar day of a timestamp column, as SQL."""

    type = Date()
    inherit_cache = True


@compiles(day_of)
def _day_of_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps UTC timestamps as ISO text (see UTCDateTime).
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of, "postgresql")
def _day_of_postgresql(element, compiler, **kw) -> str:
    # timestamptz to a UTC wall time first, so the session's time zone does not matter.
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"
