"""A first reading, or any count typed by hand, never books a bonus unflagged (issue 19):
with no trend of its own, it is judged by its views per hour since the post was published
against the campaign's other posts (verified, not disqualified, not held by a flag, read
at least once). With fewer than `fraud.MIN_PEERS` of them, or above `fraud.PEER_FACTOR`
times their median rate, a reading that would book a new bonus raises a flag and the bonus
is held for review. On SQLite and PostgreSQL through the real services, then a race and a
property over any sequence of first readings and hand counts on PostgreSQL.

A post's second reading has no trend either (the trend needs two earlier readings): it is
judged the same way."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from clipgen.db import session_scope
from clipgen.models import (
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    Publication,
    PublicationStatus,
    Role,
    TransactionKind,
    ViewSnapshot,
    ViewSource,
    utcnow,
)
from clipgen.services.errors import InvalidInput
from clipgen.services.market.campaigns import CampaignView
from clipgen.services.publishing import fraud, publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.concurrency import books_are_sound, race
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import person, verified

HOUR = timedelta(hours=1)
_videos = itertools.count(7_400_000_000_000_000_001)


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@dataclass
class World:
    """Brand's campaign ($10 a clip: 20 % bonus at 100,000 views, 50 % at 500,000) and
    Ada's approved clip with its posts, published `hours` ago."""

    admin: object
    client: object
    clipper: object
    campaign: CampaignView
    submission_id: int
    posts: list[int]


def _post(
    session: Session, clipper, submission_id: int, *, hours_ago: float, verify: bool = True
) -> Publication:
    post = publications.add_post_url(
        session=session,
        actor=clipper,
        submission_id=submission_id,
        url=f"https://www.tiktok.com/@ada/video/{next(_videos)}",
    )
    post.published_at = utcnow() - hours_ago * HOUR
    session.add(post)
    session.flush()
    return verified(session, post, by="tiktok") if verify else post


def _world(session: Session, *, posts: int = 1, hours: float = 10, cpm: bool = False) -> World:
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    clipper = person(session, Role.CLIPPER, "ada")
    terms = {"cpm_cents": 100, "cpm_cap_cents": 50_000} if cpm else {}
    live = live_campaign(session, admin, client, budget_cents=200_000, **terms)
    _claim, submission = approved(session, client, clipper, live)
    made = [_post(session, clipper, submission.id, hours_ago=hours).id for _ in range(posts)]
    return World(admin, client, clipper, live, submission.id, made)


