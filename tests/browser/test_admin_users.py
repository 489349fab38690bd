"""Admin Users in the browser: an admin finds a clipper by email, opens the account and
suspends it (a reason is required); the clipper's own browser, signed in all along, is
sent to sign in on its next page and is told the reason and how to appeal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _sign_in

pytestmark = pytest.mark.browser

REASON = "Bought views on three campaigns"


def _seed(app_database_url: str, admin_email: str, clipper_email: str) -> int:
    """An admin and a clipper; the clipper's id."""
    from sqlmodel import Session, create_engine

    from clipgen.models import Role
    from clipgen.services.auth import service as auth

    engine = create_engine(app_database_url)
    with Session(engine, expire_on_commit=False) as session:
        auth.create_admin(
            session=session, email=admin_email, password=PASSWORD, display_name="Root"
        )
        clipper = auth.register(
            session=session,
            email=clipper_email,
            display_name="Ada Clips",
            password=PASSWORD,
            role=Role.CLIPPER,
        )
        session.commit()
    engine.dispose()
    return clipper.id


def test_admin_suspends_a_clipper_who_is_signed_out_and_told_why(
    page: Page, second_page: Page, app_url: str, app_database_url: str
) -> None:
    admin_email, clipper_email = _email("root"), _email("ada")
    clipper_id = _seed(app_database_url, admin_email, clipper_email)

    # The clipper is signed in in their own browser.
    clipper = second_page
    clipper.goto(f"{app_url}/login")
    clipper.wait_for_load_state("networkidle")
    _sign_in(clipper, app_url, clipper_email, PASSWORD)
    expect(clipper).to_have_url(re.compile(r"/dashboard$"), timeout=90_000)

    # The admin finds them by email and opens the account.
    _sign_in(page, app_url, admin_email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"), timeout=90_000)
    page.get_by_test_id("nav").first.get_by_text("Users", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(page.get_by_test_id("user-row").first).to_be_visible(timeout=90_000)
    page.get_by_test_id("users-search").fill(clipper_email)
    page.get_by_test_id("users-search-go").click()
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Clips")
    expect(rows.first.get_by_test_id("user-standing")).to_have_text("active")
    rows.first.get_by_test_id("user-link").click()
    expect(page).to_have_url(re.compile(rf"/admin/users/{clipper_id}$"))
    expect(page.get_by_test_id("page-title")).to_have_text(clipper_email, timeout=90_000)
    expect(page.get_by_test_id("sign-in-row")).to_have_count(1)
    expect(page.get_by_test_id("user-roles")).to_have_text("Clipper")

    # Suspending needs a reason: the service's words say so and nothing changes.
    page.get_by_test_id("suspend-user").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("suspension-submit").click()
    expect(dialog.get_by_test_id("suspension-dialog-error")).to_contain_text("Give the reason")
    dialog.get_by_test_id("suspension-reason").fill(REASON)
    dialog.get_by_test_id("suspension-submit").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("user-standing")).to_have_text("suspended")
    expect(page.get_by_test_id("suspension-callout")).to_contain_text(REASON)
    expect(page.get_by_test_id("sign-in-row").first).to_contain_text("ended")
    expect(page.get_by_test_id("lift-suspension")).to_be_visible()

    # The clipper's browser is signed out on its next page and told why at sign-in.
    clipper.get_by_test_id("nav").first.get_by_text("Earnings", exact=True).click()
    expect(clipper).to_have_url(re.compile(r"/login"))
    _sign_in(clipper, app_url, clipper_email, PASSWORD)
    error = clipper.get_by_test_id("auth-error")
    expect(error).to_contain_text("This account is suspended.")
    expect(error).to_contain_text(REASON)
    expect(error).to_contain_text("/appeal")
    expect(clipper).to_have_url(re.compile(r"/login"))
