"""Clippers paid through Stripe Connect: an Express account set up through Stripe's own
onboarding, a Transfer when a payout is approved (by an admin, or by no one below the
limit), then Stripe's payout to the bank whose outcome comes back by webhook: paid, or
failed with the money back in the clipper's available balance. The real stripe library
talks to the local fake Stripe; the ledger's invariants hold after each test."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import select

import workers  # noqa: F401  (installs the sender: approvals queue their bank payout)
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    FlagStatus,
    FraudFlag,
    Notification,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Publication,
    Role,
    User,
    utcnow,
)
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, PermissionDenied
from clipgen.services.money import (
    connect,
    money_settings,
    payouts,
    reconciliation,
    reports,
    stripe_api,
    stripe_events,
    stripe_payouts,
)
from clipgen.services.money.stripe_api import StripeUnavailable
from clipgen.services.notification_kinds import Kind
from tests.support import stripe_webhooks
from tests.support.concurrency import balance_of, books_are_sound
from tests.support.fake_stripe import FakeStripe
from tests.support.money import clipper_with_available, person


@pytest.fixture
def staff(fake: FakeStripe) -> tuple[UserView, UserView]:
    """An admin and a client."""
    with session_scope() as session:
        return person(session, Role.ADMIN), person(session, Role.CLIENT, "brand")


def _clipper(staff, cents: int = 2500) -> UserView:
    admin, client = staff
    with session_scope() as session:
        return clipper_with_available(session, admin, client, cents)


def _onboard(fake: FakeStripe, clipper: UserView) -> str:
    """The clipper sets up payouts and finishes Stripe's onboarding; their account id."""
    with session_scope() as session:
        connect.start_onboarding(session=session, actor=clipper)
        account_id = connect.account_of(session, clipper.id).stripe_account_id
    fake.complete_onboarding(account_id)
    stripe_webhooks.deliver(fake, fake.last_event("account.updated"))
    return account_id


def _request(clipper: UserView, cents: int, key: str = "form-1") -> int:
    with session_scope() as session:
        return payouts.request_payout(
            session=session, actor=clipper, amount_cents=cents, request_key=key
        ).id


def _approve(admin: UserView, payout_id: int, reference: str = "") -> payouts.PayoutView:
    with session_scope() as session:
        return payouts.approve_payout(
            session=session, actor=admin, payout_id=payout_id, reference=reference
        )


def _payout(payout_id: int) -> Payout:
    with session_scope() as session:
        return session.get(Payout, payout_id)


def _send_to_bank(payout_id: int) -> str:
    with session_scope() as session:
        return stripe_payouts.send_bank_payout(session, payout_id)


def _notes(user_id: int, kind: str) -> list[str]:
    with session_scope() as session:
        return list(
            session.exec(
                select(Notification.message).where(
                    Notification.user_id == user_id, Notification.kind == kind
                )
            ).all()
        )


def _paid_out(clipper: UserView) -> int:
    with session_scope() as session:
        return reports.clipper_balances(session=session, actor=clipper).paid_cents


# --- onboarding ------------------------------------------------------------------------


def test_setting_up_payouts_makes_one_express_account_and_says_what_stripe_needs(
    fake: FakeStripe, staff
) -> None:
    clipper = _clipper(staff)
    with session_scope() as session:
        before = connect.my_payout_account(session=session, actor=clipper)
        first = connect.start_onboarding(session=session, actor=clipper)
    with session_scope() as session:
        again = connect.start_onboarding(session=session, actor=clipper)
        view = connect.my_payout_account(session=session, actor=clipper)
        row = connect.account_of(session, clipper.id)
    assert before.status == "not set up"
    assert first.startswith(fake.url + "/connect/") and again != first  # a link works once
    assert fake.created["account"] == 1 and fake.created["account_link"] == 2
    made = fake.get(row.stripe_account_id)
    assert made["type"] == "express"
    assert made["capabilities"] == {"transfers": "inactive"}
    assert made["settings"]["payouts"]["schedule"]["interval"] == "manual"
    assert made["metadata"] == {"clipper_id": str(clipper.id)}
    creating = fake.calls("POST", "/v1/accounts")
    assert creating[0].idempotency_key == f"connect-account-{clipper.id}"
    assert view.status == "incomplete" and not view.payouts_enabled
    assert "a bank account to be paid to" in view.needs
    assert "your date of birth" in view.needs
    assert "accepting Stripe's terms of service" in view.needs


