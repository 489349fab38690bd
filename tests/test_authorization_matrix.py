"""Every public event handler of the app, and how it refuses a caller who may not use it.

A browser can call any public handler with any arguments, and can set any var first
(Reflex's `setvar`). So each handler is called here directly, as a crafted websocket
event would call it, with the vars and arguments such an event could send:

(a) with no live session, (b) signed in with a role the handler is not for, and (c) for a
handler that takes an id (an argument, the page's address or a var), signed in with the
right role but pointing at another user's object. Each must be refused (sent to sign in,
or told why), leave every table as it was, and put none of the other user's data in the
state's vars or the events it sends.

`GUARDS` says how each handler is checked; `NO_DATA` lists those that touch no data (with
why) and `PUBLIC` those open to visitors by design. A handler in none of them fails
`test_every_public_handler_is_in_the_matrix`, so a new handler cannot go unchecked.
"""

from __future__ import annotations

import inspect
import io
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
import reflex as rx
from PIL import Image
from reflex.state import State
from sqlalchemy import create_engine, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.config import RATE_LIMIT_DEFAULTS, get_settings
from clipgen.db import dispose_engines, get_engine
from clipgen.models import Clip, CountReport, JobStatus, Notification, ProcessingJob, Role
from clipgen.models.appeals import AppealKind
from clipgen.models.publishing import ViewSource
from clipgen.models.types import utcnow
from clipgen.services import appeals
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.market import campaigns, claims, reviews
from clipgen.services.money import holds, payouts
from clipgen.services.publishing import fraud, publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.aio import run_coroutine
from tests.support.handlers import state_on
from tests.support.market import (
    DRAFT,
    approved,
    clip_of,
    live_campaign,
    quick_password_hashing,
    ready_video,
    submitted,
)

PASSWORD = "a sturdy passphrase"
# Every private thing of the owners below carries this word; no refused call may show it.
SECRET = "secret"


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)
    # The pages' watchers poll; here they look once and stop (the session is refused).
    monkeypatch.setattr("clipgen.state.job.POLL_SECONDS", 0)
    monkeypatch.setattr("clipgen.state.work.CLAIM_POLL_SECONDS", 0)
    monkeypatch.setattr("clipgen.state.publishing.UPLOAD_POLL_SECONDS", 0)


@dataclass(frozen=True)
class World:
    """Owners with private data (`client`, `clipper`), same-role strangers (`other_client`,
    `other_clipper`) who own nothing, and an admin; with the owners' objects' ids."""

    tokens: dict[str, str]  # "admin", "client", "clipper", "other_client", "other_clipper"
    client_id: int
    clipper_id: int
    campaign_id: int  # the client's live campaign; the clipper's claim is on it
    draft_id: int  # the client's draft (only its client sees it)
    claim_id: int  # the clipper's claim in progress, with `claim_clip_id` made for it
    claim_clip_id: int
    video_id: int  # the clipper's own upload, with a failed and a running generation
    failed_job_id: int
    running_job_id: int
    job_clip_id: int
    review_campaign_id: int  # the client's campaign with the clipper's clip to review
    submission_id: int  # waiting for the client's review
    approved_job_id: int  # approved, not yet rated
    approved_submission_id: int  # approved, with a post and a count the clipper typed
    post_id: int
    report_id: int
    flag_id: int
    payout_id: int  # the clipper's payout request, waiting for an admin
    rejected_claim_id: int
    rejected_submission_id: int  # rejected, and appealed by the clipper (`appeal_id`)
    appeal_id: int
    notification_id: int  # the clipper's, unread


def _account(session: Session, email: str, name: str, role: str) -> tuple[UserView, str]:
    if role == Role.ADMIN:
        user = auth.create_admin(session=session, email=email, password=PASSWORD)
    else:
        user = auth.register(
            session=session, email=email, display_name=name, password=PASSWORD, role=role
        )
    token, _ = auth.sign_in(session=session, email=email, password=PASSWORD)
    return user, token


