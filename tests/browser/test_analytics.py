"""The dashboards in the browser: with a month of marketplace history made through the
services, a clipper, a client and an admin each see their charts drawn, change the range,
and download a chart's CSV; the client opens one campaign's analytics."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/analytics-{}.png"
MONEY = re.compile(r"^\$[\d,]+\.\d\d$")


@pytest.fixture(scope="module")
def market(app_database_url: str):
    from sqlmodel import Session, create_engine

    from tests.support.analytics import seed_marketplace

    engine = create_engine(app_database_url)
    with Session(engine, expire_on_commit=False) as session:
        seeded = seed_marketplace(session)
        session.commit()
    engine.dispose()
    return seeded


def _signed_in(page: Page, app_url: str, email: str) -> None:
    _sign_in(page, app_url, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard"), timeout=30_000)


def _drawn(page: Page, testid: str) -> None:
    """The chart card holds a drawn Recharts chart (an SVG with marks in it)."""
    card = page.get_by_test_id(testid)
    expect(card.locator("svg.recharts-surface").first).to_be_visible()
    expect(card.locator(".recharts-layer path, .recharts-rectangle").first).to_be_attached()


def _csv(page: Page, testid: str) -> list[list[str]]:
    with page.expect_download() as caught:
        page.get_by_test_id(f"{testid}-csv").click()
    download = caught.value
    text = open(download.path(), encoding="utf-8").read()  # noqa: SIM115
    return list(csv.reader(io.StringIO(text)))


def _shoot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(400)
    page.screenshot(path=SCREENSHOTS.format(name), full_page=True)


def test_clipper_sees_earnings_and_views_and_downloads_a_chart(
    page: Page, app_url: str, market
) -> None:
    _signed_in(page, app_url, market.clippers[0].email)
    expect(page.get_by_test_id("clipper-analytics")).to_be_visible()
    expect(page.get_by_test_id("client-analytics")).to_have_count(0)
    expect(page.get_by_test_id("analytics-earned")).to_have_text(MONEY)
    expect(page.get_by_test_id("analytics-approval")).to_have_text("100%")
    _drawn(page, "chart-clipper-earnings")
    _drawn(page, "chart-clipper-views")
    expect(page.get_by_test_id("best-views-row")).to_have_count(3)
    month = page.get_by_test_id("analytics-earned").inner_text()
    _shoot(page, "clipper")

    rows = _csv(page, "chart-clipper-earnings")
    assert rows[0] == [
        "day",
        "earned_usd",
        "pending_usd",
        "available_usd",
        "in_payout_usd",
        "paid_usd",
    ]
    assert len(rows) == 31 and rows[-1][5] == "100.00"  # two $50 payouts paid

    page.get_by_test_id("clipper-range").get_by_role("radio", name="7 days").click()
    expect(page.get_by_test_id("analytics-earned")).not_to_have_text(month)
    rows = _csv(page, "chart-clipper-earnings")
    assert len(rows) == 8


def test_client_and_admin_dashboards_and_a_campaigns_analytics(
    page: Page, second_page: Page, app_url: str, market
) -> None:
    _signed_in(page, app_url, market.client.email)
    expect(page.get_by_test_id("client-analytics")).to_be_visible()
    expect(page.get_by_test_id("analytics-spent")).to_have_text(MONEY)
    _drawn(page, "chart-client-views")
    _drawn(page, "chart-client-spend")
    _drawn(page, "chart-client-submissions")
    expect(page.get_by_test_id("top-clipper-row")).to_have_count(4)
    _shoot(page, "client")
    spend = _csv(page, "chart-client-spend")
    assert [row[1] for row in spend[1:]] == [
        "Product launch keynote",
        "Founders podcast: season 2",
    ]

    page.get_by_test_id("campaign-analytics-row").get_by_text("Founders podcast: season 2").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{market.campaign_ids[0]}/analytics"))
    expect(page.get_by_test_id("page-title")).to_have_text("Founders podcast: season 2")
    _drawn(page, "chart-client-views")
    _shoot(page, "campaign")

    _signed_in(second_page, app_url, market.admin.email)
    expect(second_page.get_by_test_id("admin-analytics")).to_be_visible()
    expect(second_page.get_by_test_id("analytics-payouts")).to_have_text("1")
    _drawn(second_page, "chart-admin-money")
    _drawn(second_page, "chart-admin-owed")
    _drawn(second_page, "chart-admin-signups")
    _shoot(second_page, "admin")
    signups = _csv(second_page, "chart-admin-signups")
    assert signups[0] == ["day", "clippers", "clients"]
    assert sum(int(row[1]) for row in signups[1:]) == 4
    # Another client's campaign does not exist for this client.
    page.goto(f"{app_url}/campaigns/999/analytics")
    expect(page.get_by_test_id("campaign-analytics-error")).to_contain_text("not found")
