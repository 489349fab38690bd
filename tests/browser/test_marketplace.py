"""The whole marketplace loop in Chromium, each person in their own browser: an admin funds
a client, the client creates and activates a campaign on a small talk video, a clipper
claims it, makes clips with the real pipeline and submits one, the client approves and
rates it, and the clipper sees the earning pending with the Bronze split.

It runs here on the embedded defaults (SQLite, in-process worker), and in
test_production_setup.py on PostgreSQL, Redis, S3 and a separate worker process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _register, _sign_in, _sign_out
from tests.browser.test_money import _make_admin
from tests.pipeline.conftest import FLAT, HYPE, TAIL
from tests.support.media import make_talk

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/market-{}-{}.png"
GENERATION_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def source_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("campaign-source"))


def make_source(folder: Path) -> Path:
    path = folder / "launch talk.mp4"
    make_talk([*FLAT, HYPE, *TAIL], path)
    return path


def _shoot(page: Page, setup: str, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(400)
    page.screenshot(path=SCREENSHOTS.format(setup, name), full_page=True)


def _fund(admin: Page, app_url: str, admin_email: str, client_email: str, dollars: str) -> None:
    _sign_in(admin, app_url, admin_email, PASSWORD)
    expect(admin).to_have_url(re.compile(r"/dashboard$"))
    admin.goto(f"{app_url}/admin/money")
    admin.get_by_test_id("deposit-client").click()
    admin.get_by_role("option", name=re.compile(re.escape(client_email))).click()
    admin.get_by_test_id("deposit-amount").fill(dollars)
    admin.get_by_test_id("deposit-reference").fill(f"WIRE-{client_email}")
    admin.get_by_test_id("deposit-submit").click()
    expect(admin.get_by_text(re.compile(rf"Deposit of \${dollars}\.00 recorded"))).to_be_visible()
    _sign_out(admin)


def test_fund_create_activate_claim_generate_submit_approve_rate_and_earn(
    page: Page, second_page: Page, app_url: str, app_database_url: str, source_file: Path
) -> None:
    market_loop(page, second_page, app_url, app_database_url, source_file, "embedded")


def market_loop(
    page: Page, other_page: Page, app_url: str, database_url: str, source_file: Path, setup: str
) -> None:
    """The loop, on the app at `app_url` whose database is `database_url`."""
    admin_email, client_email, clipper_email = _email("root"), _email("brand"), _email("ada")
    _make_admin(database_url, admin_email)
    client, clipper = other_page, page
    client.goto(f"{app_url}/register")
    client.wait_for_load_state("networkidle")

    # The client registers; an admin records their $100 transfer.
    _register(client, app_url, "client", client_email, name="Brand Co")
    _sign_out(client)
    _fund(client, app_url, admin_email, client_email, "100")
    _sign_in(client, app_url, client_email, PASSWORD)

    # The client creates a campaign on an uploaded talk: $10 a clip, 5 slots, $50.
    client.get_by_test_id("nav").first.get_by_text("Campaigns", exact=True).click()
    expect(client).to_have_url(re.compile(r"/campaigns$"))
    client.get_by_test_id("new-campaign").click()
    expect(client).to_have_url(re.compile(r"/campaigns/new$"))
    # "15" is also the default and networkidle ignores the websocket: the page's state may
    # still be loading here, and the drop zone must take the file all the same (see
    # test_a_file_chosen_while_the_campaign_form_loads_is_never_lost).
    expect(client.get_by_test_id("campaign-min_length_s")).to_have_value("15")
    client.wait_for_load_state("networkidle")
    client.get_by_test_id("campaign-upload-zone").locator("input[type=file]").set_input_files(
        str(source_file)
    )
    expect(client.get_by_test_id("campaign-source-name")).to_have_text(
        "launch talk.mp4", timeout=60_000
    )
    client.get_by_test_id("campaign-title").fill("Launch talk clips")
    client.get_by_test_id("campaign-brief").fill("The best moment of our launch talk.")
    client.get_by_test_id("campaign-min_length_s").fill("5")
    client.get_by_test_id("campaign-max_length_s").fill("15")
    client.get_by_test_id("campaign-hashtags").fill("#launch")
    client.get_by_test_id("campaign-price").fill("10")
    client.get_by_test_id("campaign-budget").fill("5")  # too small for 5 slots of $10
    client.get_by_test_id("campaign-max_clips").fill("5")
    client.get_by_test_id("campaign-save").click()
    expect(client.get_by_text(re.compile(r"The budget must pay for every clip"))).to_be_visible()
    expect(client).to_have_url(re.compile(r"/campaigns/new$"))
    client.get_by_test_id("campaign-budget").fill("50")
    client.get_by_test_id("campaign-save").click()
    expect(client).to_have_url(re.compile(r"/campaigns/\d+$"))
    campaign_url = client.url
    expect(client.get_by_test_id("campaign-status")).to_have_text("draft")
    client.get_by_test_id("campaign-activate").click()
    expect(client.get_by_test_id("campaign-status")).to_have_text("active")
    expect(client.get_by_test_id("campaign-escrow")).to_have_text("$50.00")
    _shoot(client, setup, "campaign-active")

    # A clipper finds it in the marketplace and claims a slot.
    _register(clipper, app_url, "clipper", clipper_email, name="Ada Clips")
    clipper.get_by_test_id("nav").first.get_by_text("Marketplace", exact=True).click()
    expect(clipper).to_have_url(re.compile(r"/marketplace$"))
    card = clipper.get_by_test_id("campaign-card").filter(has_text="Launch talk clips")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("campaign-slots")).to_contain_text("5 of 5")
    card.get_by_test_id("campaign-title").click()
    expect(clipper).to_have_url(re.compile(r"/marketplace/\d+$"))
    clipper.get_by_test_id("claim-button").click()
    expect(clipper).to_have_url(re.compile(r"/work/\d+$"))
    expect(clipper.get_by_test_id("claim-status").first).to_contain_text("In progress")

    # It makes clips of the campaign's source with the real pipeline, picks one, submits.
    clipper.get_by_test_id("claim-option-clips").fill("1")
    clipper.get_by_test_id("make-clips").click()
    expect(clipper.get_by_test_id("generation-row")).to_have_count(1)
    expect(clipper.get_by_test_id("generation-row").first).to_have_attribute(
        "data-status", "succeeded", timeout=GENERATION_TIMEOUT_MS
    )
    fitting = clipper.get_by_test_id("candidate").filter(
        has=clipper.get_by_test_id("candidate-fits")
    )
    expect(fitting.first).to_be_visible(timeout=30_000)
    fitting.first.get_by_test_id("candidate-pick").click()
    expect(clipper.get_by_test_id("submit-hashtags")).to_have_value("#launch")
    clipper.get_by_test_id("submit-caption").fill("The moment it all clicked")
    clipper.get_by_test_id("submit-clip").click()
    expect(clipper.get_by_test_id("claim-status").first).to_contain_text("Submitted")
    _shoot(clipper, setup, "claim-submitted")

    # The client reviews it with the clip playing inline, approves it and rates the clipper.
    client.get_by_test_id("nav").first.get_by_text("Reviews", exact=True).click()
    expect(client).to_have_url(re.compile(r"/reviews$"))
    review = client.get_by_test_id("review-card").filter(has_text="Ada Clips")
    expect(review).to_have_count(1)
    expect(review.get_by_test_id("review-reqs")).to_contain_text("#launch")
    playable = review.get_by_test_id("review-video").evaluate(
        "v => new Promise(ok => v.readyState >= 1 ? ok(v.duration) :"
        " v.addEventListener('loadedmetadata', () => ok(v.duration)))"
    )
    assert 4 <= playable <= 16, playable
    _shoot(client, setup, "review")
    review.get_by_test_id("review-approve").click()
    expect(client.get_by_test_id("review-card").filter(has_text="Ada Clips")).to_have_count(0)
    client.get_by_role("tab", name="Approved").click()
    approved = client.get_by_test_id("review-card").filter(has_text="Ada Clips")
    expect(approved).to_have_count(1)
    approved.get_by_test_id("rate-stars").click()
    client.get_by_role("option", name=re.compile("4")).click()
    approved.get_by_test_id("rate-feedback").fill("Sharp cut, good caption.")
    approved.get_by_test_id("rate-submit").click()
    expect(approved.get_by_test_id("review-rated")).to_contain_text("4")
    client.goto(campaign_url)
    expect(client.get_by_test_id("campaign-escrow")).to_have_text("$40.00")

    # The clipper is told, and sees $7.00 pending: Bronze keeps 70% of the $10.00 price.
    clipper.reload()
    expect(clipper.get_by_test_id("bell-badge")).to_be_visible()
    clipper.get_by_test_id("bell").click()
    expect(
        clipper.get_by_test_id("bell-item").filter(
            has_text="Your clip for Launch talk clips was approved. $7.00 is pending"
        )
    ).to_have_count(1)
    clipper.keyboard.press("Escape")
    clipper.get_by_test_id("nav").first.get_by_text("Earnings", exact=True).click()
    expect(clipper).to_have_url(re.compile(r"/earnings$"))
    expect(clipper.get_by_test_id("balance-pending")).to_have_text("$7.00")
    expect(clipper.get_by_test_id("tier-name")).to_have_text("Bronze")
    expect(clipper.get_by_test_id("tier-split")).to_have_text("70% / 30%")
    expect(clipper.get_by_test_id("statement-row").first).to_contain_text("Launch talk clips")
    _shoot(clipper, setup, "earnings")

    # The rating and the approved clip are on the clipper's public profile.
    client.get_by_test_id("nav").first.get_by_text("Reviews", exact=True).click()
    expect(client).to_have_url(re.compile(r"/reviews$"))
    expect(client.get_by_test_id("reviews-empty")).to_be_visible()  # nothing pending now
    client.get_by_role("tab", name="Approved").click()
    rated = client.get_by_test_id("review-card").filter(has_text="Ada Clips")
    expect(rated.get_by_test_id("review-rated")).to_be_visible()
    # Follow the clipper's link by its address: on a loaded machine the card is redrawn
    # (the notification bell's refresh) often enough that a click can miss it for 30 s.
    link = rated.get_by_test_id("review-clipper")
    expect(link).to_have_attribute("href", re.compile(r"^/clippers/\d+$"))
    client.goto(client.url.split("/reviews")[0] + link.get_attribute("href"))
    expect(client).to_have_url(re.compile(r"/clippers/\d+$"))
    expect(client.get_by_test_id("profile-name")).to_have_text("Ada Clips")
    expect(client.get_by_test_id("profile-rating")).to_contain_text("★★★★☆")
    expect(client.get_by_test_id("profile-rating")).to_contain_text("Sharp cut, good caption.")
    expect(client.get_by_test_id("portfolio-clip")).to_have_count(1)
    _shoot(client, setup, "profile")


def _hold_server_messages(page: Page) -> dict:
    """Route the app's websocket through the test: while `hold["on"]`, what the server
    sends waits in `hold["held"]` until `_release` delivers it, in order (the page's own
    messages always go through). A page load then stays unfinished for as long as the test
    wants, as it does for a while on a busy server."""
    hold: dict = {"on": False, "held": []}

    def route(ws) -> None:
        server = ws.connect_to_server()

        def to_page(message) -> None:
            if hold["on"]:
                hold["held"].append((ws, message))
            else:
                ws.send(message)

        server.on_message(to_page)
        ws.on_message(lambda message: server.send(message))

    page.route_web_socket(re.compile(r"/_event/"), route)
    return hold


def _release(hold: dict) -> None:
    hold["on"] = False
    held, hold["held"] = hold["held"], []
    for ws, message in held:
        ws.send(message)


def test_a_file_chosen_while_the_campaign_form_loads_is_never_lost(
    page: Page, app_url: str, source_file: Path
) -> None:
    """Whoever opens the file dialog on /campaigns/new before its state has loaded must get
    their file uploaded, or find the drop zone not usable yet: never a file silently lost
    (loading the form used to redraw the zone, so the dialog's file went nowhere)."""
    hold = _hold_server_messages(page)
    choosers = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    for path in ("/campaigns/new", "/campaigns", "/dashboard", "/register"):
        page.goto(f"{app_url}{path}")  # the dev server compiles a page on its first visit
        page.wait_for_load_state("networkidle")
    _register(page, app_url, "client", _email("early"), name="Early Co")
    page.get_by_test_id("nav").first.get_by_text("Campaigns", exact=True).click()
    expect(page).to_have_url(re.compile(r"/campaigns$"))
    expect(page.get_by_test_id("new-campaign")).to_be_visible()

    hold["on"] = True  # the new page's on_load answers are on their way, slowly
    page.get_by_test_id("new-campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/new$"))
    zone = page.get_by_test_id("campaign-upload-zone")
    expect(zone).to_be_visible()
    zone.click()  # at once, as an impatient person would
    page.wait_for_timeout(300)  # a file dialog, if one opens, has opened by now
    early = list(choosers)
    assert early or zone.get_attribute("aria-disabled") == "true"
    assert early or zone.get_attribute("aria-busy") == "true"
    _release(hold)

    # The page has applied all it was sent once a later answer shows: switch the source
    # to a link and back.
    page.get_by_role("radio", name="Link to the video").click()
    expect(page.get_by_test_id("campaign-source_url")).to_be_visible()
    page.get_by_role("radio", name="Upload or pick a video").click()
    expect(zone).to_be_visible()

    if early:
        early[0].set_files(str(source_file))
    else:
        expect(zone).to_have_attribute("aria-disabled", "false")
        with page.expect_file_chooser() as chooser:
            zone.click()
        chooser.value.set_files(str(source_file))
    expect(page.get_by_test_id("campaign-source-name")).to_have_text(
        "launch talk.mp4", timeout=60_000
    )
