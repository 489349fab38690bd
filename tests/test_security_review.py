"""The security review's findings (issue 21), each as the rule it now obeys.

CSV cells never run as formulas; no number read from a form may be NaN or infinite; the
probe refuses a picture too large to render before it decodes a frame; an in-app path is
checked by one function; the backend accepts cookie-carrying calls only from the app's
own origin (and the listed ones), and production refuses any origin at all.
"""

from __future__ import annotations

import csv
import io
import math
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.config import PROJECT_ROOT, Settings, UnsafeConfigurationError, get_settings
from clipgen.models import Payout, ProcessingJob, Role, Video, VideoStatus
from clipgen.pipeline import probe as probe_module
from clipgen.pipeline.errors import InvalidVideo
from clipgen.pipeline.ffmpeg import ffmpeg_binary
from clipgen.pipeline.types import GenerateOptions
from clipgen.services import csv_export
from clipgen.services.analytics import export
from clipgen.services.auth import service as auth
from clipgen.services.email import outbox
from clipgen.services.errors import InvalidInput
from clipgen.services.media import jobs
from clipgen.services.money import funds, payouts
from clipgen.state import forms
from clipgen.state.generate import GenerateState
from clipgen.state.job import JobState
from clipgen.state.notifications import in_app_link
from clipgen.state.session import safe_next_path
from tests.support.handlers import state_on
from tests.support.money import PASSWORD, campaign, person

# --- 1. CSV: one writer, every cell formula-safe ------------------------------------------


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_payouts_csv_quotes_an_email_that_starts_a_formula(session: Session) -> None:
    admin = person(session, Role.ADMIN)
    clipper = auth.register(
        session=session,
        email="=hyperlink(1)@example.com",
        display_name="Ada",
        password=PASSWORD,
        role=Role.CLIPPER,
    )
    session.add(Payout(clipper_id=clipper.id, amount_cents=2_500, reference="@SUM(A1)"))
    session.flush()
    header, row = _cells(payouts.payouts_csv(session=session, actor=admin))
    cell = dict(zip(header, row, strict=True))
    assert cell["clipper_email"] == "'=hyperlink(1)@example.com"
    assert cell["reference"] == "'@SUM(A1)"
    assert cell["amount"] == "25.00"


def test_a_chart_csv_quotes_a_title_that_starts_a_formula(session: Session) -> None:
    admin, client = person(session, Role.ADMIN), person(session, Role.CLIENT, "brand")
    funds.record_deposit(
        session=session, actor=admin, client_id=client.id, amount_cents=10_000, reference="w-1"
    )
    row = campaign(session, client, title="+1-1 launch")
    funds.reserve_campaign_budget(session=session, campaign_id=row.id)
    text = export.chart_csv(
        session=session, actor=client, dashboard="client", chart="spend", range_key="all"
    )
    titles = [line[1] for line in _cells(text)[1:]]
    assert titles == ["'+1-1 launch"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.50", "-12.50"),  # a figure, not a formula: kept a number
        ("Launch week", "Launch week"),
        (7, 7),
        (None, ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value: object, written) -> None:
    assert csv_export.safe_cell(value) == written


def test_every_csv_is_written_by_the_one_writer() -> None:
    """No other module of the app writes CSV (so no export can skip `safe_cell`)."""
    writers = sorted(
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "clipgen").rglob("*.py")
        if re.search(r"^\s*(import csv|from csv import)", path.read_text(), re.MULTILINE)
    )
    assert writers == ["clipgen/services/csv_export.py"]


# --- 2. numbers from forms are finite -----------------------------------------------------


@pytest.mark.parametrize("typed", ["nan", "NaN", " inf ", "-inf", "Infinity", "1e999", ""])
def test_the_form_number_parser_refuses_what_is_not_a_finite_number(typed: str) -> None:
    with pytest.raises(InvalidInput, match="Enter the start in seconds as a number, like 12.5."):
        forms.number(typed, "the start in seconds")