def build_world(session: Session) -> World:
    admin, admin_token = _account(session, "admin@example.com", "Admin", Role.ADMIN)
    client, client_token = _account(session, "secret.brand@example.com", "Brand", Role.CLIENT)
    clipper, clipper_token = _account(session, "secret.ada@example.com", "Ada", Role.CLIPPER)
    _, other_client_token = _account(session, "rival@example.com", "Rival", Role.CLIENT)
    _, other_clipper_token = _account(session, "bo@example.com", "Bo", Role.CLIPPER)

    live = live_campaign(session, admin, client)
    source = ready_video(session, client, name="secret-source.mp4")
    draft = campaigns.create_campaign(
        session=session,
        actor=client,
        draft=replace(DRAFT, title="Secret draft", source_video_id=source.id),
    )
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    claim_clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
    claim_clip.title = "Secret cut"

    video = ready_video(session, clipper, name="secret-talk.mp4")
    failed = ProcessingJob(
        user_id=clipper.id, video_id=video.id, status=JobStatus.FAILED, error="secret failure"
    )
    running = ProcessingJob(user_id=clipper.id, video_id=video.id, status=JobStatus.RUNNING)
    session.add_all([failed, running])
    session.flush()
    job_clip = Clip(
        owner_id=clipper.id,
        job_id=failed.id,
        video_id=video.id,
        rank=1,
        start_s=1.0,
        end_s=20.0,
        title="Secret moment",
        video_key=f"users/{clipper.id}/secret.mp4",
    )
    session.add(job_clip)

    to_review = live_campaign(session, admin, client, title="Review week")
    _, waiting = submitted(session, clipper, to_review, caption="secret caption")
    session.get(Clip, waiting.clip_id).title = "Secret take"

    paid_well = live_campaign(
        session, admin, client, title="Paid week", price_per_clip_cents=2_000, budget_cents=20_000
    )
    approved_claim, done = approved(session, client, clipper, paid_well)
    post = publications.add_post_url(
        session=session,
        actor=clipper,
        submission_id=done.id,
        url="https://www.youtube.com/shorts/AAAAAAAAAAA",
    )
    publications.enter_counts(session=session, actor=clipper, publication_id=post.id, views="4,321")
    report_id = session.exec(select(CountReport.id)).one()

    flagged_campaign = live_campaign(session, admin, client, title="Flag week")
    _, flagged = approved(session, client, clipper, flagged_campaign)
    flagged_post = publications.add_post_url(
        session=session,
        actor=clipper,
        submission_id=flagged.id,
        url="https://www.youtube.com/shorts/BBBBBBBBBBB",
    )
    snapshot, _, _ = sync.record_reading(
        session, flagged_post.id, Counts(1_000, 40, 0), source=ViewSource.YOUTUBE_API
    )
    flag = fraud.raise_flag(session, flagged_post, snapshot, fraud.Suspicion("Views jumped."))

    refused_campaign = live_campaign(session, admin, client, title="Refused week")
    refused_claim, refused = submitted(session, clipper, refused_campaign)
    reviews.reject_submission(
        session=session, actor=client, submission_id=refused.id, reason="Off brief."
    )
    appeal = appeals.file_appeal(
        session=session,
        actor=clipper,
        kind=AppealKind.REJECTION,
        subject_id=refused.id,
        message="A secret reason to think again.",
    )

    holds.release_matured_earnings(session=session, now=utcnow() + timedelta(days=30))
    payout = payouts.request_payout(session=session, actor=clipper, amount_cents=1_000)
    note = session.exec(
        select(Notification.id).where(
            Notification.user_id == clipper.id, Notification.read_at.is_(None)
        )
    ).first()
    session.commit()
    return World(
        tokens={
            "admin": admin_token,
            "client": client_token,
            "clipper": clipper_token,
            "other_client": other_client_token,
            "other_clipper": other_clipper_token,
        },
        client_id=client.id,
        clipper_id=clipper.id,
        campaign_id=live.id,
        draft_id=draft.id,
        claim_id=claim.id,
        claim_clip_id=claim_clip.id,
        video_id=video.id,
        failed_job_id=failed.id,
        running_job_id=running.id,
        job_clip_id=job_clip.id,
        review_campaign_id=to_review.id,
        submission_id=waiting.id,
        approved_job_id=approved_claim.id,
        approved_submission_id=done.id,
        post_id=post.id,
        report_id=report_id,
        flag_id=flag.id,
        payout_id=payout.id,
        rejected_claim_id=refused_claim.id,
        rejected_submission_id=refused.id,
        appeal_id=appeal.id,
        notification_id=note,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def matrix_database(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """One database per engine for the whole matrix: refused calls change nothing, so
    every test can share the world built in it (each checks its tables stay as they were)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "matrix.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    template = request.getfixturevalue("postgres_template")
    name = f"matrix_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="module")
def world(matrix_database: str, tmp_path_factory) -> World:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", matrix_database)
        patch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("matrix-data")))
        get_settings.cache_clear()
        quick_password_hashing(patch)
        with Session(get_engine(), expire_on_commit=False) as session:
            built = build_world(session)
        dispose_engines()
    get_settings.cache_clear()
    return built


@pytest.fixture
def session(matrix_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """The matrix's database (this module's own `session`: one world for all its tests)."""
    monkeypatch.setenv("DATABASE_URL", matrix_database)
    # Every test calls from one address: rate limits must not be what refuses a call.
    monkeypatch.setenv("RATE_LIMITS", ";".join(f"{k}=100000/minute" for k in RATE_LIMIT_DEFAULTS))
    get_settings.cache_clear()
    with Session(get_engine(), expire_on_commit=False) as db_session:
        yield db_session


# --- the matrix ------------------------------------------------------------------------------

CLIPPER, CLIENT, ADMIN = Role.CLIPPER.value, Role.CLIENT.value, Role.ADMIN.value
ROLES = (CLIPPER, CLIENT, ADMIN)
ANY = ROLES  # any signed-in user: only (a) applies
W = World


@dataclass(frozen=True)
class Guard:
    """How one handler is called and who may call it.

    `roles`: who may call it (the others are refused: case b). `path`, `args` and `preset`
    (vars set first) build the call from the world; with `foreign`, they point at the
    owners' objects, and the same-role strangers are refused (case c). `quiet`: the
    refusal shows nothing (a poll that stops, a card that hides), so only "nothing changed
    and nothing shown" is checked. `quiet_signed_out`, `quiet_foreign`: only that case is quiet."""

    roles: tuple[str, ...]
    path: Callable[[W], str] = lambda w: routes.DASHBOARD
    args: Callable[[W], tuple] = lambda w: ()
    preset: Callable[[W], dict] = lambda w: {}
    foreign: bool = False
    quiet: bool = False
    quiet_signed_out: bool = False
    quiet_foreign: bool = False


def _form(**values: str) -> Callable[[W], tuple]:
    return lambda w: (dict(values),)


def _performance(w: W) -> str:
    return routes.clip_performance(w.approved_submission_id)


_DRAFT_FORM = {
    "title": "Renamed",
    "brief": "Cut the best moments of our launch talk.",
    "price": "10",
    "budget": "100",
    "max_clips": "10",
    "min_length_s": "15",
    "max_length_s": "60",
    "source_url": "https://www.youtube.com/watch?v=AAAAAAAAAAA",
    "claim_ttl_hours": "48",
}

GUARDS: dict[str, Guard] = {
    # Session: the page guards and signing out.
    "SessionState.require_login": Guard(ANY),
    "SessionState.require_role": Guard((ADMIN,), args=lambda w: (ADMIN,)),
    "SessionState.sign_out": Guard(ANY),
    "SessionState.confirm_password": Guard(ANY, args=_form(password=PASSWORD)),
    "PasswordState.submit": Guard(
        ANY,
        path=lambda w: routes.ACCOUNT,
        args=_form(
            current_password=PASSWORD,
            new_password="another sturdy passphrase",
            confirm_password="another sturdy passphrase",
        ),
    ),
    # (signed out, the form stays unloaded: the page's guard sends the visitor to sign in)
    "EmailPreferencesState.load_email_preferences": Guard(ANY, quiet_signed_out=True),
    "EmailPreferencesState.save_email_preferences": Guard(ANY, args=_form()),
    # Notifications: everyone's own; the count's poll is quiet when signed out.
    "NotificationsState.refresh": Guard(ANY, quiet=True),
    "NotificationsState.toggle_bell": Guard(ANY, args=lambda w: (True,)),
    "NotificationsState.open_page": Guard(ANY, path=lambda w: routes.NOTIFICATIONS),
    "NotificationsState.open_notification": Guard(
        ANY, args=lambda w: (str(w.notification_id),), foreign=True
    ),
    "NotificationsState.mark_all_read": Guard(ANY),
    # Dashboard: each role's sections, and their CSV.
    "DashboardState.open_page": Guard(ANY),
    "DashboardState.set_range": Guard(ANY, args=lambda w: ("7",)),
    "DashboardState.download": Guard((ADMIN,), args=lambda w: ("admin", "money")),
    # Clipper: generating clips.
    # (lists the caller's own uploads only; making clips of them is for clippers)
    "GenerateState.open_page": Guard(ANY, path=lambda w: routes.GENERATE),
    "GenerateState.delete_video": Guard((CLIPPER,), args=lambda w: (w.video_id,), foreign=True),
    "GenerateState.start": Guard(
        (CLIPPER,), preset=lambda w: {"video_id": w.video_id}, foreign=True
    ),
    "JobState.open_page": Guard(
        (CLIPPER,), path=lambda w: routes.job(w.failed_job_id), foreign=True
    ),
    "JobState.watch": Guard(
        (CLIPPER,),
        path=lambda w: routes.job(w.running_job_id),
        preset=lambda w: {"current_job_id": w.running_job_id},
        foreign=True,
        quiet=True,
    ),
    "JobState.renew_links": Guard(
        (CLIPPER,),
        path=lambda w: routes.job(w.failed_job_id),
        preset=lambda w: {"current_job_id": w.failed_job_id, "clip_cards": [{"id": 1}]},
        foreign=True,
        quiet=True,
    ),
    "JobState.cancel": Guard(
        (CLIPPER,), preset=lambda w: {"current_job_id": w.running_job_id}, foreign=True
    ),
    "JobState.retry": Guard(
        (CLIPPER,), preset=lambda w: {"current_job_id": w.failed_job_id}, foreign=True
    ),
    "JobState.delete_job": Guard(
        (CLIPPER,), preset=lambda w: {"current_job_id": w.failed_job_id}, foreign=True
    ),
    "JobState.submit_trim": Guard(
        (CLIPPER,),
        args=_form(start="2", end="12", captions="hacked"),
        preset=lambda w: {"current_job_id": w.failed_job_id, "trim_clip_id": w.job_clip_id},
        foreign=True,
    ),
    "MyClipsState.open_page": Guard((CLIPPER,), path=lambda w: routes.MY_CLIPS),
    "MyClipsState.renew_links": Guard((CLIPPER,), preset=lambda w: {"cards": [{"id": 1}]}),
    "MyClipsState.search": Guard((CLIPPER,), args=_form(query="moment")),
    "MyClipsState.go_to_page": Guard((CLIPPER,), args=lambda w: (1,)),
    "MyClipsState.delete": Guard((CLIPPER,), args=lambda w: (w.job_clip_id,), foreign=True),
    # The marketplace: every signed-in role may browse it; claiming is for clippers.
    "MarketplaceState.open_page": Guard(ANY, path=lambda w: routes.MARKETPLACE),
    "MarketplaceState.search": Guard(ANY, args=_form(query="launch")),
    "MarketplaceState.set_filter": Guard(ANY, args=lambda w: ("platform", "youtube")),
    "MarketplaceState.clear_filters": Guard(ANY),
    "MarketplaceState.go_to_page": Guard(ANY, args=lambda w: (1,)),
    "MarketCampaignState.open_page": Guard(
        (CLIPPER,), path=lambda w: routes.market_campaign(w.draft_id), foreign=True
    ),
    "MarketCampaignState.claim": Guard(
        (CLIPPER,), preset=lambda w: {"campaign_id": w.draft_id}, foreign=True
    ),
    "WorkListState.open_page": Guard((CLIPPER,), path=lambda w: routes.MY_WORK),
    "ClaimState.open_page": Guard(
        (CLIPPER,), path=lambda w: routes.claim(w.claim_id), foreign=True
    ),
    "ClaimState.watch": Guard(
        (CLIPPER,),
        path=lambda w: routes.claim(w.claim_id),
        preset=lambda w: {"claim_id": w.claim_id},
        foreign=True,
        quiet=True,
    ),
    "ClaimState.renew_links": Guard(
        (CLIPPER,),
        path=lambda w: routes.claim(w.claim_id),
        preset=lambda w: {"claim_id": w.claim_id, "candidates": [{"key": "x"}]},
        foreign=True,
    ),
    "ClaimState.make_clips": Guard(
        (CLIPPER,), preset=lambda w: {"claim_id": w.claim_id}, foreign=True
    ),
    "ClaimState.submit": Guard(
        (CLIPPER,),
        args=_form(caption="mine now", hashtags=""),
        preset=lambda w: {"claim_id": w.claim_id, "picked": f"clip:{w.claim_clip_id}"},
        foreign=True,
    ),
    "ClaimState.give_up": Guard(
        (CLIPPER,), preset=lambda w: {"claim_id": w.claim_id}, foreign=True
    ),
    # Clipper: accounts on the platforms (each acts on the caller's own connection).
    **{
        f"{card}.{name}": guard
        for card in ("YouTubeState", "TikTokState", "InstagramState")
        for name, guard in {
            "open_account": Guard((CLIPPER,), path=lambda w: routes.ACCOUNT, quiet=True),
            "connect": Guard((CLIPPER,), path=lambda w: routes.ACCOUNT),
            "disconnect": Guard((CLIPPER,), path=lambda w: routes.ACCOUNT),
            "finish_connection": Guard(
                (CLIPPER,),
                path=lambda w, card=card: (
                    f"{routes.ACCOUNT}/{card.removesuffix('State').lower()}/callback"
                    "?state=forged&code=forged"
                ),
                quiet_signed_out=True,  # the page's guard sends the visitor to sign in
            ),
        }.items()
    },
    # Clipper: money.
    "EarningsState.open_page": Guard((CLIPPER,), path=lambda w: routes.EARNINGS),
    "EarningsState.set_up_payouts": Guard((CLIPPER,)),
    "EarningsState.go_to_page": Guard((CLIPPER,), args=lambda w: (1,)),
    "EarningsState.request_payout": Guard((CLIPPER,), args=_form(amount="10")),
    # A clip's performance: its clipper, its campaign's client, admins.
    "PerformanceState.open_page": Guard((CLIPPER, CLIENT, ADMIN), path=_performance, foreign=True),
    "PerformanceState.add_post": Guard(
        (CLIPPER,),
        args=_form(url="https://www.youtube.com/shorts/CCCCCCCCCCC"),
        preset=lambda w: {"clip_submission_id": w.approved_submission_id},
        path=_performance,
        foreign=True,
    ),
    "PerformanceState.check_again": Guard(
        (CLIPPER,), args=lambda w: (str(w.post_id),), path=_performance, foreign=True
    ),
    "PerformanceState.enter_counts": Guard(
        (CLIPPER, CLIENT, ADMIN),
        args=lambda w: ({"publication_id": str(w.post_id), "views": "99,999"},),
        path=_performance,
        foreign=True,
    ),
    "PerformanceState.confirm_report": Guard(
        (CLIENT, ADMIN), args=lambda w: (str(w.report_id),), path=_performance, foreign=True
    ),
    "PerformanceState.attach_evidence": Guard(
        (CLIPPER, CLIENT, ADMIN),
        args=lambda w: ([_Upload(_png())],),
        preset=lambda w: {"evidence_report_id": w.report_id},
        path=_performance,
        foreign=True,
    ),
    "PerformanceState.send_decline": Guard(
        (CLIENT, ADMIN),
        args=_form(reason="Not what the post shows."),
        preset=lambda w: {"decline_report_id": w.report_id},
        path=_performance,
        foreign=True,
    ),
    "PerformanceState.upload_to_youtube": Guard(
        (CLIPPER,),
        args=_form(title="Mine", description="", tags="", privacy="private"),
        preset=lambda w: {"clip_submission_id": w.approved_submission_id},
        path=_performance,
        foreign=True,
    ),
    "PerformanceState.watch": Guard(
        (CLIPPER, CLIENT, ADMIN),
        path=_performance,
        preset=lambda w: {"clip_submission_id": w.approved_submission_id},
        foreign=True,
        quiet=True,
    ),
    # Client: campaigns.
    "CampaignsState.open_page": Guard((CLIENT,), path=lambda w: routes.CAMPAIGNS),
    # (the form lists the caller's own uploads only; saving it is for clients)
    "CampaignFormState.open_new": Guard(ANY, path=lambda w: routes.NEW_CAMPAIGN),
    "CampaignFormState.start_edit": Guard((CLIENT,), args=lambda w: (w.draft_id,), foreign=True),
    "CampaignFormState.save": Guard(
        (CLIENT,),
        args=lambda w: (dict(_DRAFT_FORM),),
        preset=lambda w: {"editing_id": w.draft_id},
        foreign=True,
    ),
    "CampaignState.open_page": Guard(
        (CLIENT,), path=lambda w: routes.campaign(w.draft_id), foreign=True
    ),
    "CampaignState.refresh": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.draft_id}, foreign=True
    ),
    "CampaignState.finish_edit": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.draft_id}, foreign=True
    ),
    "CampaignState.activate": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.draft_id}, foreign=True
    ),
    "CampaignState.pause": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.campaign_id}, foreign=True
    ),
    "CampaignState.resume": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.campaign_id}, foreign=True
    ),
    "CampaignState.cancel": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.draft_id}, foreign=True
    ),
    "CampaignState.return_budget": Guard(
        (CLIENT,), preset=lambda w: {"campaign_id": w.campaign_id}, foreign=True
    ),
    "CampaignAnalyticsState.open_page": Guard(
        (CLIENT, ADMIN),
        path=lambda w: routes.campaign_analytics(w.review_campaign_id),
        foreign=True,
    ),
    "CampaignAnalyticsState.set_range": Guard(
        (CLIENT, ADMIN),
        args=lambda w: ("7",),
        preset=lambda w: {"campaign_id": w.review_campaign_id},
        foreign=True,
    ),
    "CampaignAnalyticsState.download": Guard(
        (CLIENT, ADMIN),
        args=lambda w: ("views",),
        preset=lambda w: {"campaign_id": w.review_campaign_id},
        foreign=True,
    ),
    # Client: reviews.
    "ReviewsState.open_page": Guard((CLIENT,), path=lambda w: routes.REVIEWS),
    # (another client's campaign shows an empty queue: the service keeps to the caller's own)
    "ReviewsState.open_for_campaign": Guard(
        (CLIENT,),
        path=lambda w: routes.campaign(w.review_campaign_id),
        foreign=True,
        quiet_foreign=True,
    ),
    "ReviewsState.show_status": Guard((CLIENT,), args=lambda w: ("pending",)),
    "ReviewsState.renew_links": Guard((CLIENT,), preset=lambda w: {"items": [{"id": 1}]}),
    "ReviewsState.approve": Guard((CLIENT,), args=lambda w: (w.submission_id,), foreign=True),
    "ReviewsState.send_dialog": Guard(
        (CLIENT,),
        args=_form(text="Off brief."),
        preset=lambda w: {"dialog_kind": "reject", "dialog_submission_id": w.submission_id},
        foreign=True,
    ),
    "ReviewsState.rate": Guard(
        (CLIENT,),
        args=lambda w: ({"job_id": str(w.approved_job_id), "stars": "1", "feedback": "x"},),
        foreign=True,
    ),
    # Client: money.
    "BillingState.open_page": Guard((CLIENT,), path=lambda w: routes.BILLING),
    "BillingState.refresh": Guard((CLIENT,)),
    "BillingState.go_to_page": Guard((CLIENT,), args=lambda w: (1,)),
    "BillingState.add_funds": Guard((CLIENT,), args=_form(amount="20")),
    # Admin.
    "AdminPayoutsState.open_page": Guard((ADMIN,), path=lambda w: routes.ADMIN_PAYOUTS),
    "AdminPayoutsState.approve": Guard(
        (ADMIN,), args=lambda w: ({"payout_id": str(w.payout_id), "reference": "SEPA-1"},)
    ),
    "AdminPayoutsState.reject": Guard(
        (ADMIN,),
        args=_form(reason="No."),
        preset=lambda w: {"reject_payout_id": w.payout_id},
    ),
    "AdminPayoutsState.export_csv": Guard((ADMIN,)),
    "AdminMoneyState.open_page": Guard((ADMIN,), path=lambda w: routes.ADMIN_MONEY),
    "AdminMoneyState.run_check": Guard((ADMIN,)),
    "AdminMoneyState.record_deposit": Guard(
        (ADMIN,),
        args=lambda w: ({"client_id": str(w.client_id), "amount": "50", "reference": "w-9"},),
    ),
    "AdminMoneyState.hold": Guard(
        (ADMIN,),
        args=lambda w: ({"submission_id": str(w.approved_submission_id), "reason": "Odd."},),
    ),
    "AdminMoneyState.release": Guard(
        (ADMIN,), args=lambda w: ({"submission_id": str(w.approved_submission_id)},)
    ),
    "AdminMoneyState.save_auto_approve": Guard((ADMIN,), args=_form(limit="20")),
    "AdminMoneyState.reconcile_yesterday": Guard((ADMIN,)),
    "AdminFlagsState.open_page": Guard((ADMIN,), path=lambda w: routes.ADMIN_FLAGS),
    "AdminFlagsState.show_tab": Guard((ADMIN,), args=lambda w: ("open",)),
    "AdminFlagsState.refresh": Guard((ADMIN,)),
    "AdminFlagsState.decide": Guard(
        (ADMIN,),
        args=_form(text="Bought views."),
        preset=lambda w: {"dialog_kind": "confirm", "dialog_flag_id": w.flag_id},
    ),
    "AdminFlagsState.request_sync": Guard((ADMIN,)),
    "AdminUsersState.open_page": Guard((ADMIN,), path=lambda w: routes.ADMIN_USERS),
    "AdminUsersState.search": Guard((ADMIN,), args=_form(query="ada")),
    "AdminUsersState.set_filter": Guard((ADMIN,), args=lambda w: ("role", "clipper")),
    "AdminUsersState.clear_filters": Guard((ADMIN,)),
    "AdminUsersState.go_to_page": Guard((ADMIN,), args=lambda w: (1,)),
    "AdminUserState.open_page": Guard((ADMIN,), path=lambda w: routes.admin_user(w.clipper_id)),
    "AdminUserState.decide": Guard(
        (ADMIN,),
        args=_form(reason="Bought views."),
        preset=lambda w: {"user_id": w.clipper_id, "dialog_kind": "suspend"},
    ),
    # Appeals: a clipper's of a decision on their work; the client or the admins decide.
    # (the pages' appeal cards read the roles var first, which a crafted event can set)
    "AppealState.open_for_claim": Guard(
        (CLIPPER,),
        path=lambda w: routes.claim(w.rejected_claim_id),
        preset=lambda w: {"roles": [CLIPPER]},
        foreign=True,
    ),
    "AppealState.open_for_performance": Guard(
        (CLIPPER,),
        path=_performance,
        preset=lambda w: {"roles": [CLIPPER]},
        foreign=True,
        quiet_foreign=True,  # another's clip has no flag of theirs to appeal: nothing shown
    ),
    "AppealState.send": Guard(
        (CLIPPER,),
        args=_form(message="Mine to appeal."),
        preset=lambda w: {"target_kind": "rejection", "target_id": w.rejected_submission_id},
        foreign=True,
    ),
    "AppealDecisionsState.open_client": Guard((CLIENT,), preset=lambda w: {"roles": [CLIENT]}),
    "AppealDecisionsState.open_admin": Guard((ADMIN,), preset=lambda w: {"roles": [ADMIN]}),
    "AppealDecisionsState.show_status": Guard(
        (ADMIN,), args=lambda w: ("open",), preset=lambda w: {"scope": "admin"}
    ),
    "AppealDecisionsState.decide": Guard(
        (CLIENT,),
        args=_form(reason="Fair enough."),
        preset=lambda w: {"dialog_kind": "overturn", "dialog_appeal_id": w.appeal_id},
        foreign=True,
    ),
    "AdminUserState.add_role": Guard(
        (ADMIN,), args=lambda w: ("client",), preset=lambda w: {"user_id": w.clipper_id}
    ),
}