def test_finishing_onboarding_comes_back_by_webhook_and_tells_the_clipper(
    fake: FakeStripe, staff
) -> None:
    clipper = _clipper(staff)
    _onboard(fake, clipper)
    with session_scope() as session:
        view = connect.my_payout_account(session=session, actor=clipper)
    assert view.status == "ready" and view.needs == ()
    assert _notes(clipper.id, Kind.PAYOUT_ACCOUNT_UPDATED) == [
        "Your payout account is set up: payouts go to your bank through Stripe."
    ]


def test_returning_from_onboarding_reads_the_account_before_the_webhook(
    fake: FakeStripe, staff
) -> None:
    clipper = _clipper(staff)
    with session_scope() as session:
        connect.start_onboarding(session=session, actor=clipper)
        account_id = connect.account_of(session, clipper.id).stripe_account_id
    fake.complete_onboarding(account_id)  # its account.updated not delivered yet
    with session_scope() as session:
        view = connect.refresh_account(session=session, actor=clipper)
    assert view.status == "ready"


def test_stripe_asking_for_more_pauses_payouts_in_words(fake: FakeStripe, staff) -> None:
    clipper = _clipper(staff)
    account_id = _onboard(fake, clipper)
    fake.set_requirements(account_id, ["individual.verification.document"])
    stripe_webhooks.deliver(fake, fake.last_event("account.updated"))
    with session_scope() as session:
        view = connect.my_payout_account(session=session, actor=clipper)
        assert connect.ready_account(session, clipper.id) is None
    assert view.status == "incomplete"
    assert view.needs == ("a photo of an identity document",)
    assert _notes(clipper.id, Kind.PAYOUT_ACCOUNT_UPDATED)[-1] == (
        "Stripe paused payouts to you until you give a photo of an identity document. "
        "Open Earnings to finish."
    )


def test_only_clippers_set_up_payouts(fake: FakeStripe, staff) -> None:
    admin, client = staff
    for actor in (admin, client):
        with session_scope() as session, pytest.raises(PermissionDenied):
            connect.start_onboarding(session=session, actor=actor)
    assert fake.created["account"] == 0


def test_stripe_down_while_setting_up_leaves_nothing(fake: FakeStripe, staff) -> None:
    clipper = _clipper(staff)
    fake.fail_next("/v1/accounts", status=500, times=5)
    with session_scope() as session, pytest.raises(StripeUnavailable, match="set up your payout"):
        connect.start_onboarding(session=session, actor=clipper)
    with session_scope() as session:
        assert connect.account_of(session, clipper.id) is None


# --- paying --------------------------------------------------------------------------------


