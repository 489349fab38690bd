"""The same flow on the production set-up: PostgreSQL, Redis, S3 and a separate worker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import _email, _register
from tests.browser.test_marketplace import make_source, market_loop
from tests.pipeline.conftest import FLAT, HYPE, TAIL
from tests.support.media import make_talk

pytestmark = pytest.mark.browser


def test_generate_on_postgres_redis_s3_and_a_worker_process(
    page: Page, production_app_url: str, moto_endpoint: str, tmp_path: Path
) -> None:
    talk = tmp_path / "talk.mp4"
    make_talk([*FLAT, HYPE, *TAIL], talk)
    _register(page, production_app_url, "clipper", _email("prod"))
    page.goto(f"{production_app_url}/generate")
    page.locator("[data-testid=upload-zone] input[type=file]").set_input_files(str(talk))
    expect(page.get_by_test_id("uploaded-name")).to_have_text("talk.mp4", timeout=60_000)
    page.get_by_test_id("option-clips").fill("1")
    page.get_by_test_id("option-length").click()
    page.get_by_role("option", name="Custom").click()
    page.get_by_test_id("option-min").fill("5")
    page.get_by_test_id("option-max").fill("12")
    page.get_by_test_id("start-generation").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    page.reload()  # the job lives in the database, not in the page
    card = page.get_by_test_id("clip-card")
    expect(card).to_have_count(1, timeout=150_000)

    # Files come straight from S3 through presigned URLs.
    href = card.get_by_test_id("clip-download").get_attribute("href")
    assert href.startswith(moto_endpoint) and "X-Amz-Signature=" in href
    response = page.request.get(href)
    assert response.status == 200
    assert response.body()[4:8] == b"ftyp"
    video = card.get_by_test_id("clip-video")
    assert video.get_attribute("src").startswith(moto_endpoint)


def test_the_marketplace_loop_on_postgres_redis_s3_and_a_worker_process(
    page: Page,
    second_page: Page,
    production_app_url: str,
    production_database_url: str,
    tmp_path: Path,
) -> None:
    market_loop(
        page,
        second_page,
        production_app_url,
        production_database_url,
        make_source(tmp_path),
        "production",
    )