# Uploads: the handler streams to disk only after `stream_upload` resolved the session.
UPLOADS = (
    "GenerateState.receive_upload",
    "CampaignFormState.receive_upload",
    "ClaimState.receive_upload",
)
for _name in UPLOADS:
    GUARDS[_name] = Guard(ANY)

# Handlers that read and write no data: they change what the page shows from its own vars
# (a dialog, a choice, a progress bar) or send another, checked, event.
NO_DATA: dict[str, str] = {
    "GenerateState.set_option": "a control's value, checked when the job starts",
    "GenerateState.upload_progress": "the progress bar",
    "GenerateState.forget_video": "unpicks the video",
    "GenerateState.use_video": "picks only from the user's own list already shown",
    "ClaimState.set_option": "a control's value, checked when the generation starts",
    "ClaimState.upload_progress": "the progress bar",
    "ClaimState.pick": "picks only from the claim's own list already shown",
    "JobState.open_trim": "opens the trim dialog on a clip of the list already shown",
    "JobState.close_trim": "closes the dialog",
    "CampaignFormState.set_source_kind": "a choice on the form",
    "CampaignFormState.use_video": "picks only from the client's own list already shown",
    "CampaignFormState.forget_video": "unpicks the video",
    "CampaignFormState.upload_progress": "the progress bar",
    "CampaignState.edit": "opens the form: sends CampaignFormState.start_edit, checked there",
    "CampaignState.stop_editing": "closes the form",
    "PerformanceState.open_decline": "opens the dialog from a row already shown",
    "PerformanceState.close_decline": "closes the dialog",
    "PerformanceState.open_evidence": "opens the dialog; attach_evidence is checked",
    "PerformanceState.close_evidence": "closes the dialog",
    "ReviewsState.open_dialog": "opens the dialog on a card already shown",
    "ReviewsState.close_dialog": "closes the dialog",
    "AdminPayoutsState.start_reject": "opens the dialog on a row already shown",
    "AdminPayoutsState.close_reject": "closes the dialog",
    "AdminFlagsState.start_decision": "opens the dialog on a flag already shown",
    "AdminFlagsState.close_dialog": "closes the dialog",
    "AdminUserState.start_dialog": "opens the dialog on the account already shown",
    "AdminUserState.close_dialog": "closes the dialog",
    "RegisterState.set_role": "a choice on the form",
    "SessionState.close_password_prompt": "closes the password prompt",
    "AppealState.set_dialog": "opens the dialog",
    "AppealDecisionsState.open_dialog": "opens the dialog on a card already shown",
    "AppealDecisionsState.close_dialog": "closes the dialog",
    "PublicAppealState.open_page": "empties the form",
}

