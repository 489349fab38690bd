"""A post earns only once it is verified (issue 19): the checks in words, what a verdict
does to the clip's money (a refused post's pending earnings are reversed, once; released
ones are left), hand counts where no platform can be asked, and the invariant on
PostgreSQL that no sequence of adds, verdicts, readings and hand entries pays for an
unverified post."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    Campaign,
    Clip,
    LedgerTransaction,
    MarketJob,
    Notification,
    Platform,
    Publication,
    Role,
    Submission,
    TransactionKind,
    Verification,
    ViewSource,
    utcnow,
)
from clipgen.services import tasks
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.money import holds
from clipgen.services.money.ledger import account, balance
from clipgen.services.notification_kinds import Kind
from clipgen.services.publishing import publications, sync, verification
from clipgen.services.publishing.verification import Expected, PostFacts
from tests.publishing.test_platform_connections import _connect as connect
from tests.support import fake_instagram as instagram_support
from tests.support import fake_tiktok as tiktok_support
from tests.support.concurrency import books_are_sound, race
from tests.support.fake_instagram import FakeInstagram
from tests.support.fake_tiktok import FakeTikTok
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import person

CLAIMED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_videos = itertools.count(7_400_000_000_000_000_000)


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Messages for the workers, kept here (no broker in these tests)."""
    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages


def _expected(**changes) -> Expected:
    base = {
        "platform": "youtube",
        "account_id": "UC-ada",
        "claimed_at": CLAIMED,
        "clip_duration_s": 30.0,
        "required": ("#podcast", "@brand"),
    }
    return Expected(**{**base, **changes})


def _facts(**changes) -> PostFacts:
    base = {
        "account_id": "UC-ada",
        "published_at": CLAIMED + timedelta(hours=3),
        "duration_s": 30.9,
        "text": "The best bit #podcast with @brand",
        "views": 1_000,
    }
    return PostFacts(**{**base, **changes})


# --- the checks, in words ---------------------------------------------------------------


def test_a_post_that_passes_every_check_is_verified() -> None:
    assert verification.judge(_facts(), _expected()) == []


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        (
            {"account_id": "UC-someone-else"},
            "another YouTube Shorts account than the one you connected",
        ),
        ({"published_at": CLAIMED - timedelta(days=2)}, "before you claimed this campaign"),
        ({"duration_s": 45.0}, "It is 45.0 s long; the approved clip is 30.0 s."),
        ({"duration_s": 28.4}, "It is 28.4 s long"),
        ({"text": "The best bit #podcasting"}, "lacks #podcast, @brand, which the campaign"),
        ({"text": "#podcast by @brandnew"}, "lacks @brand"),
        ({"is_video": False}, "It is a photo, not a video of the clip."),
    ],
)
def test_each_failed_check_says_what_failed(facts: dict, words: str) -> None:
    reasons = verification.judge(_facts(**facts), _expected())
    assert len(reasons) == 1 and words in reasons[0]


def test_every_failed_check_is_listed_and_tolerances_hold() -> None:
    reasons = verification.judge(
        _facts(account_id="UC-x", published_at=CLAIMED - timedelta(seconds=61), text=""),
        _expected(),
    )
    assert len(reasons) == 3
    assert verification.judge(_facts(duration_s=31.5), _expected()) == []  # within 1.5 s
    early = CLAIMED - timedelta(seconds=30)  # whole seconds, another clock
    assert verification.judge(_facts(published_at=early), _expected()) == []
    assert verification.judge(_facts(duration_s=None), _expected()) == []  # Instagram
    assert verification.judge(_facts(text="#PODCAST @Brand."), _expected()) == []


@given(tag=st.from_regex(r"[#@][a-z][a-z0-9_]{0,15}", fullmatch=True), tail=st.text("abc_1"))
def test_a_tag_is_carried_only_as_a_whole_tag(tag: str, tail: str) -> None:
    assert verification.carries(f"clip {tag} end", tag)
    assert verification.carries(f"{tag.upper()}", tag)
    assert not verification.carries(f"clip {tag}{tail}x end", tag)
    assert not verification.carries(f"clip x{tag} end", tag)


# --- verdicts and money ---------------------------------------------------------------------


