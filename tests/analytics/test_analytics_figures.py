"""Every dashboard figure against sums worked out by hand, on SQLite and PostgreSQL.

The marketplace is made through the real services (campaigns funded and activated, clips
submitted, approved and rejected, posts read, earnings released, a payout paid), each step
at its own moment of the last ten days, so the ledger and the readings are real."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session

from clipgen.models import (
    Campaign,
    FraudFlag,
    Publication,
    Role,
    ViewSource,
    utcnow,
)
from clipgen.services.analytics import admin, client, clipper, export
from clipgen.services.auth.service import UserView
from clipgen.services.market import reviews
from clipgen.services.money import holds, payouts
from clipgen.services.publishing import publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.market import approved, live_campaign, quick_password_hashing, submitted
from tests.support.money import person, verified


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


class Clock:
    """The time the services see: every `utcnow` they imported is this clock's."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        self.today = self.now.date()
        for name, module in list(sys.modules.items()):
            if name.startswith("clipgen.services") and hasattr(module, "utcnow"):
                monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def at(self, days_ago: int, hour: int) -> datetime:
        self.now = datetime.combine(self.day(days_ago), time(hour), tzinfo=UTC)
        return self.now


@dataclass
class World:
    clock: Clock
    admin: UserView
    brand: UserView
    rival: UserView
    ada: UserView
    bob: UserView
    launch: int
    other: int
    ada_clip: int
    bob_clip: int


def _post(session: Session, who: UserView, submission_id: int, number: int) -> Publication:
    """A post its platform verified (only verified posts' views count)."""
    return verified(
        session,
        publications.add_post_url(
            session=session,
            actor=who,
            submission_id=submission_id,
            url=f"https://www.youtube.com/shorts/vid{number:08d}",
        ),
    )