# Open to visitors by design (their rules are tested with them: tests/test_auth_service.py,
# tests/market/test_market_rules.py, tests/test_appeals.py; the profile below too).
PUBLIC: dict[str, str] = {
    "SessionState.load_visitor": "shows the caller's own name, if signed in",
    "LoginState.submit": "signs in: takes credentials, not a session",
    "LoginState.open_page": "the sign-in page (a signed-in visitor is sent on)",
    "RegisterState.submit": "opens an account",
    "RegisterState.open_page": "the sign-up page (a signed-in visitor is sent on)",
    "ProfileState.open_page": "a clipper's public profile",
    "PublicAppealState.submit": "a suspended account proves who it is with its password",
}


# --- calling a handler as a crafted event would ------------------------------------------------


def _png() -> bytes:
    """A real screenshot, so that only who is asking can make the refusal."""
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(image, "PNG")
    return image.getvalue()


class _Upload:
    """A file of an upload event (`rx.UploadFile` as a handler reads it)."""

    def __init__(self, data: bytes) -> None:
        self.filename, self._data = "counts.png", data

    async def read(self) -> bytes:
        return self._data


class _Chunk:
    def __init__(self, filename: str, offset: int, data: bytes) -> None:
        self.filename, self.offset, self.data = filename, offset, data


