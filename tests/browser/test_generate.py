"""A clipper uploads a talk, watches it being processed, plays, downloads and trims a clip."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts import PASSWORD, _email, _register, _sign_out
from tests.pipeline.conftest import FLAT, HYPE, TAIL
from tests.support.media import make_talk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def talk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("upload") / "my talk.mp4"
    make_talk([*FLAT, HYPE, *TAIL], path)
    return path


def _upload(page: Page, path: Path) -> None:
    page.locator("[data-testid=upload-zone] input[type=file]").set_input_files(str(path))


def test_upload_generate_play_download_and_trim(
    page: Page, app_url: str, talk_file: Path, browser
) -> None:
    _register(page, app_url, "clipper", _email("gen"))
    page.get_by_test_id("nav").first.get_by_text("Generate", exact=True).click()
    _upload(page, talk_file)
    expect(page.get_by_test_id("uploaded-name")).to_have_text("my talk.mp4", timeout=60_000)
    page.get_by_test_id("option-clips").fill("2")
    page.get_by_test_id("option-length").click()
    page.get_by_role("option", name="Custom").click()
    page.get_by_test_id("option-min").fill("5")
    page.get_by_test_id("option-max").fill("12")
    page.get_by_test_id("start-generation").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    job_url = page.url

    # Progress advances live, without a reload.
    percent = page.get_by_test_id("job-percent")
    expect(percent).to_be_visible()
    seen = {percent.inner_text()}
    # The best clip shows up while the second one still renders.
    ready = page.get_by_test_id("job-clips-ready")
    ready_seen = set()
    deadline = time.monotonic() + 120
    while page.get_by_test_id("clip-card").count() < 2 and time.monotonic() < deadline:
        # Never waits: the bar disappears the moment the job ends.
        seen.update(percent.all_inner_texts())
        ready_seen.update(ready.all_inner_texts())
        page.wait_for_timeout(200)
    assert len(seen) >= 2, seen
    assert any(text.startswith("1 of 2 clips ready") for text in ready_seen), ready_seen
    cards = page.get_by_test_id("clip-card")
    expect(cards).to_have_count(2)
    expect(page.get_by_test_id("job-timing")).to_have_text(
        re.compile(r"First clip in \d+ s · all 2 in \d+ s")
    )
    expect(cards.first.get_by_test_id("clip-title")).to_contain_text("secret", ignore_case=True)

    # Play the best clip.
    video = cards.first.get_by_test_id("clip-video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.3", arg=video.element_handle(), timeout=20_000)

    # Download it: a real MP4 from the app's signed file route.
    href = cards.first.get_by_test_id("clip-download").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "video/mp4"
    assert "attachment" in response.headers["content-disposition"]
    assert response.body()[4:8] == b"ftyp"
    tampered = page.request.get(href.replace("sig=", "sig=0"))
    assert tampered.status == 403

    # Trim: the old version stays until the new one is ready.
    second = cards.nth(1)
    second.get_by_test_id("clip-trim").click()
    start = float(page.get_by_test_id("trim-start").input_value())
    page.get_by_test_id("trim-start").fill(f"{start + 1.0:.2f}")
    captions = page.get_by_test_id("trim-text")
    captions.fill("Howdy partners, " + captions.input_value().split(" ", 3)[-1])
    page.get_by_test_id("trim-submit").click()
    rendering = second.get_by_test_id("clip-rendering")
    expect(rendering).to_be_visible()
    expect(second.get_by_test_id("clip-video")).to_be_visible()
    trimmed = page.get_by_test_id("clip-card").filter(has_text="Howdy partners")
    expect(trimmed).to_have_count(1, timeout=120_000)
    expect(page.get_by_test_id("clip-rendering")).to_have_count(0)
    expect(cards).to_have_count(2)
    assert f"{start:.1f}s –" not in trimmed.inner_text()

    # Another user cannot see the job.
    _sign_out(page)
    _register(page, app_url, "clipper", _email("other"))
    page.goto(job_url)
    expect(page.get_by_test_id("job-not-found")).to_be_visible()
    expect(page.get_by_test_id("clip-card")).to_have_count(0)


def test_my_clips_lists_searches_and_deletes(page: Page, app_url: str, talk_file: Path) -> None:
    _register(page, app_url, "clipper", _email("lib"))
    page.goto(f"{app_url}/clips")
    expect(page.get_by_test_id("library-empty")).to_be_visible()
    page.goto(f"{app_url}/generate")
    _upload(page, talk_file)
    expect(page.get_by_test_id("uploaded-name")).to_be_visible(timeout=60_000)
    page.get_by_test_id("option-clips").fill("2")
    page.get_by_test_id("option-length").click()
    page.get_by_role("option", name="Custom").click()
    page.get_by_test_id("option-min").fill("5")
    page.get_by_test_id("option-max").fill("12")
    page.get_by_test_id("start-generation").click()
    expect(page.get_by_test_id("clip-card")).to_have_count(2, timeout=120_000)

    page.get_by_test_id("nav").first.get_by_text("My clips", exact=True).click()
    expect(page.get_by_test_id("library-card")).to_have_count(2)
    page.get_by_test_id("library-search").fill("secret")
    page.get_by_test_id("library-search").press("Enter")
    expect(page.get_by_test_id("library-card")).to_have_count(1)
    page.get_by_test_id("library-delete").click()
    page.get_by_test_id("library-confirm").click()
    expect(page.get_by_test_id("library-empty")).to_be_visible()  # the only match is gone
    page.get_by_test_id("library-search").fill("")
    page.get_by_test_id("library-search").press("Enter")
    expect(page.get_by_test_id("library-card")).to_have_count(1)

    # The upload is listed with the quota used; deleting it takes its last clip along.
    page.get_by_test_id("nav").first.get_by_text("Generate", exact=True).click()
    expect(page.get_by_test_id("video-row")).to_have_count(1)
    expect(page.get_by_test_id("video-row")).to_contain_text("my talk.mp4")
    expect(page.get_by_test_id("storage-usage")).to_contain_text("of 50.0 GB used")
    page.get_by_test_id("delete-video").click()
    page.get_by_test_id("confirm-delete-video").click()
    expect(page.get_by_test_id("video-row")).to_have_count(0)
    page.get_by_test_id("nav").first.get_by_text("My clips", exact=True).click()
    expect(page.get_by_test_id("library-card")).to_have_count(0)
    expect(page.get_by_test_id("library-empty")).to_be_visible()


def test_a_file_that_is_not_a_video_is_refused(page: Page, app_url: str, tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("meeting notes, not a video\n" * 100)
    _register(page, app_url, "clipper", _email("bad"))
    page.goto(f"{app_url}/generate")
    _upload(page, fake)
    expect(page.get_by_test_id("upload-error")).to_contain_text("not a video", timeout=30_000)
    expect(page.get_by_test_id("start-generation")).to_be_disabled()
    page.reload()  # the refused upload left nothing to list
    expect(page.get_by_test_id("storage-usage")).to_contain_text("used")
    expect(page.get_by_test_id("video-row")).to_have_count(0)
    assert PASSWORD