def _world(session: Session, *, hashtags: str = "#podcast"):
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    clipper = person(session, Role.CLIPPER, "ada")
    live = live_campaign(
        session, admin, client, cpm_cents=500, cpm_cap_cents=50_000, budget_cents=100_000
    )
    _claim, submission = approved(session, client, clipper, live)
    campaign = session.get(Campaign, live.id)
    campaign.hashtags = hashtags  # required of posts (`approved` submits without them)
    session.add(campaign)
    job = session.get(MarketJob, session.get(Submission, submission.id).job_id)
    job.claimed_at = CLAIMED
    session.add(job)
    post = publications.add_post_url(
        session=session,
        actor=clipper,
        submission_id=submission.id,
        url=f"https://www.tiktok.com/@ada/video/{next(_videos)}",
    )
    return admin, client, clipper, submission, post


def _view_money(session: Session, submission_id: int) -> int:
    """Gross cents the clip holds from views: CPM and bonus, net of reversals."""
    session.expire_all()
    rows = session.exec(
        select(LedgerTransaction).where(
            LedgerTransaction.submission_id == submission_id,
            LedgerTransaction.kind.in_(  # type: ignore[attr-defined]
                [TransactionKind.CPM, TransactionKind.BONUS, TransactionKind.FRAUD_REVERSAL]
            ),
        )
    ).all()
    sign = {TransactionKind.FRAUD_REVERSAL: -1}
    return sum(sign.get(r.kind, 1) * int(r.details.get("gross_cents", 0)) for r in rows)


def _tiktok_facts(views: int, **changes) -> PostFacts:
    return _facts(
        **{"account_id": "", "text": "clip #podcast", "duration_s": None, **changes}, views=views
    )