async def _chunks():
    yield _Chunk("talk.mp4", 0, b"x" * 1000)


def _states() -> dict[str, type]:
    """Every state class the app registers, by name."""

    def walk(cls: type) -> list[type]:
        return [cls, *(found for sub in cls.get_substates() for found in walk(sub))]

    return {cls.__name__: cls for cls in walk(State) if cls.__module__.startswith("clipgen.")}


def public_handlers() -> list[str]:
    """`Class.handler` for every public handler written in the app (Reflex's own `setvar`
    and `_private` names aside)."""
    names = []
    for class_name, cls in _states().items():
        for name, handler in cls.event_handlers.items():
            if name.startswith("_") or name == "setvar":
                continue
            if not getattr(inspect.unwrap(handler.fn), "__module__", "").startswith("clipgen."):
                continue
            names.append(f"{class_name}.{name}")
    return sorted(names)


async def _drain(result):
    if inspect.isasyncgen(result):
        return [event async for event in result]
    return [await result]


def _flatten(result) -> list:
    if result is None:
        return []
    if isinstance(result, list | tuple):
        return [event for item in result for event in _flatten(item)]
    return [result]


def call(name: str, guard: Guard, world: World, token: str):
    """Call the handler in a fresh tab signed in with `token`; (state, events sent)."""
    class_name, handler_name = name.split(".")
    cls = _states()[class_name]
    state = state_on(cls, token, guard.path(world))
    for var, value in guard.preset(world).items():
        setattr(state, var, value)
    args = (_chunks(),) if name in UPLOADS else guard.args(world)
    result = cls.event_handlers[handler_name].fn(state, *args)
    if inspect.isgenerator(result):
        events = list(result)
    elif inspect.iscoroutine(result) or inspect.isasyncgen(result):
        events = run_coroutine(_drain(result))
    else:
        events = [result]
    return state, _flatten(events)