@pytest.mark.parametrize("sent", [math.nan, math.inf, True, None, [1], 10**400, "1" * 100])
def test_the_form_number_parser_refuses_what_a_crafted_event_sends(sent: object) -> None:
    with pytest.raises(InvalidInput):
        forms.number(sent, "the length")


def test_the_form_number_parser_reads_numbers() -> None:
    assert forms.number(" 12.5 ", "x") == 12.5
    assert forms.number("20", "x") == 20.0
    assert forms.number(3, "x") == 3.0


def test_a_whole_number_too_long_for_int_is_past_every_row_not_a_crash() -> None:
    """int() refuses a 5,000-digit string itself; such an id names no row, so the
    services answer it "not found" as they do any other id beyond the table."""
    assert forms.whole_number("9" * 5_000, "payout id") == 10**18
    assert forms.whole_number("1" + "0" * 30, "payout id") == 10**18
    assert forms.row_id(forms.whole_number("9" * 5_000, "payout id")) == 0
    assert forms.row_id("9" * 5_000) == 0
    for bad in ("0" * 40, "12a", "-3", "", " "):
        with pytest.raises(InvalidInput, match="whole number"):
            forms.whole_number(bad, "payout id")


def _clipper_with_video(session: Session) -> tuple[auth.UserView, str, int]:
    user = person(session, Role.CLIPPER, "ada")
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    video = Video(
        owner_id=user.id,
        original_filename="talk.mp4",
        storage_key=f"users/{user.id}/v.mp4",
        duration_s=120.0,
        width=640,
        height=360,
        fps=30.0,
        status=VideoStatus.READY,
    )
    session.add(video)
    session.commit()
    return user, token, video.id


def _jobs(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(ProcessingJob)).one()


@pytest.mark.parametrize(
    ("low", "high", "refusal"),
    [
        ("nan", "45", "Enter the shortest clip length in seconds as a number, like 20."),
        ("20", "nan", "Enter the longest clip length in seconds as a number, like 45."),
        ("-inf", "45", "Enter the shortest clip length in seconds as a number, like 20."),
        ("20", "inf", "Enter the longest clip length in seconds as a number, like 45."),
    ],
)
def test_a_custom_length_that_is_not_a_finite_number_starts_no_job(
    session: Session, low: str, high: str, refusal: str
) -> None:
    _user, token, video_id = _clipper_with_video(session)
    state = state_on(GenerateState, token, routes.GENERATE)
    state.video_id = video_id
    for name, value in (("length", "custom"), ("custom_min", low), ("custom_max", high)):
        GenerateState.set_option.fn(state, name, value)
    GenerateState.start.fn(state)
    assert state.start_error == refusal
    assert _jobs(session) == 0


@pytest.mark.parametrize(
    ("low", "high"), [(math.nan, 45.0), (20.0, math.nan), (math.nan, math.nan), (20.0, math.inf)]
)
def test_the_job_service_refuses_clip_lengths_that_are_not_finite(
    session: Session, low: float, high: float
) -> None:
    user, _token, video_id = _clipper_with_video(session)
    options = GenerateOptions(clips=3, min_seconds=low, max_seconds=high)
    with pytest.raises(InvalidInput):
        jobs.start_generation(session=session, actor=user, video_id=video_id, options=options)
    session.rollback()
    assert _jobs(session) == 0


def test_a_trim_time_that_is_not_a_finite_number_is_refused_by_the_form_parser(
    session: Session,
) -> None:
    _user, token, _video_id = _clipper_with_video(session)
    state = state_on(JobState, token, "/jobs/1")
    state.trim_clip_id = 1
    JobState.submit_trim.fn(state, {"start": "nan", "end": "12"})
    assert state.trim_error == "Enter the start in seconds as a number, like 12.5."
    JobState.submit_trim.fn(state, {"start": "2", "end": "inf"})
    assert state.trim_error == "Enter the end in seconds as a number, like 12.5."


