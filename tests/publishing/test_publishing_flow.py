"""Publishing end to end against the local fake of Google (OAuth + YouTube Data API),
with the real client libraries doing the talking: connecting a channel, uploading an
approved clip, and the view sync, on SQLite and PostgreSQL."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from clipgen.models import (
    Campaign,
    Clip,
    MarketJob,
    OAuthRequest,
    PlatformConnection,
    Publication,
    PublicationStatus,
    Role,
    TransactionKind,
    UploadStatus,
    ViewSnapshot,
    utcnow,
)
from clipgen.services import tasks
from clipgen.services.errors import InvalidInput, PermissionDenied, RecordedRefusal
from clipgen.services.publishing import connections, publications, sync, tokens
from clipgen.storage import clear_storage_cache, get_storage
from tests.support.fake_youtube import FakeYouTube
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import person


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    with FakeYouTube() as running:
        running.apply_env(monkeypatch)
        yield running


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages


@pytest.fixture
def people(session: Session):
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    clipper = person(session, Role.CLIPPER, "ada")
    session.commit()
    return admin, client, clipper


def _follow_consent(url: str) -> dict[str, str]:
    """Open Google's consent page as the browser would; where it sends the browser back."""

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(KeepRedirect).open(url, timeout=5)
    back = parse_qs(urlparse(redirect.value.headers["Location"]).query)
    return {name: values[0] for name, values in back.items()}


def _connect(session: Session, clipper) -> None:
    back = _follow_consent(connections.start_youtube_connection(session=session, actor=clipper))
    session.commit()
    connections.finish_youtube_connection(
        session=session, actor=clipper, state=back["state"], code=back["code"]
    )
    session.commit()


# --- connecting a channel ---------------------------------------------------------------


def test_connecting_keeps_tokens_encrypted_and_checks_the_state(
    session: Session, fake: FakeYouTube, people
) -> None:
    _admin, client, clipper = people
    back = _follow_consent(connections.start_youtube_connection(session=session, actor=clipper))
    session.commit()
    # A state that was never issued, and this clipper's state used by someone else: refused.
    with pytest.raises(InvalidInput, match="not valid any more"):
        connections.finish_youtube_connection(
            session=session, actor=clipper, state="forged", code=back["code"]
        )
    other = person(session, Role.CLIPPER, "mallory")
    with pytest.raises(InvalidInput, match="not valid any more"):
        connections.finish_youtube_connection(
            session=session, actor=other, state=back["state"], code=back["code"]
        )
    with pytest.raises(PermissionDenied):
        connections.start_youtube_connection(session=session, actor=client)
    session.rollback()
    shown = connections.finish_youtube_connection(
        session=session, actor=clipper, state=back["state"], code=back["code"]
    )
    session.commit()
    assert shown.connected and shown.channel_title == fake.channel_title
    # The same link twice: refused (the state is used once).
    with pytest.raises(InvalidInput, match="not valid any more"):
        connections.finish_youtube_connection(
            session=session, actor=clipper, state=back["state"], code=back["code"]
        )
    session.rollback()
    raw = session.execute(
        text("SELECT access_token_encrypted, refresh_token_encrypted FROM platform_connections")
    ).one()
    [grant] = list(fake._grants.values())
    assert grant.refresh_token not in raw[1]
    assert not any(token in raw[0] for token in grant.access_tokens)
    assert tokens.decrypt(raw[1]) == grant.refresh_token
    stored = session.exec(select(OAuthRequest)).one()
    assert back["state"] not in stored.state_hash and stored.used_at is not None


