"""Verified posts in Chromium, against the local fake of TikTok (issue 19): a clipper connects
TikTok through the fake consent page, adds another account's post (refused, the reason on
the page, and it earns nothing), adds their own (verified by TikTok, its first views read);
the admin runs the sync, which reads 120,000 views, and the 20 % bonus is on the clip's
statement."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import running_app
from tests.browser.test_accounts import PASSWORD, _sign_in
from tests.browser.test_publishing import _seed, _shoot
from tests.support.fake_tiktok import FakeTikTok

pytestmark = pytest.mark.browser

OWN = "7301234567890123456"
THEIRS = "7309999999999999999"


@pytest.fixture(scope="module")
def tiktok() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        yield fake


@pytest.fixture(scope="module")
def app_url(app_data_dir: Path, app_database_url: str, tiktok: FakeTikTok) -> Iterator[str]:
    """The app on its embedded defaults, with TikTok pointed at the fake."""
    with running_app(app_data_dir, DATABASE_URL=app_database_url, **tiktok.settings_env()) as url:
        yield url


def _clip_length(database_url: str, submission_id: int) -> float:
    """How long the approved clip is (Ada's TikTok post of it must be as long)."""
    from sqlmodel import Session, create_engine

    from clipgen.models import Clip, Submission

    engine = create_engine(database_url)
    with Session(engine) as session:
        clip = session.get(Clip, session.get(Submission, submission_id).clip_id)
        length = clip.end_s - clip.start_s
    engine.dispose()
    return length


def _row(page: Page, video_id: str):
    """The post's row, found by its link."""
    return page.get_by_test_id("post-row").filter(has=page.locator(f'a[href$="/{video_id}"]'))


def test_connect_tiktok_a_refused_post_a_verified_one_and_the_synced_bonus(
    page: Page,
    second_page: Page,
    app_url: str,
    app_database_url: str,
    app_data_dir: Path,
    tiktok: FakeTikTok,
) -> None:
    seeded = _seed(app_database_url, app_data_dir)  # the publishing test's: #spring required
    length = _clip_length(app_database_url, seeded.submission_id)
    clipper, admin = page, second_page
    performance_path = f"/performance/{seeded.submission_id}"
    now = int(time.time())
    tiktok.add_video(
        OWN,
        create_time=now,
        duration=round(length),
        description="Best bit #spring",
        views=1_000,
        likes=60,
        comments=4,
    )
    tiktok.add_user("open-id-bob", "Bob Viral")
    tiktok.add_video(
        THEIRS,
        owner="open-id-bob",
        create_time=now,
        duration=round(length),
        description="#spring",
        views=5_000_000,
        likes=300_000,
    )

    # Connect TikTok: Account, the consent page (the fake agrees), back to Account.
    _sign_in(clipper, app_url, seeded.emails.clipper, PASSWORD)
    expect(clipper).to_have_url(re.compile(r"/dashboard$"), timeout=30_000)  # the first event
    clipper.goto(f"{app_url}/account")
    card = clipper.get_by_test_id("tiktok-card")
    card.get_by_test_id("tiktok-connect").click()
    expect(clipper).to_have_url(re.compile(r"/account$"))
    expect(card.get_by_test_id("tiktok-account")).to_have_text("Alice Clips")
    consent = tiktok.authorizations[-1]
    assert consent["redirect_uri"] == f"{app_url}/account/tiktok/callback"
    assert consent["code_challenge_method"] == "S256"
    _shoot(clipper, "account-tiktok-connected", card)

    # Another account's post: TikTok does not show it on Ada's account, so it is refused.
    clipper.goto(f"{app_url}{performance_path}")
    clipper.get_by_test_id("post-url").fill(f"https://www.tiktok.com/@bob/video/{THEIRS}")
    clipper.get_by_test_id("add-post").click()
    theirs = _row(clipper, THEIRS)
    expect(theirs.get_by_test_id("post-state")).to_have_text("Not verified", timeout=30_000)
    expect(theirs.get_by_test_id("post-note")).to_contain_text(
        "TikTok does not show this post on the account you connected"
    )
    expect(theirs.get_by_test_id("post-check-again")).to_be_visible()
    expect(theirs.get_by_test_id("post-views")).to_have_text("0")
    expect(theirs.get_by_test_id("post-read-how")).to_have_text("Not read: not verified")

    # Ada's own post: verified by TikTok, and its views read at once.
    clipper.get_by_test_id("post-url").fill(f"https://www.tiktok.com/@alice/video/{OWN}")
    clipper.get_by_test_id("add-post").click()
    own = _row(clipper, OWN)
    expect(own.get_by_test_id("post-verified")).to_have_text("Verified by TikTok", timeout=30_000)
    expect(own.get_by_test_id("post-views")).to_have_text("1,000")
    expect(own.get_by_test_id("post-read-how")).to_have_text("Read from TikTok daily")
    expect(clipper.get_by_test_id("counted-views")).to_have_text("1,000")
    _shoot(clipper, "performance-verified-and-refused")

    # The admin runs the sync; TikTok now shows 120,000 views.
    tiktok.videos[OWN].views, tiktok.videos[OWN].likes = 120_000, 6_000
    _sign_in(admin, app_url, seeded.emails.admin, PASSWORD)
    expect(admin).to_have_url(re.compile(r"/dashboard$"))
    admin.goto(f"{app_url}/admin/flags")
    rows = admin.get_by_test_id("sync-run-row")
    # The post checks above wrote runs of their own: wait for the admin's to be listed on
    # top, and done, before reading it.
    expect(rows.first).to_be_visible(timeout=30_000)
    before = rows.count()
    assert before < 10, "the page lists the last 10 runs: the new one must add a row"
    admin.get_by_test_id("sync-now").click()
    run = rows.first
    for _ in range(90):  # the sync runs on the in-process worker (slow on a loaded machine)
        admin.get_by_test_id("flags-refresh").click()
        admin.wait_for_timeout(2_000)
        if rows.count() > before and "Running" not in run.inner_text():
            break
    expect(run).to_contain_text("TikTok 1")  # one video query for Ada's verified post
    _shoot(admin, "admin-sync-run", run)
    for _ in range(10):  # the sync runs on the in-process worker
        clipper.goto(f"{app_url}{performance_path}")
        if own.get_by_test_id("post-views").inner_text() == "120,000":
            break
        clipper.wait_for_timeout(2_000)
    expect(own.get_by_test_id("post-views")).to_have_text("120,000")
    expect(theirs.get_by_test_id("post-views")).to_have_text("0")
    expect(clipper.get_by_test_id("counted-views")).to_have_text("120,000")
    expect(clipper.get_by_test_id("earning-label")).to_contain_text(
        ["Performance bonus: 20% at 100,000 views"]
    )
    _shoot(clipper, "performance-tiktok-synced")