def _read(session: Session, post: Publication, views: int) -> None:
    sync.record_reading(
        session, post.id, sync.Counts(views, views // 25, views // 200), source=ViewSource.MANUAL
    )


def test_an_unverified_posts_views_earn_nothing_until_it_is_verified(session: Session) -> None:
    _admin, _client, _clipper, submission, post = _world(session)
    # No TikTok app on this server: the post says it cannot be checked, and earns nothing.
    assert post.verification == Verification.UNAVAILABLE
    _read(session, post, 40_000)
    assert _view_money(session, submission.id) == 0
    assert sync.judge_post(session, post.id, _tiktok_facts(40_000), by="tiktok") == "verified"
    sync.settle_submission(session, submission.id)
    assert _view_money(session, submission.id) == 20_000  # 40,000 views at $5 CPM
    told = session.exec(select(Notification).where(Notification.kind == Kind.POST_VERIFIED))
    assert "its views now earn" in told.one().message


def test_a_refused_post_says_why_earns_nothing_and_can_be_checked_again(
    session: Session, sent: list
) -> None:
    _admin, client, clipper, submission, post = _world(session)
    facts = _tiktok_facts(40_000, text="no tags", published_at=CLAIMED - timedelta(hours=1))
    assert sync.judge_post(session, post.id, facts, by="tiktok") == "refused"
    session.refresh(post)
    assert (
        "before you claimed" in post.verification_note
        and "lacks #podcast" in post.verification_note
    )
    told = session.exec(select(Notification).where(Notification.kind == Kind.POST_REFUSED)).one()
    assert "Check again" in told.message and "lacks #podcast" in told.message
    performance = publications.clip_performance(
        session=session, actor=clipper, submission_id=submission.id
    )
    [shown] = performance.posts
    assert shown.verification == "refused" and shown.can_check_again
    # Counts for it are refused, in words, and nothing changes.
    with pytest.raises(InvalidInput, match="That post was not verified: It was published"):
        publications.enter_counts(
            session=session, actor=client, publication_id=post.id, views="40,000"
        )
    assert _view_money(session, submission.id) == 0
    # Only its clipper asks again; then it waits, and a worker is asked to check it.
    with pytest.raises(PermissionDenied):
        publications.check_again(session=session, actor=client, publication_id=post.id)
    stranger = person(session, Role.CLIPPER, "eve")
    with pytest.raises(NotFound):
        publications.check_again(session=session, actor=stranger, publication_id=post.id)
    publications.check_again(session=session, actor=clipper, publication_id=post.id)
    session.commit()
    # TikTok cannot be asked on this server: the post says so, and no worker is sent.
    asked_again = session.get(Publication, post.id)
    assert asked_again.verification == Verification.UNAVAILABLE
    assert "the campaign's client checks this post" in asked_again.verification_note
    assert ("verify_post", {"publication_id": post.id}) not in sent
    assert sync.judge_post(session, post.id, _tiktok_facts(40_000), by="tiktok") == "verified"


def test_refusing_a_post_that_earned_reverses_its_pending_earnings_once(
    session: Session,
) -> None:
    """Existing posts start pending (the migration); one that earned before and is then
    refused has its pending view earnings reversed, the clip's other verified post keeps
    earning, and an earning already released to the clipper is left."""
    _admin, _client, clipper, submission, post = _world(session)
    other = publications.add_post_url(
        session=session,
        actor=clipper,
        submission_id=submission.id,
        url=f"https://www.tiktok.com/@ada/video/{next(_videos)}",
    )
    sync.judge_post(session, other.id, _tiktok_facts(10_000), by="tiktok")
    _read(session, other, 10_000)
    # The legacy post earned under the old rules: pretend it was verified when it did.
    post.verification = Verification.VERIFIED
    session.add(post)
    _read(session, post, 30_000)
    assert _view_money(session, submission.id) == 20_000  # 40,000 views
    pending = account(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id)
    before = balance(session, pending)
    post.verification = Verification.PENDING  # what the migration does
    session.add(post)
    session.flush()
    sync.judge_post(session, post.id, None, by="tiktok")  # not on the clipper's account
    assert _view_money(session, submission.id) == 5_000  # the other post's 10,000 views
    assert balance(session, pending) < before
    told = session.exec(select(Notification).where(Notification.kind == Kind.POST_REFUSED)).one()
    assert "of pending earnings from it were reversed" in told.message
    # Judged again (a second worker): nothing more moves.
    sync.judge_post(session, post.id, None, by="tiktok")
    assert _view_money(session, submission.id) == 5_000
    books_are_sound_here(session)


def test_released_earnings_are_left_when_a_post_is_refused(session: Session) -> None:
    _admin, _client, clipper, submission, post = _world(session)
    post.verification = Verification.VERIFIED
    session.add(post)
    _read(session, post, 30_000)
    later = utcnow() + timedelta(days=60)
    assert holds.release_matured_earnings(session=session, now=later) >= 1
    post.verification = Verification.PENDING
    session.add(post)
    session.flush()
    sync.judge_post(session, post.id, None, by="tiktok")
    released_cpm = 15_000  # 30,000 views at $5 CPM, already the clipper's
    assert _view_money(session, submission.id) == released_cpm
    # The reversed earning is never released afterwards either.
    assert holds.release_matured_earnings(session=session, now=later) == 0
    books_are_sound_here(session)


def books_are_sound_here(session: Session) -> None:
    from clipgen.services.money.ledger import check_invariants

    session.flush()
    report = check_invariants(session)
    assert report.ok, report


def test_where_no_platform_can_be_asked_the_clients_word_verifies_the_post(
    session: Session,
) -> None:
    """The embedded default (no TikTok app set up): the post cannot be verified by TikTok,
    the page says so, and counts the client enters or confirms verify it."""
    _admin, client, clipper, submission, post = _world(session)
    session.commit()
    assert sync.run_view_sync().unread == 1
    session.expire_all()
    post = session.get(Publication, post.id)
    assert post.verification == Verification.UNAVAILABLE
    assert "the campaign's client checks this post" in post.verification_note
    entered = publications.enter_counts(
        session=session, actor=clipper, publication_id=post.id, views="40,000"
    )
    assert entered.waiting and _view_money(session, submission.id) == 0
    publications.enter_counts(session=session, actor=client, publication_id=post.id, views="40000")
    session.refresh(post)
    assert (post.verification, post.verified_by) == (Verification.VERIFIED, "client")
    assert _view_money(session, submission.id) == 20_000


# --- PostgreSQL: races and any sequence ---------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_refusal_racing_readings_leaves_no_money_for_the_refused_post(
    database_url: str,
) -> None:
    with session_scope() as session:
        _admin, _client, _clipper, submission, post = _world(session)
        post.verification = Verification.VERIFIED
        session.add(post)
        post_id, submission_id = post.id, submission.id

    def work(session: Session, n: int):
        if n == 0:
            session.get(Publication, post_id).verification = Verification.PENDING
            session.flush()
            return sync.judge_post(session, post_id, None, by="tiktok")
        return sync.record_reading(
            session, post_id, sync.Counts(10_000 * n, 400 * n, 50 * n), source=ViewSource.MANUAL
        )

    outcomes = race(6, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with session_scope() as session:
        assert session.get(Publication, post_id).verification == Verification.REFUSED
        assert _view_money(session, submission_id) == 0
    books_are_sound()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_release_racing_a_refusal_moves_every_cent_once(database_url: str) -> None:
    with session_scope() as session:
        _admin, _client, _clipper, submission, post = _world(session)
        post.verification = Verification.VERIFIED
        session.add(post)
        session.flush()
        _read(session, post, 30_000)
        post.verification = Verification.PENDING
        session.add(post)
        post_id, submission_id = post.id, submission.id
    later = utcnow() + timedelta(days=60)

    def work(session: Session, n: int):
        if n == 0:
            return sync.judge_post(session, post_id, None, by="tiktok")
        return holds.release_matured_earnings(session=session, now=later)

    outcomes = race(2, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with session_scope() as session:
        cpm = session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.submission_id == submission_id,
                LedgerTransaction.kind == TransactionKind.CPM,
            )
        ).one()
        released = session.exec(
            select(LedgerTransaction).where(LedgerTransaction.release_of == cpm.id)
        ).all()
        reversed_ = session.exec(
            select(LedgerTransaction).where(LedgerTransaction.reversal_of == cpm.id)
        ).all()
        # Released first (the clipper keeps it) or reversed first (nobody does): never both.
        assert len(released) + len(reversed_) == 1
        assert (_view_money(session, submission_id) > 0) == bool(released)
    books_are_sound()


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("verify"), st.integers(0, 2)),
        st.tuples(st.just("refuse"), st.integers(0, 2)),
        st.tuples(st.just("again"), st.integers(0, 2)),
        st.tuples(st.just("read"), st.integers(0, 2), st.integers(0, 1_500_000)),
        st.tuples(st.just("enter"), st.integers(0, 2), st.integers(0, 1_500_000)),
        st.tuples(st.just("report"), st.integers(0, 2), st.integers(0, 1_500_000)),
        st.tuples(st.just("confirm"), st.integers(0, 2)),
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_no_sequence_pays_for_an_unverified_post(database_url: str, steps) -> None:
    """Three posts of one clip; whatever is added, judged, read, entered or confirmed, the
    clip's view money is at most what its verified posts' views ever earned, and nothing
    while none is verified; the books stay sound."""
    with session_scope() as session:
        _admin, client, clipper, submission, first = _world(session)
        posts = [first.id] + [
            publications.add_post_url(
                session=session,
                actor=clipper,
                submission_id=submission.id,
                url=f"https://www.tiktok.com/@ada/video/{next(_videos)}",
            ).id
            for _ in range(2)
        ]
        submission_id = submission.id
    best_verified = 0  # the most the clip's verified posts ever showed together
    for step in steps:
        kind, which = step[0], posts[step[1]]
        with session_scope() as session:
            try:
                if kind == "verify":
                    sync.judge_post(session, which, _tiktok_facts(0), by="tiktok")
                elif kind == "refuse":
                    sync.judge_post(session, which, None, by="tiktok")
                elif kind == "again":
                    publications.check_again(session=session, actor=clipper, publication_id=which)
                elif kind == "read":
                    if session.get(Publication, which).verification == Verification.VERIFIED:
                        _read(session, session.get(Publication, which), step[2])
                elif kind in ("enter", "report"):
                    actor = client if kind == "enter" else clipper
                    publications.enter_counts(
                        session=session, actor=actor, publication_id=which, views=step[2]
                    )
                else:
                    from clipgen.models import CountReport, ReportStatus

                    waiting = session.exec(
                        select(CountReport).where(
                            CountReport.publication_id == which,
                            CountReport.status == ReportStatus.WAITING,
                        )
                    ).first()
                    if waiting is not None:
                        publications.confirm_counts(
                            session=session, actor=client, report_id=waiting.id
                        )
            except InvalidInput:
                pass  # refused in words, and nothing changed
        with session_scope() as session:
            verified = session.exec(
                select(Publication.views).where(
                    Publication.submission_id == submission_id,
                    Publication.verification == Verification.VERIFIED,
                )
            ).all()
            best_verified = max(best_verified, sum(verified))
            money = _view_money(session, submission_id)
            cpm_cap = session.get(
                Campaign,
                session.get(MarketJob, session.get(Submission, submission_id).job_id).campaign_id,
            )
            most = best_verified * cpm_cap.cpm_cents // 1000 + cpm_cap.price_per_clip_cents
            assert money <= most, (step, money, best_verified)
            if not verified and best_verified == 0:
                assert money == 0
    books_are_sound()