def _read(session: Session, clock: Clock, post: Publication, views: int, days_ago: int, hour):
    sync.record_reading(
        session,
        post.id,
        Counts(views, views // 25, 0),
        source=ViewSource.MANUAL,
        taken_at=clock.at(days_ago, hour),
    )


@pytest.fixture
def world(session: Session, monkeypatch: pytest.MonkeyPatch) -> World:
    """Brand's "Launch week": $20 a clip, $1 CPM, a $200 budget. Ten days ago Ada's and
    Bob's clips are approved (Bronze: 70/30); Ada's post is read at 1,000 then 3,000
    views nine days ago and 5,000 five days ago, Bob's at 2,000 five days ago. Two days
    ago the held earnings that matured are released; yesterday Ada is paid $10.00 and Bob
    asks for $10.00. Rival's campaign ($10, 10,000 views a post at least) approves Bob
    three days ago; his post there has 9,000 views (counted as none)."""
    admin_user = person(session, Role.ADMIN)
    brand = person(session, Role.CLIENT, "brand")
    rival = person(session, Role.CLIENT, "rival")
    ada = person(session, Role.CLIPPER, "ada")
    bob = person(session, Role.CLIPPER, "bob")
    clock = Clock(monkeypatch)

    clock.at(12, 9)
    launch = live_campaign(
        session,
        admin_user,
        brand,
        price_per_clip_cents=2_000,
        cpm_cents=100,
        cpm_cap_cents=5_000,
        budget_cents=20_000,
        max_clips=10,
    )
    clock.at(10, 9)
    _, ada_clip = approved(session, brand, ada, launch)
    _, bob_clip = approved(session, brand, bob, launch)
    # Ada's second clip is rejected (approval rate 1 of 2); Bob's second waits for review.
    _, rejected = submitted(session, ada, launch)
    reviews.reject_submission(
        session=session, actor=brand, submission_id=rejected.id, reason="Off brief"
    )
    submitted(session, bob, launch)

    ada_post = _post(session, ada, ada_clip.id, 1)
    bob_post = _post(session, bob, bob_clip.id, 2)
    _read(session, clock, ada_post, 1_000, 9, 9)
    _read(session, clock, ada_post, 3_000, 9, 10)  # the newest of the day counts
    _read(session, clock, ada_post, 5_000, 5, 9)
    _read(session, clock, bob_post, 2_000, 5, 10)

    clock.at(2, 12)
    holds.release_matured_earnings(session=session, now=clock.now)

    clock.at(1, 15)
    ada_payout = payouts.request_payout(session=session, actor=ada, amount_cents=1_000)
    payouts.approve_payout(
        session=session, actor=admin_user, payout_id=ada_payout.id, reference="SEPA-1"
    )
    payouts.request_payout(session=session, actor=bob, amount_cents=1_000)

    clock.at(4, 9)
    other = live_campaign(
        session, admin_user, rival, price_per_clip_cents=1_000, budget_cents=10_000
    )
    session.get(Campaign, other.id).min_views_per_post = 10_000
    clock.at(3, 9)
    _, bob_other = approved(session, rival, bob, other)
    _read(session, clock, _post(session, bob, bob_other.id, 3), 9_000, 3, 10)

    session.add(FraudFlag(publication_id=bob_post.id, reason="A test flag"))
    session.flush()
    clock.now = datetime.combine(clock.today, time(12), tzinfo=UTC)
    return World(
        clock, admin_user, brand, rival, ada, bob, launch.id, other.id, ada_clip.id, bob_clip.id
    )


def _on(days, day: date):
    return next(d for d in days if d.day == day)


# --- clipper -------------------------------------------------------------------------


def test_clipper_earnings_stack_pending_available_in_payout_and_paid(
    session: Session, world: World
) -> None:
    board = clipper.clipper_dashboard(
        session=session, actor=world.ada, range_key="30", now=world.clock.now
    )
    day = world.clock.day
    assert len(board.earnings) == 30 and board.earnings[-1].day == world.clock.today
    # $20 approval: $14.00 pending; CPM on 3,000 views $3.00 -> $2.10; +2,000 views $1.40.
    ten = _on(board.earnings, day(10))
    assert (ten.earned_cents, ten.pending_cents, ten.available_cents) == (1_400, 1_400, 0)
    assert _on(board.earnings, day(9)).earned_cents == 210
    assert _on(board.earnings, day(7)).pending_cents == 1_610  # carried over a quiet day
    assert _on(board.earnings, day(5)).pending_cents == 1_750
    two = _on(board.earnings, day(2))
    assert (two.pending_cents, two.available_cents) == (140, 1_610)
    now = board.now
    assert (now.pending_cents, now.available_cents, now.in_payout_cents, now.paid_cents) == (
        140,
        610,
        0,
        1_000,
    )
    assert board.earned_in_range_cents == 1_750


def test_clipper_views_take_the_newest_reading_of_each_day(session: Session, world: World) -> None:
    board = clipper.clipper_dashboard(
        session=session, actor=world.ada, range_key="30", now=world.clock.now
    )
    day = world.clock.day
    assert [s.label for s in board.view_series] == [f"#{world.ada_clip} The best bit"]
    assert _on(board.views, day(10)).total == 0
    assert _on(board.views, day(9)).total == 3_000
    assert _on(board.views, day(6)).by_series == {"c1": 3_000}
    assert _on(board.views, day(5)).total == 5_000
    assert board.views[-1].total == 5_000
    assert board.views_in_range == 5_000


def test_a_shorter_range_starts_from_the_balances_and_views_before_it(
    session: Session, world: World
) -> None:
    board = clipper.clipper_dashboard(
        session=session, actor=world.ada, range_key="7", now=world.clock.now
    )
    assert len(board.earnings) == 7
    assert board.earnings[0].pending_cents == 1_610
    assert board.earned_in_range_cents == 140
    assert board.views[0].total == 3_000 and board.views[0].by_series == {"c1": 3_000}
    assert board.views_in_range == 2_000
    assert board.best_by_views[0].views == 5_000
    assert board.best_by_views[0].views_in_range == 2_000
    assert board.best_by_earnings[0].earned_in_range_cents == 140


def test_clipper_approval_rate_tier_and_best_clips(session: Session, world: World) -> None:
    board = clipper.clipper_dashboard(
        session=session, actor=world.ada, range_key="all", now=world.clock.now
    )
    assert (board.approval.approved, board.approval.reviewed, board.approval.percent) == (
        1,
        2,
        50,
    )
    assert board.standing.tier == "bronze" and board.standing.next_tier == "silver"
    assert board.standing.total_views == 5_000 and board.standing.approved_clips == 1
    assert [c.submission_id for c in board.best_by_earnings] == [world.ada_clip]
    assert board.best_by_earnings[0].earned_in_range_cents == 1_750
    assert board.best_by_earnings[0].campaign_title == "Launch week"
    assert board.earnings[0].day == world.clock.day(10)  # all time starts at the first entry


def test_bobs_post_below_the_campaigns_minimum_counts_no_views(
    session: Session, world: World
) -> None:
    board = clipper.clipper_dashboard(
        session=session, actor=world.bob, range_key="30", now=world.clock.now
    )
    assert board.views[-1].total == 2_000
    assert board.approval.reviewed == 2 and board.approval.percent == 100
    # $14 + $1.40 for Launch week, $7 for the other; $14 released, $10 asked for.
    now = board.now
    assert (now.pending_cents, now.available_cents, now.in_payout_cents, now.paid_cents) == (
        840,
        400,
        1_000,
        0,
    )


# --- client --------------------------------------------------------------------------


def test_client_spend_escrow_views_and_effective_cpm(session: Session, world: World) -> None:
    board = client.client_dashboard(
        session=session, actor=world.brand, range_key="all", now=world.clock.now
    )
    (launch,) = board.campaigns
    # Ada: $20 + $1 + $2 + $2 CPM; Bob: $20 + $2: $47.00 of $200.00.
    assert (launch.spent_cents, launch.escrow_cents, launch.budget_cents) == (
        4_700,
        15_300,
        20_000,
    )
    assert (launch.views, launch.ecpm_cents) == (7_000, 671)
    assert (board.spent_in_range_cents, board.escrow_cents, board.views_in_range) == (
        4_700,
        15_300,
        7_000,
    )
    day = world.clock.day
    ten, nine, five = _on(board.days, day(10)), _on(board.days, day(9)), _on(board.days, day(5))
    assert (ten.spent_cents, ten.views, ten.ecpm_cents) == (4_000, 0, None)
    assert (nine.spent_to_date_cents, nine.views, nine.ecpm_cents) == (4_300, 3_000, 1_433)
    assert (five.spent_cents, five.views, five.ecpm_cents) == (400, 7_000, 671)
    assert board.days[-1].by_series == {"s1": 7_000}
    assert [s.label for s in board.view_series] == ["Launch week"]


def test_client_submissions_by_state_and_top_clippers(session: Session, world: World) -> None:
    board = client.client_dashboard(
        session=session, actor=world.brand, range_key="30", now=world.clock.now
    )
    assert board.submissions_by_state == {
        "pending": 1,
        "approved": 2,
        "rejected": 1,
        "revision_requested": 0,
    }
    assert [(c.name, c.views, c.approved_clips) for c in board.top_clippers] == [
        ("Ada", 5_000, 1),
        ("Bob", 2_000, 1),
    ]
    week = client.client_dashboard(
        session=session, actor=world.brand, range_key="7", now=world.clock.now
    )
    assert week.spent_in_range_cents == 400 and week.views_in_range == 4_000
    assert week.days[0].views == 3_000


def test_a_campaigns_page_charts_its_clips(session: Session, world: World) -> None:
    board = client.campaign_dashboard(
        session=session,
        actor=world.brand,
        campaign_id=world.launch,
        range_key="30",
        now=world.clock.now,
    )
    assert board.title == "Launch week" and board.spent_in_range_cents == 4_700
    assert [s.label[: len(str(world.ada_clip)) + 1] for s in board.view_series] == [
        f"#{world.ada_clip}",
        f"#{world.bob_clip}",
    ]
    assert board.days[-1].by_series == {"s1": 5_000, "s2": 2_000}
    other = client.campaign_dashboard(
        session=session, actor=world.admin, campaign_id=world.other, range_key="all"
    )
    assert (other.spent_in_range_cents, other.views_in_range) == (1_000, 0)


# --- admin ---------------------------------------------------------------------------


def test_admin_revenue_volume_owed_queue_flags_and_signups(session: Session, world: World) -> None:
    board = admin.admin_dashboard(
        session=session, actor=world.admin, range_key="all", now=world.clock.now
    )
    # Launch week $47.00 (30%: $14.10), the other campaign's $10.00 ($3.00).
    assert (board.gross_volume_in_range_cents, board.revenue_in_range_cents) == (5_700, 1_710)
    # Earned $17.50 + $15.40 + $7.00, of which $10.00 paid.
    assert board.owed_cents == 2_990
    assert (board.owed_pending_cents, board.owed_available_cents) == (980, 1_010)
    assert board.owed_in_payout_cents == 1_000
    assert (board.payouts_waiting, board.payouts_waiting_cents) == (1, 1_000)
    assert board.oldest_payout_waiting is not None
    assert board.flags_open == 1
    today = _on(board.days, world.clock.today)
    assert (today.clipper_signups, today.client_signups) == (2, 2)
    assert today.owed_cents == 2_990
    assert _on(board.days, world.clock.day(10)).owed_cents == 2_800
    week = admin.admin_dashboard(
        session=session, actor=world.admin, range_key="7", now=world.clock.now
    )
    assert (week.gross_volume_in_range_cents, week.revenue_in_range_cents) == (1_400, 420)
    assert week.days[0].owed_cents == 2_800 + 210


# --- CSV -----------------------------------------------------------------------------


def test_csv_export_holds_the_charts_figures(session: Session, world: World) -> None:
    text = export.chart_csv(
        session=session,
        actor=world.ada,
        dashboard="clipper",
        chart="earnings",
        range_key="7",
        now=world.clock.now,
    )
    lines = text.splitlines()
    assert lines[0] == "day,earned_usd,pending_usd,available_usd,in_payout_usd,paid_usd"
    assert len(lines) == 8
    assert lines[-1] == f"{world.clock.today.isoformat()},0.00,1.40,6.10,0.00,10.00"
    spend = export.chart_rows(
        session=session, actor=world.brand, dashboard="client", chart="spend", range_key="all"
    )
    assert spend[1][1:8] == ["Launch week", "active", "200.00", "47.00", "47.00", "153.00", 7000]
    assert spend[1][9] == "6.71"
    states = export.chart_rows(
        session=session, actor=world.brand, dashboard="client", chart="submissions", range_key="7"
    )
    assert states[0] == ["state", "submissions"]
    money = export.chart_rows(
        session=session, actor=world.admin, dashboard="admin", chart="money", range_key="90"
    )
    assert len(money) == 91 and money[-1][3] == "29.90"
