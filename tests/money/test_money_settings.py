"""The automatic payout approval limit: an admin sets it (in dollars on the Money page, 0 =
off), every change audited; anyone else, and any value that is not an amount from $0 to
$1,000, is refused in words and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import AuditLog, MoneySetting, Role
from clipgen.services.auth import service as auth
from clipgen.services.errors import InvalidInput, PermissionDenied
from clipgen.services.money import money_settings
from clipgen.state.money import AdminMoneyState
from tests.support.money import PASSWORD, person

ONLY_ADMINS = "Only admins can do that."
NOT_SIGNED_IN = "Please sign in to continue."
OUT_OF_RANGE = (
    "Payouts can be approved automatically up to $1,000.00 at most; enter an amount from "
    "0 (off) to $1,000.00."
)
NOT_DOLLARS = "The limit must be in dollars and cents, like 25.00."


@pytest.fixture
def people(database_url: str) -> dict:
    with session_scope() as session:
        users = {
            "admin": person(session, Role.ADMIN),
            "clipper": person(session, Role.CLIPPER),
            "client": person(session, Role.CLIENT),
        }
        tokens = {
            name: auth.sign_in(session=session, email=user.email, password=PASSWORD)[0]
            for name, user in users.items()
        }
    return {"users": users, "tokens": tokens}


def _state(token: str) -> AdminMoneyState:
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(AdminMoneyState.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _now() -> tuple[int, int]:
    """The limit and how many audit rows there are."""
    with session_scope() as session:
        audits = session.exec(select(func.count()).select_from(AuditLog)).one()
        return money_settings.auto_approve_limit_cents(session), audits


def test_an_admin_sets_the_limit_and_each_change_is_audited(people: dict) -> None:
    admin = people["users"]["admin"]
    assert _now()[0] == 0  # off until an admin turns it on
    with session_scope() as session:
        assert money_settings.set_auto_approve_limit(session, admin, 2_500) == 2_500
    with session_scope() as session:
        money_settings.set_auto_approve_limit(session=session, actor=admin, cents=100_000)
    with session_scope() as session:
        assert money_settings.auto_approve_limit_cents(session) == 100_000
        row = session.get(MoneySetting, money_settings.AUTO_APPROVE)
        assert (row.value, row.updated_by) == (100_000, admin.id)
        audits = session.exec(
            select(AuditLog).where(AuditLog.action == "money.setting_changed")
        ).all()
        assert [(a.actor_id, a.details["before"], a.details["after"]) for a in audits] == [
            (admin.id, 0, 2_500),
            (admin.id, 2_500, 100_000),
        ]
        money_settings.set_auto_approve_limit(session, admin, 0)
    assert _now()[0] == 0


@pytest.mark.parametrize("who", ["clipper", "client"])
def test_only_admins_may_change_the_limit(people: dict, who: str) -> None:
    before = _now()
    with session_scope() as session, pytest.raises(PermissionDenied, match=ONLY_ADMINS):
        money_settings.set_auto_approve_limit(session, people["users"][who], 5_000)
    state = _state(people["tokens"][who])
    AdminMoneyState.save_auto_approve.fn(state, {"limit": "50"})
    assert state.auto_approve_error == ONLY_ADMINS
    AdminMoneyState.open_page.fn(state)
    assert state.auto_approve_limit == "" and state.load_error == ONLY_ADMINS
    forged = _state("forged-token")
    AdminMoneyState.save_auto_approve.fn(forged, {"limit": "50"})
    assert forged.auto_approve_error == NOT_SIGNED_IN
    assert _now() == before


@pytest.mark.parametrize("bad", [-1, 100_001, 10**12, 12.5, "2500", None, True])
def test_the_service_refuses_what_is_not_cents_from_0_to_1000_dollars(
    people: dict, bad: object
) -> None:
    before = _now()
    with session_scope() as session, pytest.raises(InvalidInput) as refused:
        money_settings.set_auto_approve_limit(session, people["users"]["admin"], bad)
    assert str(refused.value) in (
        OUT_OF_RANGE,
        "Enter the limit in dollars, like 25.00 (0 turns it off).",
    )
    assert _now() == before


def test_the_money_page_shows_and_saves_the_limit(people: dict) -> None:
    state = _state(people["tokens"]["admin"])
    AdminMoneyState.open_page.fn(state)
    assert (state.auto_approve_limit, state.auto_approve_input) == ("Off", "0")
    assert state.stripe_on is False and state.reconciliation_runs == []
    key = state.auto_approve_form_key
    assert AdminMoneyState.save_auto_approve.fn(state, {"limit": " $25.5 "})
    assert state.auto_approve_error == "" and state.auto_approve_form_key == key + 1
    assert (state.auto_approve_limit, state.auto_approve_input) == ("$25.50", "25.50")
    assert _now()[0] == 2_550
    AdminMoneyState.save_auto_approve.fn(state, {"limit": "1,000"})
    assert state.auto_approve_limit == "$1,000.00" and _now()[0] == 100_000
    AdminMoneyState.save_auto_approve.fn(state, {"limit": "0.00"})
    assert (state.auto_approve_limit, state.auto_approve_input) == ("Off", "0")
    assert _now()[0] == 0


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("abc", NOT_DOLLARS),
        ("-1", NOT_DOLLARS),
        ("nan", NOT_DOLLARS),
        ("1e9", NOT_DOLLARS),
        ("", NOT_DOLLARS),
        ("5.001", NOT_DOLLARS),
        (None, NOT_DOLLARS),
        (25, NOT_DOLLARS),
        (["25"], NOT_DOLLARS),
        ("1000.01", OUT_OF_RANGE),
        ("999999999", OUT_OF_RANGE),
    ],
)
def test_a_bad_limit_is_refused_in_words_and_changes_nothing(
    people: dict, bad: object, words: str
) -> None:
    state = _state(people["tokens"]["admin"])
    AdminMoneyState.save_auto_approve.fn(state, {"limit": "10"})
    before = _now()
    assert before[0] == 1_000
    key = state.auto_approve_form_key
    AdminMoneyState.save_auto_approve.fn(state, {"limit": bad})
    assert state.auto_approve_error == words
    assert state.auto_approve_form_key == key  # the form keeps what was typed
    AdminMoneyState.save_auto_approve.fn(state, None)
    assert state.auto_approve_error == NOT_DOLLARS
    assert _now() == before
