"""A visitor registers, signs out and in, and sees the navigation of their role."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "a sturdy passphrase"
_counter = itertools.count()


def _email(kind: str) -> str:
    return f"{kind}{int(time.time() * 1000)}{next(_counter)}@example.com"


def _register(page: Page, app_url: str, role: str, email: str, name: str = "Ada Clips") -> None:
    page.goto(f"{app_url}/register")
    # A click before the page's scripts have loaded is lost on a loaded machine.
    page.wait_for_load_state("networkidle")
    page.get_by_test_id(f"role-{role}").click()
    page.get_by_test_id("register-name").fill(name)
    page.get_by_test_id("register-email").fill(email)
    page.get_by_test_id("register-password").fill(PASSWORD)
    page.get_by_test_id("register-submit").click()
    # An Argon2 hash and a first compile of the dashboard: slow on a loaded machine.
    expect(page).to_have_url(re.compile(r"/dashboard$"), timeout=30_000)
    expect(page.get_by_test_id("welcome")).to_contain_text(name)


def _sign_out(page: Page) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _sign_in(page: Page, app_url: str, email: str, password: str) -> None:
    page.goto(f"{app_url}/login")
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_clipper_registers_signs_out_fails_then_signs_in(page: Page, app_url: str) -> None:
    email = _email("clipper")
    _register(page, app_url, "clipper", email)
    nav = page.get_by_test_id("nav").first
    for label in ("Dashboard", "Marketplace", "My work", "Generate", "My clips", "Earnings"):
        expect(nav.get_by_text(label, exact=True)).to_be_visible()
    expect(nav.get_by_text("Campaigns", exact=True)).to_have_count(0)
    expect(nav.get_by_text("Payouts", exact=True)).to_have_count(0)

    _sign_out(page)
    page.goto(f"{app_url}/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard"))

    _sign_in(page, app_url, email, "not my password")
    expect(page.get_by_test_id("auth-error")).to_have_text("Wrong email or password.")
    expect(page).to_have_url(re.compile(r"/login"))

    _sign_in(page, app_url, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_test_id("nav").first.get_by_text("Generate", exact=True)).to_be_visible()


def test_client_sees_client_navigation_and_not_clipper_pages(page: Page, app_url: str) -> None:
    _register(page, app_url, "client", _email("client"), name="Brand Co")
    nav = page.get_by_test_id("nav").first
    for label in ("Dashboard", "Campaigns", "Reviews", "Billing"):
        expect(nav.get_by_text(label, exact=True)).to_be_visible()
    expect(nav.get_by_text("Generate", exact=True)).to_have_count(0)

    nav.get_by_text("Campaigns", exact=True).click()
    expect(page).to_have_url(re.compile(r"/campaigns$"))
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()

    page.goto(f"{app_url}/generate")
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_sign_in_returns_to_the_page_that_asked_for_it(page: Page, app_url: str) -> None:
    email = _email("back")
    _register(page, app_url, "clipper", email)
    _sign_out(page)
    page.goto(f"{app_url}/earnings")
    expect(page).to_have_url(re.compile(r"/login\?next=/earnings"))
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/earnings$"))


def test_registration_errors_are_shown_and_nothing_is_created(page: Page, app_url: str) -> None:
    email = _email("dup")
    _register(page, app_url, "clipper", email)
    _sign_out(page)
    page.goto(f"{app_url}/register")
    page.get_by_test_id("register-name").fill("Someone Else")
    page.get_by_test_id("register-email").fill(email.upper())
    page.get_by_test_id("register-password").fill(PASSWORD)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("auth-error")).to_contain_text("already exists")
    page.get_by_test_id("register-email").fill(_email("weak"))
    page.get_by_test_id("register-password").fill("short")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("auth-error")).to_contain_text("at least 10 characters")
    expect(page).to_have_url(re.compile(r"/register"))


def test_admin_sees_admin_navigation(page: Page, app_url: str, app_database_url: str) -> None:
    from sqlmodel import Session, create_engine

    from clipgen.services.auth import service as auth

    email = _email("admin")
    engine = create_engine(app_database_url)
    with Session(engine) as session:
        auth.create_admin(session=session, email=email, password=PASSWORD, display_name="Root")
        session.commit()
    engine.dispose()
    _sign_in(page, app_url, email, PASSWORD)
    nav = page.get_by_test_id("nav").first
    for label in ("Payouts", "Users", "Flags"):
        expect(nav.get_by_text(label, exact=True)).to_be_visible()
    expect(nav.get_by_text("Generate", exact=True)).to_have_count(0)


def test_phone_width_menu_opens_the_navigation(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _register(page, app_url, "clipper", _email("phone"))
    page.get_by_test_id("mobile-menu").click()
    drawer_nav = page.get_by_role("dialog").get_by_test_id("nav")
    expect(drawer_nav.get_by_text("Marketplace", exact=True)).to_be_visible()
    drawer_nav.get_by_text("Marketplace", exact=True).click()
    expect(page).to_have_url(re.compile(r"/marketplace$"))


def _open(page: Page, url: str | None = None) -> None:
    """Load `url` (or reload) and wait until the page talks to the backend: on a busy
    machine a click before that is lost."""
    with page.expect_websocket(lambda socket: "/_event" in socket.url, timeout=60_000):
        if url:
            page.goto(url)
        else:
            page.reload()


def test_email_choices_are_kept_from_the_account_page(
    page: Page, app_url: str, app_database_url: str
) -> None:
    from sqlmodel import Session, create_engine, select

    from clipgen.models import EmailOptOut
    from clipgen.services.auth import service as auth

    email = _email("mail")
    engine = create_engine(app_database_url)
    with Session(engine) as session:
        user_id = auth.register(
            session=session, email=email, display_name="Mai", password=PASSWORD, role="clipper"
        ).id
        session.commit()
    _open(page, f"{app_url}/login?next=/account")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/account$"))

    card = page.get_by_test_id("email-card")
    expect(card.get_by_test_id("email-not-configured")).to_contain_text(
        "Email is not set up on this server"
    )
    reviewed = card.get_by_test_id("email-submission-reviewed")
    expect(reviewed).to_be_checked()
    expect(card.get_by_test_id("email-flag-raised")).to_have_count(0)  # an admin's email
    reviewed.click()
    card.get_by_test_id("email-save").click()
    expect(card.get_by_test_id("email-saved")).to_be_visible()

    _open(page)
    expect(page.get_by_test_id("email-submission-reviewed")).not_to_be_checked()
    expect(page.get_by_test_id("email-payout-paid")).to_be_checked()
    with Session(engine) as session:
        groups = session.exec(select(EmailOptOut.email_group).where(EmailOptOut.user_id == user_id))
        assert list(groups) == ["submission_reviewed"]
    engine.dispose()
