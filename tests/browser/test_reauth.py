"""A clipper whose password was typed too long ago is asked for it before a payout
request; a wrong one is refused in the dialog, the right one sends the request."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _register
from tests.browser.test_money import _app_session, _give_clipper_available_money

pytestmark = pytest.mark.browser


def _funded_client(app_database_url: str, email: str) -> None:
    from clipgen.services.auth import service as auth
    from clipgen.services.money import funds

    engine, session = _app_session(app_database_url)
    with session:
        admin = auth.create_admin(session=session, email=_email("root"), password=PASSWORD)
        client = auth.register(
            session=session, email=email, display_name="Brand", password=PASSWORD, role="client"
        )
        funds.record_deposit(
            session=session, actor=admin, client_id=client.id, amount_cents=30_000, reference="r1"
        )
        session.commit()
    engine.dispose()


def _password_typed_long_ago(app_database_url: str) -> None:
    from sqlalchemy import update

    from clipgen.models import AuthSession, utcnow

    engine, session = _app_session(app_database_url)
    with session:
        ago = utcnow() - timedelta(minutes=20)
        session.exec(update(AuthSession).values(reauthenticated_at=ago))
        session.commit()
    engine.dispose()


def test_a_payout_request_asks_for_the_password_again(
    page: Page, app_url: str, app_database_url: str
) -> None:
    client_email, clipper_email = _email("brand"), _email("ada")
    _funded_client(app_database_url, client_email)
    _register(page, app_url, "clipper", clipper_email)
    _give_clipper_available_money(app_database_url, client_email, clipper_email)
    _password_typed_long_ago(app_database_url)

    page.goto(f"{app_url}/earnings")
    expect(page.get_by_test_id("balance-available")).to_have_text("$35.00")
    page.get_by_test_id("payout-amount").fill("20")
    page.get_by_test_id("payout-submit").click()
    expect(page.get_by_role("dialog")).to_contain_text(
        "For your security, enter your password again to request a payout."
    )
    expect(page.get_by_test_id("my-payout-row")).to_have_count(0)

    page.get_by_test_id("reauth-password").fill("not my password")
    page.get_by_test_id("reauth-submit").click()
    expect(page.get_by_test_id("reauth-error")).to_have_text("That password is not right.")

    expect(page.get_by_test_id("reauth-password")).to_have_value("")  # the form was reset
    page.get_by_test_id("reauth-password").fill(PASSWORD)
    page.get_by_test_id("reauth-submit").click()
    # Argon2, then the request sent again: slow on a busy machine.
    expect(page.get_by_role("dialog")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text(re.compile(r"Payout of \$20\.00 requested"))).to_be_visible()
    expect(page.get_by_test_id("my-payout-row")).to_have_count(1)
    expect(page.get_by_test_id("balance-in-payout")).to_have_text("$20.00")
