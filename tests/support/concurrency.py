"""Races on a real database: threads released together, each in its own unit of work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from clipgen.db import session_scope
from clipgen.models import AccountKind
from clipgen.services.money.ledger import account, balance, check_invariants


def race(count: int, work: Callable[[Session, int], Any]) -> list[Any]:
    """Run `work(session, n)` in `count` threads released at once, each in its own unit of
    work; what each returned, or the exception it raised."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            with session_scope() as session:
                outcomes[n] = work(session, n)
        except Exception as error:  # noqa: BLE001 - an outcome like any other
            outcomes[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (a deadlock?)"
    return outcomes


def balance_of(kind: AccountKind, **owner: int) -> int:
    """An account's balance as committed, read in a unit of work of its own."""
    with session_scope() as session:
        return balance(session, account(session, kind, **owner))


def books_are_sound() -> None:
    """The ledger's invariants hold on what is committed."""
    with session_scope() as session:
        report = check_invariants(session)
    assert report.ok, report
