"""Money in the browser: an admin records a client's deposit, a clipper with available
earnings asks for a payout, the admin pays it with a reference, and the clipper sees it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _register, _sign_in, _sign_out

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/money-{}.png"
MONEY = re.compile(r"^\$[\d,]+\.\d\d$")


def _app_session(app_database_url: str):
    from sqlmodel import Session, create_engine

    engine = create_engine(app_database_url)
    return engine, Session(engine, expire_on_commit=False)


def _make_admin(app_database_url: str, email: str) -> None:
    from clipgen.services.auth import service as auth

    engine, session = _app_session(app_database_url)
    with session:
        auth.create_admin(session=session, email=email, password=PASSWORD, display_name="Root")
        session.commit()
    engine.dispose()


def _give_clipper_available_money(app_database_url: str, client_email: str, clipper_email: str):
    """A $300 campaign of the client (funded from their deposit), paying $50 a clip, and an
    approved clip of the clipper whose hold has ended: $35 available (Bronze, 70%)."""
    from sqlmodel import select

    from clipgen.models import User, utcnow
    from clipgen.services.money import earnings, funds, holds
    from tests.support.money import approved_submission, campaign

    engine, session = _app_session(app_database_url)
    with session:
        ids = dict(
            session.exec(
                select(User.email, User.id).where(
                    User.email.in_([client_email, clipper_email])  # type: ignore[attr-defined]
                )
            ).all()
        )
        row = campaign(
            session,
            SimpleNamespace(id=ids[client_email]),
            price_cents=5_000,
            budget_cents=30_000,
            title="Spring launch",
        )
        funds.reserve_campaign_budget(session=session, campaign_id=row.id)
        submission = approved_submission(session, row, SimpleNamespace(id=ids[clipper_email]))
        earnings.book_approval(session=session, submission_id=submission.id)
        holds.release_matured_earnings(session=session, now=utcnow() + timedelta(days=8))
        session.commit()
    engine.dispose()


def _shoot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)  # let toasts and fonts settle
    page.screenshot(path=SCREENSHOTS.format(name), full_page=True)


def test_deposit_payout_request_approval_and_paid(
    page: Page, second_page: Page, app_url: str, app_database_url: str
) -> None:
    admin_email, client_email, clipper_email = _email("root"), _email("brand"), _email("ada")
    _make_admin(app_database_url, admin_email)
    client, clipper = second_page, page

    # A first visit compiles the pages of a fresh dev server; later ones are quick.
    client.goto(f"{app_url}/register")
    client.wait_for_load_state("networkidle")

    # The client registers; their billing starts empty and says how funds arrive.
    _register(client, app_url, "client", client_email, name="Brand Co")
    client.get_by_test_id("nav").first.get_by_text("Billing", exact=True).click()
    expect(client).to_have_url(re.compile(r"/billing$"))
    expect(client.get_by_test_id("billing-available")).to_have_text("$0.00")
    expect(client.get_by_test_id("add-funds")).to_contain_text(
        "Funds are added by an admin when your transfer arrives"
    )
    # Without Stripe keys there is no paying by card: no Add funds card, no card payments.
    expect(client.get_by_test_id("card-funds")).to_have_count(0)
    expect(client.get_by_text("Card payments", exact=True)).to_have_count(0)
    _sign_out(client)

    # The admin records the client's transfer on Admin Money.
    admin = client
    _sign_in(admin, app_url, admin_email, PASSWORD)
    expect(admin).to_have_url(re.compile(r"/dashboard$"))
    admin.get_by_test_id("nav").first.get_by_text("Money", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/money$"))
    expect(admin.get_by_test_id("ledger-ok")).to_be_visible()
    for figure in ("money-clients", "money-deposited", "money-revenue"):
        expect(admin.get_by_test_id(figure)).to_have_text(MONEY)
    clients_before = admin.get_by_test_id("money-clients").inner_text()
    deposited_before = admin.get_by_test_id("money-deposited").inner_text()
    admin.get_by_test_id("deposit-amount").fill("12abc")
    admin.get_by_test_id("deposit-submit").click()
    expect(admin.get_by_test_id("deposit-error")).to_have_text(
        "Choose the client whose money arrived."
    )
    admin.get_by_test_id("deposit-client").click()
    admin.get_by_role("option", name=re.compile(re.escape(client_email))).click()
    admin.get_by_test_id("deposit-submit").click()
    expect(admin.get_by_test_id("deposit-error")).to_have_text(
        "The amount must be in dollars and cents, like 25.00."
    )
    admin.get_by_test_id("deposit-amount").fill("500")
    admin.get_by_test_id("deposit-reference").fill("WIRE-2024-001")
    admin.get_by_test_id("deposit-submit").click()
    expect(admin.get_by_text(re.compile(r"Deposit of \$500\.00 recorded"))).to_be_visible()
    expect(admin.get_by_test_id("deposit-error")).to_have_count(0)
    expect(admin.get_by_test_id("deposit-amount")).to_have_value("")  # a fresh form
    expect(admin.get_by_test_id("money-clients")).not_to_have_text(clients_before)
    expect(admin.get_by_test_id("money-deposited")).not_to_have_text(deposited_before)
    assert (
        _dollars(admin.get_by_test_id("money-clients").inner_text())
        == _dollars(clients_before) + 500
    )
    assert (
        _dollars(admin.get_by_test_id("money-deposited").inner_text())
        == _dollars(deposited_before) + 500
    )

    # A clipper registers; the client funds a campaign and the clipper's clip is approved.
    _register(clipper, app_url, "clipper", clipper_email, name="Ada Clips")
    _give_clipper_available_money(app_database_url, client_email, clipper_email)
    revenue_before = _dollars(admin.get_by_test_id("money-revenue").inner_text())
    admin.get_by_test_id("ledger-run-check").click()
    expect(admin.get_by_text("The ledger checks out")).to_be_visible()
    expect(admin.get_by_test_id("money-revenue")).not_to_have_text(f"${revenue_before:,.2f}")
    assert _dollars(admin.get_by_test_id("money-revenue").inner_text()) == revenue_before + 15
    _shoot(admin, "admin-money")

    # The clipper asks for $20 of their $35; a double click is one request.
    clipper.get_by_test_id("nav").first.get_by_text("Earnings", exact=True).click()
    expect(clipper).to_have_url(re.compile(r"/earnings$"))
    expect(clipper.get_by_test_id("balance-available")).to_have_text("$35.00")
    expect(clipper.get_by_test_id("balance-pending")).to_have_text("$0.00")
    expect(clipper.get_by_test_id("tier-name")).to_have_text("Bronze")
    expect(clipper.get_by_test_id("tier-split")).to_have_text("70% / 30%")
    expect(clipper.get_by_test_id("tier-needs")).to_have_text(
        "Silver needs 10 approved clips or 100,000 views."
    )
    expect(clipper.get_by_test_id("statement-row")).to_have_count(3)
    expect(clipper.get_by_test_id("statement-row").first).to_contain_text("Hold ended")
    clipper.get_by_test_id("payout-amount").fill("5")
    clipper.get_by_test_id("payout-submit").click()
    expect(clipper.get_by_test_id("payout-error")).to_have_text("The smallest payout is $10.00.")
    clipper.get_by_test_id("payout-amount").fill("20")
    clipper.get_by_test_id("payout-submit").dblclick()
    expect(clipper.get_by_test_id("balance-in-payout")).to_have_text("$20.00")
    expect(clipper.get_by_test_id("balance-available")).to_have_text("$15.00")
    expect(clipper.get_by_test_id("payout-error")).to_have_count(0)
    rows = clipper.get_by_test_id("my-payout-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$20.00")
    expect(rows.first).to_contain_text("requested")
    expect(clipper.get_by_test_id("payout-amount")).to_have_value("")

    # The admin pays it with a reference on Admin Payouts.
    admin.get_by_test_id("nav").first.get_by_text("Payouts", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/payouts$"))
    queued = admin.get_by_test_id("queue-row").filter(has_text=clipper_email)
    expect(queued).to_have_count(1)
    expect(queued.get_by_test_id("queue-amount")).to_have_text("$20.00")
    _shoot(admin, "admin-payouts")
    queued.get_by_test_id("approve-submit").click()
    expect(queued.get_by_test_id("approve-error")).to_contain_text("Enter the payment's reference")
    queued.get_by_test_id("approve-reference").fill("TR-555")
    queued.get_by_test_id("approve-submit").click()
    expect(admin.get_by_text(re.compile(r"recorded as paid"))).to_be_visible()
    expect(admin.get_by_test_id("queue-row").filter(has_text=clipper_email)).to_have_count(0)
    decided = admin.get_by_test_id("decided-row").filter(has_text=clipper_email)
    expect(decided).to_contain_text("Reference TR-555")
    with admin.expect_download() as download_info:
        admin.get_by_test_id("payouts-export").click()
    download = download_info.value
    assert download.suggested_filename == "payouts.csv"
    csv_text = Path(download.path()).read_text(encoding="utf-8")
    assert csv_text.startswith("payout_id,") and "TR-555" in csv_text and clipper_email in csv_text

    # The clipper sees it paid, and asks for $10 more.
    clipper.reload()
    expect(clipper.get_by_test_id("balance-paid")).to_have_text("$20.00")
    expect(clipper.get_by_test_id("balance-in-payout")).to_have_text("$0.00")
    paid = clipper.get_by_test_id("my-payout-row")
    expect(paid).to_have_count(1)
    expect(paid.first).to_contain_text("paid")
    expect(paid.first).to_contain_text("Reference TR-555")
    clipper.get_by_test_id("payout-amount").fill("10")
    clipper.get_by_test_id("payout-submit").click()
    expect(clipper.get_by_test_id("balance-in-payout")).to_have_text("$10.00")

    # The admin rejects that one; a reason is required and the money goes back.
    admin.reload()
    queued = admin.get_by_test_id("queue-row").filter(has_text=clipper_email)
    expect(queued.get_by_test_id("queue-amount")).to_have_text("$10.00")
    queued.get_by_test_id("reject-open").click()
    dialog = admin.get_by_role("dialog")
    expect(dialog).to_contain_text("$10.00 to Ada Clips")
    dialog.get_by_test_id("reject-submit").click()
    expect(dialog.get_by_test_id("reject-error")).to_contain_text("Say why")
    dialog.get_by_test_id("reject-reason").fill("Bank details do not match the account name")
    dialog.get_by_test_id("reject-submit").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)
    expect(admin.get_by_test_id("queue-row").filter(has_text=clipper_email)).to_have_count(0)
    expect(
        admin.get_by_test_id("decided-row").filter(has_text="Bank details do not match")
    ).to_have_count(1)

    clipper.reload()
    expect(clipper.get_by_test_id("balance-available")).to_have_text("$15.00")
    expect(clipper.get_by_test_id("balance-in-payout")).to_have_text("$0.00")
    rejected = clipper.get_by_test_id("my-payout-row").first
    expect(rejected).to_contain_text("rejected")
    expect(rejected).to_contain_text("Rejected: Bank details do not match the account name")
    _shoot(clipper, "earnings")

    # And the client sees their balance and the campaign's escrow.
    _sign_out(admin)
    _sign_in(client, app_url, client_email, PASSWORD)
    expect(client).to_have_url(re.compile(r"/dashboard$"))
    client.goto(f"{app_url}/billing")
    expect(client.get_by_test_id("billing-available")).to_have_text("$200.00")
    expect(client.get_by_test_id("billing-held")).to_have_text("$250.00")
    campaign_row = client.get_by_test_id("campaign-money-row")
    expect(campaign_row).to_have_count(1)
    expect(campaign_row).to_contain_text("Spring launch")
    expect(campaign_row.get_by_test_id("campaign-escrow")).to_have_text("$250.00")
    expect(client.get_by_test_id("statement-row")).to_have_count(2)
    _shoot(client, "billing")


def _dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))