def test_an_approved_payout_is_transferred_then_paid_to_the_bank(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    account_id = _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    with session_scope() as session:
        queue = payouts.list_payouts(session=session, actor=admin, status=PayoutStatus.REQUESTED)
    assert [(v.id, v.stripe_ready) for v in queue] == [(payout_id, True)]

    sent = _approve(admin, payout_id)  # no reference: Stripe's transfer is the reference
    assert sent.status == PayoutStatus.PROCESSING and sent.provider == "stripe"
    transfer = fake.get(sent.reference)
    assert transfer["destination"] == account_id and transfer["amount"] == 2000
    assert transfer["metadata"] == {"payout_id": str(payout_id)}
    assert transfer["transfer_group"] == f"payout-{payout_id}"
    made = fake.calls("POST", "/v1/transfers")
    assert len(made) == 1 and made[0].idempotency_key.startswith(f"payout-{payout_id}-transfer-")
    assert balance_of(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 0
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 500
    assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 2000
    assert _paid_out(clipper) == 2000  # it left ClipGen

    assert _send_to_bank(payout_id).startswith(f"Payout #{payout_id} sent to the bank")
    assert _send_to_bank(payout_id) == "Nothing to send."  # a repeated message sends nothing
    bank = fake.calls("POST", "/v1/payouts")
    assert len(bank) == 1 and bank[0].stripe_account == account_id
    assert bank[0].idempotency_key == f"payout-{payout_id}-bank"
    stripe_id = _payout(payout_id).stripe_payout_id

    fake.settle_payout(stripe_id, paid=True)
    stripe_webhooks.deliver(fake, fake.last_event("payout.paid"), times=2)
    done = _payout(payout_id)
    assert done.status == PayoutStatus.PAID and done.paid_at is not None
    assert _notes(clipper.id, Kind.PAYOUT_PAID) == ["Your payout of $20.00 was paid to your bank."]
    with session_scope() as session:
        lines = reports.clipper_statement(session=session, actor=clipper, page=1, per_page=5)
    assert lines.lines[0].description == (
        f"Payout #{payout_id} sent to your Stripe account for your bank"
    )
    books_are_sound()


def test_a_failed_bank_payout_returns_the_money_with_the_reason(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    _approve(admin, payout_id)
    _send_to_bank(payout_id)
    fake.settle_payout(_payout(payout_id).stripe_payout_id, paid=False)
    said = stripe_webhooks.deliver(fake, fake.last_event("payout.failed"))
    assert "The bank refused the payout: The bank account has been closed." in said
    # Taking it back reverses the transfer; that event, and the failure again, change nothing.
    stripe_webhooks.deliver(fake, fake.last_event("transfer.reversed"))
    stripe_webhooks.deliver(fake, fake.last_event("payout.failed"), times=2)
    failed = _payout(payout_id)
    assert failed.status == PayoutStatus.FAILED
    assert failed.failure_reason == "The bank refused the payout: The bank account has been closed."
    assert fake.get(failed.transfer_id)["amount_reversed"] == 2000
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 2500
    assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 0
    assert _paid_out(clipper) == 0
    assert _notes(clipper.id, Kind.PAYOUT_FAILED) == [
        "Your payout of $20.00 could not be paid and is back in your available balance. "
        "The bank refused the payout: The bank account has been closed."
    ]
    with session_scope() as session:
        lines = reports.clipper_statement(session=session, actor=clipper, page=1, per_page=5)
    assert lines.lines[0].description == (
        f"Payout #{payout_id} returned to your balance: The bank refused the payout: "
        "The bank account has been closed."
    )
    books_are_sound()
    # The transfer and its reversal are in the books as Stripe has them.
    with session_scope() as session:
        run = reconciliation.reconcile_day(session, utcnow().date())
        assert (run.error, run.mismatches) == ("", 0)
        assert run.matched >= 2


def test_a_transfer_reversed_at_stripe_returns_the_money_once(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    sent = _approve(admin, payout_id)
    # Someone reverses it in Stripe's dashboard, in two parts.
    stripe_api.client().v1.transfers.reversals.create(sent.reference, params={"amount": 500})
    stripe_webhooks.deliver(fake, fake.last_event("transfer.reversed"))
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 1000
    assert _payout(payout_id).status == PayoutStatus.PROCESSING  # 15 dollars still went out
    stripe_api.client().v1.transfers.reversals.create(sent.reference)
    for event in fake.events_of("transfer.reversed"):
        stripe_webhooks.deliver(fake, event)
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 2500
    assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 0
    failed = _payout(payout_id)
    assert failed.status == PayoutStatus.FAILED
    assert failed.failure_reason == "Stripe reversed the transfer to your account."
    books_are_sound()


def test_an_approval_whose_commit_failed_reuses_its_transfer(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    with pytest.raises(RuntimeError), session_scope() as session:
        payouts.approve_payout(session=session, actor=admin, payout_id=payout_id)
        raise RuntimeError("the database went away before the commit")
    assert _payout(payout_id).status == PayoutStatus.REQUESTED
    again = _approve(admin, payout_id)
    assert fake.created["transfer"] == 1 and again.reference == fake.objects("transfer")[0]["id"]
    assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 2000
    books_are_sound()


def test_stripe_refusing_the_transfer_leaves_the_payout_requested(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    fake.platform_available_cents = 100
    with pytest.raises(StripeUnavailable, match="insufficient available funds"):
        _approve(admin, payout_id)
    assert _payout(payout_id).status == PayoutStatus.REQUESTED
    assert balance_of(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 2000
    assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 0
    fake.platform_available_cents = 1_000_000
    assert _approve(admin, payout_id).status == PayoutStatus.PROCESSING  # once funds are there
    books_are_sound()


def test_a_bank_payout_stripe_refuses_fails_the_payout_and_returns_it(
    fake: FakeStripe, staff
) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    account_id = _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    _approve(admin, payout_id)
    # Stripe disabled payouts between the approval and the bank payout.
    fake.set_requirements(account_id, ["external_account"], transfers="active")
    said = _send_to_bank(payout_id)
    assert said.startswith(f"Payout #{payout_id} failed: Could not pay the clipper's bank")
    failed = _payout(payout_id)
    assert failed.status == PayoutStatus.FAILED and "requirements" in failed.failure_reason
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 2500
    books_are_sound()


def test_stripe_unreachable_for_the_bank_payout_is_tried_again(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    _approve(admin, payout_id)
    fake.fail_next("/v1/payouts", status=503, times=5)
    with pytest.raises(StripeUnavailable):
        _send_to_bank(payout_id)
    assert _payout(payout_id).status == PayoutStatus.PROCESSING
    assert _send_to_bank(payout_id).startswith(f"Payout #{payout_id} sent to the bank")
    assert fake.created["payout"] == 1


def test_a_clipper_without_stripe_is_paid_by_hand_as_before(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 2500)
    payout_id = _request(clipper, 2000)
    with pytest.raises(InvalidInput, match="reference"):
        _approve(admin, payout_id)
    paid = _approve(admin, payout_id, reference="wire 42")
    assert paid.status == PayoutStatus.PAID and paid.provider == "manual"
    assert fake.created["transfer"] == 0


# --- approving with no one -----------------------------------------------------------------


def _set_limit(admin: UserView, cents: int) -> None:
    with session_scope() as session:
        money_settings.set_auto_approve_limit(session, admin, cents)


def _auto(payout_id: int) -> str:
    with session_scope() as session:
        return payouts.auto_approve(session, payout_id)


def test_small_payouts_are_approved_with_no_one_within_the_limit(fake: FakeStripe, staff) -> None:
    admin, _ = staff
    clipper = _clipper(staff, 10000)
    _onboard(fake, clipper)
    _set_limit(admin, 5000)
    small = _request(clipper, 5000, "a")
    large = _request(clipper, 4000 + 10, "b")
    assert _auto(small) == f"Payout #{small} approved automatically."
    assert _payout(small).status == PayoutStatus.PROCESSING
    assert _payout(small).decided_by is None
    assert _auto(small) == "Not waiting for approval."
    _set_limit(admin, 3000)
    assert _auto(large) == "Above the automatic approval limit: an admin decides."
    _set_limit(admin, 0)
    assert _auto(large) == "Above the automatic approval limit: an admin decides."
    assert _payout(large).status == PayoutStatus.REQUESTED
    books_are_sound()


def test_no_automatic_approval_for_a_flagged_clipper_or_one_paid_by_hand(
    fake: FakeStripe, staff
) -> None:
    admin, _ = staff
    by_hand = _clipper(staff, 2500)
    flagged = _clipper(staff, 2500)
    _onboard(fake, flagged)
    _set_limit(admin, 5000)
    with session_scope() as session:
        post = Publication(
            clipper_id=flagged.id,
            platform="youtube",
            url="https://youtube.com/shorts/fast1",
            external_id="fast1",
        )
        session.add(post)
        session.flush()
        session.add(FraudFlag(publication_id=post.id, reason="views too fast"))
    first, second = _request(by_hand, 2000), _request(flagged, 2000)
    assert _auto(first) == "The clipper has no Stripe account ready: an admin pays by hand."
    assert _auto(second) == "The clipper has an open fraud flag: an admin decides."
    with session_scope() as session:
        flag = session.exec(select(FraudFlag)).first()
        flag.status = FlagStatus.CLEARED
        session.add(flag)
    assert _auto(second) == f"Payout #{second} approved automatically."


# --- concurrency ---------------------------------------------------------------------------


class _ReversedWhileApproving(payouts.StripeConnectPayout):
    """Stripe's side moves while the approval's transaction is still open: the transfer is
    reversed and its webhook worked on another thread before the approval commits."""

    def __init__(self, destination: str, fake: FakeStripe) -> None:
        super().__init__(destination)
        self.fake = fake
        self.outcome: list[object] = []
        self.thread: threading.Thread | None = None

    def pay(self, *, payout_id: int, amount_cents: int, reference: str) -> str:
        transfer_id = super().pay(
            payout_id=payout_id, amount_cents=amount_cents, reference=reference
        )
        stripe_api.client().v1.transfers.reversals.create(transfer_id)
        event = self.fake.last_event("transfer.reversed")
        stripe_webhooks.post(self.fake, event)

        def work() -> None:
            for _ in range(40):
                try:
                    self.outcome.append(stripe_webhooks.work(event["id"]))
                    return
                except stripe_api.NotYet as early:  # retried, as the worker does
                    self.outcome.append(early)
                    time.sleep(0.05)

        self.thread = threading.Thread(target=work)
        self.thread.start()
        time.sleep(0.5)  # the webhook is now waiting on the payout's row lock
        return transfer_id


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_an_approval_racing_a_reversal_webhook_leaves_every_cent_in_one_place(
    fake: FakeStripe, staff
) -> None:
    admin, _ = staff
    for _round in range(3):
        clipper = _clipper(staff, 2500)
        account_id = _onboard(fake, clipper)
        payout_id = _request(clipper, 2000)
        racing = _ReversedWhileApproving(account_id, fake)
        with session_scope() as session:
            payouts.approve_payout(
                session=session, actor=admin, payout_id=payout_id, provider=racing
            )
        racing.thread.join(timeout=30)
        assert racing.outcome and racing.outcome[-1] == f"Payout #{payout_id}: $20.00 returned."
        failed = _payout(payout_id)
        assert failed.status == PayoutStatus.FAILED
        assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 2500
        assert balance_of(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 0
        assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 0
        books_are_sound()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_failure_and_its_reversal_worked_at_once_return_the_money_once(
    fake: FakeStripe, staff
) -> None:
    from tests.support.concurrency import race

    admin, _ = staff
    clipper = _clipper(staff, 2500)
    _onboard(fake, clipper)
    payout_id = _request(clipper, 2000)
    _approve(admin, payout_id)
    _send_to_bank(payout_id)
    fake.settle_payout(_payout(payout_id).stripe_payout_id, paid=False)
    failure = fake.last_event("payout.failed")
    stripe_webhooks.post(fake, failure)
    # The reversal ClipGen will make, made first at Stripe (as a retried worker may have).
    stripe_api.client().v1.transfers.reversals.create(_payout(payout_id).transfer_id)
    reversal = fake.last_event("transfer.reversed")
    stripe_webhooks.post(fake, reversal)
    ids = [failure["id"], reversal["id"]] * 5
    outcomes = race(10, lambda session, n: stripe_events.process(session, ids[n]))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 2500
    assert balance_of(AccountKind.EXTERNAL_PAYOUTS) == 0
    assert _payout(payout_id).status == PayoutStatus.FAILED
    books_are_sound()


def test_a_payout_account_row_is_the_clippers_own(fake: FakeStripe, staff) -> None:
    clipper = _clipper(staff)
    _onboard(fake, clipper)
    with session_scope() as session:
        rows = session.exec(select(PayoutAccount)).all()
        owner = session.get(User, rows[0].clipper_id)
    assert len(rows) == 1 and owner.id == clipper.id