# --- TikTok and Instagram through their fakes ---------------------------------------------

fake_tiktok = tiktok_support.fake_tiktok
fake_instagram = instagram_support.fake_instagram


def _connected_world(session: Session, platform: Platform):
    admin, client, clipper, submission, first = _world(session)
    session.delete(first)  # this test adds its own posts
    campaign = session.get(Campaign, session.get(MarketJob, submission.job_id).campaign_id)
    campaign.platforms = ["tiktok", "instagram"]
    session.add(campaign)
    session.commit()
    connect(session, clipper, platform)
    clip = session.get(Clip, session.get(Submission, submission.id).clip_id)
    return client, clipper, submission, clip.end_s - clip.start_s


def _add(session: Session, clipper, submission, url: str) -> int:
    post_id = publications.add_post_url(
        session=session, actor=clipper, submission_id=submission.id, url=url
    ).id
    session.commit()
    return post_id


def test_tiktok_posts_are_verified_by_the_connected_account_and_read_in_batches(
    session: Session, fake_tiktok: FakeTikTok, sent: list
) -> None:
    _client, clipper, submission, length = _connected_world(session, Platform.TIKTOK)
    now = int(utcnow().timestamp())
    fake_tiktok.add_video(
        "7301234567890123456",
        create_time=now,
        duration=round(length),
        description="#podcast",
        views=1_000,
        likes=50,
    )
    fake_tiktok.add_user("open-id-bob", "Bob")
    fake_tiktok.add_video(
        "7309999999999999999",
        owner="open-id-bob",
        create_time=now,
        duration=round(length),
        description="#podcast",
        views=5_000_000,
    )
    own = _add(session, clipper, submission, "https://www.tiktok.com/@a/video/7301234567890123456")
    theirs = _add(
        session, clipper, submission, "https://www.tiktok.com/@b/video/7309999999999999999"
    )
    assert ("verify_post", {"publication_id": own}) in sent
    run = sync.run_view_sync()
    assert (run.verified, run.refused, run.snapshots) == (1, 1, 1)
    assert run.calls_by_platform == {"tiktok": 1}  # both ids in one video query
    fake_tiktok.videos["7301234567890123456"].views = 120_000
    run = sync.run_view_sync()
    assert (run.snapshots, run.calls_by_platform) == (1, {"tiktok": 1})
    session.expire_all()
    assert session.get(Publication, own).views == 120_000
    assert session.get(Publication, theirs).views == 0
    assert _view_money(session, submission.id) > 0


