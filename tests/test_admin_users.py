"""Admin Users: finding accounts, an account's page, suspending (sessions end, sign-in is
refused with the reason, open claims close, active campaigns pause, money is held) and
lifting it, and adding roles; the services and the handlers, called directly as a crafted
websocket event would call them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    AuditLog,
    AuthSession,
    Campaign,
    CampaignStatus,
    MarketJob,
    MarketJobStatus,
    Notification,
    Payout,
    PayoutStatus,
    Role,
    User,
)
from clipgen.services import admin_users
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from clipgen.services.market import campaigns, claims
from clipgen.services.money import payouts
from clipgen.services.money.ledger import account, balance
from clipgen.services.notification_kinds import Kind
from clipgen.state.admin_users import LIFT, SUSPEND, AdminUsersState, AdminUserState
from clipgen.state.session import SessionState
from tests.support.handlers import redirect_path, state_on
from tests.support.market import live_campaign, quick_password_hashing
from tests.support.money import PASSWORD, clipper_with_available, person

ONLY_ADMINS = "Only admins can do that."
REASON = "Bought views on three campaigns"


@dataclass
class World:
    admin: UserView
    other_admin: UserView
    client: UserView
    clipper: UserView
    campaign_id: int
    claim_id: int
    payout_id: int
    tokens: dict[str, str]


def _token(session: Session, user: UserView, address: str = "203.0.113.9") -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD, client_ip=address)
    return token


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> World:
    """Two admins; a client with a live campaign; a clipper with $30.00 available, a
    requested $10.00 payout and an open claim on the campaign; everyone signed in."""
    quick_password_hashing(monkeypatch)
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        other_admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        clipper = clipper_with_available(session, admin, client, 4_000)
        live = live_campaign(session, admin, client)
        claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
        payout = payouts.request_payout(session=session, actor=clipper, amount_cents=1_000)
        tokens = {
            name: _token(session, user)
            for name, user in (
                ("admin", admin),
                ("other_admin", other_admin),
                ("client", client),
                ("clipper", clipper),
            )
        }
    return World(admin, other_admin, client, clipper, live.id, claim.id, payout.id, tokens)


def _money(session: Session, user_id: int) -> tuple[int, int, int]:
    session.expire_all()
    figures = tuple(
        balance(session, account(session, kind, user_id=user_id))
        for kind in (
            AccountKind.CLIPPER_PENDING,
            AccountKind.CLIPPER_AVAILABLE,
            AccountKind.CLIPPER_PAYOUT_PENDING,
        )
    )
    session.rollback()
    return figures


def _everything(session: Session) -> dict:
    """All a suspension could change, read fresh."""
    session.expire_all()
    found = {
        "users": sorted(
            session.exec(
                select(
                    User.id,
                    User.suspended_at,
                    User.suspension_reason,
                    User.is_clipper,
                    User.is_client,
                    User.is_admin,
                )
            ).all()
        ),
        "sessions": sorted(session.exec(select(AuthSession.id, AuthSession.revoked_at)).all()),
        "claims": sorted(session.exec(select(MarketJob.id, MarketJob.status)).all()),
        "campaigns": sorted(session.exec(select(Campaign.id, Campaign.status)).all()),
        "payouts": sorted(session.exec(select(Payout.id, Payout.status)).all()),
        "audits": session.exec(select(func.count()).select_from(AuditLog)).one(),
        "notifications": session.exec(select(func.count()).select_from(Notification)).one(),
    }
    session.rollback()
    return found


def _audits(session: Session, action: str, target_id: int) -> list[AuditLog]:
    session.expire_all()
    return list(
        session.exec(
            select(AuditLog).where(AuditLog.action == action, AuditLog.target_id == target_id)
        ).all()
    )


# --- finding accounts ------------------------------------------------------------------------


def test_search_finds_accounts_by_email_or_name_and_filters_by_role_and_standing(
    session: Session, world: World
) -> None:
    def emails(**filters) -> list[str]:
        page = admin_users.search_users(session=session, actor=world.admin, **filters)
        return sorted(row.email for row in page.items)

    assert emails(query="BRAND") == [world.client.email]  # the email, any case
    assert emails(query="ada") == [world.clipper.email]  # the name "Ada"
    assert emails(query="%") == []  # a wildcard is a character, not a pattern
    assert emails(role="admin") == sorted([world.admin.email, world.other_admin.email])
    assert world.clipper.email in emails(role="clipper")
    assert world.client.email not in emails(role="clipper")
    assert emails(standing="suspended") == []
    admin_users.suspend_user(
        session=session, actor=world.admin, user_id=world.clipper.id, reason=REASON
    )
    assert emails(standing="suspended") == [world.clipper.email]
    assert world.clipper.email not in emails(standing="active")
    assert emails(role="client", standing="suspended") == []
    for bad in ({"role": "owner"}, {"standing": "banned"}, {"page": "two"}):
        with pytest.raises(InvalidInput):
            admin_users.search_users(session=session, actor=world.admin, **bad)


def test_search_pages_through_accounts_newest_first(session: Session, world: World) -> None:
    total = session.exec(select(func.count()).select_from(User)).one()
    seen: list[int] = []
    page_count = -(-total // 2)
    for number in range(1, page_count + 1):
        page = admin_users.search_users(session=session, actor=world.admin, page=number, per_page=2)
        assert page.page == number and page.total == total and page.pages == page_count
        seen += [row.id for row in page.items]
    assert sorted(seen) == sorted(session.exec(select(User.id)).all())
    assert len(seen) == len(set(seen))
    past_the_end = admin_users.search_users(session=session, actor=world.admin, page=99, per_page=2)
    assert past_the_end.page == page_count  # the last page, not an empty one


def test_the_account_page_shows_roles_sign_ins_work_money_and_audit(
    session: Session, world: World
) -> None:
    detail = admin_users.user_detail(session=session, actor=world.admin, user_id=world.clipper.id)
    assert detail.user.email == world.clipper.email and detail.user.roles == ("clipper",)
    assert [row.address for row in detail.sign_ins] == ["203.0.113.9"]
    assert not detail.sign_ins[0].ended
    assert [row.title for row in detail.claims][0] == "Launch week"
    assert detail.submissions, "the approved clip that earned the money"
    assert detail.clipper_money is not None
    assert detail.clipper_money.available_cents == 3_000
    assert detail.clipper_money.in_payout_cents == 1_000
    assert [row.amount_cents for row in detail.payouts] == [1_000]
    assert detail.client_balance_cents is None and detail.campaigns == ()
    actions = {row.action for row in detail.audit}
    assert {"user.signed_in", "money.payout_requested", "claim.created"} <= actions
    client = admin_users.user_detail(session=session, actor=world.admin, user_id=world.client.id)
    assert [row.id for row in client.campaigns][0] == world.campaign_id
    assert client.client_balance_cents is not None and client.clipper_money is None
    with pytest.raises(NotFound):
        admin_users.user_detail(session=session, actor=world.admin, user_id=999_999)


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["clipper", "client"])
def test_every_service_refuses_a_clipper_or_client_and_changes_nothing(
    session: Session, world: World, who: str
) -> None:
    actor = getattr(world, who)
    before = _everything(session)
    calls = [
        lambda: admin_users.search_users(session=session, actor=actor),
        lambda: admin_users.user_detail(session=session, actor=actor, user_id=world.client.id),
        lambda: admin_users.suspend_user(
            session=session, actor=actor, user_id=world.client.id, reason=REASON
        ),
        lambda: admin_users.lift_suspension(
            session=session, actor=actor, user_id=world.client.id, reason="fine"
        ),
        lambda: admin_users.add_role(session=session, actor=actor, user_id=actor.id, role="client"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match=ONLY_ADMINS):
            call()
    session.rollback()
    assert _everything(session) == before
    with pytest.raises(NotAuthenticated):
        admin_users.search_users(session=session, actor=None)


# --- suspending ------------------------------------------------------------------------------


def test_suspending_a_clipper_ends_sessions_closes_claims_and_holds_money(
    session: Session, world: World
) -> None:
    money_before = _money(session, world.clipper.id)
    slots_before = campaigns.view_of(session, session.get(Campaign, world.campaign_id))
    admin_users.suspend_user(
        session=session,
        actor=world.admin,
        user_id=world.clipper.id,
        reason=REASON,
        client_ip="198.51.100.7",
    )
    session.commit()
    # Every session ended at once: the clipper's tab is no longer signed in.
    assert auth.current_user(session=session, token=world.tokens["clipper"]) is None
    with pytest.raises(NotAuthenticated):
        auth.require_user(session=session, token=world.tokens["clipper"])
    live = session.exec(
        select(AuthSession).where(
            AuthSession.user_id == world.clipper.id, AuthSession.revoked_at.is_(None)
        )
    ).all()
    assert live == []
    # Signing in again is refused, saying why and where to appeal; no session opens.
    with pytest.raises(auth.AccountSuspended) as refused:
        auth.sign_in(session=session, email=world.clipper.email, password=PASSWORD)
    assert REASON in str(refused.value) and "/appeal" in str(refused.value)
    session.rollback()
    # The open claim is given up and its slot is free again.
    session.expire_all()
    assert session.get(MarketJob, world.claim_id).status == MarketJobStatus.ABANDONED
    slots_after = campaigns.view_of(session, session.get(Campaign, world.campaign_id))
    assert slots_after.open_claims == slots_before.open_claims - 1
    # The money is held, not taken: balances unchanged, nothing can be paid out.
    assert _money(session, world.clipper.id) == money_before
    with pytest.raises(InvalidInput, match="suspended"):
        payouts.request_payout(session=session, actor=world.clipper, amount_cents=1_000)
    session.rollback()
    with pytest.raises(InvalidInput, match="suspended"):
        payouts.approve_payout(
            session=session, actor=world.admin, payout_id=world.payout_id, reference="wire"
        )
    session.rollback()
    assert "suspended" in payouts.auto_approve(session, world.payout_id)
    session.expire_all()
    assert session.get(Payout, world.payout_id).status == PayoutStatus.REQUESTED
    assert _money(session, world.clipper.id) == money_before
    # Audited, and the account is told.
    (audit,) = _audits(session, "user.suspended", world.clipper.id)
    assert audit.actor_id == world.admin.id and audit.client_ip == "198.51.100.7"
    assert audit.details["reason"] == REASON
    assert audit.details["claims_closed"] == [world.claim_id]
    assert audit.details["sessions_ended"] == 1
    told = session.exec(
        select(Notification).where(
            Notification.user_id == world.clipper.id, Notification.kind == Kind.ACCOUNT_SUSPENDED
        )
    ).one()
    assert REASON in told.message and "/appeal" in told.message


def test_suspending_a_client_pauses_its_active_campaigns_and_lifting_resumes_them(
    session: Session, world: World
) -> None:
    # A campaign the client paused themselves stays paused after the lift.
    second = live_campaign(session, world.admin, world.client, title="Second week")
    campaigns.pause_campaign(session=session, actor=world.client, campaign_id=second.id)
    admin_users.suspend_user(
        session=session, actor=world.admin, user_id=world.client.id, reason=REASON
    )
    session.expire_all()
    assert session.get(Campaign, world.campaign_id).status == CampaignStatus.PAUSED
    assert session.get(Campaign, world.campaign_id).paused_by_suspension
    assert not session.get(Campaign, second.id).paused_by_suspension
    (audit,) = _audits(session, "user.suspended", world.client.id)
    assert audit.details["campaigns_paused"] == [world.campaign_id]
    # The clipper's claim on the paused campaign goes on (it is the client who is suspended).
    assert session.get(MarketJob, world.claim_id).status == MarketJobStatus.IN_PROGRESS
    admin_users.lift_suspension(
        session=session, actor=world.admin, user_id=world.client.id, reason="Appeal upheld"
    )
    session.expire_all()
    assert session.get(Campaign, world.campaign_id).status == CampaignStatus.ACTIVE
    assert not session.get(Campaign, world.campaign_id).paused_by_suspension
    assert session.get(Campaign, second.id).status == CampaignStatus.PAUSED
    (lifted,) = _audits(session, "user.suspension_lifted", world.client.id)
    assert lifted.details["campaigns_resumed"] == [world.campaign_id]
    assert lifted.details["reason"] == "Appeal upheld"


def test_lifting_lets_the_clipper_sign_in_and_be_paid_but_claims_stay_closed(
    session: Session, world: World
) -> None:
    admin_users.suspend_user(
        session=session, actor=world.admin, user_id=world.clipper.id, reason=REASON
    )
    session.commit()
    money = _money(session, world.clipper.id)
    admin_users.lift_suspension(
        session=session, actor=world.admin, user_id=world.clipper.id, reason="Appeal upheld"
    )
    session.commit()
    token, user = auth.sign_in(session=session, email=world.clipper.email, password=PASSWORD)
    assert user.id == world.clipper.id
    assert auth.current_user(session=session, token=token) is not None
    assert auth.current_user(session=session, token=world.tokens["clipper"]) is None  # ended
    session.expire_all()
    assert session.get(MarketJob, world.claim_id).status == MarketJobStatus.ABANDONED
    assert _money(session, world.clipper.id) == money
    paid = payouts.approve_payout(
        session=session, actor=world.admin, payout_id=world.payout_id, reference="wire-7"
    )
    assert paid.status == PayoutStatus.PAID
    row = session.get(User, world.clipper.id)
    assert row.suspended_at is None and row.suspension_reason is None
    kinds = session.exec(
        select(Notification.kind).where(Notification.user_id == world.clipper.id)
    ).all()
    assert Kind.SUSPENSION_LIFTED in kinds


@pytest.mark.parametrize(
    ("target", "reason", "error", "words"),
    [
        ("admin", REASON, PermissionDenied, "your own account"),
        ("other_admin", REASON, PermissionDenied, "admin account cannot be suspended"),
        ("clipper", "   ", InvalidInput, "Give the reason"),
        ("clipper", "x" * 501, InvalidInput, "500 characters"),
    ],
)
def test_a_refused_suspension_changes_nothing(
    session: Session, world: World, target: str, reason: str, error: type, words: str
) -> None:
    before = _everything(session)
    with pytest.raises(error, match=words):
        admin_users.suspend_user(
            session=session, actor=world.admin, user_id=getattr(world, target).id, reason=reason
        )
    session.rollback()
    assert _everything(session) == before


def test_suspending_twice_or_lifting_an_active_account_is_refused(
    session: Session, world: World
) -> None:
    with pytest.raises(InvalidInput, match="not suspended"):
        admin_users.lift_suspension(
            session=session, actor=world.admin, user_id=world.clipper.id, reason="fine"
        )
    admin_users.suspend_user(
        session=session, actor=world.admin, user_id=world.clipper.id, reason=REASON
    )
    session.commit()
    before = _everything(session)
    with pytest.raises(InvalidInput, match="already suspended"):
        admin_users.suspend_user(
            session=session, actor=world.other_admin, user_id=world.clipper.id, reason="again"
        )
    session.rollback()
    with pytest.raises(InvalidInput, match="Give the reason"):
        admin_users.lift_suspension(
            session=session, actor=world.admin, user_id=world.clipper.id, reason=""
        )
    session.rollback()
    assert _everything(session) == before
    with pytest.raises(NotFound):
        admin_users.suspend_user(
            session=session, actor=world.admin, user_id="1 OR 1=1", reason=REASON
        )


# --- roles -----------------------------------------------------------------------------------


def test_an_admin_adds_the_client_role_and_it_is_audited(session: Session, world: World) -> None:
    row = admin_users.add_role(
        session=session, actor=world.admin, user_id=world.clipper.id, role="client"
    )
    assert row.roles == ("clipper", "client")
    (audit,) = _audits(session, "user.role_added", world.clipper.id)
    assert audit.actor_id == world.admin.id and audit.details == {"role": "client"}
    with pytest.raises(InvalidInput, match="already has"):
        admin_users.add_role(
            session=session, actor=world.admin, user_id=world.clipper.id, role="client"
        )


@pytest.mark.parametrize("role", ["admin", "ADMIN", "superuser", "", None])
def test_no_call_from_the_browser_makes_an_admin(
    session: Session, world: World, role: object
) -> None:
    before = _everything(session)
    with pytest.raises(PermissionDenied):
        admin_users.add_role(
            session=session, actor=world.admin, user_id=world.clipper.id, role=role
        )
    session.rollback()
    # Nor through the handler, with a crafted role.
    state = state_on(AdminUserState, world.tokens["admin"], f"/admin/users/{world.clipper.id}")
    AdminUserState.open_page.fn(state)
    AdminUserState.add_role.fn(state, role)
    assert state.action_error != ""
    assert _everything(session) == before
    assert not session.get(User, world.clipper.id).is_admin


# --- the handlers ----------------------------------------------------------------------------


def test_the_users_list_handlers_search_filter_and_page(world: World) -> None:
    state = state_on(AdminUsersState, world.tokens["admin"], "/admin/users")
    AdminUsersState.open_page.fn(state)
    assert state.error == "" and state.total == 4 and len(state.rows) == 4
    AdminUsersState.search.fn(state, {"query": "brand"})
    assert [row["email"] for row in state.rows] == [world.client.email]
    assert state.rows[0]["href"] == f"/admin/users/{world.client.id}"
    AdminUsersState.search.fn(state, {"query": ""})
    AdminUsersState.set_filter.fn(state, "role", "admin")
    assert state.total == 2 and all(row["roles"] == "Admin" for row in state.rows)
    AdminUsersState.set_filter.fn(state, "standing", "suspended")
    assert state.rows == [] and state.total == 0
    AdminUsersState.set_filter.fn(state, "standing", "banned")
    assert state.error == "Choose active or suspended."
    AdminUsersState.set_filter.fn(state, "session_token", "stolen")  # not a filter: ignored
    assert state.session_token == world.tokens["admin"]
    AdminUsersState.clear_filters.fn(state)
    AdminUsersState.go_to_page.fn(state, 3)
    assert state.page == 1  # one page only
    json.dumps(state.rows)


def test_the_account_handlers_suspend_and_lift_with_a_reason(
    session: Session, world: World
) -> None:
    path = f"/admin/users/{world.clipper.id}"
    state = state_on(AdminUserState, world.tokens["admin"], path)
    AdminUserState.open_page.fn(state)
    assert state.load_error == "" and state.account["email"] == world.clipper.email
    assert state.sign_ins[0]["address"] == "203.0.113.9"
    assert {"label": "Available", "value": "$30.00"} in state.money
    AdminUserState.start_dialog.fn(state, SUSPEND)
    assert state.dialog_open
    AdminUserState.decide.fn(state, {"reason": " "})
    assert state.dialog_error.startswith("Give the reason") and state.dialog_open
    assert not state.is_suspended
    AdminUserState.decide.fn(state, {"reason": REASON})
    assert state.dialog_error == "" and not state.dialog_open
    assert state.is_suspended and state.account["reason"] == REASON
    assert state.suspended_by == world.admin.email
    assert state.sign_ins[0]["state"] == "ended"
    assert state.audit[0]["action"] == "user.suspended"
    session.expire_all()
    assert session.get(User, world.clipper.id).suspended_at is not None
    AdminUserState.start_dialog.fn(state, LIFT)
    AdminUserState.decide.fn(state, {"reason": "Appeal upheld"})
    assert not state.is_suspended and state.dialog_error == ""
    session.expire_all()
    assert session.get(User, world.clipper.id).suspended_at is None
    json.dumps([state.account, state.audit, state.money, state.sign_ins])


@pytest.mark.parametrize("who", ["clipper", "client"])
def test_every_account_handler_refuses_a_clipper_or_client(
    session: Session, world: World, who: str
) -> None:
    before = _everything(session)
    listing = state_on(AdminUsersState, world.tokens[who], "/admin/users")
    AdminUsersState.open_page.fn(listing)
    assert listing.error == ONLY_ADMINS and listing.rows == []
    AdminUsersState.search.fn(listing, {"query": "a"})
    assert listing.error == ONLY_ADMINS and listing.rows == []
    state = state_on(AdminUserState, world.tokens[who], f"/admin/users/{world.client.id}")
    AdminUserState.open_page.fn(state)
    assert state.load_error == ONLY_ADMINS and state.account == {}
    # A crafted call skips the page: the dialog is set as if it had been opened.
    for kind in (SUSPEND, LIFT):
        state.dialog_kind, state.user_id = kind, world.client.id
        AdminUserState.decide.fn(state, {"reason": REASON})
        assert state.dialog_error == ONLY_ADMINS
    AdminUserState.add_role.fn(state, "clipper")
    assert state.action_error == ONLY_ADMINS
    assert _everything(session) == before


def test_a_signed_out_visitor_is_sent_to_sign_in_and_nothing_changes(
    session: Session, world: World
) -> None:
    before = _everything(session)
    state = state_on(AdminUserState, "forged", f"/admin/users/{world.client.id}")
    assert redirect_path(AdminUserState.open_page.fn(state)).startswith("/login")
    state.dialog_kind, state.user_id = SUSPEND, world.client.id
    assert AdminUserState.decide.fn(state, {"reason": REASON}) is not None
    assert _everything(session) == before


def test_the_suspended_accounts_own_tab_is_signed_out(session: Session, world: World) -> None:
    """The clipper's next page load finds no session: the guard sends them to sign in."""
    tab = state_on(SessionState, world.tokens["clipper"], "/earnings")
    assert SessionState.require_login.fn(tab) is None  # signed in
    admin_users.suspend_user(
        session=session, actor=world.admin, user_id=world.clipper.id, reason=REASON
    )
    session.commit()
    assert redirect_path(SessionState.require_login.fn(tab)) == "/login?next=/earnings"
    assert tab.roles == []


