"""Publishing in Chromium, against the local fake of Google: a clipper with an approved clip
opens its performance page from the claim, adds a TikTok post by address (a bad address
first), types counts past 100,000 views, which wait for the client (nothing is booked yet),
and attaches a screenshot of them (a broken file first); connects their YouTube channel
through Google's consent and back and uploads the clip. The client opens the same page from
Reviews, checks the post and the screenshot beside the count (a decline without a reason is
refused), confirms it, and sees the bonus, gross only; the clipper then sees the count
confirmed and the bonus there and on Earnings, and disconnects YouTube."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import running_app
from tests.browser.test_accounts import PASSWORD, _email, _sign_in, _sign_out
from tests.support.fake_youtube import FakeYouTube

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
TIKTOK = "https://www.tiktok.com/@ada.clips/video/7301234567890123456"
UPLOAD_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def google() -> Iterator[FakeYouTube]:
    with FakeYouTube(channel_title="Ada Clips Channel") as fake:
        yield fake


@pytest.fixture(scope="module")
def app_url(app_data_dir: Path, app_database_url: str, google: FakeYouTube) -> Iterator[str]:
    """The app on its embedded defaults, with YouTube pointed at the fake of Google."""
    with running_app(app_data_dir, DATABASE_URL=app_database_url, **google.settings_env()) as url:
        yield url


def _seed(database_url: str, data_dir: Path) -> SimpleNamespace:
    """Brand Co's live campaign (YouTube or TikTok, $10 a clip) and Ada's approved clip,
    made through the real services in the app's database; the clip's file in its storage."""
    from sqlmodel import Session, create_engine, select

    from clipgen.models import Clip, Role
    from clipgen.services.auth import service as auth
    from clipgen.storage import LocalStorage
    from tests.support.market import approved, live_campaign

    emails = SimpleNamespace(admin=_email("root"), client=_email("brand"), clipper=_email("ada"))
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        admin = auth.create_admin(session=session, email=emails.admin, password=PASSWORD)
        client = auth.register(
            session=session,
            email=emails.client,
            display_name="Brand Co",
            password=PASSWORD,
            role=Role.CLIENT,
        )
        clipper = auth.register(
            session=session,
            email=emails.clipper,
            display_name="Ada Clips",
            password=PASSWORD,
            role=Role.CLIPPER,
        )
        campaign = live_campaign(session, admin, client, title="Spring launch", hashtags="#spring")
        claim, submission = approved(session, client, clipper, campaign)
        clip = session.exec(select(Clip).where(Clip.owner_id == clipper.id)).one()
        session.commit()
    engine.dispose()
    source = data_dir / "clip-to-upload.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(700_000))  # ~3 upload chunks
    LocalStorage(data_dir / "files").put_file(clip.video_key, source)
    return SimpleNamespace(emails=emails, claim_id=claim.id, submission_id=submission.id)


def _screenshot() -> bytes:
    """A picture standing in for a phone's screenshot of the post's counts."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (90, 160), (20, 20, 20)).save(out, format="PNG")
    return out.getvalue()


