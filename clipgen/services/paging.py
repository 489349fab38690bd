"""One page of a list: its rows, which page it is, and how many there are in all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select

from clipgen.services.errors import InvalidInput

T = TypeVar("T")


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill, `per_page` a page (an empty list is one page)."""
    return max(1, -(-total // per_page))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def fetch_page(
    session: Session,
    model: Any,
    conditions: Sequence[Any],
    order_by: Sequence[Any],
    *,
    page: object,
    per_page: object,
    max_per_page: int,
) -> tuple[list[Any], int, int, int]:
    """The `model` rows matching `conditions` on page `page` (clamped to the pages there
    are), `per_page` a page (at most `max_per_page`): (rows, page, per_page, total).
    A page or size that is not a number is refused in words."""
    try:
        size = max(1, min(max_per_page, int(per_page)))
        wanted = int(page)
    except (TypeError, ValueError):
        raise InvalidInput("Choose one of the listed pages.") from None
    total = int(session.exec(select(func.count()).select_from(model).where(*conditions)).one())
    number = max(1, min(page_count(total, size), wanted))
    rows = session.exec(
        select(model)
        .where(*conditions)
        .order_by(*order_by)
        .offset((number - 1) * size)
        .limit(size)
        .execution_options(populate_existing=True)
    ).all()
    return list(rows), number, size, total
