"""Appeals in the browser: a clipper appeals the rejection of their clip from the claim
page, the client overturns it from Reviews with a reason, and the claim shows approved.
Then a suspended clipper, who cannot sign in, appeals on the public /appeal page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _sign_in, _sign_out

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def _seed(app_database_url: str) -> dict:
    """An admin, a client's live campaign, and a clipper whose clip the client rejected."""
    from sqlmodel import Session, create_engine

    from clipgen.models import Role
    from clipgen.services.auth import service as auth
    from clipgen.services.market import reviews
    from tests.support.market import live_campaign, submitted

    emails = {"admin": _email("root"), "client": _email("brand"), "clipper": _email("ada")}
    engine = create_engine(app_database_url)
    with Session(engine, expire_on_commit=False) as session:
        admin = auth.create_admin(
            session=session, email=emails["admin"], password=PASSWORD, display_name="Root"
        )
        client = auth.register(
            session=session,
            email=emails["client"],
            display_name="Brand Co",
            password=PASSWORD,
            role=Role.CLIENT,
        )
        clipper = auth.register(
            session=session,
            email=emails["clipper"],
            display_name="Ada Clips",
            password=PASSWORD,
            role=Role.CLIPPER,
        )
        live = live_campaign(session, admin, client, title="Appeal week")
        claim, submission = submitted(session, clipper, live)
        reviews.reject_submission(
            session=session, actor=client, submission_id=submission.id, reason="Too blurry"
        )
        session.commit()
    engine.dispose()
    return {**emails, "claim": claim.id, "clipper_id": clipper.id, "admin_view": admin}


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_clipper_appeals_a_rejection_and_the_client_overturns_it(
    page: Page, app_url: str, app_database_url: str
) -> None:
    seed = _seed(app_database_url)
    page.goto(f"{app_url}/login")
    page.wait_for_load_state("networkidle")
    _sign_in(page, app_url, seed["clipper"], PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    page.goto(f"{app_url}/work/{seed['claim']}")
    expect(page.get_by_test_id("claim-rejected")).to_contain_text("Too blurry", timeout=90_000)
    page.get_by_test_id("appeal-open").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("appeal-message").fill("It is sharp at full size; the preview was small.")
    dialog.get_by_test_id("appeal-send").click()
    expect(page.get_by_test_id("appeal-status")).to_have_text("Waiting for a decision")
    expect(page.get_by_test_id("appeal-open")).to_have_count(0)
    _shoot(page, "appeal-sent")
    _sign_out(page)

    _sign_in(page, app_url, seed["client"], PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto(f"{app_url}/reviews")
    card = page.get_by_test_id("appeal-card")
    expect(card).to_have_count(1, timeout=90_000)
    expect(card).to_contain_text("Ada Clips")
    expect(card).to_contain_text("sharp at full size")
    card.get_by_test_id("appeal-overturn").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("appeal-decision-reason").fill("Checked the full file: it is sharp")
    dialog.get_by_test_id("appeal-decision-send").click()
    expect(page.get_by_test_id("appeal-card")).to_have_count(0)
    expect(page.get_by_test_id("appeals-empty")).to_be_visible()
    _shoot(page, "appeal-overturned")
    _sign_out(page)

    _sign_in(page, app_url, seed["clipper"], PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto(f"{app_url}/work/{seed['claim']}")
    expect(page.get_by_test_id("claim-approved")).to_be_visible(timeout=30_000)


def test_a_suspended_clipper_appeals_on_the_public_page(
    page: Page, app_url: str, app_database_url: str
) -> None:
    from sqlmodel import Session, create_engine

    from clipgen.services import admin_users

    seed = _seed(app_database_url)
    engine = create_engine(app_database_url)
    with Session(engine, expire_on_commit=False) as session:
        admin_users.suspend_user(
            session=session,
            actor=seed["admin_view"],
            user_id=seed["clipper_id"],
            reason="Reused other clippers' posts",
        )
        session.commit()
    engine.dispose()

    page.goto(f"{app_url}/appeal")
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("appeal-email").fill(seed["clipper"])
    page.get_by_test_id("appeal-password").fill(PASSWORD)
    page.get_by_test_id("appeal-page-message").fill("Those posts are my own edits.")
    page.get_by_test_id("appeal-page-submit").click()
    status = page.get_by_test_id("appeal-suspension-status")
    expect(status).to_contain_text("Reused other clippers' posts", timeout=60_000)
    expect(status.get_by_test_id("appeal-status")).to_have_text("Waiting for a decision")
    _shoot(page, "appeal-suspension")
