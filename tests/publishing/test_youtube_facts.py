"""Reading the facts that verify a YouTube post (issue 19): whose channel, when published,
how long, title, description, tags and counts, through the real google-api-python-client
against the local fake of the Data API; and the duration and time parsers on their own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipgen.services.publishing import youtube as yt
from tests.support.fake_youtube import FakeYouTube, iso_duration

OTHER_CHANNEL = "UCsomeoneElse00000000000"
PUBLISHED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
VIDEOS_PATH = "/youtube/v3/videos"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    with FakeYouTube() as running:
        running.apply_env(monkeypatch)
        yield running


@pytest.fixture
def service(fake: FakeYouTube):
    access, refresh = fake.issue_grant(yt.SCOPES)
    creds = yt.credentials(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return yt.client(creds=creds)


def _between_resets(before: datetime, moment: datetime) -> bool:
    return moment in {yt.quota_reset_after(before), yt.quota_reset_after(datetime.now(UTC))}


def test_facts_of_videos_on_two_channels_and_a_missing_one(fake: FakeYouTube, service) -> None:
    fake.add_video(
        "mine0000001",
        published_at=PUBLISHED,
        duration_s=59,
        title="The best moment",
        description="Watch it all #acme @acmebrand",
        tags=["acme", "shorts"],
        views=1_200,
        likes=40,
        comments=3,
    )
    fake.add_video(
        "theirs00001",
        channel_id=OTHER_CHANNEL,
        published_at=datetime(2026, 11, 30, 23, 59, 58, tzinfo=timezone(timedelta(hours=-5))),
        duration_s=3723.5,
        title="Someone else's viral video",
        views=9_000_000,
        likes=None,  # hidden likes
        comments=None,  # comments off
    )

    result = yt.fetch_facts(service, ["mine0000001", "theirs00001", "gone0000001"])

    assert result.found == {
        "mine0000001": yt.VideoFacts(
            video_id="mine0000001",
            channel_id=fake.channel_id,
            published_at=PUBLISHED,
            duration_s=59.0,
            title="The best moment",
            description="Watch it all #acme @acmebrand",
            tags=("acme", "shorts"),
            views=1_200,
            likes=40,
            comments=3,
        ),
        "theirs00001": yt.VideoFacts(
            video_id="theirs00001",
            channel_id=OTHER_CHANNEL,
            published_at=datetime(2026, 12, 1, 4, 59, 58, tzinfo=UTC),
            duration_s=3723.5,
            title="Someone else's viral video",
            description="",
            tags=(),  # none: the API leaves snippet.tags out
            views=9_000_000,
            likes=0,
            comments=0,
        ),
    }
    assert "gone0000001" not in result.found
    assert result.found["mine0000001"].published_at.utcoffset() == timedelta(0)
    assert (result.calls, result.quota_units) == (1, 1)
    [call] = fake.calls("GET", VIDEOS_PATH)
    assert call.query["part"] == ["snippet,contentDetails,statistics"]
    assert call.query["id"] == ["mine0000001,theirs00001,gone0000001"]
    assert "maxResults" not in call.query  # videos.list does not allow it with `id`


def test_facts_can_be_read_with_the_api_key(fake: FakeYouTube) -> None:
    fake.add_video("public00001", channel_id=OTHER_CHANNEL, published_at=PUBLISHED)

    result = yt.fetch_facts(yt.client(api_key=fake.api_key), ["public00001"])

    assert result.found["public00001"].channel_id == OTHER_CHANNEL
    [call] = fake.calls("GET", VIDEOS_PATH)
    assert call.query["key"] == [fake.api_key] and "Authorization" not in call.headers


def test_120_ids_are_read_in_3_calls_of_one_unit(fake: FakeYouTube, service) -> None:
    ids = [f"vid{n:08d}" for n in range(120)]
    for n, video_id in enumerate(ids):
        fake.add_video(video_id, channel_id=f"UCchannel{n % 2}", duration_s=n, views=n)
    fake.delete(ids[5])

    result = yt.fetch_facts(service, ids + ids[:10])  # duplicates are read once

    assert (result.calls, result.quota_units) == (3, 3)
    assert len(result.found) == 119 and ids[5] not in result.found
    assert result.found[ids[119]].channel_id == "UCchannel1"
    assert result.found[ids[119]].duration_s == 119.0
    assert result.found[ids[0]].duration_s == 0.0  # "P0D"
    calls = fake.calls("GET", VIDEOS_PATH)
    assert [len(c.query["id"][0].split(",")) for c in calls] == [50, 50, 20]
    assert fake.calls("GET", "/youtube/v3/videos:batchGetStats") == []


def test_no_ids_make_no_calls(fake: FakeYouTube, service) -> None:
    result = yt.fetch_facts(service, ["", ""])

    assert (result.found, result.calls, result.quota_units) == ({}, 0, 0)
    assert fake.requests == []


def test_quota_exceeded_says_when_to_try_again(fake: FakeYouTube, service) -> None:
    fake.add_video("mine0000001")
    fake.fail_next(VIDEOS_PATH, 403, "quotaExceeded")
    before = datetime.now(UTC)

    with pytest.raises(yt.QuotaExceeded, match="daily API quota") as refused:
        yt.fetch_facts(service, ["mine0000001"])

    assert refused.value.reason == "quotaExceeded"
    assert _between_resets(before, refused.value.retry_at)
    assert len(fake.requests) == 1


def test_a_later_batch_over_quota_stops_the_read(fake: FakeYouTube, service) -> None:
    ids = [f"vid{n:08d}" for n in range(60)]
    for video_id in ids:
        fake.add_video(video_id)
    fake.fail_next(VIDEOS_PATH, 403, "quotaExceeded")

    with pytest.raises(yt.QuotaExceeded):
        yt.fetch_facts(service, ids)

    assert len(fake.calls("GET", VIDEOS_PATH)) == 1  # the second batch is never sent


def test_a_rate_limit_waits_as_google_asks(
    fake: FakeYouTube, service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client library retries a rate-limited read itself (READ_RETRIES), pausing between.
    monkeypatch.setattr("googleapiclient.http.time.sleep", lambda seconds: None)
    fake.fail_next(
        VIDEOS_PATH,
        429,
        "rateLimitExceeded",
        times=yt.READ_RETRIES + 1,
        headers={"Retry-After": "120"},
    )
    before = datetime.now(UTC)

    with pytest.raises(yt.QuotaExceeded, match="slow down") as refused:
        yt.fetch_facts(service, ["mine0000001"])

    assert timedelta(seconds=119) <= refused.value.retry_at - before <= timedelta(seconds=125)
    assert len(fake.calls("GET", VIDEOS_PATH)) == yt.READ_RETRIES + 1


def test_a_revoked_channel_means_connect_again(fake: FakeYouTube, service) -> None:
    fake.revoke_all()

    with pytest.raises(yt.NotConnected):
        yt.fetch_facts(service, ["mine0000001"])


def test_a_rejected_api_key_is_a_clear_error(fake: FakeYouTube) -> None:
    with pytest.raises(yt.YouTubeError, match="API key not valid"):
        yt.fetch_facts(yt.client(api_key="wrong"), ["abc"])


def test_new_counts_keep_a_videos_facts(fake: FakeYouTube, service) -> None:
    fake.add_video("mine0000001", published_at=PUBLISHED, duration_s=30, title="Kept")
    fake.set_stats("mine0000001", views=500, likes=None, comments=2)

    facts = yt.fetch_facts(service, ["mine0000001"]).found["mine0000001"]

    assert (facts.title, facts.published_at, facts.duration_s) == ("Kept", PUBLISHED, 30.0)
    assert (facts.views, facts.likes, facts.comments) == (500, 0, 2)


def test_an_uploaded_video_reads_as_the_channels_own(
    fake: FakeYouTube, service, tmp_path: Path
) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(1000))
    before = datetime.now(UTC).replace(microsecond=0)
    video_id = yt.upload_video(
        service,
        path,
        title="My clip",
        description="A clip #acme",
        tags=["acme"],
        privacy="public",
        chunk_size=256 * 1024,
        sleep=lambda seconds: None,
    )

    facts = yt.fetch_facts(service, [video_id]).found[video_id]

    assert facts.channel_id == fake.channel_id
    assert (facts.title, facts.description, facts.tags) == ("My clip", "A clip #acme", ("acme",))
    assert facts.duration_s == 0.0  # "P0D" until the fake is told the length
    assert before <= facts.published_at <= datetime.now(UTC)


def test_the_statistics_part_alone_carries_no_facts(fake: FakeYouTube, service) -> None:
    """fetch_stats asks only for statistics and gets only statistics, as from Google."""
    fake.add_video("mine0000001", title="Not asked for", views=7)

    response = service.videos().list(part="statistics", id="mine0000001").execute()

    [item] = response["items"]
    assert set(item) == {"kind", "id", "statistics"}
    assert yt.fetch_stats(service, ["mine0000001"], method="list").found["mine0000001"].views == 7


# --- parse_duration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT59S", 59.0),
        ("PT1M2S", 62.0),
        ("PT15M33S", 933.0),
        ("PT1H2M3.5S", 3723.5),
        ("PT1H", 3600.0),
        ("PT1H5S", 3605.0),
        ("P0D", 0.0),
        ("PT0S", 0.0),
        ("P1D", 86_400.0),
        ("P1DT2H", 93_600.0),
        ("P1DT2H3M4S", 93_784.0),
        ("P1W2DT6H21M32S", 800_492.0),  # seen for very long live streams
        ("PT0.25S", 0.25),
    ],
)
def test_durations_as_youtube_gives_them(text: str, seconds: float) -> None:
    assert yt.parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P1DT",
        "PT5",
        "5S",
        "T5S",
        "pt5s",
        " PT5S",
        "PT5S ",
        "-PT5S",
        "PT-5S",
        "PT1.5M",  # a fraction only on seconds
        "PT.5S",
        "PT5S1M",  # designators out of order
        "P1Y",  # years and months have no fixed length
        "P1M",
        "PT1H2H",
        "PT\u0663S",  # an Arabic-Indic digit
        "P" + "9" * 400 + "D",
        "PT" + "9" * 400 + "S",
        "1:02",
        "62",
    ],
)
def test_garbage_durations_are_none(text: str) -> None:
    assert yt.parse_duration(text) is None


def test_a_duration_that_is_not_text_is_none() -> None:
    assert yt.parse_duration(None) is None  # type: ignore[arg-type]
    assert yt.parse_duration(62) is None  # type: ignore[arg-type]


_COUNT = st.integers(min_value=0, max_value=10_000)


@given(
    weeks=st.none() | _COUNT,
    days=st.none() | _COUNT,
    hours=st.none() | _COUNT,
    minutes=st.none() | _COUNT,
    whole=st.none() | _COUNT,
    millis=st.none() | st.integers(min_value=0, max_value=999),
)
def test_any_duration_written_from_parts_reads_back_as_their_sum(
    weeks: int | None,
    days: int | None,
    hours: int | None,
    minutes: int | None,
    whole: int | None,
    millis: int | None,
) -> None:
    seconds = None if whole is None else whole + (millis or 0) / 1000
    text = (
        "P" + (f"{weeks}W" if weeks is not None else "") + (f"{days}D" if days is not None else "")
    )
    clock = (f"{hours}H" if hours is not None else "") + (
        f"{minutes}M" if minutes is not None else ""
    )
    if seconds is not None:
        clock += f"{whole}.{millis:03d}S" if millis is not None else f"{whole}S"
    text += f"T{clock}" if clock else ""
    expected = (
        (weeks or 0) * 604_800
        + (days or 0) * 86_400
        + (hours or 0) * 3_600
        + (minutes or 0) * 60
        + (seconds or 0)
    )

    parsed = yt.parse_duration(text)

    if text == "P":
        assert parsed is None
    else:
        assert parsed == pytest.approx(expected, abs=1e-6)


@given(st.integers(min_value=0, max_value=10 * 86_400_000))
def test_the_fakes_durations_read_back_to_the_millisecond(millis: int) -> None:
    assert yt.parse_duration(iso_duration(millis / 1000)) == pytest.approx(millis / 1000, abs=1e-6)


@given(st.text())
def test_parse_duration_never_raises(text: str) -> None:
    parsed = yt.parse_duration(text)
    assert parsed is None or parsed >= 0


# --- parse_published_at ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-01T10:00:00Z", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("2026-12-01T10:00:00.5Z", datetime(2026, 12, 1, 10, 0, 0, 500_000, tzinfo=UTC)),
        ("2026-12-01T10:00:00.123456789Z", datetime(2026, 12, 1, 10, 0, 0, 123_456, tzinfo=UTC)),
        ("2026-12-01T12:00:00+02:00", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("2026-12-01T05:30:00-04:30", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("2026-12-01T00:30:00.250+01:00", datetime(2026, 11, 30, 23, 30, 0, 250_000, tzinfo=UTC)),
        ("2026-12-01t10:00:00z", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("2026-12-01 10:00:00Z", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_published_times_are_aware_utc(text: str, moment: datetime) -> None:
    parsed = yt.parse_published_at(text)

    assert parsed == moment
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-12-01",  # a date alone
        "2026-12-01T10:00:00",  # no offset: which moment is unknown
        "2026-12-01T10:00Z",  # no seconds
        "20261201T100000Z",  # ISO 8601 basic format, not RFC 3339
        "2026-02-30T10:00:00Z",
        "2026-12-01T25:00:00Z",
        "2026-12-01T10:00:60Z",
        "2026-12-01T10:00:00+24:00",
        "2026-12-01T10:00:00+05:75",
        "2026-12-01T10:00:00+0500",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "2026-12-01T10:00:00.Z",
        " 2026-12-01T10:00:00Z",
        "yesterday",
    ],
)
def test_garbage_times_are_none(text: str) -> None:
    assert yt.parse_published_at(text) is None


def test_a_time_that_is_not_text_is_none() -> None:
    assert yt.parse_published_at(None) is None  # type: ignore[arg-type]


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
            lambda minutes: timezone(timedelta(minutes=minutes))
        ),
    )
)
def test_any_rfc3339_time_reads_back_as_the_same_moment(moment: datetime) -> None:
    text = moment.isoformat(timespec="microseconds")
    zulu = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    assert yt.parse_published_at(text) == moment
    assert yt.parse_published_at(zulu) == moment
    assert yt.parse_published_at(text).tzinfo is UTC


@given(st.text())
def test_parse_published_at_never_raises(text: str) -> None:
    parsed = yt.parse_published_at(text)
    assert parsed is None or parsed.tzinfo is UTC