def test_an_expired_consent_link_and_a_declined_consent_are_refused(
    session: Session, fake: FakeYouTube, people
) -> None:
    _admin, _client, clipper = people
    back = _follow_consent(connections.start_youtube_connection(session=session, actor=clipper))
    row = session.exec(select(OAuthRequest)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(InvalidInput, match="not valid any more"):
        connections.finish_youtube_connection(
            session=session, actor=clipper, state=back["state"], code=back["code"]
        )
    session.rollback()
    back = _follow_consent(connections.start_youtube_connection(session=session, actor=clipper))
    session.commit()
    with pytest.raises(RecordedRefusal, match="you declined access"):
        connections.finish_youtube_connection(
            session=session, actor=clipper, state=back["state"], error="access_denied"
        )
    assert session.exec(select(PlatformConnection)).all() == []


def test_without_an_oauth_client_the_app_says_what_to_set(session: Session, people) -> None:
    _admin, _client, clipper = people
    view = connections.youtube_connection(session=session, actor=clipper)
    assert not view.configured and not view.connected
    with pytest.raises(InvalidInput, match="YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET"):
        connections.start_youtube_connection(session=session, actor=clipper)


def test_an_expired_token_is_refreshed_and_saved_and_disconnect_revokes(
    session: Session, fake: FakeYouTube, people
) -> None:
    _admin, _client, clipper = people
    _connect(session, clipper)
    row = session.exec(select(PlatformConnection)).one()
    before = row.access_token_encrypted
    row.token_expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    fake.expire_access_tokens()
    creds = connections.usable_credentials(clipper.id)
    assert creds is not None and creds.valid
    session.expire_all()
    row = session.exec(select(PlatformConnection)).one()
    assert row.access_token_encrypted != before
    assert tokens.decrypt(row.access_token_encrypted) == creds.token
    assert row.token_expires_at > utcnow()

    assert connections.disconnect_youtube(session=session, actor=clipper) is True
    session.commit()
    assert session.exec(select(PlatformConnection)).all() == []
    assert fake.calls("POST", "/revoke")


def test_access_revoked_at_google_marks_the_connection_broken(
    session: Session, fake: FakeYouTube, people
) -> None:
    _admin, _client, clipper = people
    _connect(session, clipper)
    row = session.exec(select(PlatformConnection)).one()
    row.token_expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    fake.revoke_all()
    assert connections.usable_credentials(clipper.id) is None
    session.expire_all()
    assert not connections.is_connected(session, clipper.id)


# --- uploading --------------------------------------------------------------------------


@pytest.fixture
def approved_clip(session: Session, people, tmp_path: Path):
    """An approved clip of ada's, its file in storage."""
    admin, client, clipper = people
    live = live_campaign(session, admin, client)
    _claim, submission = approved(session, client, clipper, live)
    session.commit()
    clear_storage_cache()
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(700 * 1024))
    from clipgen.models import Clip

    clip = session.get(Clip, submission.clip_id)
    get_storage().put_file(clip.video_key, source)
    return submission, source.stat().st_size


def test_an_approved_clip_uploads_with_a_retried_chunk_and_is_recorded(
    session: Session, fake: FakeYouTube, people, approved_clip, sent, monkeypatch
) -> None:
    _admin, _client, clipper = people
    submission, size = approved_clip
    with pytest.raises(InvalidInput, match="Connect your YouTube channel first"):
        publications.request_youtube_upload(
            session=session, actor=clipper, submission_id=submission.id, title="Best bit"
        )
    _connect(session, clipper)
    with pytest.raises(InvalidInput, match="private, unlisted or public"):
        publications.request_youtube_upload(
            session=session, actor=clipper, submission_id=submission.id, title="x", privacy="all"
        )
    upload = publications.request_youtube_upload(
        session=session,
        actor=clipper,
        submission_id=submission.id,
        title="The best bit",
        description="From the launch talk #launch",
        tags="#launch #talk",
    )
    again = publications.request_youtube_upload(
        session=session, actor=clipper, submission_id=submission.id, title="The best bit"
    )
    session.commit()
    assert again.id == upload.id and sent == [("upload_to_youtube", {"upload_id": upload.id})]

    from clipgen.services.publishing import youtube

    monkeypatch.setattr(
        youtube, "upload_video", _small_chunks(youtube.upload_video)
    )  # 256 KiB chunks, so the fake sees several
    fake.fail_next("PUT", 500)
    done = publications.run_youtube_upload(upload.id, sleep=lambda s: None)
    assert done.status == UploadStatus.DONE and done.progress_percent == 100
    post = session.exec(select(Publication)).one()
    assert post.platform == "youtube" and post.url.endswith(post.external_id)
    received = fake.uploaded(post.external_id)
    assert len(received.data) == size
    assert fake.videos[post.external_id] is not None
    # a second run of the same message does nothing
    assert publications.run_youtube_upload(upload.id).status == UploadStatus.DONE
    assert len(session.exec(select(Publication)).all()) == 1
    session.expire_all()  # a new request, as the app makes one per event
    with pytest.raises(InvalidInput, match="already on your channel"):
        publications.request_youtube_upload(
            session=session, actor=clipper, submission_id=submission.id, title="Again"
        )