def _event_signs(events: list) -> list[tuple[str, str]]:
    """("redirect", path) and ("toast", kind) of the events sent."""
    signs = []
    for event in events:
        if not isinstance(event, rx.event.EventSpec):
            continue
        args = {str(key): value for key, value in event.args}
        if "path" in args and "external" in args:
            signs.append(("redirect", str(args["path"]._var_value)))
        elif "function" in args:
            script = str(args["function"])
            for toast in ("error", "warning", "success", "info"):
                if f'["{toast}"]' in script:
                    signs.append(("toast", toast))
            if "__upload_controllers_" in script and "abort" in script:
                signs.append(("upload", "cancelled"))
    return signs


def _vars(state) -> dict:
    """The vars of the state and its parents, as the browser would receive them."""
    shown, node = {}, state
    while node is not None:
        for name in type(node).base_vars:
            shown[f"{type(node).__name__}.{name}"] = getattr(node, name)
        node = node.parent_state
    return shown


def _messages(state) -> list[str]:
    return [
        value
        for name, value in _vars(state).items()
        if name.endswith("error") and isinstance(value, str) and value
    ]


def refusal_of(state, events) -> str:
    """How the call was refused ('' when it was not visibly refused)."""
    for kind, detail in _event_signs(events):
        if kind == "redirect" and detail.startswith((routes.LOGIN, routes.DASHBOARD)):
            return f"sent to {detail}"
        if kind == "toast" and detail == "error":
            return "error toast"
        if kind == "upload":
            return "upload cancelled"
    if messages := _messages(state):
        return messages[0]
    if getattr(state, "not_found", False):
        return "not found"
    return ""


