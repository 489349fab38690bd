"""The publishing handlers called directly, as a crafted websocket event would call them: a
clip's performance page is its clipper's, its client's and admins' only; a bad post address
or bad counts get the service's words and change nothing; the client enters counts and the
bonus follows; the clipper's typed counts wait until the client confirms them (or declines
them with a reason); the YouTube connection goes through Google's consent and back."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import (
    Campaign,
    CountReport,
    LedgerTransaction,
    MarketJob,
    Notification,
    OAuthRequest,
    PlatformConnection,
    Publication,
    Role,
    Submission,
    ViewSnapshot,
    YouTubeUpload,
)
from clipgen.services import tasks
from clipgen.services.auth import service as auth
from clipgen.services.publishing import connections
from clipgen.state.publishing import PerformanceState, YouTubeState
from tests.support.fake_youtube import FakeYouTube
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import PASSWORD, person

NOT_FOUND = "That clip was not found."
TIKTOK = "https://www.tiktok.com/@ada/video/7301234567890123456"


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Messages to workers, kept instead of sent."""
    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages


def _token(session: Session, user: auth.UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    return token


@pytest.fixture
def world(database_url: str) -> dict:
    """Brand's campaign (YouTube and TikTok, $10 a clip) with Ada's approved clip; Bob is
    another clipper, Otherco another client."""
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        other_client = person(session, Role.CLIENT, "otherco")
        ada = person(session, Role.CLIPPER, "ada")
        bob = person(session, Role.CLIPPER, "bob")
        campaign = live_campaign(session, admin, client, hashtags="#launch")
        _claim, submission = approved(session, client, ada, campaign)
        tokens = {
            name: _token(session, user)
            for name, user in (
                ("admin", admin),
                ("client", client),
                ("other_client", other_client),
                ("ada", ada),
                ("bob", bob),
            )
        }
    return {"tokens": tokens, "submission": submission.id, "ada": ada, "bob": bob}


def _state(cls, token: str, path: str = "", route: str = ""):
    """The handler's state as one browser tab holds it, on page `path` (with its query)."""
    from reflex.istate.data import RouterData
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    if path:
        root.router = RouterData.from_router_data(
            {
                "pathname": route or path.split("?")[0],
                "asPath": path,
                "headers": {"origin": "http://localhost:3000"},
            }
        )
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _page(token: str, submission_id: int) -> PerformanceState:
    state = _state(
        PerformanceState, token, routes.clip_performance(submission_id), routes.CLIP_PERFORMANCE
    )
    PerformanceState.open_page.fn(state)
    return state


def _counts(session: Session) -> dict:
    """Everything a publishing handler could create."""
    session.expire_all()

    def count(model) -> int:
        return session.exec(select(func.count()).select_from(model)).one()

    return {
        "posts": sorted(session.exec(select(Publication.id, Publication.views)).all()),
        "readings": count(ViewSnapshot),
        "reports": sorted(session.exec(select(CountReport.id, CountReport.status)).all()),
        "ledger": count(LedgerTransaction),
        "uploads": count(YouTubeUpload),
        "connections": count(PlatformConnection),
    }


def _add_tiktok(token: str, submission_id: int) -> PerformanceState:
    page = _page(token, submission_id)
    PerformanceState.add_post.fn(page, {"url": TIKTOK})
    assert page.post_error == ""
    return page


def _report(page: PerformanceState, views: str, **more: str) -> list:
    """The clipper types counts off their post; the events the handler returns."""
    events = PerformanceState.enter_counts.fn(
        page, {"publication_id": page.posts[0]["id"], "views": views, **more}
    )
    assert page.counts_error == ""
    return events


def _confirm(token: str, submission_id: int) -> PerformanceState:
    """The client confirms the count waiting on their page."""
    client = _page(token, submission_id)
    [waiting] = [r for r in client.reports if r["status"] == "waiting"]
    PerformanceState.confirm_report.fn(client, waiting["id"])
    assert client.report_error == ""
    return client


# --- who may see a clip's performance ------------------------------------------------------


def test_the_clipper_sees_the_clip_with_its_approval_and_what_to_upload(world) -> None:
    page = _page(world["tokens"]["ada"], world["submission"])
    assert page.loaded and page.load_error == "" and page.viewer_role == "clipper"
    assert page.clip_title == "The best bit" and page.campaign_title == "Launch week"
    assert page.posts == [] and page.readings == [] and page.counted_views == "0"
    [approval] = page.earnings
    assert approval["label"] == "Approval" and approval["gross"] == "$10.00"
    assert approval["share"] == "$7.00" and approval["state"] == "pending"
    assert page.upload_title == "The best bit" and page.upload_tags == "#launch"
    assert not page.youtube_configured and page.youtube_paid


def test_a_stranger_cannot_see_a_performance_page(world) -> None:
    for who in ("bob", "other_client"):
        page = _page(world["tokens"][who], world["submission"])
        assert page.not_found and page.load_error == NOT_FOUND, who
        assert not page.loaded and page.posts == [] and page.earnings == []
        assert page.clip_title == ""
    for path in ("/performance/abc", "/performance/99999999999999"):
        page = _state(PerformanceState, world["tokens"]["ada"], path, routes.CLIP_PERFORMANCE)
        PerformanceState.open_page.fn(page)
        assert page.not_found and page.load_error == NOT_FOUND
    admin = _page(world["tokens"]["admin"], world["submission"])
    assert admin.loaded and admin.viewer_role == "admin" and admin.shows_share


def test_signed_out_calls_are_refused_and_change_nothing(session: Session, world) -> None:
    post_id = _add_tiktok(world["tokens"]["ada"], world["submission"]).posts[0]["id"]
    before = _counts(session)
    page = _page("forged-token", world["submission"])
    assert not page.loaded and page.posts == []
    page.clip_submission_id = world["submission"]
    for call, form in (
        (PerformanceState.add_post, {"url": "https://www.tiktok.com/@x/video/73012345678901"}),
        (PerformanceState.enter_counts, {"publication_id": post_id, "views": "5000"}),
        (PerformanceState.upload_to_youtube, {"title": "Mine", "privacy": "public"}),
    ):
        assert call.fn(page, form) is not None  # a redirect to sign in
    account = _state(YouTubeState, "forged-token", routes.ACCOUNT)
    YouTubeState.open_account.fn(account)
    assert not account.yt_for_clipper
    YouTubeState.connect.fn(account)
    YouTubeState.disconnect.fn(account)
    assert _counts(session) == before


def test_another_clipper_or_client_cannot_post_upload_or_count(
    session: Session, world, sent
) -> None:
    post_id = _add_tiktok(world["tokens"]["ada"], world["submission"]).posts[0]["id"]
    before = _counts(session)
    for who, refusal in (
        ("bob", NOT_FOUND),
        ("other_client", "Making clips is part of a clipper account."),
    ):
        # A crafted event carrying Ada's clip in the tab's state gets nothing.
        page = _state(PerformanceState, world["tokens"][who])
        page.clip_submission_id = world["submission"]
        PerformanceState.add_post.fn(page, {"url": "https://youtu.be/abcdefghijk"})
        assert page.post_error == refusal, who
        PerformanceState.upload_to_youtube.fn(page, {"title": "Stolen", "privacy": "public"})
        assert page.upload_error == refusal, who
        PerformanceState.enter_counts.fn(page, {"publication_id": post_id, "views": "999999"})
        assert page.counts_error == NOT_FOUND, who
    # The campaign's client reads the page but neither posts nor uploads for the clipper.
    client = _page(world["tokens"]["client"], world["submission"])
    PerformanceState.add_post.fn(client, {"url": "https://youtu.be/abcdefghijk"})
    assert client.post_error == "Making clips is part of a clipper account."
    assert _counts(session) == before and sent == []


# --- adding posts and entering counts ------------------------------------------------------


def test_a_bad_post_address_shows_the_message_and_adds_nothing(session: Session, world) -> None:
    page = _page(world["tokens"]["ada"], world["submission"])
    before = _counts(session)
    for url, message in (
        ("", "Paste the address of your post."),
        ("https://example.com/my-video", "Posts are added from YouTube, TikTok or Instagram."),
        (
            "https://www.tiktok.com/@ada",
            "That TikTok address names no video: use https://www.tiktok.com/@<user>/video/"
            "<number>.",
        ),
        ("https://www.instagram.com/reel/Cabc123/", "This campaign pays for posts on YouTube"),
    ):
        PerformanceState.add_post.fn(page, {"url": url})
        assert page.post_error.startswith(message), (url, page.post_error)
    PerformanceState.add_post.fn(page, {"url": ["not", "text"]})
    assert page.post_error == "Paste the address of your post."
    PerformanceState.add_post.fn(page, "not a form")
    assert page.post_error == "Paste the address of your post."
    assert _counts(session) == before and page.post_form_key == 0

    PerformanceState.add_post.fn(page, {"url": TIKTOK})
    assert page.post_error == "" and page.post_form_key == 1
    [post] = page.posts
    assert post["label"] == "TikTok" and post["url"] == TIKTOK and post["views"] == "0"
    assert post["read_how"] == "Counts entered by hand" and post["state"] == "Not verified yet"
    assert "the campaign's client checks this post" in post["note"]
    assert post["last_read"] == "Not read yet"
    assert page.manual_posts == [post]


def test_bad_counts_show_the_message_and_record_nothing(session: Session, world) -> None:
    page = _add_tiktok(world["tokens"]["ada"], world["submission"])
    post_id = page.posts[0]["id"]
    before = _counts(session)
    for form, message in (
        ({"publication_id": post_id, "views": ""}, "Enter the views the post shows."),
        (
            {"publication_id": post_id, "views": "lots"},
            "Views is a whole number, such as 120,000.",
        ),
        (
            {"publication_id": post_id, "views": "1000", "likes": "-4"},
            "Likes is a whole number, such as 120,000.",
        ),
        ({"publication_id": "abc", "views": "1000"}, "That post was not found."),
        ({"publication_id": "", "views": "1000"}, "That post was not found."),
    ):
        PerformanceState.enter_counts.fn(page, form)
        assert page.counts_error == message, form
        assert page.counts_post_id == form["publication_id"]
    assert _counts(session) == before and page.readings == []


def test_the_client_enters_counts_and_sees_the_bonus_gross_only(session: Session, world) -> None:
    _add_tiktok(world["tokens"]["ada"], world["submission"])
    client = _page(world["tokens"]["client"], world["submission"])
    assert client.viewer_role == "client" and not client.shows_share
    [post] = client.manual_posts
    PerformanceState.enter_counts.fn(
        client,
        {"publication_id": post["id"], "views": "120,000", "likes": "5000", "comments": "300"},
    )
    assert client.counts_error == "" and client.counts_form_key == 1
    [post] = client.posts
    assert (post["views"], post["likes"], post["comments"]) == ("120,000", "5,000", "300")
    assert post["last_read"] != "Not read yet" and client.counted_views == "120,000"
    [reading] = client.readings
    assert reading["views"] == "120,000" and reading["entered_by"] == "Brand"
    assert reading["post"] == "TikTok"
    assert client.chart_lines == [{"key": f"p{post['id']}", "name": "TikTok", "color": "#7c3aed"}]
    assert client.chart_data[0][f"p{post['id']}"] == 120_000
    labels = [line["label"] for line in client.earnings]
    assert labels == ["Approval", "Performance bonus: 20% at 100,000 views"]
    assert [line["gross"] for line in client.earnings] == ["$10.00", "$2.00"]
    assert all(line["share"] == "" for line in client.earnings)

    clipper = _page(world["tokens"]["ada"], world["submission"])
    bonus = clipper.earnings[-1]
    # A first count typed by hand, no other post of the campaign to compare it with: the
    # bonus is booked held for review (tests/publishing/test_first_reading_fraud.py).
    assert bonus["share"] == "$1.40" and bonus["state"] == "held for review"
    session.expire_all()
    snapshot = session.exec(select(ViewSnapshot)).one()
    assert snapshot.source == "manual" and snapshot.views == 120_000


# --- uploading to YouTube ------------------------------------------------------------------


def test_an_upload_without_a_connected_channel_is_refused_in_words(
    session: Session, world, sent
) -> None:
    page = _page(world["tokens"]["ada"], world["submission"])
    PerformanceState.upload_to_youtube.fn(
        page, {"title": "The best bit", "description": "", "tags": "", "privacy": "private"}
    )
    assert page.upload_error == ("Connect your YouTube channel first (Account → Connect YouTube).")
    assert _counts(session)["uploads"] == 0 and sent == []


# --- the YouTube channel on /account -----------------------------------------------------


def test_the_account_card_says_what_an_admin_must_set(session: Session, world) -> None:
    account = _state(YouTubeState, world["tokens"]["ada"], routes.ACCOUNT)
    YouTubeState.open_account.fn(account)
    assert account.yt_for_clipper and not account.yt_configured and not account.yt_connected
    assert account.yt_missing == "YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET"
    assert YouTubeState.connect.fn(account) is None
    assert account.yt_error.startswith("YouTube publishing is not set up on this server")
    client = _state(YouTubeState, world["tokens"]["client"], routes.ACCOUNT)
    YouTubeState.open_account.fn(client)
    assert not client.yt_for_clipper
    # A client landing on the callback is told in a toast (their Account has no card).
    callback = _state(
        YouTubeState, world["tokens"]["client"], f"{routes.YOUTUBE_CALLBACK}?state=x&code=y"
    )
    redirect, _toast = YouTubeState.finish_connection.fn(callback)
    assert _redirect_path(redirect) == routes.ACCOUNT and callback.yt_notice == ""
    session.expire_all()
    assert session.exec(select(func.count()).select_from(OAuthRequest)).one() == 0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    with FakeYouTube() as running:
        running.apply_env(monkeypatch)
        yield running


def _consent(url: str) -> dict[str, str]:
    """Open Google's consent page as the browser would; the query it sends back with."""

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(KeepRedirect).open(url, timeout=5)
    location = redirect.value.headers["Location"]
    assert location.startswith("http://localhost:3000" + routes.YOUTUBE_CALLBACK)
    return {name: values[0] for name, values in parse_qs(urlparse(location).query).items()}


def _redirect_path(spec) -> str:
    """Where an `rx.redirect` event sends the browser."""
    return dict((str(name), value._var_value) for name, value in spec.args)["path"]


def _callback(token: str, query: dict[str, str]) -> YouTubeState:
    """Google's redirect back lands on the callback page of a tab; it goes on to /account."""
    state = _state(YouTubeState, token, f"{routes.YOUTUBE_CALLBACK}?{urlencode(query)}")
    assert _redirect_path(YouTubeState.finish_connection.fn(state)) == routes.ACCOUNT
    return state


def test_connect_goes_through_google_and_back_then_disconnects(
    session: Session, world, fake: FakeYouTube, sent
) -> None:
    token = world["tokens"]["ada"]
    account = _state(YouTubeState, token, routes.ACCOUNT)
    YouTubeState.open_account.fn(account)
    assert account.yt_configured and not account.yt_connected
    redirect = YouTubeState.connect.fn(account)
    assert account.yt_error == ""
    consent_url = _redirect_path(redirect)
    assert consent_url.startswith(fake.url)
    back = _consent(consent_url)

    # Bob replaying Ada's link, and a forged state, connect nothing.
    bob = _callback(world["tokens"]["bob"], back)
    assert bob.yt_notice == connections.STALE_LINK and not bob.yt_notice_ok
    assert _counts(session)["connections"] == 0

    tab = _callback(token, back)
    assert tab.yt_notice == "YouTube connected: Fake Clipper Channel." and tab.yt_notice_ok
    YouTubeState.open_account.fn(tab)  # the redirect lands on /account: the notice stays
    assert tab.yt_notice == "YouTube connected: Fake Clipper Channel."
    assert tab.yt_connected and tab.yt_channel == "Fake Clipper Channel"
    YouTubeState.open_account.fn(tab)  # a later visit: gone
    assert tab.yt_notice == ""
    # The same callback loaded again in the tab does nothing more.
    YouTubeState.finish_connection.fn(tab)
    assert tab.yt_notice == ""
    forged = _callback(token, {"state": "forged", "code": back["code"]})
    assert forged.yt_notice == connections.STALE_LINK

    # Connected: the performance page offers the upload; a double press queues one upload.
    page = _page(token, world["submission"])
    assert page.youtube_configured and page.youtube_connected
    form = {"title": "The best bit", "description": "Launch", "tags": "#launch"}
    PerformanceState.upload_to_youtube.fn(page, {**form, "privacy": "unlisted"})
    assert page.upload_error == ""
    PerformanceState.upload_to_youtube.fn(page, {**form, "privacy": "unlisted"})
    [upload] = page.uploads
    assert upload["status"] == "queued" and upload["status_words"] == "Waiting to upload"
    assert upload["privacy"] == "unlisted" and page.has_active_upload
    assert len(sent) == 1 and sent[0][0] == tasks.UPLOAD_TO_YOUTUBE
    PerformanceState.upload_to_youtube.fn(page, {**form, "privacy": "everyone"})
    assert page.upload_error == "Choose private, unlisted or public."

    YouTubeState.disconnect.fn(tab)
    assert tab.yt_error == "" and not tab.yt_connected
    assert tab.yt_notice == "YouTube disconnected. Google confirmed ClipGen's access is removed."
    YouTubeState.disconnect.fn(tab)
    assert tab.yt_error == "No YouTube channel is connected."
    assert _counts(session)["connections"] == 0


def test_declining_at_google_says_so_on_the_account_page(
    session: Session, world, fake: FakeYouTube
) -> None:
    token = world["tokens"]["ada"]
    account = _state(YouTubeState, token, routes.ACCOUNT)
    back = _consent(_redirect_path(YouTubeState.connect.fn(account)))
    tab = _callback(token, {"state": back["state"], "error": "access_denied"})
    assert tab.yt_notice == "YouTube was not connected: you declined access."
    YouTubeState.open_account.fn(tab)
    assert tab.yt_notice == "YouTube was not connected: you declined access."
    assert not tab.yt_connected and _counts(session)["connections"] == 0


def test_a_failed_upload_shows_why_and_when_to_try_again(world) -> None:
    with session_scope() as session:
        session.add(
            YouTubeUpload(
                submission_id=world["submission"],
                clipper_id=world["ada"].id,
                title="The best bit",
                status="failed",
                error="YouTube's daily upload quota is used up.",
                retry_at=datetime(2030, 1, 2, 8, 0, tzinfo=UTC),
            )
        )
    page = _page(world["tokens"]["ada"], world["submission"])
    [upload] = page.uploads
    assert upload["status_words"] == "Failed" and not page.has_active_upload
    assert upload["error"] == "YouTube's daily upload quota is used up."
    assert upload["retry"] == "Try again after 2030-01-02 08:00 UTC."
    client = _page(world["tokens"]["client"], world["submission"])
    assert client.uploads == []  # the clipper's uploads are theirs


def test_a_post_below_the_campaigns_minimum_says_so_and_is_not_counted(world) -> None:
    with session_scope() as session:
        job_id = session.get(Submission, world["submission"]).job_id
        campaign = session.get(Campaign, session.get(MarketJob, job_id).campaign_id)
        campaign.min_views_per_post = 1000
        session.add(campaign)
    page = _add_tiktok(world["tokens"]["ada"], world["submission"])
    assert page.min_views == "1,000"
    _report(page, "500", likes="20")
    _confirm(world["tokens"]["client"], world["submission"])
    PerformanceState.open_page.fn(page)
    [post] = page.posts
    assert post["views"] == "500" and post["state"] == "Below the campaign's minimum of 1,000 views"
    assert page.counted_views == "0"


# --- counts the clipper reports -------------------------------------------------------------

WAITING = "Waiting for the client to confirm"
COUNT_NOT_FOUND = "That count was not found."


def _notified(session: Session, user_id: int, kind: str) -> list[str]:
    session.expire_all()
    return list(
        session.exec(
            select(Notification.message).where(
                Notification.user_id == user_id, Notification.kind == kind
            )
        ).all()
    )


def _client_id(session: Session, world) -> int:
    """The id of the campaign's client (Brand)."""
    submission = session.get(Submission, world["submission"])
    job = session.get(MarketJob, submission.job_id)
    return session.get(Campaign, job.campaign_id).client_id


def test_the_clippers_typed_count_books_nothing_and_waits(session: Session, world) -> None:
    page = _add_tiktok(world["tokens"]["ada"], world["submission"])
    before = _counts(session)
    events = _report(page, "120,000", likes="5000", comments="300")
    assert "Sent to the client to confirm: 120,000 views" in str(events[0])
    assert page.counts_form_key == 1 and page.counts_post_id == ""
    # Nothing counts yet: no reading, no money, the post still shows no views.
    [post] = page.posts
    assert post["views"] == "0" and post["last_read"] == "Not read yet"
    assert page.counted_views == "0" and page.readings == [] and page.chart_data == []
    assert [line["label"] for line in page.earnings] == ["Approval"]
    after = _counts(session)
    assert after["readings"] == before["readings"] and after["ledger"] == before["ledger"]
    assert after["posts"] == before["posts"]
    [(report_id, status)] = after["reports"]
    assert status == "waiting"
    [report] = page.reports
    assert report["id"] == str(report_id) and report["status"] == "waiting"
    assert report["status_words"] == WAITING
    assert (report["views"], report["likes"], report["comments"]) == ("120,000", "5,000", "300")
    assert report["post"] == "TikTok" and report["post_url"] == TIKTOK
    assert report["reported_by"] == "Ada" and report["reported_at"].endswith(" UTC")
    assert report["can_decide"] == "" and report["decided_at"] == ""

    # The client is told, and sees the count waiting beside the post to check it on.
    client = _page(world["tokens"]["client"], world["submission"])
    assert client.counted_views == "0" and client.readings == []
    [seen] = client.reports
    assert seen["can_decide"] == "yes" and seen["post_url"] == TIKTOK
    assert seen["status_words"] == WAITING and seen["views"] == "120,000"
    [message] = _notified(session, _client_id(session, world), "counts_reported")
    assert "Ada reported 120,000 views on their TikTok post" in message

    # A newer count replaces the waiting one; still nothing is booked.
    _report(page, "130,000")
    assert [(r["views"], r["status_words"]) for r in page.reports] == [
        ("130,000", WAITING),
        ("120,000", "Replaced by a newer count"),
    ]
    assert _counts(session)["readings"] == 0 and _counts(session)["ledger"] == before["ledger"]


def test_the_client_confirms_and_the_bonus_follows_once(session: Session, world) -> None:
    page = _add_tiktok(world["tokens"]["ada"], world["submission"])
    _report(page, "120,000", likes="5000", comments="300")
    before = _counts(session)
    client = _page(world["tokens"]["client"], world["submission"])
    [waiting] = client.reports
    events = PerformanceState.confirm_report.fn(client, waiting["id"])
    assert client.report_error == "" and client.report_action_id == ""
    assert "Confirmed: 120,000 views count now." in str(events[0])
    [report] = client.reports
    assert report["status"] == "confirmed" and report["status_words"] == "Confirmed"
    assert report["can_decide"] == "" and report["decided_at"].endswith(" UTC")
    # The count is the reading now, naming who typed it; the bonus follows.
    [post] = client.posts
    assert (post["views"], post["likes"], post["comments"]) == ("120,000", "5,000", "300")
    assert client.counted_views == "120,000"
    [reading] = client.readings
    assert reading["views"] == "120,000" and reading["entered_by"] == "Ada"
    labels = [line["label"] for line in client.earnings]
    assert labels == ["Approval", "Performance bonus: 20% at 100,000 views"]
    assert [line["gross"] for line in client.earnings] == ["$10.00", "$2.00"]
    booked = _counts(session)
    assert booked["readings"] == before["readings"] + 1 and booked["ledger"] > before["ledger"]
    [message] = _notified(session, world["ada"].id, "counts_confirmed")
    assert message.startswith("Your 120,000 views for Launch week were confirmed")

    # The clipper sees it confirmed and their share of the bonus.
    clipper = _page(world["tokens"]["ada"], world["submission"])
    assert clipper.reports[0]["status_words"] == "Confirmed"
    # (held for review: a first count typed by hand, with no other post to compare it with)
    assert clipper.earnings[-1]["share"] == "$1.40"
    assert clipper.earnings[-1]["state"] == "held for review"

    # A second confirm (a double click, another tab, an admin) books nothing more.
    for who in ("client", "admin"):
        again = _state(PerformanceState, world["tokens"][who])
        again.clip_submission_id = world["submission"]
        PerformanceState.confirm_report.fn(again, waiting["id"])
        assert again.report_error == "That count was already confirmed.", who
        assert again.report_action_id == waiting["id"]
    PerformanceState.confirm_report.fn(client, waiting["id"])
    assert client.report_error == "That count was already confirmed."
    assert [line["label"] for line in client.earnings] == labels
    assert _counts(session) == booked
    # Nor can a confirmed count be declined afterwards.
    PerformanceState.open_decline.fn(client, waiting["id"])
    PerformanceState.send_decline.fn(client, {"reason": "Changed my mind"})
    assert client.decline_error == "That count was already confirmed."
    assert _counts(session) == booked


def test_declining_needs_a_reason_and_books_nothing(session: Session, world) -> None:
    page = _add_tiktok(world["tokens"]["ada"], world["submission"])
    _report(page, "120,000")
    before = _counts(session)
    client = _page(world["tokens"]["client"], world["submission"])
    [waiting] = client.reports
    PerformanceState.open_decline.fn(client, waiting["id"])
    assert client.decline_open and client.decline_error == ""
    assert client.decline_summary == "120,000 views on TikTok, reported by Ada"
    for form in ({"reason": ""}, {"reason": "   "}, {"reason": ["not", "text"]}, "not a form"):
        PerformanceState.send_decline.fn(client, form)
        assert client.decline_error == (
            "Say why the count is declined; the clipper will read it."
        ), form
        assert client.decline_open  # the dialog stays open with the refusal
    assert _counts(session) == before

    events = PerformanceState.send_decline.fn(client, {"reason": " The post shows 12,000. "})
    assert "Declined: 120,000 views" in str(events[0])
    assert client.decline_error == "" and not client.decline_open
    [report] = client.reports
    assert report["status"] == "declined" and report["can_decide"] == ""
    assert report["status_words"] == "Declined: The post shows 12,000."
    after = _counts(session)
    assert after["readings"] == before["readings"] and after["ledger"] == before["ledger"]
    assert client.readings == [] and client.counted_views == "0"
    assert [line["label"] for line in client.earnings] == ["Approval"]
    [message] = _notified(session, world["ada"].id, "counts_declined")
    assert message.endswith("were declined: The post shows 12,000.")

    clipper = _page(world["tokens"]["ada"], world["submission"])
    assert clipper.reports[0]["status_words"] == "Declined: The post shows 12,000."
    # Declined is decided: it is not confirmed afterwards.
    PerformanceState.confirm_report.fn(client, waiting["id"])
    assert client.report_error == "That count was already declined."
    assert _counts(session) == after

    # Closing the dialog forgets it.
    PerformanceState.open_decline.fn(client, waiting["id"])
    PerformanceState.close_decline.fn(client, False)
    assert not client.decline_open and client.decline_summary == ""


def test_a_crafted_confirm_or_decline_of_someone_elses_count_changes_nothing(
    session: Session, world
) -> None:
    page = _add_tiktok(world["tokens"]["ada"], world["submission"])
    _report(page, "120,000")
    [waiting] = page.reports
    before = _counts(session)
    for who in ("other_client", "bob", "ada"):
        # A crafted event carrying Ada's report id; Ada herself may not decide her own.
        tab = _page(world["tokens"][who], world["submission"])
        if who == "ada":
            assert tab.reports[0]["can_decide"] == ""
        else:
            assert tab.reports == []
        tab.clip_submission_id = world["submission"]
        for sent in (waiting["id"], int(waiting["id"]), "abc", "", "99999999999", None):
            PerformanceState.confirm_report.fn(tab, sent)
            assert tab.report_error == COUNT_NOT_FOUND, (who, sent)
            PerformanceState.open_decline.fn(tab, sent)
            PerformanceState.send_decline.fn(tab, {"reason": "Looks fake to me"})
            assert tab.decline_error == COUNT_NOT_FOUND, (who, sent)
    assert _counts(session) == before
    assert _notified(session, world["ada"].id, "counts_confirmed") == []
    assert _notified(session, world["ada"].id, "counts_declined") == []
    # Still waiting for the campaign's client, who may decide it.
    client = _page(world["tokens"]["client"], world["submission"])
    assert client.reports[0]["status_words"] == WAITING
    assert client.reports[0]["can_decide"] == "yes"