def _small_chunks(upload_video):
    def upload(service, path, **kwargs):
        kwargs["chunk_size"] = 256 * 1024
        return upload_video(service, path, **kwargs)

    return upload


def test_a_quota_error_says_when_to_retry(
    session: Session, fake: FakeYouTube, people, approved_clip, sent
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _connect(session, clipper)
    upload = publications.request_youtube_upload(
        session=session, actor=clipper, submission_id=submission.id, title="The best bit"
    )
    session.commit()
    fake.fail_next("POST", 403, reason="quotaExceeded")
    failed = publications.run_youtube_upload(upload.id, sleep=lambda s: None)
    assert failed.status == UploadStatus.FAILED and failed.retry_at > utcnow()
    assert "quota" in failed.error and "Pacific" in failed.error
    session.expire_all()
    with pytest.raises(InvalidInput, match="Try again after"):
        publications.request_youtube_upload(
            session=session, actor=clipper, submission_id=submission.id, title="The best bit"
        )
    assert session.exec(select(Publication)).all() == []


# --- the view sync ----------------------------------------------------------------------


def _posts(session: Session, submission, clipper, count: int, fake: FakeYouTube) -> list[str]:
    ids = [f"vid{n:08d}"[:11].ljust(11, "x") for n in range(count)]
    for video_id in ids:
        session.add(
            Publication(
                submission_id=submission.id,
                clip_id=submission.clip_id,
                clipper_id=clipper.id,
                platform="youtube",
                url=f"https://www.youtube.com/shorts/{video_id}",
                external_id=video_id,
                verification="verified",  # checked already: these tests are about reading
            )
        )
        fake.set_stats(video_id, 1_000, 40, 3)
    session.commit()
    return ids


def test_the_sync_reads_120_posts_in_3_calls_and_books_money_once(
    session: Session, fake: FakeYouTube, people, approved_clip
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _connect(session, clipper)
    ids = _posts(session, submission, clipper, 120, fake)
    fake.set_stats(ids[0], 100_000, 4_000, 100)  # 218,999 views in all: the 20 % bonus
    fake.delete(ids[1])
    first = sync.run_view_sync()
    assert len(fake.calls("GET", "/youtube/v3/videos:batchGetStats")) == 3
    assert (first.publications, first.snapshots, first.unavailable) == (120, 119, 1)
    assert (first.api_calls, first.stats_calls, first.error) == (3, 3, "")
    gone = session.exec(select(Publication).where(Publication.external_id == ids[1])).one()
    assert gone.status == PublicationStatus.UNAVAILABLE and "deleted" in gone.status_note
    performance = publications.clip_performance(
        session=session, actor=clipper, submission_id=submission.id
    )
    bonus = [line for line in performance.earnings if line.kind == TransactionKind.BONUS]
    assert [line.gross_cents for line in bonus] == [200]
    second = sync.run_view_sync()
    assert second.bookings == 0 and second.snapshots == 119
    session.expire_all()
    performance = publications.clip_performance(
        session=session, actor=clipper, submission_id=submission.id
    )
    assert [line.gross_cents for line in performance.earnings if line.kind == "bonus"] == [200]
    assert len(session.exec(select(ViewSnapshot)).all()) == 238


def test_without_batch_get_stats_the_sync_falls_back_to_videos_list(
    session: Session, fake: FakeYouTube, people, approved_clip
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _connect(session, clipper)
    _posts(session, submission, clipper, 60, fake)
    fake.disable_batch_get_stats()
    run = sync.run_view_sync()
    assert len(fake.calls("GET", "/youtube/v3/videos")) == 2
    assert (run.snapshots, run.quota_units) == (60, 2)


def test_a_quota_error_stops_the_sync_and_keeps_what_was_read(
    session: Session, fake: FakeYouTube, people, approved_clip
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _connect(session, clipper)
    _posts(session, submission, clipper, 75, fake)
    fake.fail_next("GET", 403, reason="quotaExceeded", times=1)  # the first batch
    run = sync.run_view_sync()
    assert "quota" in run.error and run.snapshots == 0
    run = sync.run_view_sync()
    assert run.error == "" and run.snapshots == 75


def test_posts_nobody_can_read_are_counted_as_unread(
    session: Session, fake: FakeYouTube, people, approved_clip
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _posts(session, submission, clipper, 2, fake)
    run = sync.run_view_sync()
    assert (run.publications, run.unread, run.api_calls) == (0, 2, 0)
    assert fake.calls("GET") == []


def test_the_api_key_reads_only_channels_a_clipper_proved_are_theirs(
    session: Session, monkeypatch: pytest.MonkeyPatch, people, approved_clip
) -> None:
    """Reading any public video with the key paid for other people's videos (issue 19):
    now the key reads only posts on a channel the clipper once connected (their connection
    broke since); a clipper who never connected is not read, and so not paid."""
    _admin, _client, clipper = people
    submission, _size = approved_clip
    with FakeYouTube() as keyed:
        keyed.apply_env(monkeypatch, with_api_key=True)
        _posts(session, submission, clipper, 3, keyed)
        run = sync.run_view_sync()
        assert (run.snapshots, run.unread) == (0, 3) and keyed.calls("GET") == []
        session.add(
            PlatformConnection(
                user_id=clipper.id,
                platform="youtube",
                external_account_id=keyed.channel_id,
                revoked_at=utcnow(),
            )
        )
        session.commit()
        run = sync.run_view_sync()
        [call] = keyed.calls("GET", "/youtube/v3/videos")
        assert call.query["key"] == [keyed.api_key]
        assert run.snapshots == 3 and run.quota_units == 1


def test_a_youtube_post_is_verified_from_its_channel_and_another_channels_is_refused(
    session: Session, fake: FakeYouTube, people, approved_clip, sent
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _connect(session, clipper)
    campaign = session.get(Campaign, session.get(MarketJob, submission.job_id).campaign_id)
    campaign.hashtags = "#launch @brand"
    session.add(campaign)
    clip = session.get(Clip, submission.clip_id)
    length = clip.end_s - clip.start_s
    fake.add_video(
        "ownVideo001",
        duration_s=length + 0.4,
        description="Watch #launch with @brand",
        views=120_000,
        likes=5_000,
        comments=300,
    )
    fake.add_video(
        "viralVideo1",
        channel_id="UCsomeoneElse0000000000x",
        duration_s=length,
        description="#launch @brand",
        views=9_000_000,
        likes=400_000,
    )
    fake.add_video("untaggedVid", duration_s=length, description="no tags", views=50_000)
    posts = {
        video: publications.add_post_url(
            session=session,
            actor=clipper,
            submission_id=submission.id,
            url=f"https://youtu.be/{video}",
        ).id
        for video in ("ownVideo001", "viralVideo1", "untaggedVid")
    }
    session.commit()
    assert ("verify_post", {"publication_id": posts["ownVideo001"]}) in sent
    run = sync.run_view_sync()
    assert (run.verified, run.refused, run.snapshots) == (1, 2, 1)
    assert run.calls_by_platform == {"youtube": 1}
    [call] = fake.calls("GET", "/youtube/v3/videos")
    assert set(call.query["part"][0].split(",")) == {"snippet", "contentDetails", "statistics"}
    session.expire_all()
    own, viral, untagged = (session.get(Publication, posts[v]) for v in posts)
    assert (own.verification, own.verified_by, own.views) == ("verified", "youtube", 120_000)
    assert viral.verification == "refused" and "another YouTube Shorts account" in (
        viral.verification_note
    )
    assert untagged.verification == "refused"
    assert "lacks #launch, @brand" in untagged.verification_note
    # Money follows the verified post alone: 120,000 views, the 20 % bonus of a $10 clip.
    performance = publications.clip_performance(
        session=session, actor=clipper, submission_id=submission.id
    )
    assert performance.counted_views == 120_000
    assert [line.gross_cents for line in performance.earnings if line.kind == "bonus"] == [200]
    # The clipper fixes the description and asks again: verified, and read from then on.
    fake.add_video("untaggedVid", duration_s=length, description="#launch @brand", views=50_000)
    publications.check_again(session=session, actor=clipper, publication_id=untagged.id)
    session.commit()
    again = sync.run_view_sync(only_post=untagged.id)
    assert (again.verified, again.snapshots) == (1, 1)
    session.expire_all()
    assert session.get(Publication, untagged.id).verification == "verified"
    assert session.get(Publication, viral.id).views == 0  # never read, never paid


def test_a_post_published_before_the_claim_or_of_another_length_is_refused(
    session: Session, fake: FakeYouTube, people, approved_clip
) -> None:
    _admin, _client, clipper = people
    submission, _size = approved_clip
    _connect(session, clipper)
    job = session.get(MarketJob, submission.job_id)
    clip = session.get(Clip, submission.clip_id)
    fake.add_video(
        "olderVideo1",
        published_at=job.claimed_at - timedelta(days=3),
        duration_s=clip.end_s - clip.start_s,
    )
    fake.add_video("longerVideo", duration_s=clip.end_s - clip.start_s + 20)
    for video in ("olderVideo1", "longerVideo"):
        publications.add_post_url(
            session=session,
            actor=clipper,
            submission_id=submission.id,
            url=f"https://www.youtube.com/shorts/{video}",
        )
    session.commit()
    assert sync.run_view_sync().refused == 2
    session.expire_all()
    notes = {p.external_id: p.verification_note for p in session.exec(select(Publication)).all()}
    assert "before you claimed this campaign" in notes["olderVideo1"]
    assert "s long; the approved clip is" in notes["longerVideo"]


def test_an_upload_no_worker_is_on_is_sent_again_and_uploads_once(
    session: Session, fake: FakeYouTube, people, approved_clip, sent, monkeypatch
) -> None:
    from workers import publishing as publishing_worker

    _admin, _client, clipper = people
    submission, size = approved_clip
    _connect(session, clipper)
    upload = publications.request_youtube_upload(
        session=session, actor=clipper, submission_id=submission.id, title="The best bit"
    )
    session.commit()
    resent: list[int] = []
    monkeypatch.setattr(
        publishing_worker.upload_to_youtube, "send", lambda upload_id: resent.append(upload_id)
    )
    assert publishing_worker.resend_stale_uploads() == 0  # just queued: a worker will come
    # A worker took it and was killed: no sign of life for longer than STALE_UPLOAD.
    upload.status, upload.updated_at = UploadStatus.UPLOADING, utcnow() - timedelta(minutes=16)
    session.add(upload)
    session.commit()
    assert publishing_worker.resend_stale_uploads() == 1 and resent == [upload.id]
    done = publications.run_youtube_upload(upload.id, sleep=lambda s: None)
    assert done.status == UploadStatus.DONE and done.attempts == 1
    # the message sent twice does nothing the second time
    assert publications.run_youtube_upload(upload.id).status == UploadStatus.DONE
    assert len(session.exec(select(Publication)).all()) == 1
    post = session.exec(select(Publication)).one()
    assert len(fake.uploaded(post.external_id).data) == size
    assert publishing_worker.resend_stale_uploads() == 0  # nothing left to recover
