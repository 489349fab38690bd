"""Stripe's money properties: random sequences of card payments, refunds, disputes, campaign
funding and Stripe Connect payouts, on SQLite and PostgreSQL.

A Hypothesis state machine drives the real services against the local fake Stripe, whose
events are not sent by it (`deliver_events = False`): a rule delivers any event emitted so
far to the real webhook route and works it, in a random order, some twice, some posted and
worked later, some never. An event that depends on one not worked yet (`NotYet`) is kept
and delivered again later. Clients start card payments and pay them at Stripe (sometimes
twice from the same form), refunds (part or all) and disputes (won or lost) are made at
Stripe, clients fund campaigns from their balance (refused when it is short), clippers
with money (onboarded to Stripe Connect) request payouts, admins approve or reject them,
the bank payout is sent and the bank answers paid or failed. After every step, read in
units of work of their own:

- `check_invariants` is ok;
- the ledger agrees with the model's own count, cent for cent: what external deposits,
  platform revenue and payment fees moved (card payments booked, refunds and dispute
  holds taken from the client and what the platform carried, dispute fees and their
  return, holds given back when won), each client's available balance (never negative),
  each campaign's escrow (exactly its budget: refunds and disputes never touch it),
  external payouts and each clipper's available and in-payout money and payout statuses;
- external payouts equal what the fake has transferred less what it reversed, and each
  clipper's available + in-payout + paid-out (in the ledger and on the Payout rows) is what
  they earned;
- once every event has been worked, the ledger agrees with the fake itself: external
  deposits moved by -(charges) + refunds + disputed amounts not won back, and payment
  fees by the charges' fees + the dispute fees not returned.

Every delivery of an event already worked, and every refusal (a `ServiceError`, or
`NotYet`), changes no balance and no row count. Each example makes its own people (the
admin is made once); platform accounts are compared with what they were when the example
began. A tally of what the rules did is printed (`-s`) and checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func
from sqlmodel import col, select

import workers  # noqa: F401  (installs the sender, as the service tests do)
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    AuditLog,
    CardDispute,
    CardPayment,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Notification,
    Payout,
    PayoutStatus,
    Role,
    StripeEvent,
    User,
)
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, ServiceError
from clipgen.services.money import cards, connect, funds, payouts, reports, stripe_payouts
from clipgen.services.money.ledger import InsufficientFunds, account_code, check_invariants
from clipgen.services.money.payouts import MIN_PAYOUT_CENTS
from clipgen.services.money.stripe_api import NotYet
from tests.support import stripe_webhooks
from tests.support.fake_stripe import DISPUTE_FEE, FakeStripe, card_fee
from tests.support.money import campaign, clipper_with_available, person

# About a minute per database on two cores.
EXAMPLES = {"sqlite": 28, "postgresql": 22}
STEPS = 30

AMOUNTS = st.one_of(st.sampled_from([1000, 2500, 5000, 20_000]), st.integers(1000, 50_000))
PICK = st.integers(0, 10_000)
FRESH = st.sampled_from(
    [True, True, True, False]
)  # mostly what has not been done yet  # an index into what exists, modulo its length
SEEN: Counter[str] = Counter()  # what the rules did, over the whole run
PLATFORM = (
    AccountKind.EXTERNAL_DEPOSITS,
    AccountKind.PLATFORM_REVENUE,
    AccountKind.PAYMENT_FEES,
    AccountKind.EXTERNAL_PAYOUTS,
)


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


@dataclass
class Card:
    """A card payment as the model knows it."""

    id: int
    amount: int
    session_id: str
    key: str
    paid: bool = False  # paid at the fake
    booked: bool = False  # booked in the ledger (the model's expectation)
    charge_id: str = ""
    refunds: set[str] = field(default_factory=set)  # refund ids booked
    dispute: str = ""  # the charge's dispute (one per charge, as at Stripe)


@dataclass
class Dispute:
    id: str
    card: Card
    amount: int
    at_fake: str = "needs_response"  # won / lost once closed at the fake
    seen: bool = False  # recorded in ClipGen (a row, its fee booked)
    status: str = "open"  # ClipGen's: open / won / lost
    held: int = 0  # from the client's balance
    carried: int = 0  # by the platform
    hold_booked: bool = False
    fee_returned: bool = False


@dataclass
class Clipper:
    user: UserView
    account_id: str
    earned: int
    available: int
    pending: int = 0
    paid: int = 0  # sent to Stripe and not returned


@dataclass
class PayoutModel:
    id: int
    clipper: Clipper
    amount: int
    status: str = PayoutStatus.REQUESTED
    transfer_id: str = ""
    stripe_id: str = ""  # the bank payout at the fake
    settled: bool = False  # the bank answered at the fake


@dataclass(frozen=True)
class Snapshot:
    balances: tuple[tuple[str, int], ...]
    rows: tuple[int, ...]
    payouts: tuple[tuple[int, str], ...]
    disputes: tuple[tuple[str, str, int], ...]
    payments: tuple[tuple[int, str, int], ...]


def _snapshot() -> Snapshot:
    with session_scope() as s:
        balances = s.exec(
            select(LedgerAccount.code, LedgerAccount.balance_cents)
            .where(LedgerAccount.balance_cents != 0)
            .order_by(LedgerAccount.code)
        ).all()
        tables = (
            LedgerTransaction,
            LedgerEntry,
            Payout,
            CardPayment,
            CardDispute,
            Notification,
            AuditLog,
        )
        rows = tuple(s.exec(select(func.count()).select_from(t)).one() for t in tables)
        return Snapshot(
            balances=tuple((code, int(cents)) for code, cents in balances),
            rows=rows,
            payouts=tuple(s.exec(select(Payout.id, Payout.status).order_by(Payout.id)).all()),
            disputes=tuple(
                s.exec(
                    select(
                        CardDispute.stripe_dispute_id, CardDispute.status, CardDispute.held_cents
                    ).order_by(CardDispute.id)
                ).all()
            ),
            payments=tuple(
                s.exec(
                    select(CardPayment.id, CardPayment.status, CardPayment.refunded_cents).order_by(
                        CardPayment.id
                    )
                ).all()
            ),
        )


def _balances(codes: list[str]) -> dict[str, int]:
    """Balances by account code, as committed (an account not opened yet: 0); opens none."""
    with session_scope() as s:
        found = dict(
            s.exec(
                select(LedgerAccount.code, LedgerAccount.balance_cents).where(
                    col(LedgerAccount.code).in_(codes)
                )
            ).all()
        )
    return {code: int(found.get(code, 0)) for code in codes}


def _code(kind: str, **owner: int) -> str:
    return account_code(kind, **owner)


class StripeMoneyMachine(RuleBasedStateMachine):
    fake: ClassVar[FakeStripe]
    admin: ClassVar[UserView]
    sponsor: ClassVar[UserView]

    def __init__(self) -> None:
        super().__init__()
        self.first_event = len(self.fake.events)
        self.state: dict[str, str] = {}  # event id -> posted / waiting / done
        self.cards: list[Card] = []
        self.disputes: dict[str, Dispute] = {}
        self.campaigns: dict[int, int] = {}  # campaign -> budget in escrow
        self.clippers: list[Clipper] = []
        self.payouts: list[PayoutModel] = []
        self.request_keys: dict[tuple[int, str], PayoutModel] = {}
        # The model's count of what moved since the example began.
        self.available = 0  # the client's available balance
        self.outside = 0  # external deposits
        self.revenue = 0
        self.fees = 0
        self.sent = 0  # external payouts

    # --- the world ---

    @initialize(
        earned=st.lists(st.integers(MIN_PAYOUT_CENTS, 20_000), min_size=2, max_size=2),
        paid=AMOUNTS,
        refund_first=st.sampled_from([True, False]),
    )
    def open_the_books(self, earned: list[int], paid: int, refund_first: bool) -> None:
        """A card client who paid once at Stripe (not booked yet, perhaps refunded in part
        already); two clippers with money and Stripe accounts, each asking to be paid half
        of it (or all), the second's payout approved and sent to the bank; everything after
        this is random."""
        with session_scope() as s:
            self.client = person(s, Role.CLIENT, "brand")
        for cents in earned:
            with session_scope() as s:
                user = clipper_with_available(s, self.admin, self.sponsor, cents)
            with session_scope() as s:
                connect.start_onboarding(session=s, actor=user)
                account_id = connect.account_of(s, user.id).stripe_account_id
            self.fake.complete_onboarding(account_id)
            stripe_webhooks.deliver(self.fake, self.fake.last_event("account.updated"))
            self.clippers.append(Clipper(user, account_id, earned=cents, available=cents))
        self.first_event = len(self.fake.events)
        self.start = _balances([_code(kind) for kind in PLATFORM])
        # A first card payment, paid at Stripe; its events are the machine's to deliver.
        self.start_payment(paid, "new")
        self.pay(0)
        if refund_first:
            self.refund(0, "half")
        for clipper in (0, 1):
            half = earned[clipper] >= 2 * MIN_PAYOUT_CENTS
            self.request_payout(clipper, "half" if half else "all", 0)
        self.decide_payout(1, approve=True, fresh=True)
        self.send_to_bank(0, fresh=True)

    # --- what the rules share ---

    def _refused(self, name: str, action: Callable[[], Any], *expected: type) -> Any:
        """Run an operation; a refusal of an `expected` kind must change nothing."""
        before = _snapshot()
        try:
            outcome = action()
        except expected as refusal:
            assert _snapshot() == before, f"the refusal {refusal!r} changed something"
            SEEN[f"{name}: refused ({type(refusal).__name__})"] += 1
            return refusal
        SEEN[f"{name}: done"] += 1
        return outcome

    def _events(self) -> list[dict[str, Any]]:
        return self.fake.events[self.first_event :]

    def _payment_card(self, event: dict[str, Any]) -> Card | None:
        obj = event["data"]["object"]
        kind = event["type"]
        for card in self.cards:
            if kind.startswith("checkout.session") and obj["id"] == card.session_id:
                return card
            if kind == "payment_intent.succeeded" and obj["metadata"].get("card_payment_id") == str(
                card.id
            ):
                return card
            if kind == "charge.refunded" and obj["id"] == card.charge_id:
                return card
            if kind.startswith("charge.dispute") and obj["charge"] == card.charge_id:
                return card
        return None

    def _payout_of(self, event: dict[str, Any]) -> PayoutModel | None:
        obj = event["data"]["object"]
        for payout in self.payouts:
            if event["type"].startswith("payout.") and obj["id"] == payout.stripe_id:
                return payout
            if event["type"].startswith("transfer.") and obj["id"] == payout.transfer_id:
                return payout
        return None

    def _take(self, cents: int) -> int:
        """What the client's balance gives of `cents` (the platform carries the rest)."""
        taken = min(cents, max(self.available, 0))
        self.available -= taken
        return taken

    # --- the client's card payments ---

    def start_payment(self, amount: int, form: str) -> None:
        """A new form (a new payment), the last form sent again (a double click: the same
        payment), or the last form with another amount (refused)."""
        last = self.cards[-1] if self.cards else None
        if form != "new" and last is not None:
            key, earlier = last.key, last
            amount = last.amount if form == "again" else last.amount + 100
        else:
            key, earlier = f"form-{len(self.cards)}", None
        made = self.fake.created["checkout.session"]

        def start() -> cards.Checkout:
            with session_scope() as s:
                actor = UserView.of(s.get(User, self.client.id))
                return cards.start_card_payment(
                    session=s, actor=actor, amount_cents=amount, request_key=key
                )

        outcome = self._refused("start payment", start, InvalidInput)
        if amount < 1000 or (earlier is not None and earlier.amount != amount):
            assert isinstance(outcome, InvalidInput), outcome
            assert self.fake.created["checkout.session"] == made
            return
        assert not isinstance(outcome, ServiceError), outcome
        session_id = outcome.url.rsplit("/", 1)[1]
        if earlier is not None:  # a double click: the same session, nothing new at Stripe
            assert (outcome.card_payment_id, session_id) == (earlier.id, earlier.session_id)
            assert self.fake.created["checkout.session"] == made
            return
        assert self.fake.created["checkout.session"] == made + 1
        self.cards.append(Card(outcome.card_payment_id, amount, session_id, key))

    def pay(self, which: int) -> None:
        card = _pick([c for c in self.cards if not c.paid], which)
        if card is None:
            return
        self.fake.pay(card.session_id)
        card.paid = True
        [charge] = [
            c
            for c in self.fake.objects("charge")
            if c["metadata"].get("card_payment_id") == str(card.id)
        ]
        card.charge_id = charge["id"]
        SEEN["pay: done"] += 1

    def refund(self, which: int, part: str) -> None:
        """A refund made in Stripe's dashboard (not of a charge with an open or lost dispute,
        which Stripe does not allow)."""
        candidates = []
        for card in self.cards:
            if not card.paid:
                continue
            charge = self.fake.get(card.charge_id)
            dispute = self.disputes.get(card.dispute)
            if charge["amount_refunded"] < card.amount and (
                dispute is None or dispute.at_fake == "won"
            ):
                candidates.append((card, card.amount - charge["amount_refunded"]))
        picked = _pick(candidates, which)
        if picked is None:
            return
        card, left = picked
        amount = {"all": None, "half": max(left // 2, 1), "one": 1}[part]
        self.fake.refund(card.charge_id, amount)
        SEEN["refund at Stripe"] += 1

    def dispute(self, which: int, part: str) -> None:
        candidates = []
        for card in self.cards:
            if card.paid and not card.dispute:
                left = card.amount - self.fake.get(card.charge_id)["amount_refunded"]
                if left > 0:
                    candidates.append((card, left))
        picked = _pick(candidates, which)
        if picked is None:
            return
        card, left = picked
        amount = left if part == "all" else max(left // 2, 1)
        made = self.fake.dispute(card.charge_id, amount=amount)
        card.dispute = made["id"]
        self.disputes[made["id"]] = Dispute(made["id"], card, amount)
        SEEN["dispute at Stripe"] += 1

    def close_dispute(self, which: int, won: bool) -> None:
        dispute = _pick([d for d in self.disputes.values() if d.at_fake == "needs_response"], which)
        if dispute is None:
            return
        self.fake.close_dispute(dispute.id, won=won)
        dispute.at_fake = "won" if won else "lost"
        SEEN[f"dispute {dispute.at_fake} at Stripe"] += 1

    # --- the client's campaigns ---

    def fund_campaign(self, budget: str | int) -> None:
        before = self.available
        budget = {"all": before, "half": before // 2, "all+1": before + 1}.get(budget, budget)
        if budget <= 0:
            return

        def fund() -> tuple[int, int]:
            with session_scope() as s:
                row = campaign(s, self.client, price_cents=1000, budget_cents=budget)
                return row.id, funds.reserve_campaign_budget(session=s, campaign_id=row.id)

        outcome = self._refused("fund campaign", fund, InsufficientFunds)
        if before < budget:
            assert isinstance(outcome, InsufficientFunds), (before, budget, outcome)
            return
        assert not isinstance(outcome, ServiceError), outcome
        campaign_id, reserved = outcome
        assert reserved == budget
        self.campaigns[campaign_id] = budget
        self.available -= budget

    # --- clippers' payouts ---

    def request_payout(self, clipper: int, amount: str | int, key: int) -> None:
        who: Clipper = _pick(self.clippers, clipper)
        cents = {
            "all": who.available,
            "half": who.available // 2,
            "all+1": who.available + 1,
            "min-1": MIN_PAYOUT_CENTS - 1,
        }.get(amount, amount)
        form = f"payout-{key}" if key else ""
        earlier = self.request_keys.get((who.user.id, form)) if form else None

        def request() -> payouts.PayoutView:
            with session_scope() as s:
                return payouts.request_payout(
                    session=s, actor=who.user, amount_cents=cents, request_key=form
                )

        outcome = self._refused("request payout", request, InvalidInput, InsufficientFunds)
        if earlier is not None and cents >= MIN_PAYOUT_CENTS:
            # (The amount is checked before the key: a bad amount is refused in words.)
            assert not isinstance(outcome, ServiceError), outcome
            assert outcome.id == earlier.id  # the same form again: the same request
            return
        if cents < MIN_PAYOUT_CENTS:
            assert isinstance(outcome, InvalidInput), outcome
            return
        if cents > who.available:
            assert isinstance(outcome, InsufficientFunds), (amount, cents, who, outcome)
            return
        assert not isinstance(outcome, ServiceError), outcome
        made = PayoutModel(outcome.id, who, cents)
        self.payouts.append(made)
        if form:
            self.request_keys[(who.user.id, form)] = made
        who.available -= cents
        who.pending += cents

    def decide_payout(self, which: int, approve: bool, fresh: bool) -> None:
        waiting = [p for p in self.payouts if p.status == PayoutStatus.REQUESTED]
        payout: PayoutModel = _pick(waiting if fresh and waiting else self.payouts, which)
        if payout is None:
            return

        def decide() -> payouts.PayoutView:
            with session_scope() as s:
                if approve:
                    return payouts.approve_payout(session=s, actor=self.admin, payout_id=payout.id)
                return payouts.reject_payout(
                    session=s, actor=self.admin, payout_id=payout.id, reason="No"
                )

        outcome = self._refused("approve" if approve else "reject", decide, InvalidInput)
        if payout.status != PayoutStatus.REQUESTED:
            assert isinstance(outcome, InvalidInput), "a payout is decided once"
            return
        assert not isinstance(outcome, ServiceError), outcome
        who = payout.clipper
        who.pending -= payout.amount
        if approve:
            assert (outcome.status, outcome.provider) == (PayoutStatus.PROCESSING, "stripe")
            transfer = self.fake.get(outcome.reference)
            assert transfer["amount"] == payout.amount
            assert transfer["destination"] == who.account_id
            payout.status, payout.transfer_id = PayoutStatus.PROCESSING, transfer["id"]
            who.paid += payout.amount
            self.sent += payout.amount
        else:
            assert outcome.status == PayoutStatus.REJECTED
            payout.status = PayoutStatus.REJECTED
            who.available += payout.amount

    def send_to_bank(self, which: int, fresh: bool) -> None:
        unsent = [
            p for p in self.payouts if p.status == PayoutStatus.PROCESSING and not p.stripe_id
        ]
        payout: PayoutModel = _pick(unsent if fresh and unsent else self.payouts, which)
        if payout is None:
            return
        made = self.fake.created["payout"]

        def send() -> str:
            with session_scope() as s:
                return stripe_payouts.send_bank_payout(s, payout.id)

        said = self._refused("send to bank", send)
        if payout.status != PayoutStatus.PROCESSING or payout.stripe_id:
            assert said == "Nothing to send.", said
            assert self.fake.created["payout"] == made
            return
        assert said.startswith(f"Payout #{payout.id} sent to the bank"), said
        assert self.fake.created["payout"] == made + 1
        with session_scope() as s:
            payout.stripe_id = s.get(Payout, payout.id).stripe_payout_id
        bank = self.fake.get(payout.stripe_id)
        assert bank["amount"] == payout.amount and bank["status"] == "pending"

    def bank_answers(self, which: int, paid: bool) -> None:
        payout = _pick([p for p in self.payouts if p.stripe_id and not p.settled], which)
        if payout is None:
            return
        self.fake.settle_payout(payout.stripe_id, paid=paid)
        payout.settled = True
        SEEN[f"bank {'paid' if paid else 'failed'}"] += 1

    # --- Stripe's events ---

    def deliver(self, which: int, fresh: bool, times: int, work: bool) -> None:
        """Post an event (fresh: one not worked yet) `times` times, and (with `work`, or
        always for one worked already) work it."""
        events = self._events()
        waiting = [e for e in events if self.state.get(e["id"]) != "done"]
        event = _pick(waiting if fresh and waiting else events, which)
        if event is None:
            return
        self._deliver(event, times, work)

    def deliver_everything(self) -> None:
        """Every event not worked yet, in the order Stripe made them, until none is left."""
        for _ in range(3):
            for event in self._events():
                if self.state.get(event["id"]) != "done":
                    self._deliver(event, 1, True)
        assert all(self.state.get(e["id"]) == "done" for e in self._events()), "an event waits"

    def _deliver(self, event: dict[str, Any], times: int, work: bool) -> None:
        kind = event["type"]
        done = self.state.get(event["id"]) == "done"
        before = _snapshot()
        stripe_webhooks.post(self.fake, event, times)
        if done:
            # A redelivery (and working it again) changes nothing, not even a row count.
            with session_scope() as s:
                stored = s.get(StripeEvent, event["id"]).outcome
            assert stripe_webhooks.work(event["id"]) == stored
            assert _snapshot() == before, f"a redelivered {kind} changed the books"
            SEEN["redeliver: nothing changed"] += 1
            return
        self.state.setdefault(event["id"], "posted")
        if not work:
            assert _snapshot() == before, f"storing {kind} changed the books"
            SEEN["post only"] += 1
            return
        expected_wait = self._waits(event)
        try:
            said = stripe_webhooks.work(event["id"])
        except NotYet as early:
            assert _snapshot() == before, f"{kind} that must wait changed the books"
            assert expected_wait, f"{kind} waited: {early}"
            self.state[event["id"]] = "waiting"
            SEEN[f"{kind}: not yet"] += 1
            return
        assert not expected_wait, f"{kind} was worked before its payment was booked: {said}"
        note(f"worked {kind}: {said}")
        self.state[event["id"]] = "done"
        SEEN[f"{kind}: worked"] += 1
        self._apply(event)

    def _waits(self, event: dict[str, Any]) -> bool:
        """Whether the event must wait for the card payment's booking."""
        card = self._payment_card(event)
        return event["type"].startswith("charge.") and card is not None and not card.booked

    def _apply(self, event: dict[str, Any]) -> None:
        """What working `event` must have done, in the model."""
        kind, obj = event["type"], event["data"]["object"]
        card = self._payment_card(event)
        if kind in ("checkout.session.completed", "payment_intent.succeeded"):
            assert card is not None, event
            if not card.booked:
                card.booked = True
                fee = card_fee(card.amount)
                self.available += card.amount
                self.outside -= card.amount
                self.revenue -= fee
                self.fees += fee
        elif kind == "charge.refunded":
            # Every succeeded refund of the charge at Stripe now, oldest first, once.
            refunds = sorted(
                (r for r in self.fake.objects("refund") if r["charge"] == card.charge_id),
                key=lambda r: (r["created"], r["id"]),
            )
            for found in refunds:
                if found["status"] == "succeeded" and found["id"] not in card.refunds:
                    card.refunds.add(found["id"])
                    taken = self._take(found["amount"])
                    self.revenue -= found["amount"] - taken
                    self.outside += found["amount"]
                    self._check_refund(found["id"], found["amount"], taken)
        elif kind in ("charge.dispute.created", "charge.dispute.closed"):
            dispute = self.disputes[obj["id"]]
            if not dispute.seen:
                dispute.seen = True
                self.revenue -= DISPUTE_FEE
                self.fees += DISPUTE_FEE
            if dispute.status == "open" and not dispute.hold_booked:
                dispute.hold_booked = True
                dispute.held = self._take(dispute.amount)
                dispute.carried = dispute.amount - dispute.held
                self.revenue -= dispute.carried
                self.outside += dispute.amount
            won = kind == "charge.dispute.closed" and obj["status"] == "won"
            if won and not dispute.fee_returned:
                dispute.fee_returned = True
                self.revenue += DISPUTE_FEE
                self.fees -= DISPUTE_FEE
            if kind == "charge.dispute.closed" and dispute.status == "open":
                dispute.status = obj["status"]
                if dispute.status == "won":
                    self.available += dispute.held
                    self.revenue += dispute.carried
                    self.outside -= dispute.amount
        elif kind == "payout.paid":
            payout = self._payout_of(event)
            assert payout is not None, event
            if payout.status == PayoutStatus.PROCESSING:
                payout.status = PayoutStatus.PAID
        elif kind == "payout.failed":
            payout = self._payout_of(event)
            assert payout is not None, event
            if payout.status in (PayoutStatus.PROCESSING, PayoutStatus.PAID):
                payout.status = PayoutStatus.FAILED
                payout.clipper.paid -= payout.amount
                payout.clipper.available += payout.amount
                self.sent -= payout.amount
        # transfer.created, transfer.reversed (ClipGen's own reversal, booked when it was
        # made) and anything else: nothing moves.

    def _check_refund(self, refund_id: str, amount: int, taken: int) -> None:
        with session_scope() as s:
            booked = s.exec(
                select(LedgerTransaction).where(
                    LedgerTransaction.idempotency_key == cards.refund_key(refund_id)
                )
            ).one()
            details = booked.details
        assert (details["amount_cents"], details["client_cents"]) == (amount, taken), details

    # --- one step: an operation, by weight ---

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(CHOICES), label="operation")
        arguments = data.draw(st.fixed_dictionaries(OPERATIONS[name][1]), label=name)
        note(f"{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})")
        getattr(self, name)(**arguments)

    # --- after every step ---

    @invariant()
    def ledger_is_sound(self) -> None:
        with session_scope() as s:
            report = check_invariants(s)
        assert report.ok, report

    @invariant()
    def ledger_agrees_with_the_model(self) -> None:
        if not hasattr(self, "start"):
            return
        client = _code(AccountKind.CLIENT_AVAILABLE, user_id=self.client.id)
        escrow = {c: _code(AccountKind.CAMPAIGN_ESCROW, campaign_id=c) for c in self.campaigns}
        people = [
            _code(kind, user_id=c.user.id)
            for c in self.clippers
            for kind in (AccountKind.CLIPPER_AVAILABLE, AccountKind.CLIPPER_PAYOUT_PENDING)
        ]
        found = _balances([_code(k) for k in PLATFORM] + [client, *escrow.values(), *people])
        moved = {k: found[_code(k)] - self.start[_code(k)] for k in PLATFORM}
        assert moved == {
            AccountKind.EXTERNAL_DEPOSITS: self.outside,
            AccountKind.PLATFORM_REVENUE: self.revenue,
            AccountKind.PAYMENT_FEES: self.fees,
            AccountKind.EXTERNAL_PAYOUTS: self.sent,
        }
        assert found[client] == self.available >= 0
        assert {c: found[code] for c, code in escrow.items()} == self.campaigns
        for who in self.clippers:
            assert (
                found[_code(AccountKind.CLIPPER_AVAILABLE, user_id=who.user.id)],
                found[_code(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=who.user.id)],
            ) == (who.available, who.pending)
        with session_scope() as s:
            statuses = dict(
                s.exec(
                    select(Payout.id, Payout.status).where(
                        col(Payout.id).in_([p.id for p in self.payouts])
                    )
                ).all()
            )
            paid_cents = {
                who.user.id: reports.clipper_balances(session=s, actor=who.user).paid_cents
                for who in self.clippers
            }
            # What left ClipGen for each clipper, in the ledger: external payouts' entries
            # of their payouts (sent, less returned).
            outside = s.exec(
                select(LedgerAccount.id).where(
                    LedgerAccount.code == _code(AccountKind.EXTERNAL_PAYOUTS)
                )
            ).first()
            left_us = {}
            for who in self.clippers:
                ids = [p.id for p in self.payouts if p.clipper is who]
                left_us[who.user.id] = int(
                    s.exec(
                        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                        .join(
                            LedgerTransaction,
                            col(LedgerTransaction.id) == col(LedgerEntry.transaction_id),
                        )
                        .where(
                            LedgerEntry.account_id == outside,
                            col(LedgerTransaction.payout_id).in_(ids),
                        )
                    ).one()
                )
        assert statuses == {p.id: p.status for p in self.payouts}
        assert paid_cents == left_us == {who.user.id: who.paid for who in self.clippers}
        for who in self.clippers:
            # Every cent a clipper earned is available, in a payout, or paid out.
            assert (
                found[_code(AccountKind.CLIPPER_AVAILABLE, user_id=who.user.id)]
                + found[_code(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=who.user.id)]
                + paid_cents[who.user.id]
                == who.earned
            )

    @invariant()
    def payouts_agree_with_stripe(self) -> None:
        if not hasattr(self, "start"):
            return
        destinations = {who.account_id for who in self.clippers}
        at_stripe = sum(
            t["amount"] - t["amount_reversed"]
            for t in self.fake.objects("transfer")
            if t["destination"] in destinations
        )
        moved = (
            _balances([_code(AccountKind.EXTERNAL_PAYOUTS)])[_code(AccountKind.EXTERNAL_PAYOUTS)]
            - self.start[_code(AccountKind.EXTERNAL_PAYOUTS)]
        )
        assert moved == at_stripe

    @invariant()
    def deposits_agree_with_stripe_once_all_is_worked(self) -> None:
        """With every event worked, the books are Stripe's: charges in, refunds and
        disputes not won out, and Stripe's fees."""
        if not hasattr(self, "start"):
            return
        if any(self.state.get(e["id"]) != "done" for e in self._events()):
            return
        charges = {c.charge_id: c for c in self.cards if c.paid}
        paid = sum(c.amount for c in charges.values())
        refunded = sum(r["amount"] for r in self.fake.objects("refund") if r["charge"] in charges)
        disputes = [d for d in self.fake.objects("dispute") if d["charge"] in charges]
        withdrawn = sum(d["amount"] for d in disputes if d["status"] != "won")
        fees = sum(card_fee(c.amount) for c in charges.values()) + DISPUTE_FEE * sum(
            1 for d in disputes if d["status"] != "won"
        )
        codes = [_code(AccountKind.EXTERNAL_DEPOSITS), _code(AccountKind.PAYMENT_FEES)]
        found = _balances(codes)
        assert (found[codes[0]] - self.start[codes[0]], found[codes[1]] - self.start[codes[1]]) == (
            -paid + refunded + withdrawn,
            fees,
        )
        SEEN["all worked: the books are Stripe's"] += 1


# Each step is one operation, drawn by weight (one rule, as in test_money_properties).
OPERATIONS: dict[str, tuple[int, dict[str, st.SearchStrategy]]] = {
    "deliver": (
        14,
        {
            "which": PICK,
            "fresh": FRESH,
            "times": st.sampled_from([1, 1, 2]),
            "work": st.sampled_from([True, True, True, False]),
        },
    ),
    "start_payment": (
        3,
        {
            "amount": st.one_of(AMOUNTS, AMOUNTS, AMOUNTS, st.just(999)),
            "form": st.sampled_from(["new", "new", "new", "again", "changed"]),
        },
    ),
    "pay": (3, {"which": PICK}),
    "refund": (2, {"which": PICK, "part": st.sampled_from(["all", "half", "one"])}),
    "dispute": (2, {"which": PICK, "part": st.sampled_from(["all", "half"])}),
    "close_dispute": (3, {"which": PICK, "won": st.sampled_from([True, False])}),
    "fund_campaign": (
        2,
        {
            "budget": st.one_of(
                st.sampled_from(["all", "half", "half", "all+1", 1000]), st.integers(1, 30_000)
            )
        },
    ),
    "request_payout": (
        3,
        {
            "clipper": PICK,
            "amount": st.one_of(
                st.sampled_from(["all", "half", "all+1", "min-1", MIN_PAYOUT_CENTS]),
                st.integers(MIN_PAYOUT_CENTS, 20_000),
            ),
            "key": st.integers(0, 3),
        },
    ),
    "decide_payout": (
        3,
        {"which": PICK, "approve": st.sampled_from([True, True, True, False]), "fresh": FRESH},
    ),
    "send_to_bank": (2, {"which": PICK, "fresh": FRESH}),
    "bank_answers": (3, {"which": PICK, "paid": st.sampled_from([False, True])}),
    "deliver_everything": (1, {}),
}
CHOICES = [name for name, (weight, _) in OPERATIONS.items() for _ in range(weight)]


def test_random_stripe_money_flows_keep_the_books_straight(
    fake: FakeStripe, database_url: str
) -> None:
    with session_scope() as s:
        StripeMoneyMachine.admin = person(s, Role.ADMIN)
        StripeMoneyMachine.sponsor = person(s, Role.CLIENT, "sponsor")
    StripeMoneyMachine.fake = fake
    run = settings(
        max_examples=EXAMPLES[database_url.split(":")[0].split("+")[0]],
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    SEEN.clear()
    run_state_machine_as_test(StripeMoneyMachine, settings=run)
    print(sorted(SEEN.items()))
    # The rules really went all the way, and the refusals and waits really happened.
    for reached in (
        "start payment: done",
        "start payment: refused (InvalidInput)",
        "checkout.session.completed: worked",
        "payment_intent.succeeded: worked",
        "charge.refunded: worked",
        "charge.dispute.created: worked",
        "charge.dispute.closed: worked",
        "dispute won at Stripe",
        "dispute lost at Stripe",
        "fund campaign: done",
        "fund campaign: refused (InsufficientFunds)",
        "request payout: done",
        "request payout: refused (InsufficientFunds)",
        "approve: done",
        "reject: done",
        "send to bank: done",
        "payout.paid: worked",
        "payout.failed: worked",
        "transfer.reversed: worked",
        "redeliver: nothing changed",
        "all worked: the books are Stripe's",
    ):
        assert SEEN[reached], f"no step did {reached!r}: {sorted(SEEN.items())}"
    # Some event came before the payment it is about was booked, and waited.
    assert any(name.endswith(": not yet") for name in SEEN), sorted(SEEN.items())


def test_a_request_key_naming_an_earlier_payout_is_still_a_new_request(
    database_url: str,
) -> None:
    """Found by the machine above (shrunk): a request without a key, then one whose form
    key happens to be `payout-<that payout's id>`, which was once the keyless request's
    own key."""
    with session_scope() as s:
        admin, sponsor = person(s, Role.ADMIN), person(s, Role.CLIENT, "sponsor")
        clipper = clipper_with_available(s, admin, sponsor, 3000)
    with session_scope() as s:
        first = payouts.request_payout(session=s, actor=clipper, amount_cents=1000)
    with session_scope() as s:
        second = payouts.request_payout(
            session=s, actor=clipper, amount_cents=1500, request_key=f"payout-{first.id}"
        )
    # A new form: a new request of $15.00, leaving $5.00 available.
    assert (second.id != first.id, second.amount_cents) == (True, 1500)
    codes = [_code(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id)]
    assert _balances(codes) == {codes[0]: 500}
