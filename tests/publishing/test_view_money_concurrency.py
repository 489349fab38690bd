"""Views and money under concurrency on a real PostgreSQL, and a property over any order
of readings: however readings arrive (twice, late, at once from two syncs), a clip is
paid exactly what its highest counted views earn, and the books balance."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from clipgen.db import session_scope
from clipgen.models import (
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    Role,
    TransactionKind,
    ViewSource,
    utcnow,
)
from clipgen.services.errors import InvalidInput
from clipgen.services.money.earnings import bonus_percent
from clipgen.services.publishing import fraud, publications, sync
from tests.support.concurrency import books_are_sound, race
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import person, verified

DAY = timedelta(days=1)
_examples = itertools.count()
_posts = itertools.count(1)
PRICE, CPM, CAP = 1000, 50, 40_000


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


def _clip(tag: str) -> tuple[int, int, object]:
    """A committed approved clip with one TikTok post: (submission id, post id, admin)."""
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, f"brand{tag}")
        clipper = person(session, Role.CLIPPER, f"ada{tag}")
        live = live_campaign(
            session,
            admin,
            client,
            price_per_clip_cents=PRICE,
            cpm_cents=CPM,
            cpm_cap_cents=CAP,
            budget_cents=500_000,
        )
        _claim, submission = approved(session, client, clipper, live)
        post = verified(  # by TikTok: these races are about readings of a verified post
            session,
            publications.add_post_url(
                session=session,
                actor=clipper,
                submission_id=submission.id,
                url=f"https://www.tiktok.com/@ada/video/73{next(_posts):017d}",
            ),
            by="tiktok",
        )
        return submission.id, post.id, admin


def _gross(submission_id: int, kind: TransactionKind) -> int:
    with session_scope() as session:
        rows = session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.submission_id == submission_id, LedgerTransaction.kind == kind
            )
        ).all()
        return sum(int(row.details["gross_cents"]) for row in rows)


def _expected(views: int) -> tuple[int, int]:
    """(CPM, bonus) gross a clip with `views` earns on these terms."""
    return min(CAP, views * CPM // 1000), PRICE * bonus_percent(views)[1] // 100


def _reading(post_id: int, views: int, at) -> None:
    with session_scope() as session:
        sync.record_reading(
            session,
            post_id,
            sync.Counts(views, views // 20, views // 400),
            source=ViewSource.MANUAL,
            taken_at=at,
        )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_syncs_recording_the_same_reading_at_once_pay_once(database_url) -> None:
    for round_ in range(3):
        submission_id, post_id, _admin = _clip(f"r{round_}")
        at = utcnow()
        outcomes = race(8, lambda session, n, post=post_id, at=at: _reading(post, 620_000, at))
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert (
            _gross(submission_id, TransactionKind.CPM),
            _gross(submission_id, TransactionKind.BONUS),
        ) == _expected(620_000)
        books_are_sound()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_readings_of_a_spike_at_once_raise_one_flag(database_url) -> None:
    submission_id, post_id, _admin = _clip("spike")
    start = utcnow() - 6 * DAY
    for day in range(4):
        _reading(post_id, 1_000 + day * 1_000, start + day * DAY)
    at = start + 4 * DAY
    with session_scope() as session:
        before = max(session.exec(select(LedgerTransaction.id)).all())
    race(6, lambda session, n: _reading(post_id, 300_000 + n, at))
    with session_scope() as session:
        flags = session.exec(select(FraudFlag)).all()
        assert len(flags) == 1
        held = session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.submission_id == submission_id, LedgerTransaction.id > before
            )
        ).all()
        assert held and all(t.held_by_flag_id == flags[0].id for t in held)
    books_are_sound()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_admins_deciding_one_flag_at_once_apply_one_decision(database_url) -> None:
    for round_ in range(3):
        submission_id, post_id, admin = _clip(f"d{round_}")
        start = utcnow() - 6 * DAY
        for day in range(4):
            _reading(post_id, 1_000 + day * 1_000, start + day * DAY)
        _reading(post_id, 400_000, start + 4 * DAY)
        with session_scope() as session:
            flag_id = session.exec(select(FraudFlag.id)).all()[-1]

        def decide(session, n, admin=admin, flag_id=flag_id):
            if n % 2:
                return fraud.confirm_flag(
                    session=session, actor=admin, flag_id=flag_id, reason="bots"
                )
            return fraud.clear_flag(session=session, actor=admin, flag_id=flag_id)

        outcomes = race(4, decide)
        refused = [o for o in outcomes if isinstance(o, InvalidInput)]
        decided = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(decided) == 1 and len(refused) == 3, outcomes
        with session_scope() as session:
            flag = session.get(FraudFlag, flag_id)
            reversals = session.exec(
                select(LedgerTransaction).where(
                    LedgerTransaction.submission_id == submission_id,
                    LedgerTransaction.kind == TransactionKind.FRAUD_REVERSAL,
                )
            ).all()
            assert bool(reversals) == (flag.status == FlagStatus.CONFIRMED)
        books_are_sound()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    readings=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 6_000_000)), min_size=1, max_size=12
    )
)
def test_any_order_of_readings_pays_what_the_newest_count_earns(database_url, readings) -> None:
    """Readings at random times, arriving in random order and repeated: the clip is paid
    for its highest newest-so-far count, never more, and never twice."""
    submission_id, post_id, _admin = _clip(f"p{next(_examples)}")
    start = utcnow() - 40 * DAY
    newest_at, counted = None, []
    for hours, views in readings:
        at = start + timedelta(hours=hours)
        _reading(post_id, views, at)
        if newest_at is None or at >= newest_at:
            newest_at = at
            counted.append(views)
    paid_for = max(counted)  # money never goes back down when a newer count is lower
    cpm, bonus = _expected(paid_for)
    assert _gross(submission_id, TransactionKind.CPM) == cpm
    assert _gross(submission_id, TransactionKind.BONUS) == bonus
    books_are_sound()