def test_a_tiktok_rate_limit_stops_tiktok_for_the_run_and_keeps_its_retry_time(
    session: Session, fake_tiktok: FakeTikTok
) -> None:
    _client, clipper, submission, length = _connected_world(session, Platform.TIKTOK)
    fake_tiktok.add_video(
        "7301234567890123456",
        create_time=int(utcnow().timestamp()),
        duration=round(length),
        description="#podcast",
        views=1_000,
    )
    post = _add(session, clipper, submission, "https://www.tiktok.com/@a/video/7301234567890123456")
    fake_tiktok.fail_next("/v2/video/query/", 429, "rate_limit_exceeded")
    run = sync.run_view_sync()
    assert run.error.startswith("TikTok:") and run.retry_at is not None
    session.expire_all()
    assert session.get(Publication, post).verification == Verification.PENDING
    assert sync.run_view_sync().verified == 1  # the next run goes on


def test_an_instagram_reel_is_found_among_the_accounts_media_and_its_insights_read(
    session: Session, fake_instagram: FakeInstagram
) -> None:
    _client, clipper, submission, _length = _connected_world(session, Platform.INSTAGRAM)
    reel = fake_instagram.add_media(
        timestamp=utcnow(), caption="Best bit #podcast", insights={"views": 4_000, "likes": 200}
    )
    photo = fake_instagram.add_media(
        timestamp=utcnow(), caption="#podcast", media_product_type="FEED", media_type="IMAGE"
    )
    own = _add(session, clipper, submission, reel.permalink)
    still = _add(session, clipper, submission, photo.permalink)
    run = sync.run_view_sync()
    assert (run.verified, run.refused, run.snapshots) == (1, 1, 1)
    assert run.calls_by_platform["instagram"] >= 3
    session.expire_all()
    post = session.get(Publication, own)
    assert (post.verified_by, post.platform_ref, post.views) == ("instagram", reel.id, 4_000)
    assert "a photo, not a video" in session.get(Publication, still).verification_note
