"""Earnings -> Payouts to your bank, its handlers called directly as a crafted websocket
event would call them: only a signed-in clipper is sent to Stripe's onboarding (one
Express account however often they click), the card says what Stripe still needs, and
without Stripe keys the card is not there and a crafted call is refused in words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import PayoutAccount, Role
from clipgen.services.auth import service as auth
from clipgen.services.money.connect import NOT_SET_UP
from clipgen.state.money import EarningsState
from tests.support.fake_stripe import FakeStripe
from tests.support.handlers import redirect_path, state_on
from tests.support.money import PASSWORD, person


@pytest.fixture
def tokens(database_url: str) -> dict[str, str]:
    with session_scope() as session:
        users = {
            "clipper": person(session, Role.CLIPPER, "ada"),
            "client": person(session, Role.CLIENT, "brand"),
            "admin": person(session, Role.ADMIN),
        }
        return {
            name: auth.sign_in(session=session, email=user.email, password=PASSWORD)[0]
            for name, user in users.items()
        }


@pytest.fixture
def fake(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        running.deliver_events = False
        running.apply_env(monkeypatch)
        yield running


def _state(token: str, path: str = routes.EARNINGS) -> EarningsState:
    return state_on(EarningsState, token, path)


def _accounts() -> list[PayoutAccount]:
    with session_scope() as session:
        return list(session.exec(select(PayoutAccount)).all())


def test_a_clipper_is_sent_to_stripe_onboarding_once_per_account(
    tokens: dict[str, str], fake: FakeStripe
) -> None:
    state = _state(tokens["clipper"])
    EarningsState.open_page.fn(state)
    assert state.payout_setup["status"] == "not set up"
    assert state.payout_setup["button"] == "Set up payouts"
    first = EarningsState.set_up_payouts.fn(state)
    second = EarningsState.set_up_payouts.fn(state)
    assert redirect_path(first).startswith(fake.url + "/connect/")
    assert redirect_path(second).startswith(fake.url + "/connect/")
    assert state.setup_error == ""
    assert len(_accounts()) == 1 and fake.created["account"] == 1
    EarningsState.open_page.fn(state)
    assert state.payout_setup["status"] == "incomplete"
    assert state.payout_setup["button"] == "Continue setting up"
    assert "a bank account to be paid to" in state.payout_setup["needs"]


def test_coming_back_from_stripe_reads_the_account_again(
    tokens: dict[str, str], fake: FakeStripe
) -> None:
    state = _state(tokens["clipper"])
    EarningsState.set_up_payouts.fn(state)
    fake.complete_onboarding(_accounts()[0].stripe_account_id)  # webhook not delivered
    back = _state(tokens["clipper"], routes.EARNINGS + "?payouts=back")
    EarningsState.open_page.fn(back)
    assert back.payout_setup["status"] == "ready" and back.payout_setup["needs"] == ""


@pytest.mark.parametrize(
    ("who", "said"),
    [
        ("client", "Making clips is part of a clipper account."),
        ("admin", "Making clips is part of a clipper account."),
        ("forged", "Please sign in to continue."),
    ],
)
def test_only_a_clipper_sets_up_payouts(
    tokens: dict[str, str], fake: FakeStripe, who: str, said: str
) -> None:
    state = _state(tokens.get(who, "forged-token"))
    assert EarningsState.set_up_payouts.fn(state) is None  # no redirect to Stripe
    assert state.setup_error == said
    assert _accounts() == [] and fake.created["account"] == 0


def test_without_stripe_there_is_no_card_and_a_crafted_call_is_refused(
    tokens: dict[str, str],
) -> None:
    state = _state(tokens["clipper"])
    EarningsState.open_page.fn(state)
    assert state.payout_setup["status"] == "manual"
    EarningsState.set_up_payouts.fn(state)
    assert state.setup_error == NOT_SET_UP
    assert _accounts() == []


def test_stripe_down_is_said_in_words_and_changes_nothing(
    tokens: dict[str, str], fake: FakeStripe
) -> None:
    fake.fail_next("/v1/accounts", status=500, times=5)
    state = _state(tokens["clipper"])
    EarningsState.set_up_payouts.fn(state)
    assert state.setup_error.startswith("Could not set up your payout account")
    assert _accounts() == []
