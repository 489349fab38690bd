"""The money pages' handlers called directly, as a crafted websocket event would call them:
only admins move money, a clipper sees only their own statement, a typed amount is read
as untrusted text, and a refused call changes nothing."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    AuditLog,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Role,
    Submission,
    utcnow,
)
from clipgen.services.auth import service as auth
from clipgen.services.money import earnings, funds, holds, payouts
from clipgen.services.money.ledger import account, balance
from clipgen.state.money import (
    AdminMoneyState,
    AdminPayoutsState,
    BillingState,
    EarningsState,
)
from tests.support.money import PASSWORD, approved_submission, campaign, person

BAD_AMOUNTS = ("", "abc", "-5", "5.001", 5, None, 12.5, ["10"])
NOT_SIGNED_IN = "Please sign in to continue."
ONLY_ADMINS = "Only admins can do that."


def _token(session: Session, user: auth.UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    return token


@pytest.fixture
def world(database_url: str) -> dict:
    """An admin, a funded client, and two clippers with available money; Ada asked for $10."""
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        ada = person(session, Role.CLIPPER, "ada")
        bob = person(session, Role.CLIPPER, "bob")
        funds.record_deposit(
            session=session, actor=admin, client_id=client.id, amount_cents=20_000, reference="w-1"
        )
        row = campaign(session, client, price_cents=5_000, budget_cents=20_000)
        funds.reserve_campaign_budget(session=session, campaign_id=row.id)
        ada_submission = approved_submission(session, row, ada)
        bob_submission = approved_submission(session, row, bob)
        for submission in (ada_submission, bob_submission):
            earnings.book_approval(session=session, submission_id=submission.id)
        holds.release_matured_earnings(session=session, now=utcnow() + timedelta(days=8))
        payout = payouts.request_payout(
            session=session, actor=ada, amount_cents=1_000, request_key="setup"
        )
        tokens = {
            name: _token(session, user)
            for name, user in (("admin", admin), ("client", client), ("ada", ada), ("bob", bob))
        }
    return {
        "tokens": tokens,
        "client": client,
        "ada": ada,
        "bob": bob,
        "ada_submission": ada_submission.id,
        "bob_submission": bob_submission.id,
        "payout": payout.id,
    }


def _state(cls, token: str):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _money(session: Session) -> dict:
    """Everything a money handler could change, read fresh."""
    session.expire_all()
    return {
        "transactions": session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
        "payouts": sorted(session.exec(select(Payout.id, Payout.status, Payout.reference)).all()),
        "held": sorted(session.exec(select(Submission.id).where(Submission.earnings_held)).all()),
        "audits": session.exec(select(func.count()).select_from(AuditLog)).one(),
    }


def _available(session: Session, user: auth.UserView, kind=AccountKind.CLIPPER_AVAILABLE) -> int:
    session.expire_all()
    return balance(session, account(session, kind, user_id=user.id))


def _plain(state, *names: str) -> None:
    """What the page holds is plain data (it goes to the browser as JSON)."""
    for name in names:
        json.dumps(getattr(state, name))


# --- only admins move money --------------------------------------------------------------


def test_a_clipper_calling_the_admin_handlers_is_refused_and_nothing_changes(
    session: Session, world
) -> None:
    before = _money(session)
    token = world["tokens"]["bob"]
    queue = _state(AdminPayoutsState, token)
    AdminPayoutsState.approve.fn(queue, {"payout_id": str(world["payout"]), "reference": "T-1"})
    assert queue.action_error == ONLY_ADMINS
    queue.reject_payout_id = world["payout"]
    AdminPayoutsState.reject.fn(queue, {"reason": "nope"})
    assert queue.reject_error == ONLY_ADMINS
    assert AdminPayoutsState.export_csv.fn(queue) is None
    assert queue.load_error == ONLY_ADMINS

    money = _state(AdminMoneyState, token)
    AdminMoneyState.record_deposit.fn(
        money,
        {"client_id": str(world["client"].id), "amount": "500", "reference": "mine"},
    )
    assert money.deposit_error == ONLY_ADMINS
    AdminMoneyState.hold.fn(
        money, {"submission_id": str(world["ada_submission"]), "reason": "spite"}
    )
    assert money.hold_error == ONLY_ADMINS
    AdminMoneyState.release.fn(money, {"submission_id": str(world["ada_submission"])})
    assert money.release_error == ONLY_ADMINS
    AdminMoneyState.open_page.fn(money)
    assert money.load_error == ONLY_ADMINS and money.revenue == "" and money.clients == []
    assert _money(session) == before


def test_a_client_cannot_request_a_payout(session: Session, world) -> None:
    before = _money(session)
    state = _state(EarningsState, world["tokens"]["client"])
    EarningsState.request_payout.fn(state, {"amount": "10", "request_key": uuid.uuid4().hex})
    assert state.payout_error == "Making clips is part of a clipper account."
    EarningsState.open_page.fn(state)
    assert state.load_error == "Making clips is part of a clipper account."
    assert state.lines == [] and state.available == ""
    assert _money(session) == before


def test_a_clipper_cannot_open_a_clients_billing(session: Session, world) -> None:
    state = _state(BillingState, world["tokens"]["ada"])
    BillingState.open_page.fn(state)
    assert state.load_error == "Running campaigns is part of a client account."
    assert state.campaigns == [] and state.lines == []


def test_an_admin_pays_a_payout_with_a_reference_once(session: Session, world) -> None:
    state = _state(AdminPayoutsState, world["tokens"]["admin"])
    AdminPayoutsState.open_page.fn(state)
    assert [row["id"] for row in state.queue] == [str(world["payout"])]
    _plain(state, "queue", "decided")
    form = {"payout_id": str(world["payout"]), "reference": ""}
    AdminPayoutsState.approve.fn(state, form)
    assert state.action_error.startswith("Enter the payment's reference")
    assert state.action_payout_id == str(world["payout"])
    AdminPayoutsState.approve.fn(state, {**form, "reference": " T-77 "})
    assert state.action_error == "" and state.queue == []
    assert [(row["status"], row["reference"]) for row in state.decided] == [("paid", "T-77")]
    AdminPayoutsState.approve.fn(state, {**form, "reference": "T-78"})
    assert state.action_error == "This payout was already paid."
    session.expire_all()
    assert session.get(Payout, world["payout"]).reference == "T-77"
    args = {
        name._js_expr: value._var_value
        for name, value in AdminPayoutsState.export_csv.fn(state).args
    }
    assert args["filename"] == "payouts.csv"
    csv_text = base64.b64decode(args["url"].split("base64,", 1)[1]).decode()
    assert csv_text.splitlines()[0].startswith("payout_id,") and ",paid,manual,T-77," in csv_text


def test_a_rejection_needs_a_reason_and_returns_the_money(session: Session, world) -> None:
    ada = world["ada"]
    available = _available(session, ada)
    state = _state(AdminPayoutsState, world["tokens"]["admin"])
    AdminPayoutsState.open_page.fn(state)
    AdminPayoutsState.start_reject.fn(state, "999999")  # not in the queue: ignored
    assert state.reject_payout_id == 0
    AdminPayoutsState.start_reject.fn(state, str(world["payout"]))
    assert state.reject_open and "$10.00" in state.reject_summary
    AdminPayoutsState.reject.fn(state, {"reason": "   "})
    assert state.reject_error.startswith("Say why the payout is rejected")
    assert session.get(Payout, world["payout"]).status == PayoutStatus.REQUESTED
    AdminPayoutsState.reject.fn(state, {"reason": "Bank details missing"})
    assert state.reject_error == "" and not state.reject_open
    assert _available(session, ada) == available + 1_000
    assert state.decided[0]["detail"] == "Rejected: Bank details missing"


# --- a clipper's own money only -----------------------------------------------------------


def _mentions(lines: list[dict], submission_id: int) -> bool:
    pattern = re.compile(rf"#{submission_id}\b")
    return any(pattern.search(line["description"]) for line in lines)


def test_a_clippers_statement_holds_only_their_own_lines(session: Session, world) -> None:
    ada = _state(EarningsState, world["tokens"]["ada"])
    EarningsState.open_page.fn(ada)
    # Approval into pending; the release out of pending into available; the payout request.
    assert ada.total_lines == 5 and len(ada.lines) == 5
    assert _mentions(ada.lines, world["ada_submission"])
    assert not _mentions(ada.lines, world["bob_submission"])
    assert (ada.pending, ada.available, ada.in_payout, ada.paid_out) == (
        "$0.00",
        "$25.00",
        "$10.00",
        "$0.00",
    )
    assert ada.tier["name"] == "Bronze" and ada.tier["split"] == "70% / 30%"
    assert [row["status"] for row in ada.my_payouts] == ["requested"]
    _plain(ada, "lines", "my_payouts", "tier")

    bob = _state(EarningsState, world["tokens"]["bob"])
    EarningsState.open_page.fn(bob)
    for page in (2, -1, "2", 10**9, None, True):
        EarningsState.go_to_page.fn(bob, page)
        assert bob.page == 1 and bob.total_lines == 3
        assert not _mentions(bob.lines, world["ada_submission"])
        assert _mentions(bob.lines, world["bob_submission"])
    assert bob.my_payouts == []


def test_a_double_click_requests_one_payout(session: Session, world) -> None:
    state = _state(EarningsState, world["tokens"]["bob"])
    EarningsState.open_page.fn(state)
    form = {"amount": "12.50", "request_key": state.request_key}
    EarningsState.request_payout.fn(state, form)
    EarningsState.request_payout.fn(state, form)  # the second click of the same form
    assert state.payout_error == ""
    assert [row["amount"] for row in state.my_payouts] == ["$12.50"]
    assert state.in_payout == "$12.50" and state.available == "$22.50"
    EarningsState.request_payout.fn(state, {"amount": "23", "request_key": state.request_key})
    assert state.payout_error == "You have $22.50 available to pay out."
    EarningsState.request_payout.fn(state, {"amount": "9.99", "request_key": state.request_key})
    assert state.payout_error == "The smallest payout is $10.00."


# --- what the browser types -------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_AMOUNTS)
def test_a_bad_amount_is_refused_in_words(session: Session, world, bad) -> None:
    before = _money(session)
    earnings_page = _state(EarningsState, world["tokens"]["bob"])
    EarningsState.request_payout.fn(earnings_page, {"amount": bad, "request_key": uuid.uuid4().hex})
    assert earnings_page.payout_error == "The amount must be in dollars and cents, like 25.00."
    money = _state(AdminMoneyState, world["tokens"]["admin"])
    AdminMoneyState.record_deposit.fn(
        money, {"client_id": str(world["client"].id), "amount": bad, "reference": "w-2"}
    )
    assert money.deposit_error == "The amount must be in dollars and cents, like 25.00."
    assert _money(session) == before


@pytest.mark.parametrize("junk", [None, "amount=10", 10, ["10"], {"amount": {"$gt": 0}}])
def test_a_malformed_form_is_refused_in_words(session: Session, world, junk) -> None:
    before = _money(session)
    earnings_page = _state(EarningsState, world["tokens"]["bob"])
    EarningsState.request_payout.fn(earnings_page, junk)
    assert earnings_page.payout_error == "The amount must be in dollars and cents, like 25.00."
    admin = world["tokens"]["admin"]
    money = _state(AdminMoneyState, admin)
    AdminMoneyState.record_deposit.fn(money, junk)
    AdminMoneyState.hold.fn(money, junk)
    AdminMoneyState.release.fn(money, junk)
    assert money.deposit_error == "Choose the client whose money arrived."
    assert (
        money.hold_error
        == money.release_error
        == ("Enter the submission number as a whole number, like 42.")
    )
    queue = _state(AdminPayoutsState, admin)
    AdminPayoutsState.approve.fn(queue, junk)
    assert queue.action_error == "Enter the payout number as a whole number, like 42."
    assert _money(session) == before


def test_an_admin_records_a_deposit_and_holds_earnings(session: Session, world) -> None:
    client = world["client"]
    state = _state(AdminMoneyState, world["tokens"]["admin"])
    AdminMoneyState.open_page.fn(state)
    assert state.ledger_ok and state.ledger_problems == []
    assert [row["id"] for row in state.clients] == [str(client.id)]
    assert state.clients_available == "$0.00" and state.payouts_waiting == 1
    _plain(state, "clients", "ledger_problems")

    for bad_client in ("not-a-number", str(world["ada"].id), "0", "-3"):
        AdminMoneyState.record_deposit.fn(
            state, {"client_id": bad_client, "amount": "10", "reference": "x"}
        )
        assert state.deposit_error in (
            "That client was not found.",
            "Enter the client as a whole number, like 42.",
        )
    AdminMoneyState.record_deposit.fn(
        state, {"client_id": str(client.id), "amount": "250", "reference": ""}
    )
    assert state.deposit_error.startswith("Enter the payment's reference")
    key = state.deposit_form_key
    AdminMoneyState.record_deposit.fn(
        state, {"client_id": str(client.id), "amount": "$1,250.50", "reference": "wire 9"}
    )
    assert state.deposit_error == "" and state.deposit_form_key == key + 1
    assert state.clients_available == "$1,250.50" and state.deposited == "$1,450.50"
    assert _available(session, client, AccountKind.CLIENT_AVAILABLE) == 125_050

    submission = world["bob_submission"]
    AdminMoneyState.hold.fn(state, {"submission_id": str(submission), "reason": ""})
    assert state.hold_error.startswith("Say why the earnings are held")
    AdminMoneyState.hold.fn(state, {"submission_id": "999999", "reason": "jump"})
    assert state.hold_error == "That submission was not found."
    AdminMoneyState.hold.fn(state, {"submission_id": str(submission), "reason": "View jump"})
    assert state.hold_error == ""
    assert _money(session)["held"] == [submission]
    AdminMoneyState.release.fn(state, {"submission_id": f" {submission} "})
    assert state.release_error == "" and _money(session)["held"] == []
    assert AdminMoneyState.run_check.fn(state) is not None and state.ledger_ok


def test_a_clients_billing_shows_their_balance_and_escrow(session: Session, world) -> None:
    state = _state(BillingState, world["tokens"]["client"])
    BillingState.open_page.fn(state)
    assert (state.available, state.held) == ("$0.00", "$100.00")
    assert [(c["title"], c["budget"], c["escrow"]) for c in state.campaigns] == [
        ("Launch week", "$200.00", "$100.00")
    ]
    assert [line["amount"] for line in state.lines] == ["-$200.00", "+$200.00"]
    _plain(state, "campaigns", "lines")


# --- no session, no change -----------------------------------------------------------------


def test_a_forged_cookie_changes_nothing(session: Session, world) -> None:
    before = _money(session)
    forged = "forged-token"
    earnings_page = _state(EarningsState, forged)
    EarningsState.request_payout.fn(
        earnings_page, {"amount": "10", "request_key": uuid.uuid4().hex}
    )
    assert earnings_page.payout_error == NOT_SIGNED_IN
    assert EarningsState.open_page.fn(earnings_page) is not None  # a redirect to sign in
    assert earnings_page.lines == []

    queue = _state(AdminPayoutsState, forged)
    AdminPayoutsState.approve.fn(queue, {"payout_id": str(world["payout"]), "reference": "T"})
    assert queue.action_error == NOT_SIGNED_IN
    queue.reject_payout_id = world["payout"]
    AdminPayoutsState.reject.fn(queue, {"reason": "x"})
    assert queue.reject_error == NOT_SIGNED_IN

    money = _state(AdminMoneyState, forged)
    AdminMoneyState.record_deposit.fn(
        money, {"client_id": str(world["client"].id), "amount": "10", "reference": "f"}
    )
    AdminMoneyState.hold.fn(money, {"submission_id": str(world["ada_submission"]), "reason": "x"})
    AdminMoneyState.release.fn(money, {"submission_id": str(world["ada_submission"])})
    assert money.deposit_error == money.hold_error == money.release_error == NOT_SIGNED_IN
    assert _money(session) == before
