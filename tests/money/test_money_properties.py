"""Money properties: random sequences of money operations, on SQLite and PostgreSQL.

A Hypothesis state machine deposits, activates campaigns, approves clips, books views,
releases matured earnings, requests, pays and rejects payouts and returns budgets, with
random (often wrong) arguments: amounts below the minimum or above the balance, repeated
references and request keys, decreasing view counts, decisions on decided payouts. After
every step:

- `check_invariants` is ok (transactions sum to zero, cached balances equal the sums of
  entries, no protected account is negative, all money sums to zero);
- money is conserved: what was deposited equals clients' balances + escrow + clippers'
  pending, available and in-payout money + platform revenue + what was paid out, and the
  model's own count of deposits and payouts agrees;
- a refusal (a `ServiceError`) changed no balance and no row;
- the same operation again, with the same key and arguments, changes no balance and no
  row count (a payout request without a request key is a new request by design, so it is
  not replayed).

Every example starts from an empty ledger and marketplace (their tables are emptied; the
people, made once per test, stay) and runs in one session, so refusals must leave that
session's work as it was. Each step is one operation drawn by weight; a tally of what the
operations did is printed (`-s`) and checked, so that the examples provably reach
approvals, releases and paid payouts rather than only refusals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from clipgen.db import get_engine, session_scope
from clipgen.models import (
    AccountKind,
    AuditLog,
    Campaign,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MarketJob,
    Payout,
    PayoutStatus,
    Publication,
    Role,
    Submission,
    SubmissionStatus,
    TransactionKind,
    utcnow,
)
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, ServiceError
from clipgen.services.money import earnings, funds, holds, payouts
from clipgen.services.money.earnings import bonus_percent
from clipgen.services.money.ledger import InsufficientFunds, account, balance, check_invariants
from clipgen.services.money.payouts import MIN_PAYOUT_CENTS
from tests.support.money import approved_submission, campaign, person

# About a minute per database on two cores (a PostgreSQL step costs about 2.5 SQLite ones).
EXAMPLES = {"sqlite": 90, "postgresql": 40}
STEPS = 40

REFERENCES = st.sampled_from([f"wire-{n}" for n in range(6)])
REQUEST_KEYS = st.sampled_from(["", "", "form-1", "form-2", "form-3"])
VIEWS = st.one_of(
    st.sampled_from(
        [0, 999, 10_000, 99_999, 100_000, 150_000, 499_999, 500_000, 1_000_000, 5_000_000]
    ),
    st.integers(0, 6_000_000),
)
PAYOUT_AMOUNTS = st.one_of(
    st.sampled_from(["all", "half", "all+1", MIN_PAYOUT_CENTS - 1, MIN_PAYOUT_CENTS]),
    st.integers(1, 30_000),
)
PRICES = st.one_of(
    st.sampled_from([1_500, 2_500, 5_000, 10_000, 20_000, 1, 999]), st.integers(1, 20_000)
)
CPMS = st.sampled_from([0, 0, 50, 200, 1_000])
CAPS = st.sampled_from([0, 500, 5_000])
PICK = st.integers(0, 10_000)  # an index into what exists, modulo its length

SEEN: Counter[str] = Counter()  # what the operations did, over the whole run

# Deleted between examples, children first.
WORLD_TABLES = (
    LedgerEntry,
    LedgerTransaction,
    LedgerAccount,
    Payout,
    Publication,
    Submission,
    MarketJob,
    Campaign,
)
CLIPPER_KINDS = (
    AccountKind.CLIPPER_PENDING,
    AccountKind.CLIPPER_AVAILABLE,
    AccountKind.CLIPPER_PAYOUT_PENDING,
)


@dataclass(frozen=True)
class People:
    admin: UserView
    clients: tuple[UserView, ...]
    clippers: tuple[UserView, ...]


@dataclass(frozen=True)
class Snapshot:
    """Every non-zero balance and every row count a money operation could change."""

    balances: tuple[tuple[str, int], ...]
    rows: tuple[int, ...]
    payouts: tuple[tuple[int, str], ...]
    exhausted: tuple[int, ...]
    held: tuple[int, ...]


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


class MoneyMachine(RuleBasedStateMachine):
    people: ClassVar[People]

    def __init__(self) -> None:
        super().__init__()
        self.session = Session(get_engine(), expire_on_commit=False)
        # A fresh world: the people stay, their money and campaigns go. (Rolling the example
        # back is not enough on SQLite, where a service's savepoint commits; see
        # test_a_unit_of_work_rolled_back_leaves_no_money_behind.)
        for table in WORLD_TABLES:
            self.session.exec(delete(table))
        self.session.commit()
        self.deposits: dict[str, tuple[int, int]] = {}  # reference -> (client, cents)
        self.deposited = 0
        self.paid_out = 0
        self.campaigns: list[int] = []
        self.reserved: set[int] = set()
        self.submissions: list[int] = []
        self.tried: set[int] = set()  # submissions book_approval was called for
        self.max_views: dict[int, int] = {}  # views booked since the approval was paid
        self.payouts: list[int] = []
        self.request_keys: dict[tuple[int, str], int] = {}  # (clipper, key) -> payout
        self.days_later = 0

    def teardown(self) -> None:
        self.session.rollback()
        self.session.close()

    # --- what the checks read ---

    def _snapshot(self, *, audit: bool = True) -> Snapshot:
        s = self.session
        balances = s.exec(
            select(LedgerAccount.code, LedgerAccount.balance_cents)
            .where(LedgerAccount.balance_cents != 0)
            .order_by(LedgerAccount.code)
        ).all()
        tables = [LedgerTransaction, LedgerEntry, Payout] + ([AuditLog] if audit else [])
        rows = tuple(s.exec(select(func.count()).select_from(table)).one() for table in tables)
        return Snapshot(
            balances=tuple((code, int(cents)) for code, cents in balances),
            rows=rows,
            payouts=tuple(s.exec(select(Payout.id, Payout.status).order_by(Payout.id)).all()),
            exhausted=tuple(
                s.exec(select(Campaign.id).where(col(Campaign.is_exhausted)).order_by(Campaign.id))
            ),
            held=tuple(
                s.exec(
                    select(Submission.id)
                    .where(col(Submission.earnings_held))
                    .order_by(Submission.id)
                )
            ),
        )

    def _do(
        self, name: str, action: Callable[[], Any], *, replay: bool = True, audit: bool = True
    ) -> tuple[Any, Any]:
        """Run a money operation: a refusal must change nothing, and (with `replay`) the
        same call again must change nothing. (outcome, replay's outcome); an outcome is the
        result or the ServiceError raised."""
        before = self._snapshot(audit=audit)
        try:
            outcome = action()
        except ServiceError as refusal:
            outcome = refusal
            assert self._snapshot(audit=audit) == before, f"the refusal {refusal!r} changed money"
            SEEN[f"{name}: refused ({type(refusal).__name__})"] += 1
        else:
            moved = self._snapshot(audit=audit).balances != before.balances
            SEEN[f"{name}: {'moved money' if moved else 'moved nothing'}"] += 1
        if not replay:
            return outcome, None
        settled = self._snapshot(audit=audit)
        try:
            again = action()
        except ServiceError as refusal:
            again = refusal
        assert self._snapshot(audit=audit) == settled, "the same operation again changed money"
        return outcome, again

    def _balance(self, kind: AccountKind, **owner: int) -> int:
        return balance(self.session, account(self.session, kind, **owner))

    def _gross(self, submission_id: int, kind: TransactionKind) -> int:
        rows = self.session.exec(
            select(LedgerTransaction.details).where(
                LedgerTransaction.submission_id == submission_id, LedgerTransaction.kind == kind
            )
        ).all()
        return sum(int(details["gross_cents"]) for details in rows)

    # --- the world ---

    @initialize(
        opening=st.integers(20_000, 300_000),
        price=PRICES,
        clips=st.integers(1, 6),
        extra=st.integers(0, 999),
        cpm=CPMS,
        cap=CAPS,
    )
    def open_the_books(self, opening: int, price: int, clips: int, extra: int, cpm, cap) -> None:
        """A funded client, a campaign and three approved clips, two of them paid, so that
        most examples go as far as payouts; everything after this is random."""
        self.deposit(0, opening, "opening")
        self.new_campaign(0, price, clips, extra, cpm, cap)
        self.activate(0)
        for clipper in range(3):
            self.new_submission(0, clipper, 0, True)
        self.approve(0)
        self.approve(1)

    def new_campaign(self, client: int, price, clips, extra, cpm, cap) -> None:
        row = campaign(
            self.session,
            _pick(list(self.people.clients), client),
            price_cents=price,
            budget_cents=price * clips + extra,
            cpm_cents=cpm,
            cpm_cap_cents=cap,
        )
        self.campaigns.append(row.id)

    def new_submission(self, which: int, clipper: int, views: int, approved: bool) -> None:
        campaign_id = _pick(self.campaigns, which)
        if campaign_id is None:
            return
        row = approved_submission(
            self.session,
            self.session.get(Campaign, campaign_id),
            _pick(list(self.people.clippers), clipper),
            views=views,
        )
        if not approved:
            row.status = SubmissionStatus.PENDING
            self.session.add(row)
            self.session.flush()
        self.submissions.append(row.id)

    # --- clients' money ---

    def deposit(self, client: int, amount: int, reference: str) -> None:
        who = _pick(list(self.people.clients), client)
        earlier = self.deposits.get(reference)
        outcome, again = self._do(
            "deposit",
            lambda: funds.record_deposit(
                session=self.session,
                actor=self.people.admin,
                client_id=who.id,
                amount_cents=amount,
                reference=reference,
            ),
        )
        if earlier is not None and earlier != (who.id, amount):
            assert isinstance(outcome, InvalidInput) and isinstance(again, InvalidInput)
            return
        assert not isinstance(outcome, ServiceError), outcome
        assert again.transaction_id == outcome.transaction_id
        if earlier is None:
            self.deposits[reference] = (who.id, amount)
            self.deposited += amount

    def activate(self, which: int, fresh: bool = True) -> None:
        waiting = [c for c in self.campaigns if c not in self.reserved]
        campaign_id = _pick(waiting if fresh and waiting else self.campaigns, which)
        if campaign_id is None:
            return
        row = self.session.get(Campaign, campaign_id)
        available = self._balance(AccountKind.CLIENT_AVAILABLE, user_id=row.client_id)
        outcome, again = self._do(
            "activate",
            lambda: funds.reserve_campaign_budget(session=self.session, campaign_id=campaign_id),
        )
        if campaign_id in self.reserved or available >= row.budget_cents:
            assert outcome == again == row.budget_cents
            if campaign_id not in self.reserved:
                self.reserved.add(campaign_id)
                assert (
                    self._balance(AccountKind.CLIENT_AVAILABLE, user_id=row.client_id)
                    == available - row.budget_cents
                )
        else:
            assert isinstance(outcome, InsufficientFunds) and isinstance(again, InsufficientFunds)

    def return_budget(self, which: int) -> None:
        campaign_id = _pick(self.campaigns, which)
        if campaign_id is None:
            return
        left = self._balance(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id)
        already = any(
            self.session.exec(
                select(LedgerTransaction.id).where(
                    LedgerTransaction.idempotency_key == f"campaign-release:{campaign_id}"
                )
            )
        )
        outcome, again = self._do(
            "return budget",
            lambda: funds.release_campaign_budget(session=self.session, campaign_id=campaign_id),
        )
        assert outcome == (0 if already else left) and again == 0
        if not already:
            assert self._balance(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id) == 0

    # --- clippers' earnings ---

    def approve(self, which: int, fresh: bool = True) -> None:
        waiting = [s for s in self.submissions if s not in self.tried]
        submission_id = _pick(waiting if fresh and waiting else self.submissions, which)
        if submission_id is None:
            return
        self.tried.add(submission_id)
        submission = self.session.get(Submission, submission_id)
        key = f"approval:{submission_id}"
        paid_before = self.session.exec(
            select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)
        ).first()
        job_campaign = self.session.exec(
            select(Campaign)
            .join(MarketJob, col(MarketJob.campaign_id) == Campaign.id)
            .where(MarketJob.id == submission.job_id)
        ).one()
        left = self._balance(AccountKind.CAMPAIGN_ESCROW, campaign_id=job_campaign.id)
        outcome, again = self._do(
            "approve",
            lambda: earnings.book_approval(session=self.session, submission_id=submission_id),
        )
        if submission.status != SubmissionStatus.APPROVED:
            assert isinstance(outcome, InvalidInput) and isinstance(again, InvalidInput)
            return
        assert not isinstance(outcome, ServiceError), outcome
        if paid_before is not None:
            assert outcome.id == again.id == paid_before.id
            return
        price = job_campaign.price_per_clip_cents
        gross = min(price, left)
        if gross == 0:
            assert outcome is None and again is None
        else:
            details = outcome.details
            assert again.id == outcome.id
            assert details["gross_cents"] == gross and details["short_cents"] == price - gross
            assert details["clipper_percent"] in (70, 75, 80, 85)
            assert details["clipper_cents"] == gross * details["clipper_percent"] // 100
            assert details["clipper_cents"] + details["platform_cents"] == gross
            self.max_views[submission_id] = 0
        if gross < price:
            self.session.refresh(job_campaign)
            assert job_campaign.is_exhausted

    def views(self, which: int, paid: bool, views: int) -> None:
        earning = list(self.max_views)
        submission_id = _pick(earning if paid and earning else self.submissions, which)
        if submission_id is None:
            return
        self._do(
            "views",
            lambda: earnings.book_views(
                session=self.session, submission_id=submission_id, views=views
            ),
        )
        if submission_id not in self.max_views:
            assert self._gross(submission_id, TransactionKind.CPM) == 0
            assert self._gross(submission_id, TransactionKind.BONUS) == 0
            return
        most = self.max_views[submission_id] = max(self.max_views[submission_id], views)
        submission = self.session.get(Submission, submission_id)
        row = self.session.exec(
            select(Campaign)
            .join(MarketJob, col(MarketJob.campaign_id) == Campaign.id)
            .where(MarketJob.id == submission.job_id)
        ).one()
        self.session.refresh(row)
        cpm = most * row.cpm_cents // 1000
        if row.cpm_cap_cents > 0:
            cpm = min(cpm, row.cpm_cap_cents)
        bonus = row.price_per_clip_cents * bonus_percent(most)[1] // 100
        for kind, wanted in ((TransactionKind.CPM, cpm), (TransactionKind.BONUS, bonus)):
            booked = self._gross(submission_id, kind)
            # All of it, or less only when the escrow ran out.
            assert booked == wanted or (booked < wanted and row.is_exhausted), (kind, booked)

    def release(self, days: int) -> None:
        self.days_later += days
        now = utcnow() + timedelta(days=self.days_later, seconds=1)
        outcome, again = self._do(
            "release", lambda: holds.release_matured_earnings(session=self.session, now=now)
        )
        assert again == 0
        # Every earning past its hold is released, unless held or with nothing pending
        # (a 0% share of a one-cent booking).
        matured = self.session.exec(
            select(LedgerTransaction.id, LedgerTransaction.details, Submission.earnings_held)
            .join(Submission, col(Submission.id) == LedgerTransaction.submission_id)
            .where(
                col(LedgerTransaction.kind).in_([str(kind) for kind in earnings.EARNING_KINDS]),
                col(LedgerTransaction.release_at) <= now,
            )
        ).all()
        released = set(
            self.session.exec(
                select(LedgerTransaction.release_of).where(
                    col(LedgerTransaction.release_of).is_not(None)
                )
            )
        )
        for earning_id, details, held in matured:
            assert earning_id in released or held or details["clipper_cents"] == 0

    def hold_or_lift(self, which: int, hold: bool) -> None:
        submission_id = _pick(self.submissions, which)
        if submission_id is None:
            return
        if hold:
            action = lambda: holds.hold_earnings(  # noqa: E731
                session=self.session,
                actor=self.people.admin,
                submission_id=submission_id,
                reason="View spike",
            )
        else:
            action = lambda: holds.release_earnings_hold(  # noqa: E731
                session=self.session, actor=self.people.admin, submission_id=submission_id
            )
        # Every admin click is audited, so the replay is compared without the audit log.
        self._do("hold" if hold else "lift hold", action, audit=False)

    # --- payouts ---

    def request_payout(self, clipper: int, richest: bool, amount, key: str) -> None:
        clippers = list(self.people.clippers)
        money = {c.id: self._balance(AccountKind.CLIPPER_AVAILABLE, user_id=c.id) for c in clippers}
        who = max(clippers, key=lambda c: money[c.id]) if richest else _pick(clippers, clipper)
        available = money[who.id]
        if amount == "all":
            amount = max(1, available)
        elif amount == "half":
            amount = max(1, available // 2)
        elif amount == "all+1":
            amount = available + 1
        earlier = self.request_keys.get((who.id, key)) if key else None
        outcome, again = self._do(
            "request payout",
            lambda: payouts.request_payout(
                session=self.session, actor=who, amount_cents=amount, request_key=key
            ),
            replay=bool(key),
        )
        if amount < MIN_PAYOUT_CENTS:
            assert isinstance(outcome, InvalidInput), outcome
        elif earlier is not None:
            assert outcome.id == again.id == earlier
        elif amount > available:
            assert isinstance(outcome, InsufficientFunds), outcome
        else:
            assert not isinstance(outcome, ServiceError), outcome
            assert outcome.amount_cents == amount and outcome.status == PayoutStatus.REQUESTED
            assert self._balance(AccountKind.CLIPPER_AVAILABLE, user_id=who.id) == (
                available - amount
            )
            self.payouts.append(outcome.id)
            if key:
                assert again.id == outcome.id
                self.request_keys[(who.id, key)] = outcome.id

    def decide_payout(self, which: int, pay: bool) -> None:
        payout_id = _pick(self.payouts, which)
        if payout_id is None:
            return
        payout = self.session.get(Payout, payout_id, populate_existing=True)
        status, amount = payout.status, payout.amount_cents
        if pay:
            action = lambda: payouts.approve_payout(  # noqa: E731
                session=self.session, actor=self.people.admin, payout_id=payout_id, reference="T-1"
            )
        else:
            action = lambda: payouts.reject_payout(  # noqa: E731
                session=self.session, actor=self.people.admin, payout_id=payout_id, reason="No"
            )
        outcome, again = self._do("pay" if pay else "reject", action)
        assert isinstance(again, InvalidInput), "a payout is decided once"
        if status != PayoutStatus.REQUESTED:
            assert isinstance(outcome, InvalidInput), outcome
            return
        assert outcome.status == (PayoutStatus.PAID if pay else PayoutStatus.REJECTED)
        if pay:
            self.paid_out += amount

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
        report = check_invariants(self.session)
        assert report.ok, report

    @invariant()
    def money_is_conserved(self) -> None:
        s = self.session
        by_kind = {
            kind: int(total)
            for kind, total in s.exec(
                select(LedgerAccount.kind, func.sum(LedgerAccount.balance_cents)).group_by(
                    col(LedgerAccount.kind)
                )
            ).all()
        }

        def total(*kinds: AccountKind) -> int:
            return sum(by_kind.get(str(kind), 0) for kind in kinds)

        deposited = -total(AccountKind.EXTERNAL_DEPOSITS)
        paid_out = total(AccountKind.EXTERNAL_PAYOUTS)
        assert deposited == self.deposited
        assert paid_out == self.paid_out
        assert deposited == (
            total(AccountKind.CLIENT_AVAILABLE)
            + total(AccountKind.CAMPAIGN_ESCROW)
            + total(*CLIPPER_KINDS)
            + total(AccountKind.PLATFORM_REVENUE)
            + paid_out
        )

        def payouts_in(status: PayoutStatus) -> int:
            return int(
                s.exec(
                    select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
                        Payout.status == status
                    )
                ).one()
            )

        assert payouts_in(PayoutStatus.PAID) == paid_out
        assert payouts_in(PayoutStatus.REQUESTED) == total(AccountKind.CLIPPER_PAYOUT_PENDING)
        # Pending money is exactly the clippers' shares of earnings not yet released.
        unreleased = s.exec(
            select(LedgerTransaction.details).where(
                col(LedgerTransaction.kind).in_([str(kind) for kind in earnings.EARNING_KINDS]),
                col(LedgerTransaction.id).not_in(
                    select(LedgerTransaction.release_of).where(
                        col(LedgerTransaction.release_of).is_not(None)
                    )
                ),
            )
        ).all()
        assert total(AccountKind.CLIPPER_PENDING) == sum(
            int(details["clipper_cents"]) for details in unreleased
        )


# Each step is one operation, drawn by weight (one rule rather than one rule each: Hypothesis
# switches rules off per example, which would rarely let a clip go from approval to payout).
OPERATIONS: dict[str, tuple[int, dict[str, st.SearchStrategy]]] = {
    "deposit": (2, {"client": PICK, "amount": st.integers(1, 50_000), "reference": REFERENCES}),
    "new_campaign": (
        1,
        {
            "client": PICK,
            "price": PRICES,
            "clips": st.integers(1, 6),
            "extra": st.integers(0, 999),
            "cpm": CPMS,
            "cap": CAPS,
        },
    ),
    "activate": (2, {"which": PICK, "fresh": st.booleans()}),
    "new_submission": (
        2,
        {
            "which": PICK,
            "clipper": PICK,
            "views": st.sampled_from([0, 0, 0, 120_000, 600_000, 1_200_000]),
            "approved": st.sampled_from([True, True, True, True, False]),
        },
    ),
    "approve": (3, {"which": PICK, "fresh": st.booleans()}),
    "views": (3, {"which": PICK, "paid": st.booleans(), "views": VIEWS}),
    "release": (2, {"days": st.sampled_from([0, 1, 7, 8, 30])}),
    "hold_or_lift": (1, {"which": PICK, "hold": st.booleans()}),
    "request_payout": (
        3,
        {"clipper": PICK, "richest": st.booleans(), "amount": PAYOUT_AMOUNTS, "key": REQUEST_KEYS},
    ),
    "decide_payout": (3, {"which": PICK, "pay": st.booleans()}),
    "return_budget": (1, {"which": PICK}),
}
CHOICES = [name for name, (weight, _) in OPERATIONS.items() for _ in range(weight)]


@pytest.fixture
def people(session: Session) -> People:
    made = People(
        admin=person(session, Role.ADMIN),
        clients=(person(session, Role.CLIENT, "brand"), person(session, Role.CLIENT, "shop")),
        clippers=(
            person(session, Role.CLIPPER, "ada"),
            person(session, Role.CLIPPER, "bo"),
            person(session, Role.CLIPPER, "cy"),
        ),
    )
    session.commit()
    return made


def test_random_money_operations_keep_the_books_straight(people: People, database_url: str) -> None:
    MoneyMachine.people = people
    run = settings(
        max_examples=EXAMPLES[database_url.split(":")[0].split("+")[0]],
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        # The same examples every run (as the README says): the tally below checks that
        # they reach every operation, which random ones sometimes did not.
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    SEEN.clear()
    run_state_machine_as_test(MoneyMachine, settings=run)
    print(sorted(SEEN.items()))
    # The operations really went all the way, and the refusals really happened.
    for reached in (
        "activate: moved money",
        "activate: refused (InsufficientFunds)",
        "approve: moved money",
        "views: moved money",
        "release: moved money",
        "request payout: moved money",
        "request payout: refused (InsufficientFunds)",
        "request payout: refused (InvalidInput)",
        "pay: moved money",
        "return budget: moved money",
    ):
        assert SEEN[reached], f"no step did {reached!r}: {sorted(SEEN.items())}"


def test_a_unit_of_work_rolled_back_leaves_no_money_behind(
    people: People, database_url: str, request: pytest.FixtureRequest
) -> None:
    """What `session_scope()` rolls back must not stay in the ledger: a service's savepoint
    may not commit the caller's unit of work early."""

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), session_scope() as session:
        funds.record_deposit(
            session=session,
            actor=people.admin,
            client_id=people.clients[0].id,
            amount_cents=5_000,
            reference="wire-abandoned",
        )
        raise Abandoned
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(LedgerTransaction)).one() == 0
        assert session.exec(select(func.count()).select_from(LedgerAccount)).one() == 0
