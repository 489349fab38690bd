"""Stripe in Chromium, against the local fake of Stripe (issue 20): the real app (embedded
defaults, its in-process worker working Stripe's webhook events) with Stripe pointed at the
fake, and the fake's signed events posted to the app's real webhook route.

A client adds $50 through Billing -> Add funds: Stripe's Checkout page (the fake's), Pay,
back on Billing, and the balance shows $50.00 once Stripe's webhook is worked.

A clipper with $35 available sets up payouts on Earnings (Stripe's onboarding page, the
fake's; back on Earnings the account is ready), asks for $20; an admin pays it through
Stripe on Admin Payouts; the worker sends it to the bank, the bank pays it (the fake's
`payout.paid` webhook), and the clipper sees it paid to the bank through Stripe.

The fixtures (`stripe`: the fake, `app_url`: the app talking to it) are module-wide, so
both flows reuse the one app and fake.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import running_app
from tests.browser.test_accounts import PASSWORD, _email, _register
from tests.support.fake_stripe import FakeStripe
from tests.support.services import free_port

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/stripe-{}.png"
MONEY = re.compile(r"^\$[\d,]+\.\d\d$")
CARD_PAYMENT = "Card payment (Stripe's fee paid by ClipGen)"


@pytest.fixture(scope="module")
def backend_port() -> int:
    """The app's backend port, known before the app starts: the fake posts events there."""
    return free_port()


@pytest.fixture(scope="module")
def stripe(backend_port: int) -> Iterator[FakeStripe]:
    """The fake Stripe, sending its signed events to the app's webhook route."""
    with FakeStripe(webhook_url=f"http://localhost:{backend_port}/stripe/webhook") as fake:
        fake.webhook_timeout = 30.0  # a loaded 2-core machine answers slowly
        yield fake


@pytest.fixture(scope="module")
def app_url(
    app_data_dir: Path, app_database_url: str, stripe: FakeStripe, backend_port: int
) -> Iterator[str]:
    """The app on its embedded defaults, with Stripe pointed at the fake."""
    with running_app(
        app_data_dir,
        backend_port=backend_port,
        DATABASE_URL=app_database_url,
        **stripe.settings_env(),
    ) as url:
        yield url


def _shoot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)  # let toasts and fonts settle
    page.screenshot(path=SCREENSHOTS.format(name), full_page=True)


def _wait_for_balance(page: Page, amount: str, tries: int = 30) -> None:
    """Refresh Billing until the balance shows `amount` (the worker books the webhook)."""
    available = page.get_by_test_id("billing-available")
    for _ in range(tries):
        if available.inner_text() == amount:
            return
        page.wait_for_timeout(1_000)
        page.get_by_test_id("card-payments-refresh").click()
    expect(available).to_have_text(amount)