# A signed-in call moves its session's idle expiry (refused or not).
_MOVING = {("auth_sessions", "last_seen_at"), ("auth_sessions", "expires_at")}


def database(session: Session) -> dict[str, list]:
    """Every row of every table (but for `_MOVING`)."""
    session.expire_all()
    rows = {}
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in _MOVING]
        found = session.execute(sa_select(*columns)).all()
        rows[table.name] = sorted(repr(tuple(row)) for row in found)
    session.rollback()
    return rows


def _leaks(state, events) -> list[str]:
    text = json.dumps(_vars(state), default=str).lower() + repr(events).lower()
    return [SECRET] if SECRET in text else []


@dataclass(frozen=True)
class Case:
    caller: str  # a key of World.tokens, or "nobody"
    why: str
    kind: str  # "signed out", "role" or "foreign"

    def quiet(self, guard: Guard) -> bool:
        return (
            guard.quiet
            or (self.kind == "signed out" and guard.quiet_signed_out)
            or (self.kind == "foreign" and guard.quiet_foreign)
        )


def _a(role: str) -> str:
    return f"an {role}" if role == ADMIN else f"a {role}"


def cases(guard: Guard) -> list[Case]:
    found = [Case("nobody", "no session", "signed out")]
    strangers = {CLIPPER: "other_clipper", CLIENT: "other_client", ADMIN: "admin"}
    for role in ROLES:
        if role not in guard.roles:
            found.append(Case(strangers[role], f"{_a(role)}, which it is not for", "role"))
    if guard.foreign:
        for role in guard.roles:
            if role != ADMIN:
                found.append(Case(strangers[role], f"{_a(role)}, on another's object", "foreign"))
    return found


