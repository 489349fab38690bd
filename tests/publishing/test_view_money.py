"""Views become money (DESIGN §4-§5): readings are snapshots, CPM and bonuses follow them
exactly once in any order, a campaign's minimum views per post, spikes flag a clip and
hold only its new earnings, and an admin's decision releases or reverses them. On SQLite
and PostgreSQL, through the real services."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    Campaign,
    CampaignStatus,
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    Notification,
    Publication,
    PublicationStatus,
    Role,
    Tier,
    TransactionKind,
    User,
    ViewSnapshot,
    ViewSource,
    utcnow,
)
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.market import campaigns
from clipgen.services.money import holds, reports, tiers
from clipgen.services.money.ledger import account, balance, check_invariants
from clipgen.services.notification_kinds import Kind
from clipgen.services.publishing import fraud, publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.market import DRAFT, approved, live_campaign, quick_password_hashing
from tests.support.money import person, verified

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def admin(session: Session):
    return person(session, Role.ADMIN)


@pytest.fixture
def client(session: Session):
    return person(session, Role.CLIENT, "brand")


@pytest.fixture
def clipper(session: Session):
    return person(session, Role.CLIPPER, "ada")


def _live(session, admin, client, **terms):
    return live_campaign(session, admin, client, **terms)


def _post(session, clipper, submission_id: int, url: str) -> Publication:
    """A post its platform verified (verification itself: test_post_verification.py)."""
    return verified(
        session,
        publications.add_post_url(
            session=session, actor=clipper, submission_id=submission_id, url=url
        ),
    )


def _read(session, post: Publication, views: int, *, at=None, likes=None, comments=0):
    """A reading as the YouTube sync makes it (likes default to a healthy 4 %)."""
    likes = views // 25 if likes is None else likes
    return sync.record_reading(
        session,
        post.id,
        Counts(views, likes, comments),
        source=ViewSource.YOUTUBE_API,
        taken_at=at or utcnow(),
    )


def _earned(session, submission_id: int, kind: TransactionKind) -> int:
    """Gross cents of one kind booked for a submission, net of reversals."""
    rows = session.exec(
        select(LedgerTransaction).where(LedgerTransaction.submission_id == submission_id)
    ).all()
    by_id = {row.id: row for row in rows}
    total = 0
    for row in rows:
        if row.kind == kind:
            total += int(row.details["gross_cents"])
        elif row.kind == TransactionKind.FRAUD_REVERSAL and by_id[row.reversal_of].kind == kind:
            total -= int(row.details["gross_cents"])
    return total


def _pending(session, clipper) -> int:
    return balance(session, account(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id))


def _escrow(session, campaign_id: int) -> int:
    return balance(session, account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id))


# --- CPM and bonuses follow the views, once ---------------------------------------------


def test_bonus_thresholds_book_only_the_difference_exactly_once(
    session: Session, admin, client, clipper
) -> None:
    live = _live(session, admin, client, budget_cents=50_000)
    _claim, submission = approved(session, client, clipper, live)
    post = _post(
        session, clipper, submission.id, "https://www.tiktok.com/@ada/video/7312345678901234567"
    )
    start = utcnow() - 10 * DAY
    for day, views in enumerate([120_000, 120_000, 650_000, 1_200_000, 1_200_000]):
        _read(session, post, views, at=start + day * 7 * DAY / 10)
    # 20 % at 100k, then 50 % at 500k (30 more), then 100 % at 1M (50 more): the price once.
    assert _earned(session, submission.id, TransactionKind.BONUS) == 1000
    # 1.2M views: Platinum by views, kept on the user row too
    assert session.get(User, clipper.id).tier == Tier.PLATINUM
    bonus_rows = session.exec(
        select(LedgerTransaction).where(
            LedgerTransaction.submission_id == submission.id,
            LedgerTransaction.kind == TransactionKind.BONUS,
        )
    ).all()
    assert sorted(int(t.details["gross_cents"]) for t in bonus_rows) == [200, 300, 500]
    assert (
        len(session.exec(select(ViewSnapshot).where(ViewSnapshot.publication_id == post.id)).all())
        == 5
    )
    assert check_invariants(session).ok


def test_the_same_reading_twice_and_an_older_one_late_change_money_once(
    session: Session, admin, client, clipper
) -> None:
    live = _live(session, admin, client, cpm_cents=200, cpm_cap_cents=5_000, budget_cents=50_000)
    _claim, submission = approved(session, client, clipper, live)
    post = _post(session, clipper, submission.id, "https://youtu.be/AAAAAAAAAAA")
    now = utcnow()
    _read(session, post, 600_000, at=now)
    after_first = _pending(session, clipper)
    _read(session, post, 600_000, at=now)  # the sync ran twice
    _read(session, post, 150_000, at=now - DAY)  # an older reading arriving late
    assert _pending(session, clipper) == after_first
    # CPM: 600k views × $2 / 1000 = $1,200, capped at $50; bonus 50 % of $10 at 500k.
    assert _earned(session, submission.id, TransactionKind.CPM) == 5_000
    assert _earned(session, submission.id, TransactionKind.BONUS) == 500
    session.refresh(post)
    assert post.views == 600_000  # the late, older reading did not replace the newest
    assert (
        len(session.exec(select(ViewSnapshot).where(ViewSnapshot.publication_id == post.id)).all())
        == 3
    )
    assert check_invariants(session).ok


def test_cpm_counts_a_post_once_it_reaches_the_campaigns_minimum(
    session: Session, admin, client, clipper
) -> None:
    live = _live(
        session, admin, client, cpm_cents=100, cpm_cap_cents=10_000, min_views_per_post=10_000
    )
    _claim, submission = approved(session, client, clipper, live)
    small = _post(
        session, clipper, submission.id, "https://www.tiktok.com/@ada/video/7300000000000000009"
    )
    big = _post(session, clipper, submission.id, "https://www.youtube.com/shorts/BBBBBBBBBBB")
    start = utcnow() - 5 * DAY
    _read(session, small, 9_000, at=start)
    _read(session, big, 9_999, at=start)
    assert _earned(session, submission.id, TransactionKind.CPM) == 0
    _read(session, big, 30_000, at=start + DAY)
    # only the post past the minimum counts: 30,000 views × $1 / 1000
    assert _earned(session, submission.id, TransactionKind.CPM) == 3_000
    _read(session, small, 12_000, at=start + 2 * DAY)
    assert _earned(session, submission.id, TransactionKind.CPM) == 4_200


def test_a_minimum_needs_a_cpm(session: Session) -> None:
    with pytest.raises(InvalidInput, match="minimum of views per post"):
        campaigns.check_draft(replace(DRAFT, min_views_per_post=1000))
    with pytest.raises(InvalidInput, match="minimum views per post"):
        campaigns.check_draft(
            replace(DRAFT, cpm_cents=100, cpm_cap_cents=1000, min_views_per_post=-1)
        )


def test_views_that_spend_the_escrow_exhaust_and_complete_the_campaign(
    session: Session, admin, client, clipper
) -> None:
    live = _live(
        session,
        admin,
        client,
        price_per_clip_cents=1000,
        budget_cents=1500,
        max_clips=1,
        cpm_cents=1000,
        cpm_cap_cents=10_000,
    )
    _claim, submission = approved(session, client, clipper, live)
    post = _post(session, clipper, submission.id, "https://youtu.be/CCCCCCCCCCC")
    _read(session, post, 90_000)  # $900 of CPM wanted, $5 left in escrow
    assert _earned(session, submission.id, TransactionKind.CPM) == 500
    assert _escrow(session, live.id) == 0
    row = session.get(Campaign, live.id)
    assert row.is_exhausted and row.status == CampaignStatus.COMPLETED
    told = session.exec(select(Notification.kind).where(Notification.user_id == client.id)).all()
    assert Kind.CAMPAIGN_EXHAUSTED in told
    assert check_invariants(session).ok


# --- fraud flags ------------------------------------------------------------------------


def _trend(session, post, *, days: int = 4, per_day: int = 1_000, start=None):
    start = start or utcnow() - (days + 2) * DAY
    for day in range(days):
        _read(session, post, 1_000 + day * per_day, at=start + day * DAY)
    return start + (days - 1) * DAY


def test_a_spike_flags_the_clip_and_holds_only_its_new_earnings(
    session: Session, admin, client, clipper
) -> None:
    live = _live(session, admin, client, cpm_cents=100, cpm_cap_cents=100_000, budget_cents=100_000)
    _c1, spiky = approved(session, client, clipper, live)
    _c2, calm = approved(session, client, clipper, live)
    spiky_post = _post(session, clipper, spiky.id, "https://youtu.be/DDDDDDDDDDD")
    calm_post = _post(session, clipper, calm.id, "https://youtu.be/EEEEEEEEEEE")
    last = _trend(session, spiky_post)
    _trend(session, calm_post)
    before = _earned(session, spiky.id, TransactionKind.CPM)
    assert before == 400  # 4,000 views at $1 per 1,000

    _snap, booked, flagged = _read(session, spiky_post, 250_000, at=last + DAY)
    assert flagged
    flag = session.exec(select(FraudFlag).where(FraudFlag.publication_id == spiky_post.id)).one()
    assert flag.status == FlagStatus.OPEN and "jumped by 246,000" in flag.reason
    assert flag.evidence["views_before"] == 4_000 and flag.evidence["trend_per_day"] == 1_000
    assert booked and all(t.held_by_flag_id == flag.id for t in booked)
    # the calm clip's growth is neither flagged nor held
    _snap, calm_booked, calm_flagged = _read(session, calm_post, 5_000, at=last + DAY)
    assert not calm_flagged and calm_booked and calm_booked[0].held_by_flag_id is None

    # Long after every hold: everything is released except the flagged clip's new earnings.
    released = holds.release_matured_earnings(session=session, now=utcnow() + 30 * DAY)
    held_ids = {t.id for t in booked}
    released_of = set(
        session.exec(
            select(LedgerTransaction.release_of).where(
                col(LedgerTransaction.release_of).is_not(None)
            )
        ).all()
    )
    assert released and not (held_ids & released_of)
    assert all(t.id in released_of for t in calm_booked)
    admins_told = session.exec(
        select(Notification).where(
            Notification.user_id == admin.id, Notification.kind == Kind.FLAG_RAISED
        )
    ).all()
    assert len(admins_told) == 1
    # Further growth while the flag is open is held too, and raises no second flag.
    _snap, more, again = _read(session, spiky_post, 260_000, at=last + 2 * DAY)
    assert not again and all(t.held_by_flag_id == flag.id for t in more)
    assert check_invariants(session).ok


def test_confirming_a_flag_reverses_exactly_the_held_earnings(
    session: Session, admin, client, clipper
) -> None:
    live = _live(session, admin, client, cpm_cents=100, cpm_cap_cents=100_000, budget_cents=100_000)
    _claim, submission = approved(session, client, clipper, live)
    post = _post(session, clipper, submission.id, "https://youtu.be/FFFFFFFFFFF")
    last = _trend(session, post)
    pending_before, escrow_before = _pending(session, clipper), _escrow(session, live.id)
    revenue = account(session, AccountKind.PLATFORM_REVENUE)
    revenue_before = balance(session, revenue)
    _read(session, post, 250_000, at=last + DAY)  # CPM $250 and a 20 % bonus, held
    flag = session.exec(select(FraudFlag)).one()
    assert _pending(session, clipper) > pending_before

    with pytest.raises(InvalidInput, match="Say why"):
        fraud.confirm_flag(session=session, actor=admin, flag_id=flag.id, reason="  ")
    with pytest.raises(PermissionDenied):
        fraud.confirm_flag(session=session, actor=client, flag_id=flag.id, reason="bots")
    view = fraud.confirm_flag(
        session=session, actor=admin, flag_id=flag.id, reason="Views bought from a bot farm"
    )
    assert view.status == FlagStatus.CONFIRMED
    # Every held cent went back: clipper pending, platform revenue and escrow as before.
    assert _pending(session, clipper) == pending_before
    assert _escrow(session, live.id) == escrow_before
    assert balance(session, revenue) == revenue_before
    session.refresh(post)
    assert post.status == PublicationStatus.DISQUALIFIED and not post.earnings_held
    # The post counts for nothing any more: not for money, not for the tier.
    _read(session, post, 900_000, at=last + 3 * DAY)
    assert _pending(session, clipper) == pending_before
    assert tiers.clipper_standing(session, clipper.id).total_views == 0
    with pytest.raises(InvalidInput, match="already confirmed"):
        fraud.clear_flag(session=session, actor=admin, flag_id=flag.id)
    told = session.exec(
        select(Notification).where(
            Notification.user_id == clipper.id, Notification.kind == Kind.FLAG_CONFIRMED
        )
    ).one()
    assert "bot farm" in told.message
    statement = reports.clipper_statement(session=session, actor=clipper, per_page=100)
    reversal_lines = [line for line in statement.lines if line.kind == "fraud_reversal"]
    assert reversal_lines and all(line.amount_cents < 0 for line in reversal_lines)
    assert "views found not genuine (Views bought from a bot farm)" in reversal_lines[0].description
    assert check_invariants(session).ok


def test_honest_views_after_a_reversal_still_earn(session: Session, admin, client, clipper) -> None:
    live = _live(session, admin, client, cpm_cents=100, cpm_cap_cents=100_000, budget_cents=100_000)
    _claim, submission = approved(session, client, clipper, live)
    bought = _post(session, clipper, submission.id, "https://youtu.be/GGGGGGGGGGG")
    honest = _post(
        session, clipper, submission.id, "https://www.tiktok.com/@ada/video/7300000000000000001"
    )
    last = _trend(session, bought)
    _read(session, bought, 150_000, at=last + DAY)
    flag = session.exec(select(FraudFlag)).one()
    fraud.confirm_flag(session=session, actor=admin, flag_id=flag.id, reason="bots")
    assert _earned(session, submission.id, TransactionKind.BONUS) == 0
    # The same amounts as the reversed bookings come due honestly: they are booked.
    _trend(session, honest, days=3, per_day=50_000, start=last + 2 * DAY)
    _read(session, honest, 150_000, at=last + 6 * DAY, likes=6_000)
    assert _earned(session, submission.id, TransactionKind.BONUS) == 200
    # 150,000 counted views at $1 per 1,000 (the bought post counts for nothing now)
    assert _earned(session, submission.id, TransactionKind.CPM) == 15_000
    assert check_invariants(session).ok


def test_clearing_a_flag_releases_what_it_held(session: Session, admin, client, clipper) -> None:
    live = _live(session, admin, client, cpm_cents=100, cpm_cap_cents=100_000, budget_cents=100_000)
    _claim, submission = approved(session, client, clipper, live)
    post = _post(session, clipper, submission.id, "https://youtu.be/HHHHHHHHHHH")
    last = _trend(session, post)
    _snap, held, _flagged = _read(session, post, 250_000, at=last + DAY)
    flag = session.exec(select(FraudFlag)).one()
    # the hold passed: make the held earnings mature, then clear
    for row in held:
        row.release_at = utcnow() - DAY
        session.add(row)
    session.flush()
    assert holds.release_matured_earnings(session=session) >= 0
    available_before = balance(
        session, account(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id)
    )
    fraud.clear_flag(session=session, actor=admin, flag_id=flag.id, note="A real creator shared it")
    available_after = balance(
        session, account(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id)
    )
    assert available_after - available_before == sum(int(t.details["clipper_cents"]) for t in held)
    session.refresh(post)
    assert not post.earnings_held and post.status == PublicationStatus.LIVE
    with pytest.raises(InvalidInput, match="already cleared"):
        fraud.confirm_flag(session=session, actor=admin, flag_id=flag.id, reason="changed mind")
    with pytest.raises(NotFound):
        fraud.clear_flag(session=session, actor=admin, flag_id="999999999999")
    assert check_invariants(session).ok


def test_confirming_after_the_budget_was_returned_refunds_the_client(
    session: Session, admin, client, clipper
) -> None:
    live = _live(
        session,
        admin,
        client,
        cpm_cents=100,
        cpm_cap_cents=100_000,
        budget_cents=100_000,
        max_clips=1,
    )
    _claim, submission = approved(session, client, clipper, live)
    post = _post(session, clipper, submission.id, "https://youtu.be/IIIIIIIIIII")
    last = _trend(session, post)
    _snap, held, _ = _read(session, post, 250_000, at=last + DAY)
    assert session.get(Campaign, live.id).status == CampaignStatus.COMPLETED  # its one slot
    returned = campaigns.return_unspent_budget(session=session, actor=client, campaign_id=live.id)
    assert returned > 0 and _escrow(session, live.id) == 0
    wallet = account(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id)
    before = balance(session, wallet)
    flag = session.exec(select(FraudFlag)).one()
    fraud.confirm_flag(session=session, actor=admin, flag_id=flag.id, reason="bots")
    assert balance(session, wallet) - before == sum(int(t.details["gross_cents"]) for t in held)
    assert _escrow(session, live.id) == 0
    assert check_invariants(session).ok


@pytest.mark.parametrize(
    ("views", "likes", "comments", "known", "flagged"),
    [
        (10_000, 12_000, 0, True, True),  # more likes than views
        (80_000, 10, 2, True, True),  # 0.015 % engagement at 80k views
        (80_000, 0, 0, False, False),  # counted by hand without likes: unknown, not flagged
        (80_000, 3_000, 100, True, False),  # an audience
        (30_000, 0, 0, True, False),  # too few views to judge engagement
    ],
)
def test_implausible_engagement_flags(views, likes, comments, known, flagged) -> None:
    reading = fraud.Reading(utcnow(), views, likes, comments, engagement_known=known)
    assert (fraud.suspicion([], reading) is not None) == flagged


def test_a_young_post_or_steady_growth_is_not_a_spike() -> None:
    start = utcnow() - 10 * DAY
    first = fraud.Reading(start, 500, 20)
    assert fraud.suspicion([first], fraud.Reading(start + DAY, 200_000, 8_000)) is None
    steady = [fraud.Reading(start + n * DAY, n * 40_000, n * 1_600) for n in range(5)]
    assert fraud.suspicion(steady, fraud.Reading(start + 5 * DAY, 200_000 + 30_000, 9_000)) is None
    assert fraud.suspicion(steady, fraud.Reading(start + 5 * DAY, 160_000 + 450_000, 9_000))


# --- posts and counts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "platform", "external_id", "url"),
    [
        (
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        ),
        (
            "youtube.com/watch?v=dQw4w9WgXcQ&t=3",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        ),
        (
            "https://youtu.be/dQw4w9WgXcQ",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        ),
        (
            "https://m.tiktok.com/@clip.ada/video/7312345678901234567?lang=en",
            "tiktok",
            "7312345678901234567",
            "https://www.tiktok.com/@clip.ada/video/7312345678901234567",
        ),
        (
            "https://www.instagram.com/reels/C1a2B3c4D5e/",
            "instagram",
            "C1a2B3c4D5e",
            "https://www.instagram.com/reel/C1a2B3c4D5e/",
        ),
    ],
)
def test_post_addresses_are_recognised(text, platform, external_id, url) -> None:
    address = publications.parse_post_url(text)
    assert (address.platform, address.external_id, address.url) == (platform, external_id, url)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Paste the address"),
        ("https://www.youtube.com/channel/UC123", "names no video"),
        ("https://youtu.be/short", "names no video"),
        ("https://vm.tiktok.com/ZM8abc/", "short link"),
        ("https://www.tiktok.com/@ada", "names no video"),
        ("https://www.instagram.com/ada/", "names no post"),
        ("https://vimeo.com/123", "YouTube, TikTok or Instagram"),
        ("ftp://youtube.com/shorts/dQw4w9WgXcQ", "https://"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ extra", "not a post address"),
    ],
)
def test_bad_post_addresses_are_refused_in_words(text, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        publications.parse_post_url(text)


def test_who_may_add_posts_and_enter_counts(session: Session, admin, client, clipper) -> None:
    live = _live(session, admin, client)
    _claim, submission = approved(session, client, clipper, live)
    other = person(session, Role.CLIPPER, "bea")
    with pytest.raises(NotFound):
        _post(session, other, submission.id, "https://youtu.be/JJJJJJJJJJJ")
    with pytest.raises(
        InvalidInput, match="pays for posts on YouTube Shorts or TikTok, not Instagram"
    ):
        _post(session, clipper, submission.id, "https://www.instagram.com/reel/Cabcdef123/")
    post = _post(session, clipper, submission.id, "https://youtu.be/JJJJJJJJJJJ")
    assert (
        _post(session, clipper, submission.id, "https://www.youtube.com/shorts/JJJJJJJJJJJ").id
        == post.id
    )
    _c2, second = approved(session, client, other, live)
    with pytest.raises(InvalidInput, match="another clip"):
        _post(session, other, second.id, "https://youtu.be/JJJJJJJJJJJ")

    for bad, message in [
        ("", "Enter the views"),
        ("12k", "whole number"),
        ("-5", "whole number"),
        (10**13, "between 0"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            publications.enter_counts(
                session=session, actor=clipper, publication_id=post.id, views=bad
            )
    with pytest.raises(NotFound):
        publications.enter_counts(session=session, actor=other, publication_id=post.id, views="10")
    assert session.exec(select(ViewSnapshot)).all() == []
    publications.enter_counts(
        session=session,
        actor=client,
        publication_id=post.id,
        views="12,500",
        likes="400",
        comments="",
    )
    snap = session.exec(select(ViewSnapshot)).one()
    assert (snap.views, snap.likes, snap.source, snap.recorded_by) == (
        12_500,
        400,
        "manual",
        client.id,
    )
    shown = publications.clip_performance(
        session=session, actor=client, submission_id=submission.id
    )
    assert shown.viewer_role == "client" and shown.readings[0].entered_by == "Brand"
    with pytest.raises(NotFound):
        publications.clip_performance(session=session, actor=other, submission_id=submission.id)