# --- 3. the probe bounds the picture before decoding ----------------------------------------


@pytest.mark.parametrize(("width", "height"), [(4096, 2160), (2160, 4096), (1920, 1080)])
def test_a_picture_up_to_4k_either_way_up_is_taken(width: int, height: int) -> None:
    probe_module.check_picture_size(width, height)


@pytest.mark.parametrize(("width", "height"), [(4097, 100), (100, 4097), (4000, 2300)])
def test_a_picture_above_4k_is_refused(width: int, height: int) -> None:
    with pytest.raises(InvalidVideo, match=f"{width}x{height} pixels"):
        probe_module.check_picture_size(width, height)


def _short_video(path: Path, size: str) -> Path:
    """0.2 s of one colour at `size`, with sound: a small file whatever its picture size."""
    subprocess.run(
        [
            ffmpeg_binary(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"color=c=blue:s={size}:d=0.2:r=5",
            "-f",
            "lavfi",
            "-i",
            "sine=d=0.2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    assert path.stat().st_size < 300_000
    return path


def test_the_probe_refuses_a_picture_too_large_before_decoding_a_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = _short_video(tmp_path / "huge.mp4", "4100x2200")

    def decoded(*_args, **_kwargs):
        raise AssertionError("the probe decoded a frame of a picture it should refuse")

    monkeypatch.setattr(probe_module, "_rotation", decoded)
    monkeypatch.setattr(probe_module, "_decodes_near", decoded)
    with pytest.raises(InvalidVideo) as refused:
        probe_module.probe(video)
    assert str(refused.value) == (
        "The video is 4100x2200 pixels; ClipGen takes videos up to 4096x2160 (4K). "
        "Export it at 4K or smaller and upload it again."
    )


def test_opening_a_huge_picture_does_not_decode_it_in_the_web_process(tmp_path: Path) -> None:
    """Opening a file decodes a first frame (to fill in stream details) unless bounded: an
    8K frame alone is 53 MB. The probe's peak memory must not grow by a frame's size."""
    video = _short_video(tmp_path / "8k.mp4", "8192x4320")
    measure = (
        "import resource, sys\n"
        "from clipgen.pipeline.errors import InvalidVideo\n"
        "from clipgen.pipeline.probe import probe\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    probe(sys.argv[1])\n"
        "except InvalidVideo as error:\n"
        "    print(str(error).split(';')[0])\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, str(video)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    refusal, grown_mb = done.stdout.splitlines()
    assert refusal == "The video is 8192x4320 pixels"
    assert int(grown_mb) < 30


# --- 4. one check of an in-app path ---------------------------------------------------------

UNSAFE_PATHS = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/ /evil.example",
    "/\x00admin",
    "/\x1b[2J",
    "/\x7f",
    "/\u200b/evil.example",  # zero-width space: a format character, not printable
    "/\u2028/evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "",
]


@pytest.mark.parametrize("path", UNSAFE_PATHS)
def test_a_path_with_control_characters_or_another_host_is_refused_everywhere(path: str) -> None:
    assert not routes.is_app_path(path)
    assert safe_next_path(path) == routes.DASHBOARD
    assert in_app_link(path) == ""
    assert outbox.absolute_link(path) == ""


@pytest.mark.parametrize("path", ["/work/3", "/campaigns/7/analytics?range=30", "/café"])
def test_an_app_path_is_followed_everywhere(path: str) -> None:
    assert routes.is_app_path(path)
    assert safe_next_path(path) == path
    assert in_app_link(path) == path
    assert outbox.absolute_link(path).endswith(path)


def test_sign_in_links_and_mails_ask_the_one_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "is_app_path", lambda path: False)
    assert safe_next_path("/work/3") == routes.DASHBOARD
    assert in_app_link("/work/3") == ""
    assert outbox.absolute_link("/work/3") == ""


# --- 5. CORS: the app's own origin, never any origin in production ---------------------------


@pytest.fixture
def no_cors_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("REFLEX_CORS_ALLOWED_ORIGINS", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("app_url", "origin"),
    [
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://Clips.Example.com/", "https://clips.example.com"),
        ("https://clips.example.com:443/app", "https://clips.example.com"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_the_allowed_origin_is_app_urls_origin(no_cors_env, app_url: str, origin: str) -> None:
    no_cors_env.setenv("APP_URL", app_url)
    assert Settings(_env_file=None).effective_cors_allowed_origins == (origin,)


def test_more_origins_may_be_added(no_cors_env) -> None:
    no_cors_env.setenv("APP_URL", "https://clips.example.com")
    no_cors_env.setenv("CORS_ALLOWED_ORIGINS", "https://admin.example.com, http://127.0.0.1:3000/,")
    assert Settings(_env_file=None).effective_cors_allowed_origins == (
        "https://clips.example.com",
        "https://admin.example.com",
        "http://127.0.0.1:3000",
    )


@pytest.mark.parametrize(
    "bad", ["clips.example.com", "ftp://clips.example.com", "https://x.example.com/path"]
)
def test_an_origin_that_is_not_one_is_refused_at_start(no_cors_env, bad: str) -> None:
    no_cors_env.setenv("CORS_ALLOWED_ORIGINS", bad)
    with pytest.raises(ValueError, match="cors_allowed_origins"):
        Settings(_env_file=None)


SAFE_PRODUCTION = {
    "CLIPGEN_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql://u:p@db/clipgen",
    "REDIS_URL": "redis://cache:6379/0",
    "STORAGE_BUCKET": "clips",
    "APP_URL": "https://clipgen.example.com",
    "TRUSTED_PROXY_HOPS": "1",
}


def test_any_origin_is_for_development_only(no_cors_env) -> None:
    no_cors_env.setenv("CORS_ALLOWED_ORIGINS", "*")
    assert Settings(_env_file=None).effective_cors_allowed_origins == ("*",)
    Settings(_env_file=None).check_production_safety()
    for name, value in SAFE_PRODUCTION.items():
        no_cors_env.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.production_problems() == [
        "CORS_ALLOWED_ORIGINS must not contain *: any site could then act for a signed-in "
        "user. List the origins (https://host) that may call the app (and leave Reflex's "
        "REFLEX_CORS_ALLOWED_ORIGINS unset)."
    ]
    with pytest.raises(UnsafeConfigurationError, match="CORS_ALLOWED_ORIGINS"):
        settings.check_production_safety()
    # Reflex reads its own variable over rxconfig: that one may not open the app either.
    no_cors_env.setenv("CORS_ALLOWED_ORIGINS", "https://admin.example.com")
    no_cors_env.setenv("REFLEX_CORS_ALLOWED_ORIGINS", "*")
    with pytest.raises(UnsafeConfigurationError, match="REFLEX_CORS_ALLOWED_ORIGINS"):
        Settings(_env_file=None).check_production_safety()
    no_cors_env.delenv("REFLEX_CORS_ALLOWED_ORIGINS")
    no_cors_env.setenv("CORS_ALLOWED_ORIGINS", "https://admin.example.com")
    Settings(_env_file=None).check_production_safety()


def test_rxconfig_gives_reflex_the_allowed_origins(no_cors_env) -> None:
    no_cors_env.setenv("APP_URL", "https://clips.example.com")
    no_cors_env.setenv("CORS_ALLOWED_ORIGINS", "https://admin.example.com")
    get_settings.cache_clear()
    try:
        config = runpy.run_path(str(PROJECT_ROOT / "rxconfig.py"))["config"]
    finally:
        get_settings.cache_clear()
    assert tuple(config.cors_allowed_origins) == (
        "https://clips.example.com",
        "https://admin.example.com",
    )