# --- the tests -----------------------------------------------------------------------------------


def test_every_public_handler_is_in_the_matrix() -> None:
    handlers = set(public_handlers())
    listed = set(GUARDS) | set(NO_DATA) | set(PUBLIC)
    assert sorted(handlers - listed) == [], "add them to GUARDS, NO_DATA or PUBLIC"
    assert sorted(listed - handlers) == [], "these handlers no longer exist"
    assert not set(GUARDS) & (set(NO_DATA) | set(PUBLIC))


@pytest.mark.parametrize("name", sorted(GUARDS))
def test_a_handler_refuses_callers_it_is_not_for(
    session: Session, world: World, name: str, isolated_settings: Path
):
    guard = GUARDS[name]
    before = database(session)
    problems = []
    for case in cases(guard):
        token = world.tokens.get(case.caller, "forged-token")
        state, events = call(name, guard, world, token)
        refusal = refusal_of(state, events)
        quiet = case.quiet(guard)
        if not refusal and not quiet:
            problems.append(f"{case.why}: not refused ({_event_signs(events)})")
        to_sign_in = refusal.startswith(f"sent to {routes.LOGIN}") or "sign in" in refusal
        if case.kind == "signed out" and refusal and not quiet and not to_sign_in:
            problems.append(f"{case.why}: refused as {refusal!r}, not sent to sign in")
        if _leaks(state, events):
            problems.append(f"{case.why}: the owner's data is in the vars or events")
    # (one look at every table after all the calls: a refused call writes nothing)
    after = database(session)
    changed = [table for table in after if after[table] != before[table]]
    if changed:
        problems.append(f"the calls changed {changed}")
    if written := [str(p) for p in isolated_settings.rglob("*") if p.is_file()]:
        problems.append(f"the calls stored files: {written}")  # uploads, screenshots
    assert not problems, "\n".join(problems)


# What the owners themselves see: the check for leaks above would find it.
OWN_PAGES = {
    "AppealState.open_for_claim": "clipper",
    "JobState.open_page": "clipper",
    "ClaimState.open_page": "clipper",
    "CampaignState.open_page": "client",
    "ReviewsState.open_for_campaign": "client",
    "AdminUserState.open_page": "admin",
}


@pytest.mark.parametrize("name", sorted(OWN_PAGES))
def test_the_owner_is_shown_what_strangers_are_not(session: Session, world: World, name: str):
    state, events = call(name, GUARDS[name], world, world.tokens[OWN_PAGES[name]])
    assert not getattr(state, "not_found", False)
    assert _leaks(state, events) == [SECRET]


def test_a_public_profile_shows_a_visitor_nothing_private(session: Session, world: World):
    visit = Guard(ANY, path=lambda w: routes.profile(w.clipper_id))
    state, events = call("ProfileState.open_page", visit, world, "forged-token")
    assert (state.not_found, state.name) == (False, "Ada")
    assert _leaks(state, events) == []