def _shoot(page: Page, name: str, locator=None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # let toasts and fonts settle
    if locator is not None:
        locator.screenshot(path=str(SHOTS / f"{name}.png"))
    else:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_post_count_bonus_connect_upload_and_the_clients_view(
    page: Page,
    second_page: Page,
    app_url: str,
    app_database_url: str,
    app_data_dir: Path,
    google: FakeYouTube,
) -> None:
    seeded = _seed(app_database_url, app_data_dir)
    clipper, client = page, second_page
    performance_path = f"/performance/{seeded.submission_id}"

    # From the approved claim to the clip's performance page.
    _sign_in(clipper, app_url, seeded.emails.clipper, PASSWORD)
    expect(clipper).to_have_url(re.compile(r"/dashboard$"))
    clipper.goto(f"{app_url}/work/{seeded.claim_id}")
    expect(clipper.get_by_test_id("claim-approved")).to_be_visible()
    clipper.get_by_test_id("claim-performance-link").click()
    expect(clipper).to_have_url(re.compile(re.escape(performance_path) + "$"))
    expect(clipper.get_by_test_id("page-title")).to_have_text("The best bit")
    expect(clipper.get_by_test_id("performance-campaign")).to_contain_text("Spring launch")
    expect(clipper.get_by_test_id("posts-empty")).to_be_visible()
    expect(clipper.get_by_test_id("earning-label")).to_have_text(["Approval"])
    expect(clipper.get_by_test_id("connect-youtube-link")).to_be_visible()

    # A bad address gets the service's words; a TikTok post is added.
    clipper.get_by_test_id("post-url").fill("https://example.com/my-video")
    clipper.get_by_test_id("add-post").click()
    expect(clipper.get_by_test_id("post-error")).to_have_text(
        "Posts are added from YouTube, TikTok or Instagram."
    )
    expect(clipper.get_by_test_id("post-row")).to_have_count(0)
    clipper.get_by_test_id("post-url").fill(TIKTOK)
    clipper.get_by_test_id("add-post").click()
    tiktok = clipper.locator("[data-testid=post-row][data-platform=tiktok]")
    expect(tiktok).to_have_count(1)
    expect(clipper.get_by_test_id("post-error")).to_have_count(0)
    expect(clipper.get_by_test_id("post-url")).to_have_value("")
    expect(tiktok.get_by_test_id("post-read-how")).to_have_text("Counts entered by hand")
    expect(tiktok.get_by_test_id("post-link")).to_have_attribute("href", TIKTOK)
    expect(tiktok.get_by_test_id("post-link")).to_have_attribute("target", "_blank")

    # Counts by hand: bad ones first, then 120,000 views, which would cross the 100,000
    # bonus: typed by the clipper they wait for the client, and nothing is booked yet.
    expect(clipper.get_by_test_id("reports-section")).to_have_count(0)
    counts = clipper.locator("[data-testid=counts-form][data-platform=tiktok]")
    counts.get_by_test_id("counts-views").fill("lots")
    counts.get_by_test_id("counts-submit").click()
    expect(counts.get_by_test_id("counts-error")).to_have_text(
        "Views is a whole number, such as 120,000."
    )
    counts.get_by_test_id("counts-views").fill("120,000")
    counts.get_by_test_id("counts-likes").fill("5000")
    counts.get_by_test_id("counts-comments").fill("300")
    counts.get_by_test_id("counts-submit").click()
    report = clipper.get_by_test_id("report-row")
    expect(report).to_have_count(1)
    expect(report).to_have_attribute("data-status", "waiting")
    expect(report.get_by_test_id("report-views")).to_have_text("120,000")
    expect(report.get_by_test_id("report-status")).to_have_text("Waiting for the client to confirm")
    expect(report.get_by_test_id("report-confirm")).to_have_count(0)
    expect(report.get_by_test_id("report-decline")).to_have_count(0)

    # A screenshot of the post's counts goes with the count as evidence (a broken file
    # first: refused in words, and nothing is attached).
    report.get_by_test_id("report-attach").click()
    chooser = clipper.get_by_test_id("evidence-upload").locator("input[type=file]")
    chooser.set_input_files(
        files=[{"name": "broken.png", "mimeType": "image/png", "buffer": b"\x89PNG broken"}]
    )
    expect(clipper.get_by_test_id("evidence-error")).to_have_text(
        "That file is not an image that can be read."
    )
    expect(report.get_by_test_id("report-evidence")).to_have_count(0)
    chooser.set_input_files(
        files=[{"name": "views.png", "mimeType": "image/png", "buffer": _screenshot()}]
    )
    expect(report.get_by_test_id("report-evidence")).to_be_visible()
    expect(clipper.get_by_test_id("evidence-upload")).to_have_count(0)
    expect(report.get_by_test_id("report-attach")).to_have_text("Replace screenshot")
    expect(clipper.get_by_test_id("counts-error")).to_have_count(0)
    expect(counts.get_by_test_id("counts-views")).to_have_value("")
    expect(tiktok.get_by_test_id("post-views")).to_have_text("0")
    expect(clipper.get_by_test_id("counted-views")).to_have_text("0")
    expect(clipper.get_by_test_id("earning-label")).to_have_text(["Approval"])
    expect(clipper.get_by_test_id("reading-row")).to_have_count(0)
    expect(clipper.get_by_test_id("chart-empty")).to_be_visible()
    _shoot(clipper, "performance-count-waiting")
    # The section again once the toasts (over its right side) are gone.
    clipper.mouse.move(0, 0)
    expect(clipper.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    _shoot(clipper, "performance-count-waiting-section", clipper.get_by_test_id("reports-section"))

    # Connect YouTube: Account, Google's consent (the fake agrees), back to Account.
    clipper.goto(f"{app_url}{performance_path}")
    clipper.get_by_test_id("connect-youtube-link").click()
    expect(clipper).to_have_url(re.compile(r"/account$"))
    card = clipper.get_by_test_id("youtube-card")
    expect(card.get_by_test_id("youtube-connect")).to_be_visible()
    _shoot(clipper, "account-youtube-not-connected", card)
    card.get_by_test_id("youtube-connect").click()
    expect(clipper).to_have_url(re.compile(r"/account$"))
    expect(card.get_by_test_id("youtube-notice")).to_have_text(
        "YouTube connected: Ada Clips Channel."
    )
    expect(card.get_by_test_id("youtube-channel")).to_have_text("Ada Clips Channel")
    consent = google.authorizations[-1]
    assert consent["redirect_uri"] == f"{app_url}/account/youtube/callback"
    assert consent["code_challenge_method"] == "S256"
    _shoot(clipper, "account-youtube-connected", card)

    # Upload the clip, unlisted; the page follows it until it is on YouTube.
    clipper.goto(f"{app_url}{performance_path}")
    expect(clipper.get_by_test_id("upload-title")).to_have_value("The best bit")
    expect(clipper.get_by_test_id("upload-tags")).to_have_value("#spring")
    clipper.get_by_test_id("upload-privacy").click()
    clipper.get_by_role("option", name="Unlisted (anyone with the link)").click()
    # YouTube answers the first chunks with 503: the worker backs off (about 7 s) and
    # retries, and the page shows the upload on its way meanwhile.
    google.fail_next("PUT", 503, "backendError", times=3)
    clipper.get_by_test_id("upload-submit").click()
    upload = clipper.get_by_test_id("upload-row").first
    expect(upload).to_have_attribute("data-status", "uploading")
    expect(upload.get_by_test_id("upload-progress")).to_be_visible()
    expect(clipper.get_by_test_id("youtube-uploading")).to_be_visible()
    expect(clipper.get_by_test_id("upload-submit")).to_have_count(0)
    _shoot(clipper, "performance-uploading", clipper.get_by_test_id("youtube-section"))
    expect(upload).to_have_attribute("data-status", "done", timeout=UPLOAD_TIMEOUT_MS)
    expect(upload.get_by_test_id("upload-status")).to_have_text("On YouTube")
    youtube_post = clipper.locator("[data-testid=post-row][data-platform=youtube]")
    expect(youtube_post).to_have_count(1)
    expect(youtube_post.get_by_test_id("post-read-how")).to_have_text("Read from YouTube daily")
    expect(clipper.get_by_test_id("youtube-done")).to_be_visible()
    # Counts of a post the sync reads are not typed in.
    expect(clipper.get_by_test_id("counts-form")).to_have_count(1)
    _shoot(clipper, "performance-uploaded")

    # The client opens the clip from Reviews: the same posts, the count waiting beside the
    # post to check it on, and what the campaign paid so far.
    _sign_in(client, app_url, seeded.emails.client, PASSWORD)
    expect(client).to_have_url(re.compile(r"/dashboard$"))
    client.goto(f"{app_url}/reviews")
    client.get_by_test_id("reviews-tab-approved").click()
    client.get_by_test_id("review-performance-link").click()
    expect(client).to_have_url(re.compile(re.escape(performance_path) + "$"))
    expect(client.get_by_test_id("post-row")).to_have_count(2)
    expect(client.get_by_test_id("earning-label")).to_have_text(["Approval"])
    waiting = client.locator("[data-testid=report-row][data-status=waiting]")
    expect(waiting).to_have_count(1)
    expect(waiting.get_by_test_id("report-views")).to_have_text("120,000")
    expect(waiting).to_contain_text("Ada Clips")
    expect(waiting.get_by_test_id("report-post-link")).to_have_attribute("href", TIKTOK)
    expect(waiting.get_by_test_id("report-post-link")).to_have_attribute("target", "_blank")
    evidence = waiting.get_by_test_id("report-evidence")
    expect(evidence).to_have_attribute("href", re.compile(r"evidence"))
    shot = client.request.get(evidence.get_attribute("href"))
    assert shot.ok and shot.headers["content-type"] == "image/png"
    _shoot(client, "performance-client-waiting")

    # Declining asks for the reason first; the client goes back and confirms instead.
    waiting.get_by_test_id("report-decline").click()
    expect(client.get_by_test_id("decline-reason")).to_be_visible()
    client.get_by_test_id("decline-submit").click()
    expect(client.get_by_test_id("decline-error")).to_have_text(
        "Say why the count is declined; the clipper will read it."
    )
    _shoot(client, "performance-decline-dialog", client.get_by_role("dialog"))
    client.get_by_role("dialog").get_by_role("button", name="Back").click()
    expect(client.get_by_test_id("decline-reason")).to_have_count(0)
    waiting.get_by_test_id("report-confirm").click()
    confirmed = client.get_by_test_id("report-row")
    expect(confirmed).to_have_attribute("data-status", "confirmed")
    expect(confirmed.get_by_test_id("report-status")).to_have_text("Confirmed")
    expect(client.get_by_test_id("report-confirm")).to_have_count(0)
    expect(client.get_by_test_id("report-error")).to_have_count(0)
    expect(client.get_by_test_id("counted-views")).to_have_text("120,000")
    expect(
        client.locator("[data-testid=post-row][data-platform=tiktok]").get_by_test_id("post-views")
    ).to_have_text("120,000")
    expect(client.get_by_test_id("earning-label")).to_have_text(
        ["Approval", "Performance bonus: 20% at 100,000 views"]
    )
    expect(client.get_by_text("Clipper's share")).to_have_count(0)
    expect(client.get_by_test_id("earning-share")).to_have_count(0)
    expect(client.get_by_test_id("add-post")).to_have_count(0)
    expect(client.get_by_test_id("upload-submit")).to_have_count(0)
    _shoot(client, "performance-client")
    _sign_out(client)

    # The clipper sees the count confirmed: the reading (in their name) and the bonus.
    clipper.goto(f"{app_url}{performance_path}")
    tiktok = clipper.locator("[data-testid=post-row][data-platform=tiktok]")
    expect(tiktok.get_by_test_id("post-views")).to_have_text("120,000")
    expect(clipper.get_by_test_id("report-row")).to_have_attribute("data-status", "confirmed")
    expect(clipper.get_by_test_id("report-status")).to_have_text("Confirmed")
    expect(clipper.get_by_test_id("counted-views")).to_have_text("120,000")
    expect(clipper.get_by_test_id("earning-label")).to_have_text(
        ["Approval", "Performance bonus: 20% at 100,000 views"]
    )
    expect(clipper.get_by_test_id("earning-share")).to_have_text(["$7.00", "$1.40"])
    expect(clipper.get_by_test_id("reading-row")).to_have_count(1)
    expect(clipper.get_by_test_id("reading-row")).to_contain_text("Ada Clips")
    expect(clipper.get_by_test_id("views-chart").locator(".recharts-line")).to_have_count(1)
    _shoot(clipper, "performance-counts")

    # The bonus is on the Earnings statement too.
    clipper.get_by_test_id("nav").first.get_by_text("Earnings", exact=True).click()
    expect(clipper).to_have_url(re.compile(r"/earnings$"))
    expect(
        clipper.get_by_test_id("statement-row").filter(has_text="Bonus of 20% at 100,000 views")
    ).to_have_count(1)

    # Disconnecting asks first, and says Google confirmed it.
    clipper.goto(f"{app_url}/account")
    card = clipper.get_by_test_id("youtube-card")
    card.get_by_test_id("youtube-disconnect").click()
    clipper.get_by_test_id("youtube-disconnect-confirm").click()
    expect(card.get_by_test_id("youtube-notice")).to_have_text(
        "YouTube disconnected. Google confirmed ClipGen's access is removed."
    )
    expect(card.get_by_test_id("youtube-connect")).to_be_visible()