def _api(session: Session, post_id: int, views: int, *, at=None, likes=None):
    """A reading as the TikTok sync makes it (likes default to a healthy 4 %)."""
    return sync.record_reading(
        session,
        post_id,
        Counts(views, views // 25 if likes is None else likes, views // 400),
        source=ViewSource.TIKTOK_API,
        taken_at=at or utcnow(),
    )


def _peers(session: Session, world: World, rates: list[tuple[int, float]]) -> list[int]:
    """Posts of other clips of the campaign, each verified and read once: (views, hours
    from its publishing to the reading)."""
    bea = person(session, Role.CLIPPER, "bea")
    made = []
    for views, hours in rates:
        _claim, other = approved(session, world.client, bea, world.campaign)
        post = _post(session, bea, other.id, hours_ago=hours + 1)
        _snapshot, _booked, flagged = _api(
            session, post.id, views, at=post.published_at + hours * HOUR
        )
        assert not flagged, "a peer of these tests books no bonus"
        made.append(post.id)
    return made


def _flag(session: Session, world: World) -> FraudFlag | None:
    session.expire_all()
    return session.exec(
        select(FraudFlag)
        .where(col(FraudFlag.publication_id).in_(world.posts))
        .order_by(col(FraudFlag.id).desc())
    ).first()


def _bonus_lines(session: Session, world: World, viewer=None) -> list[tuple[str, str, int]]:
    shown = publications.clip_performance(
        session=session, actor=viewer or world.clipper, submission_id=world.submission_id
    )
    return [
        (line.label, line.state, line.gross_cents)
        for line in shown.earnings
        if line.kind == TransactionKind.BONUS
    ]


# --- the rule, through the real services ------------------------------------------------


def test_a_first_reading_with_no_peers_is_flagged_and_its_bonus_held(session: Session) -> None:
    world = _world(session, hours=10)
    [post_id] = world.posts
    _snapshot, booked, flagged = _api(session, post_id, 120_000)
    assert flagged
    flag = _flag(session, world)
    assert flag.status == FlagStatus.OPEN and flag.publication_id == post_id
    assert flag.reason == (
        "First reading of 120,000 views (12,000 views/hour since the post was published) "
        "would book the 20% bonus at 100,000 views, and the campaign has no other verified "
        "post with readings to compare it with (3 needed)."
    )
    assert flag.evidence["peers"] == 0 and flag.evidence["views_per_hour"] == 12_000
    assert flag.evidence["bonus_percent"] == 20 and flag.evidence["first_reading"] is True
    # The bonus is booked, but held for review, on the page the clipper and client see.
    assert [t.kind for t in booked] == [TransactionKind.BONUS]
    assert booked[0].held_by_flag_id == flag.id
    assert _bonus_lines(session, world) == [
        ("Performance bonus: 20% at 100,000 views", "held for review", 200)
    ]
    assert _bonus_lines(session, world, world.client)[0][1] == "held for review"
    assert session.get(Publication, post_id).earnings_held
    # Clearing it releases the bonus on the normal schedule.
    fraud.clear_flag(session=session, actor=world.admin, flag_id=flag.id)
    assert _bonus_lines(session, world)[0][1] == "pending"


def test_a_first_reading_in_line_with_three_peers_is_not_flagged(session: Session) -> None:
    world = _world(session, hours=20)
    _peers(session, world, [(80_000, 40), (60_000, 30), (45_000, 15)])  # 2,000-3,000 an hour
    _snapshot, booked, flagged = _api(session, world.posts[0], 120_000)  # 6,000 an hour
    assert not flagged and _flag(session, world) is None
    assert [(t.kind, t.held_by_flag_id) for t in booked] == [(TransactionKind.BONUS, None)]
    assert _bonus_lines(session, world) == [
        ("Performance bonus: 20% at 100,000 views", "pending", 200)
    ]


def test_a_first_reading_far_above_the_peers_is_flagged(session: Session) -> None:
    world = _world(session, hours=10)
    _peers(session, world, [(2_400, 240), (1_200, 100), (5_000, 400)])  # 10-12.5 an hour
    _snapshot, booked, flagged = _api(session, world.posts[0], 120_000)  # 12,000 an hour
    assert flagged
    flag = _flag(session, world)
    assert flag.reason == (
        "First reading of 120,000 views is 12,000 views/hour, 1,000x the campaign's other "
        "posts (median 12/hour over 3 posts); it would book the 20% bonus at 100,000 views."
    )
    assert flag.evidence["peers"] == 3 and flag.evidence["peer_median_per_hour"] == 12.0
    assert booked and all(t.held_by_flag_id == flag.id for t in booked)
    assert _bonus_lines(session, world)[0][1] == "held for review"


def test_peers_that_cannot_vouch_are_not_counted(session: Session) -> None:
    """Posts the campaign cannot trust for a rate: not verified, found not genuine, held by
    an open flag, never read, of another campaign, or the post itself."""
    world = _world(session, hours=10)
    bea = person(session, Role.CLIPPER, "bea")
    _claim, other = approved(session, world.client, bea, world.campaign)
    unverified = _post(session, bea, other.id, hours_ago=10, verify=False)
    _api(session, unverified.id, 120_000)
    suspect = _post(session, bea, other.id, hours_ago=10)
    assert _api(session, suspect.id, 90_000, likes=95_000)[2]  # more likes than views: held
    disqualified = _post(session, bea, other.id, hours_ago=10)
    _api(session, disqualified.id, 90_000)
    disqualified.status = PublicationStatus.DISQUALIFIED
    session.add(disqualified)
    _post(session, bea, other.id, hours_ago=10)  # never read
    elsewhere = _world(session, hours=10)
    _peers(session, elsewhere, [(90_000, 9), (90_000, 9), (90_000, 9)])
    session.flush()

    _snapshot, _booked, flagged = _api(session, world.posts[0], 120_000)
    assert flagged
    flag = _flag(session, world)
    assert flag.evidence["peers"] == 0 and "no other verified post" in flag.reason


def test_a_second_reading_has_no_trend_yet_and_is_judged_the_same_way(
    session: Session,
) -> None:
    """The trend needs two earlier readings: a post read once at 1,000 views, then at
    1,000,000 a day later, is judged against the campaign's other posts too."""
    world = _world(session, hours=24)
    [post_id] = world.posts
    assert not _api(session, post_id, 1_000, at=utcnow() - 23 * HOUR)[2]
    _snapshot, booked, flagged = _api(session, post_id, 1_000_000)
    assert flagged
    flag = _flag(session, world)
    assert flag.reason.startswith("Second reading of 1,000,000 views (41,667 views/hour")
    assert flag.evidence["earlier_readings"] == 1 and flag.evidence["first_reading"] is False
    assert booked and all(t.held_by_flag_id == flag.id for t in booked)


def test_a_count_the_client_types_is_flagged_when_it_crosses_a_threshold(
    session: Session,
) -> None:
    world = _world(session, hours=48, cpm=True)
    [post_id] = world.posts
    # Below every threshold: CPM alone, not this rule's concern.
    publications.enter_counts(
        session=session, actor=world.client, publication_id=post_id, views="60,000"
    )
    assert _flag(session, world) is None
    # A later count typed by hand is judged too, though the post has a reading now.
    publications.enter_counts(
        session=session,
        actor=world.client,
        publication_id=post_id,
        views="1,000,000",
        likes="40,000",
    )
    flag = _flag(session, world)
    assert flag is not None and flag.evidence["source"] == ViewSource.MANUAL
    assert flag.reason.startswith("A count of 1,000,000 views typed by hand (20,833 views/hour")
    assert "would book the 100% bonus at 1,000,000 views" in flag.reason
    assert flag.evidence["first_reading"] is False
    assert _bonus_lines(session, world) == [
        ("Performance bonus: 100% at 1,000,000 views", "held for review", 1000)
    ]
    cpm_states = [
        line.state
        for line in publications.clip_performance(
            session=session, actor=world.clipper, submission_id=world.submission_id
        ).earnings
        if line.kind == TransactionKind.CPM
    ]
    assert cpm_states == ["pending", "held for review"]


def test_a_clippers_count_the_client_confirms_is_flagged_as_its_first_reading(
    session: Session,
) -> None:
    world = _world(session, hours=5)
    [post_id] = world.posts
    publications.enter_counts(
        session=session, actor=world.clipper, publication_id=post_id, views="150,000"
    )
    [report] = publications.clip_performance(
        session=session, actor=world.client, submission_id=world.submission_id
    ).reports
    publications.confirm_counts(session=session, actor=world.client, report_id=report.id)
    flag = _flag(session, world)
    assert flag.reason.startswith(
        "A count of 150,000 views typed by hand (the post's first reading)"
    )
    assert _bonus_lines(session, world)[0][1] == "held for review"


def test_a_reading_that_books_no_new_bonus_is_not_flagged(session: Session) -> None:
    world = _world(session, posts=2, hours=10, cpm=True)
    first, second = world.posts
    _snapshot, booked, flagged = _api(session, first, 90_000)  # CPM only
    assert not flagged and booked and all(t.held_by_flag_id is None for t in booked)
    assert _api(session, second, 20_000)[2]  # 110,000 for the clip: the 20 % bonus
    flag = _flag(session, world)
    assert flag.evidence["clip_views"] == 110_000
    fraud.clear_flag(session=session, actor=world.admin, flag_id=flag.id)
    # The 20 % bonus is booked: a count in the same band books no new one.
    publications.enter_counts(
        session=session, actor=world.client, publication_id=second, views="300,000"
    )
    session.expire_all()
    assert _flag(session, world).id == flag.id
    # The next threshold is new: flagged again.
    publications.enter_counts(
        session=session, actor=world.client, publication_id=second, views="450,000"
    )
    again = _flag(session, world)
    assert again.id != flag.id and again.status == FlagStatus.OPEN
    assert "the 50% bonus at 500,000 views" in again.reason


def test_a_bonus_reversed_as_fraud_is_judged_again_when_it_comes_due(
    session: Session,
) -> None:
    world = _world(session, posts=2, hours=10)
    bought, honest = world.posts
    _api(session, bought, 120_000)
    flag = _flag(session, world)
    fraud.confirm_flag(session=session, actor=world.admin, flag_id=flag.id, reason="bots")
    _snapshot, booked, flagged = _api(session, honest, 130_000)
    assert flagged and _flag(session, world).publication_id == honest
    assert [t.kind for t in booked] == [TransactionKind.BONUS]
    assert booked[0].held_by_flag_id == _flag(session, world).id


# --- races and any sequence on PostgreSQL ---------------------------------------------------


def _bonuses(session: Session, submission_id: int) -> list[LedgerTransaction]:
    return list(
        session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.submission_id == submission_id,
                LedgerTransaction.kind == TransactionKind.BONUS,
            )
        ).all()
    )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_first_readings_of_one_clip_at_once_cannot_share_a_bonus_unflagged(
    database_url: str,
) -> None:
    """Each post's first reading alone is below 100,000 views; together they book the 20 %
    bonus, and whichever comes second sees the first's views and is flagged."""
    for _round in range(3):
        with session_scope() as session:
            world = _world(session, posts=2, hours=10)
        outcomes = race(2, lambda session, n, world=world: _api(session, world.posts[n], 60_000)[2])
        assert sorted(outcomes) == [False, True], outcomes
        with session_scope() as session:
            bonuses = _bonuses(session, world.submission_id)
            assert len(bonuses) == 1 and bonuses[0].held_by_flag_id is not None
    books_are_sound()


