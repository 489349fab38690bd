"""Admin Flags in the browser: an admin sees two flagged posts with their evidence and views
chart, confirms one as fraud (a reason is required) and clears the other; each moves to
its tab. "Sync now" queues a sync whose run then shows in the view sync table."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _sign_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def _seed(app_database_url: str, admin_email: str) -> dict[str, int]:
    """An admin, a funded client, two clippers with a flagged post each, and a past sync run."""
    from sqlmodel import Session, create_engine

    from clipgen.models import Role, ViewSyncRun, utcnow
    from clipgen.services.auth import service as auth
    from clipgen.services.money import funds
    from tests.test_flag_handlers import flagged_post

    engine = create_engine(app_database_url)
    with Session(engine, expire_on_commit=False) as session:
        admin = auth.create_admin(
            session=session, email=admin_email, password=PASSWORD, display_name="Root"
        )
        people = {
            name: auth.register(
                session=session,
                email=_email(kind),
                display_name=name,
                password=PASSWORD,
                role=role,
            )
            for name, kind, role in (
                ("Brand Co", "brand", Role.CLIENT),
                ("Ada Clips", "ada", Role.CLIPPER),
                ("Bo Edits", "bo", Role.CLIPPER),
            )
        }
        funds.record_deposit(
            session=session,
            actor=admin,
            client_id=people["Brand Co"].id,
            amount_cents=40_000,
            reference="flags-seed",
        )
        _, bought = flagged_post(
            session,
            people["Brand Co"].id,
            people["Ada Clips"].id,
            title="Launch week",
            video="farmed01",
        )
        _, genuine = flagged_post(
            session,
            people["Brand Co"].id,
            people["Bo Edits"].id,
            title="Spring drop",
            video="viral002",
        )
        earlier = utcnow() - timedelta(hours=20)
        session.add(
            ViewSyncRun(
                started_at=earlier,
                finished_at=earlier + timedelta(seconds=14),
                publications=120,
                snapshots=118,
                unavailable=2,
                api_calls=3,
                quota_units=3,
                stats_calls=2,
                flags_raised=2,
                bookings=57,
            )
        )
        session.commit()
    engine.dispose()
    return {"bought": bought, "genuine": genuine, "ada": people["Ada Clips"].id}


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)  # let toasts, fonts and the chart settle
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_confirms_one_flag_and_clears_another(
    page: Page, app_url: str, app_database_url: str
) -> None:
    admin_email = _email("root")
    ids = _seed(app_database_url, admin_email)

    # A first visit compiles the pages of a fresh dev server; later ones are quick.
    page.goto(f"{app_url}/login")
    page.wait_for_load_state("networkidle")
    _sign_in(page, app_url, admin_email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.get_by_test_id("nav").first.get_by_text("Flags", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/flags$"))
    page.wait_for_load_state("networkidle")

    # The first visit to the page builds it (and the chart library) in the dev server.
    expect(page.get_by_test_id("open-flag-count")).to_have_text("2 open", timeout=90_000)
    cards = page.get_by_test_id("flag-card")
    expect(cards).to_have_count(2)
    bought = cards.filter(has_text="Launch week")
    expect(bought.get_by_test_id("flag-reason")).to_contain_text("Views jumped by 200,000 in 24 h")
    expect(bought.get_by_test_id("flag-held")).to_have_text("$46.00")
    evidence = bought.get_by_test_id("evidence-row")
    expect(evidence.filter(has_text="Views before")).to_contain_text("3,000")
    expect(evidence.filter(has_text="Views now")).to_contain_text("203,000")
    expect(evidence.filter(has_text="Jump")).to_contain_text("+200,000")
    expect(evidence.filter(has_text="Trend per day")).to_contain_text("1,000")
    expect(evidence.filter(has_text="Engagement")).to_contain_text("0.097 %")
    link = bought.get_by_test_id("flag-post-link")
    expect(link).to_have_attribute("href", "https://www.youtube.com/shorts/farmed01")
    expect(link).to_have_attribute("target", "_blank")
    expect(bought.get_by_test_id("flag-clipper")).to_have_attribute(
        "href", f"/clippers/{ids['ada']}"
    )
    # The chart: two lines (views and likes) through the four readings.
    chart = bought.get_by_test_id("flag-chart")
    expect(chart.locator("path.recharts-line-curve")).to_have_count(2)
    expect(chart.locator(".recharts-line-dots").first.locator("circle")).to_have_count(4)
    expect(page.get_by_test_id("sync-run-row")).to_have_count(1)
    expect(page.get_by_test_id("sync-run-row").first).to_contain_text("14 s")
    _shoot(page, "flags-open")

    # Confirming needs a reason; the service's words say so, and nothing changes.
    bought.get_by_test_id("flag-confirm").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Confirm fraud?")
    expect(dialog).to_contain_text("YouTube post by Ada Clips (Launch week)")
    dialog.get_by_test_id("flag-dialog-submit").click()
    expect(dialog.get_by_test_id("flag-dialog-error")).to_have_text(
        "Say why the views are not genuine; the clipper will be told."
    )
    _shoot(page, "flags-confirm-dialog")
    dialog.get_by_test_id("flag-dialog-text").fill("Bought views: 200k from one referrer in a day")
    dialog.get_by_test_id("flag-dialog-submit").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"Fraud confirmed: \$46\.00"))).to_be_visible()
    expect(cards).to_have_count(1)
    expect(page.get_by_test_id("open-flag-count")).to_have_text("1 open")

    # The other post's jump was genuine: cleared without a note.
    genuine = cards.filter(has_text="Spring drop")
    genuine.get_by_test_id("flag-clear").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Clear this flag?")
    dialog.get_by_test_id("flag-dialog-submit").click()
    # Clearing releases the held earnings and redraws the list: slow on a loaded machine.
    expect(page.get_by_role("dialog")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text(re.compile(r"Flag cleared"))).to_be_visible()
    expect(cards).to_have_count(0)
    expect(page.get_by_test_id("flags-empty")).to_have_text("No flags are waiting for review.")
    expect(page.get_by_test_id("open-flag-count")).to_have_text("0 open")

    page.get_by_test_id("flags-tab-confirmed").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Launch week")
    expect(cards.first.get_by_test_id("flag-status")).to_have_text("confirmed")
    expect(cards.first.get_by_test_id("flag-resolution")).to_contain_text(
        "Bought views: 200k from one referrer in a day"
    )
    expect(cards.first.get_by_test_id("flag-clear")).to_have_count(0)
    expect(
        cards.first.get_by_test_id("flag-chart").locator("path.recharts-line-curve")
    ).to_have_count(2)
    _shoot(page, "flags-confirmed")

    page.get_by_test_id("flags-tab-cleared").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Spring drop")
    expect(cards.first.get_by_test_id("flag-status")).to_have_text("cleared")
    expect(cards.first).to_contain_text("RELEASED")
    expect(cards.first.get_by_test_id("flag-resolution")).to_contain_text("Cleared on ")

    # Sync now queues a sync; the in-process worker runs it and the table shows it.
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_text(re.compile(r"Sync queued"))).to_be_visible()
    rows = page.get_by_test_id("sync-run-row")
    for _ in range(30):
        page.get_by_test_id("flags-refresh").click()
        page.wait_for_timeout(500)
        if rows.count() == 2:
            break
    expect(rows).to_have_count(2)
    _shoot(page, "flags-cleared-and-synced")