def test_suspension_and_lift_are_emailed_whatever_the_email_choices(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suspended account cannot sign in to read a notification: it is told by email too,
    and that email is not one of the choices it could have turned off."""
    from clipgen.config import get_settings
    from clipgen.models import EmailDelivery
    from clipgen.services import tasks
    from clipgen.services.email.preferences import email_preferences

    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("APP_URL", "https://clips.example.com")
    get_settings.cache_clear()
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: None)
    choices = email_preferences(session=session, actor=world.clipper).choices
    assert "account_standing" not in {choice.key for choice in choices}
    admin_users.suspend_user(
        session=session, actor=world.admin, user_id=world.clipper.id, reason=REASON
    )
    admin_users.lift_suspension(
        session=session, actor=world.admin, user_id=world.clipper.id, reason="Appeal upheld"
    )
    session.commit()
    sent = session.exec(
        select(EmailDelivery)
        .where(EmailDelivery.user_id == world.clipper.id)
        .order_by(EmailDelivery.id)
    ).all()
    assert [row.kind for row in sent] == [Kind.ACCOUNT_SUSPENDED, Kind.SUSPENSION_LIFTED]
    assert sent[0].to_address == world.clipper.email
    assert sent[0].subject == "ClipGen: Your account was suspended"
    assert REASON in sent[0].body and "https://clips.example.com/appeal" in sent[0].body
    assert "about your account itself" in sent[0].body