STEPS = st.lists(
    st.one_of(
        # (what, which of the clip's two posts, views, hours since it was published)
        st.tuples(
            st.just("api"), st.integers(0, 1), st.integers(0, 6_000_000), st.integers(0, 200)
        ),
        st.tuples(st.just("client"), st.integers(0, 1), st.integers(0, 6_000_000), st.just(0)),
        st.tuples(st.just("report"), st.integers(0, 1), st.integers(0, 6_000_000), st.just(0)),
        st.tuples(st.just("clear"), st.just(0), st.just(0), st.just(0)),
        st.tuples(st.just("confirm"), st.just(0), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, peer=st.booleans())
@example(steps=[("api", 0, 1_000_000, 1)], peer=True)
@example(steps=[("api", 0, 1_000, 1), ("api", 0, 1_000_000, 30)], peer=True)
@example(
    steps=[
        ("api", 0, 90_000, 2),
        ("api", 1, 20_000, 3),
        ("clear", 0, 0, 0),
        ("client", 1, 600_000, 0),
    ],
    peer=False,
)
@example(
    steps=[("report", 0, 120_000, 0), ("confirm", 0, 0, 0), ("client", 1, 150_000, 0)], peer=True
)
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_no_first_reading_or_hand_count_books_a_bonus_without_a_flag(
    database_url: str, steps, peer: bool
) -> None:
    """The clip has two posts; the campaign has one other post able to vouch for a rate at
    most (with the clip's other post, two: fewer than `MIN_PEERS`), and posts that cannot
    (unverified, held by a flag) reading millions an hour. Whatever readings from the
    platform before a post has a trend, hand counts (the client's, or the clipper's the
    client confirms) and flag decisions come, every bonus the clip books is held by a flag
    raised on one of its posts."""
    assert fraud.MIN_PEERS == 3
    with session_scope() as session:
        world = _world(session, posts=2, hours=200)
        bea = person(session, Role.CLIPPER, "bea")
        _claim, other = approved(session, world.client, bea, world.campaign)
        unverified = _post(session, bea, other.id, hours_ago=1, verify=False)
        _api(session, unverified.id, 5_000_000)
        held = _post(session, bea, other.id, hours_ago=1)
        _api(session, held.id, 5_000_000, likes=6_000_000)
        if peer:
            _api(session, _post(session, bea, other.id, hours_ago=2).id, 50_000)
    for step, which, views, hours in steps:
        post_id = world.posts[which]
        with session_scope() as session:
            post = session.get(Publication, post_id)
            earlier = session.exec(
                select(ViewSnapshot.id).where(ViewSnapshot.publication_id == post_id)
            ).all()
            try:
                if step == "api" and len(earlier) < fraud.TREND_READINGS:  # no trend yet
                    _api(session, post_id, views, at=post.published_at + hours * HOUR)
                elif step == "client":
                    publications.enter_counts(
                        session=session, actor=world.client, publication_id=post_id, views=views
                    )
                elif step == "report":
                    publications.enter_counts(
                        session=session, actor=world.clipper, publication_id=post_id, views=views
                    )
                    [waiting] = [
                        r
                        for r in publications.clip_performance(
                            session=session, actor=world.client, submission_id=world.submission_id
                        ).reports
                        if r.status == "waiting"
                    ]
                    publications.confirm_counts(
                        session=session, actor=world.client, report_id=waiting.id
                    )
                elif step in ("clear", "confirm"):
                    flag = fraud.open_flag_of(session, world.submission_id)
                    if flag is not None and step == "clear":
                        fraud.clear_flag(session=session, actor=world.admin, flag_id=flag.id)
                    elif flag is not None:
                        fraud.confirm_flag(
                            session=session, actor=world.admin, flag_id=flag.id, reason="bots"
                        )
            except InvalidInput:
                pass  # a post found not genuine takes no counts
    with session_scope() as session:
        bonuses = _bonuses(session, world.submission_id)
        flags = {
            flag.id: flag.publication_id
            for flag in session.exec(
                select(FraudFlag).where(col(FraudFlag.publication_id).in_(world.posts))
            ).all()
        }
        for bonus in bonuses:
            assert flags.get(bonus.held_by_flag_id) in world.posts, (bonus.details, flags)
    books_are_sound()