def test_a_client_adds_funds_by_card_through_checkout(
    page: Page, app_url: str, stripe: FakeStripe
) -> None:
    # A first visit compiles the pages of a fresh dev server; later ones are quick.
    page.goto(f"{app_url}/register")
    page.wait_for_load_state("networkidle")
    email = _email("cardbrand")
    _register(page, app_url, "client", email, name="Card Brand")

    # Billing shows Add funds by card, with Stripe's limits, and no card payments yet.
    page.get_by_test_id("nav").first.get_by_text("Billing", exact=True).click()
    expect(page).to_have_url(re.compile(r"/billing$"))
    card = page.get_by_test_id("card-funds")
    expect(card).to_contain_text("Between $10.00 and $10,000.00 at a time")
    expect(page.get_by_test_id("add-funds")).to_have_count(0)  # the manual-transfer note
    expect(page.get_by_test_id("billing-available")).to_have_text("$0.00")
    expect(page.get_by_test_id("card-payments-empty")).to_be_visible()
    _shoot(page, "billing-add-funds")

    # A bad amount is refused in words, and Stripe is not asked.
    page.get_by_test_id("card-amount").fill("nan")
    page.get_by_test_id("card-submit").click()
    expect(page.get_by_test_id("card-error")).to_have_text(
        "The amount must be in dollars and cents, like 25.00."
    )
    page.get_by_test_id("card-amount").fill("5")
    page.get_by_test_id("card-submit").click()
    expect(page.get_by_test_id("card-error")).to_have_text(
        "Add between $10.00 and $10,000.00 by card at a time."
    )
    assert stripe.created["checkout.session"] == 0

    # $50 by card: off to Stripe's Checkout page, Pay, and back on Billing.
    page.get_by_test_id("card-amount").fill("50")
    page.get_by_test_id("card-submit").click()
    expect(page).to_have_url(re.compile(re.escape(stripe.url) + r"/checkout/cs_\w+$"))
    expect(page.locator(".total")).to_have_text("$50.00")
    expect(page.locator("input[name=email]")).to_have_value(email)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"/billing\?checkout=done$"), timeout=30_000)
    expect(page.get_by_test_id("checkout-notice")).to_have_text(
        "Payment received by Stripe; your balance updates as soon as Stripe confirms it "
        "(usually seconds)."
    )

    # Stripe's webhook reached the app; its worker booked every cent (the fee is ClipGen's).
    _wait_for_balance(page, "$50.00")
    row = page.get_by_test_id("card-payment-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("card-payment-amount")).to_have_text("$50.00")
    expect(row.get_by_test_id("card-payment-status")).to_have_text("Added to balance")
    expect(page.get_by_test_id("statement-row").first).to_contain_text(CARD_PAYMENT)
    assert stripe.created["checkout.session"] == 1
    assert [status for _, status in stripe.deliveries] and all(
        status == 200 for _, status in stripe.deliveries
    )
    _shoot(page, "billing-card-paid")

    # A second payment cancelled on Stripe's page: nothing charged, the balance unchanged.
    page.get_by_test_id("card-amount").fill("20")
    page.get_by_test_id("card-submit").click()
    expect(page).to_have_url(re.compile(re.escape(stripe.url) + r"/checkout/cs_\w+$"))
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/billing\?checkout=cancelled$"))
    expect(page.get_by_test_id("checkout-notice")).to_have_text(
        "Payment cancelled; nothing was charged."
    )
    expect(page.get_by_test_id("billing-available")).to_have_text("$50.00")
    statuses = page.get_by_test_id("card-payment-status")
    expect(statuses).to_have_text(["Waiting for payment", "Added to balance"])


def _seed_admin_and_clipper(app_database_url: str) -> tuple[str, str]:
    """An admin, and a clipper with $35 available (a client's deposit funded a campaign and
    the clipper's approved clip's hold has ended), written to the app's database."""
    from clipgen.models import Role
    from tests.browser.test_money import _app_session
    from tests.support.money import clipper_with_available, person

    engine, session = _app_session(app_database_url)
    with session:
        admin = person(session, Role.ADMIN, "root")
        client = person(session, Role.CLIENT, "brand")
        clipper = clipper_with_available(session, admin, client, 3_500)
        session.commit()
    engine.dispose()
    return admin.email, clipper.email


def _signed_in(page: Page, app_url: str, email: str) -> None:
    """Sign in once the login page's scripts have loaded (a click before then is lost on
    a loaded machine), and wait for the dashboard."""
    page.goto(f"{app_url}/login")
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"), timeout=30_000)


def _wait_for_bank_payout(stripe: FakeStripe, tries: int = 60) -> dict:
    """The worker's bank payout on the clipper's connected account, once it is made."""
    for _ in range(tries):
        made = stripe.objects("payout")
        if made:
            return made[-1]
        time.sleep(1)
    raise AssertionError("the worker made no bank payout at Stripe")


def _wait_for_payout_status(page: Page, status: str, tries: int = 20) -> None:
    """Reload Earnings until the newest payout row shows `status` (a webhook is worked)."""
    row = page.get_by_test_id("my-payout-row").first
    for _ in range(tries):
        if row.get_attribute("data-status") == status:
            return
        page.wait_for_timeout(1_000)
        page.reload()
        expect(page.get_by_test_id("balance-available")).to_have_text(MONEY)
    expect(row).to_have_attribute("data-status", status)


def test_a_clipper_sets_up_stripe_payouts_and_is_paid_to_the_bank(
    page: Page, second_page: Page, app_url: str, app_database_url: str, stripe: FakeStripe
) -> None:
    admin_email, clipper_email = _seed_admin_and_clipper(app_database_url)
    clipper, admin = page, second_page

    # The clipper signs in; Earnings offers to set up payouts with Stripe.
    _signed_in(clipper, app_url, clipper_email)
    clipper.get_by_test_id("nav").first.get_by_text("Earnings", exact=True).click()
    expect(clipper).to_have_url(re.compile(r"/earnings$"))
    expect(clipper.get_by_test_id("balance-available")).to_have_text("$35.00")
    setup = clipper.get_by_test_id("payout-setup-card")
    expect(setup).to_have_attribute("data-status", "not set up")
    expect(setup.get_by_test_id("payout-setup-words")).to_contain_text("set up payouts with Stripe")
    expect(clipper.get_by_test_id("payout-setup")).to_have_text("Set up payouts")
    _shoot(clipper, "earnings-before-setup")

    # Off to Stripe's onboarding page (the fake's), agree, and back on Earnings: ready.
    clipper.get_by_test_id("payout-setup").click()
    expect(clipper).to_have_url(re.compile(re.escape(stripe.url) + r"/connect/[\w-]+$"))
    expect(clipper.get_by_role("heading")).to_contain_text("Set up payouts")
    clipper.get_by_role("button", name="Agree and submit").click()
    expect(clipper).to_have_url(re.compile(r"/earnings\?payouts=back$"), timeout=30_000)
    expect(setup).to_have_attribute("data-status", "ready")
    expect(setup.get_by_test_id("payout-setup-words")).to_have_text(
        "Payouts go to your bank through Stripe, usually within 2 business days of approval."
    )
    expect(clipper.get_by_test_id("payout-setup")).to_have_count(0)
    expect(clipper.get_by_test_id("payout-setup-needs")).to_have_count(0)
    assert stripe.created["account"] == 1
    _shoot(clipper, "earnings-after-setup")

    # The clipper asks for $20 of their $35.
    clipper.get_by_test_id("payout-amount").fill("20")
    clipper.get_by_test_id("payout-submit").click()
    expect(clipper.get_by_test_id("balance-in-payout")).to_have_text("$20.00")
    expect(clipper.get_by_test_id("balance-available")).to_have_text("$15.00")
    rows = clipper.get_by_test_id("my-payout-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-status", "requested")

    # An admin, in another browser, pays it through Stripe on Admin Payouts.
    _signed_in(admin, app_url, admin_email)
    admin.get_by_test_id("nav").first.get_by_text("Payouts", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/payouts$"))
    queued = admin.get_by_test_id("queue-row").filter(has_text=clipper_email)
    expect(queued).to_have_count(1)
    expect(queued.get_by_test_id("queue-amount")).to_have_text("$20.00")
    expect(queued.get_by_test_id("approve-reference")).to_have_count(0)  # Stripe's is the ref
    expect(queued.get_by_test_id("approve-stripe")).to_have_text("Pay through Stripe")
    queued.scroll_into_view_if_needed()
    queued.screenshot(path=SCREENSHOTS.format("admin-queue-row"))
    queued.get_by_test_id("approve-stripe").click()
    expect(admin.get_by_test_id("queue-row").filter(has_text=clipper_email)).to_have_count(0)
    expect(admin.get_by_test_id("decided-row").filter(has_text=clipper_email)).to_have_attribute(
        "data-status", "processing"
    )
    transfers = stripe.objects("transfer")
    assert len(transfers) == 1 and transfers[0]["amount"] == 2_000

    # The worker sends it on to the clipper's bank; the bank pays it, and Stripe says so.
    bank = _wait_for_bank_payout(stripe)
    assert bank["amount"] == 2_000 and bank["status"] in ("pending", "in_transit")
    assert stripe.created["payout"] == 1
    stripe.settle_payout(bank["id"], paid=True)

    # The clipper sees it paid to the bank through Stripe.
    clipper.reload()
    _wait_for_payout_status(clipper, "paid")
    paid = clipper.get_by_test_id("my-payout-row")
    expect(paid).to_have_count(1)
    expect(paid.first).to_contain_text("$20.00")
    expect(paid.first).to_contain_text("Paid to the bank through Stripe")
    expect(clipper.get_by_test_id("balance-paid")).to_have_text("$20.00")
    expect(clipper.get_by_test_id("balance-in-payout")).to_have_text("$0.00")
    expect(clipper.get_by_test_id("balance-available")).to_have_text("$15.00")
    expect(clipper.get_by_test_id("payout-setup-card")).to_have_attribute("data-status", "ready")
    assert all(status == 200 for _, status in stripe.deliveries)
    _shoot(clipper, "earnings-paid")

    # Admin Money: the automatic approval limit, and a reconciliation of today's Stripe
    # bookings (run for yesterday: nothing yet, so no mismatch).
    admin.goto(app_url + "/admin/money")
    expect(admin.get_by_test_id("money-payment-fees")).to_have_text(MONEY)
    admin.get_by_test_id("auto-approve-limit").fill("abc")
    admin.get_by_test_id("auto-approve-submit").click()
    expect(admin.get_by_test_id("auto-approve-error")).to_contain_text("dollars")
    expect(admin.get_by_test_id("auto-approve-current")).to_have_text("Off")
    admin.get_by_test_id("auto-approve-limit").fill("25")
    admin.get_by_test_id("auto-approve-submit").click()
    expect(admin.get_by_test_id("auto-approve-current")).to_contain_text("$25.00")
    admin.get_by_test_id("reconcile-yesterday").click()
    expect(admin.get_by_test_id("reconciliation-run")).to_have_count(1)
    expect(admin.get_by_test_id("reconciliation-run").first).to_have_attribute(
        "data-status", "matched"
    )
    _shoot(admin, "admin-money")
