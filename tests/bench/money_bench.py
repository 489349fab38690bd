"""Money benchmark: `make bench-money`. Prints JSON figures; asserts nothing.

On PostgreSQL (TEST_POSTGRES_URL, or a throwaway server of its own), in a fresh database,
seeds a ledger of at least 100,000 entries: six months of a marketplace simulated day by
day, with many clients and clippers (a few very busy, most occasional), deposits, campaign
budgets, approvals split by tier, CPM and bonuses as views grow, releases after the hold,
payout requests, payments and rejections. The rows are bulk inserted (the services would
take minutes), using the services' own keys, details and rules (escrow never negative, the
clipper's share rounded down), and `check_invariants` then proves the books balance.

It then times, each call in its own session as a page or a worker would make it:
`reports.clipper_statement` (page 1) and `reports.clipper_balances` for random clippers,
`reports.platform_money`, and `earnings.book_approval` of new approved clips, each in its
own committed unit of work; and prints p50/p95 per call against the targets.
`--explain` also prints PostgreSQL's plans (EXPLAIN ANALYZE) of the statement's queries for
the busiest clipper.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

DATABASE = "clipgen_money_bench"
TARGET_ENTRIES = 100_000
DAYS = 180
CLIENTS = 60
CLIPPERS = 2_000
CAMPAIGNS = 240
APPROVALS_PER_DAY = 55
BOOKINGS = 1_000
REPORT_CALLS = 200
PLATFORM_CALLS = 20
TARGETS_MS = {"clipper_statement": 50, "clipper_balances": 50, "book_approval": 20}
HOLD = timedelta(days=7)
BONUSES = ((100_000, 20), (500_000, 50), (1_000_000, 100), (5_000_000, 200))


@contextmanager
def postgres() -> Iterator[str]:
    """An admin URL: TEST_POSTGRES_URL, or a throwaway server for this run."""
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    from tests.support.services import postgres_server

    with postgres_server() as url:
        yield url


def fresh_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + DATABASE


class Books:
    """The marketplace simulated in memory: rows for every table, ids assigned in time
    order, balances kept the way `post_transaction` keeps them."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.clock = start
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.next_id: dict[str, int] = defaultdict(lambda: 1)
        self.keys: set[str] = set()

    def new_id(self, table: str) -> int:
        number = self.next_id[table]
        self.next_id[table] = number + 1
        return number

    def tick(self, at: datetime) -> datetime:
        """A moment just after the last one, and not before `at`."""
        self.clock = max(self.clock + timedelta(seconds=self.rng.randint(1, 90)), at)
        return self.clock

    def account(self, kind: str, *, user_id: int | None = None, campaign_id: int | None = None):
        owner = campaign_id if kind == "campaign_escrow" else user_id
        code = kind if owner is None else f"{kind}:{owner}"
        if code not in self.accounts:
            self.accounts[code] = {
                "id": self.new_id("ledger_accounts"),
                "code": code,
                "kind": kind,
                "user_id": user_id if kind.startswith(("client", "clipper")) else None,
                "campaign_id": campaign_id if kind == "campaign_escrow" else None,
                "balance_cents": 0,
                "created_at": self.clock,
            }
        return self.accounts[code]

    def post(self, key: str, kind: str, postings: list[tuple[dict, int]], **purpose) -> int:
        assert key not in self.keys, key
        assert sum(amount for _, amount in postings) == 0
        self.keys.add(key)
        at = self.clock
        transaction_id = self.new_id("ledger_transactions")
        self.rows["ledger_transactions"].append(
            {
                "id": transaction_id,
                "idempotency_key": key,
                "kind": kind,
                "memo": "",
                "actor_id": purpose.get("actor_id"),
                "campaign_id": purpose.get("campaign_id"),
                "submission_id": purpose.get("submission_id"),
                "payout_id": purpose.get("payout_id"),
                "details": purpose.get("details", {}),
                "release_at": purpose.get("release_at"),
                "release_of": purpose.get("release_of"),
                "created_at": at,
            }
        )
        for account_row, amount in postings:
            if amount == 0:
                continue
            account_row["balance_cents"] += amount
            assert account_row["balance_cents"] >= 0 or account_row["kind"] in (
                "platform_revenue",
                "external_deposits",
                "external_payouts",
            ), account_row
            self.rows["ledger_entries"].append(
                {
                    "id": self.new_id("ledger_entries"),
                    "transaction_id": transaction_id,
                    "account_id": account_row["id"],
                    "amount_cents": amount,
                    "created_at": at,
                }
            )
        return transaction_id


def tier_percent(approved: int, views: int) -> tuple[str, int]:
    from clipgen.services.money.tiers import standing

    rule = standing(approved, views)
    return rule.tier, rule.clipper_percent


def simulate(password_hash: str) -> tuple[Books, dict[str, Any]]:
    """Six months of money, and the 1,000 approved clips left to book."""
    from clipgen.models import utcnow

    rng = random.Random(20_240_601)
    now = utcnow()
    start = now - timedelta(days=DAYS)
    books = Books(rng, start)
    rows = books.rows

    def user(role: str, number: int) -> int:
        user_id = books.new_id("users")
        rows["users"].append(
            {
                "id": user_id,
                "email": f"{role}{number}@bench.example.com",
                "display_name": f"{role.title()} {number}",
                "password_hash": password_hash,
                "is_clipper": role == "clipper",
                "is_client": role == "client",
                "is_admin": role == "admin",
                "is_active": True,
                "tier": "bronze",
                "created_at": start,
                "password_changed_at": start,
            }
        )
        return user_id

    admin = user("admin", 0)
    clients = [user("client", n) for n in range(CLIENTS)]
    clippers = [user("clipper", n) for n in range(CLIPPERS)]
    # A few very busy clippers (Platinum by clips), most occasional ones.
    weights = [1 / (rank + 1) ** 0.9 for rank in range(CLIPPERS)]
    approved_count: dict[int, int] = defaultdict(int)
    views_total: dict[int, int] = defaultdict(int)
    deposits = defaultdict(int)

    def deposit(client_id: int, cents: int) -> None:
        deposits[client_id] += 1
        reference = f"BENCH-{client_id}-{deposits[client_id]}"
        books.post(
            f"deposit:manual:{reference}",
            "deposit",
            [
                (books.account("external_deposits"), -cents),
                (books.account("client_available", user_id=client_id), cents),
            ],
            actor_id=admin,
            details={
                "client_id": client_id,
                "amount_cents": cents,
                "reference": reference,
                "provider": "manual",
            },
        )

    campaigns: list[dict[str, Any]] = []

    def open_campaign(client_id: int, day: int, **terms) -> dict[str, Any]:
        books.tick(start + timedelta(days=day, hours=9))
        campaign_id = books.new_id("campaigns")
        row = {
            "id": campaign_id,
            "client_id": client_id,
            "title": f"Campaign {campaign_id}",
            "brief": "",
            "source_url": "",
            "platforms": ["youtube", "tiktok"],
            "min_length_s": 15,
            "max_length_s": 60,
            "aspect": "9:16",
            "captions": "animated",
            "hashtags": "",
            "donts": "",
            "claim_ttl_hours": 48,
            "status": "active",
            "is_exhausted": False,
            "created_at": books.clock,
            "activated_at": books.clock,
            **terms,
        }
        rows["campaigns"].append(row)
        escrow = books.account("campaign_escrow", campaign_id=campaign_id)
        available = books.account("client_available", user_id=client_id)
        if available["balance_cents"] < row["budget_cents"]:
            deposit(client_id, row["budget_cents"] - available["balance_cents"])
        books.tick(books.clock)
        books.post(
            f"campaign-reserve:{campaign_id}",
            "campaign_reserve",
            [(available, -row["budget_cents"]), (escrow, row["budget_cents"])],
            campaign_id=campaign_id,
            details={"budget_cents": row["budget_cents"]},
        )
        row["escrow"] = escrow
        row["day"] = day
        return row

    for n in range(CAMPAIGNS):
        price = rng.choice([500, 1_000, 1_000, 1_500, 2_500, 5_000])
        cpm = rng.choice([0, 0, 100, 200, 500])
        clips = rng.randint(30, 150)
        campaigns.append(
            dict(
                client_id=clients[n % CLIENTS],
                day=rng.randint(0, DAYS - 20),
                price_per_clip_cents=price,
                cpm_cents=cpm,
                cpm_cap_cents=rng.choice([0, 2_000, 5_000]) if cpm else 0,
                max_clips=clips,
                # Some budgets run out (and the campaign is exhausted), most do not.
                budget_cents=int(price * clips * rng.choice([0.8, 1.5, 2.0, 2.5])),
            )
        )
    campaigns.sort(key=lambda terms: terms["day"])
    pending_campaigns = list(campaigns)
    live: list[dict[str, Any]] = []
    later: dict[int, list[Callable[[], None]]] = defaultdict(list)  # day -> follow-ups
    requested: list[tuple[dict[str, Any], int]] = []  # (payout row, day requested)

    def new_submission(row: dict[str, Any], clipper_id: int, at: datetime, views: int) -> int:
        job_id = books.new_id("market_jobs")
        rows["market_jobs"].append(
            {
                "id": job_id,
                "campaign_id": row["id"],
                "clipper_id": clipper_id,
                "status": "approved",
                "revision_count": 0,
                "claimed_at": at - timedelta(hours=20),
                "expires_at": at + timedelta(hours=28),
                "submitted_at": at - timedelta(hours=2),
                "closed_at": at,
            }
        )
        submission_id = books.new_id("submissions")
        rows["submissions"].append(
            {
                "id": submission_id,
                "job_id": job_id,
                "post_url": f"https://youtube.com/shorts/b{job_id}",
                "note": "",
                "status": "approved",
                "feedback": "",
                "auto_approved": False,
                "earnings_held": False,
                "created_at": at - timedelta(hours=2),
                "reviewed_at": at,
            }
        )
        rows["publications"].append(
            {
                "id": books.new_id("publications"),
                "submission_id": submission_id,
                "clipper_id": clipper_id,
                "platform": "youtube",
                "url": f"https://youtube.com/shorts/b{job_id}",
                "external_id": f"b{job_id}",
                "views": views,
                "likes": 0,
                "earnings_held": False,
                "verification": "verified",  # only verified posts' views count
                "verified_by": "youtube",
                "published_at": at,
            }
        )
        approved_count[clipper_id] += 1
        views_total[clipper_id] += views
        return submission_id

    def book(row, submission_id, clipper_id, percent, key, kind, wanted, details) -> int:
        """`earnings._book`: up to `wanted` from escrow, split; how much it took."""
        gross = min(wanted, row["escrow"]["balance_cents"])
        if gross < wanted:
            row["is_exhausted"] = True
        if gross <= 0:
            return 0
        clipper_cents = gross * percent // 100
        posted = books.post(
            key,
            kind,
            [
                (row["escrow"], -gross),
                (books.account("clipper_pending", user_id=clipper_id), clipper_cents),
                (books.account("platform_revenue"), gross - clipper_cents),
            ],
            campaign_id=row["id"],
            submission_id=submission_id,
            release_at=books.clock + HOLD,
            details={
                **details,
                "gross_cents": gross,
                "clipper_cents": clipper_cents,
                "platform_cents": gross - clipper_cents,
                "clipper_percent": percent,
                "clipper_id": clipper_id,
                "short_cents": wanted - gross,
            },
        )
        release_at = books.clock + HOLD
        later[(release_at - start).days + 1].append(
            lambda: release(
                posted, release_at, row["id"], submission_id, clipper_id, clipper_cents, kind
            )
        )
        return gross

    def release(earning, release_at, campaign_id, submission_id, clipper_id, cents, kind) -> None:
        """`holds.release_matured_earnings`, run each morning."""
        if not cents:
            return
        books.tick(release_at)
        books.post(
            f"release:{earning}",
            "earnings_release",
            [
                (books.account("clipper_pending", user_id=clipper_id), -cents),
                (books.account("clipper_available", user_id=clipper_id), cents),
            ],
            campaign_id=campaign_id,
            submission_id=submission_id,
            release_of=earning,
            details={"clipper_id": clipper_id, "earning_kind": kind},
        )

    def views_update(row, submission_id, clipper_id, percent, views, booked) -> None:
        """`earnings.book_views` for a new view count."""
        books.tick(books.clock)
        if row["cpm_cents"]:
            target = views * row["cpm_cents"] // 1000
            if row["cpm_cap_cents"]:
                target = min(target, row["cpm_cap_cents"])
            if target > booked["cpm"]:
                key = f"cpm:{submission_id}:{target}"
                details = {"views": views, "cpm_cents": row["cpm_cents"], "target_cents": target}
                booked["cpm"] += book(
                    row,
                    submission_id,
                    clipper_id,
                    percent,
                    key,
                    "cpm",
                    target - booked["cpm"],
                    details,
                )
        reached = [(t, p) for t, p in BONUSES if views >= t]
        if reached:
            threshold, bonus = reached[-1]
            target = row["price_per_clip_cents"] * bonus // 100
            if target > booked["bonus"]:
                details = {"views": views, "threshold": threshold, "bonus_percent": bonus}
                key = f"bonus:{submission_id}:{threshold}"
                wanted = target - booked["bonus"]
                booked["bonus"] += book(
                    row, submission_id, clipper_id, percent, key, "bonus", wanted, details
                )

    def approve(row: dict[str, Any], day: int) -> None:
        clipper_id = rng.choices(clippers, weights)[0]
        at = books.tick(start + timedelta(days=day, hours=8))
        final_views = int(rng.lognormvariate(8.5, 1.8))
        tier, percent = tier_percent(approved_count[clipper_id], views_total[clipper_id])
        submission_id = new_submission(row, clipper_id, at, final_views)
        price = row["price_per_clip_cents"]
        paid = book(
            row,
            submission_id,
            clipper_id,
            percent,
            f"approval:{submission_id}",
            "approval",
            price,
            {"tier": tier, "price_cents": price},
        )
        if not paid:
            return
        booked = {"cpm": 0, "bonus": 0}
        for after, share in ((2, 3), (9, 1)):
            later[day + after].append(
                lambda share=share: views_update(
                    row, submission_id, clipper_id, percent, final_views // share, booked
                )
            )

    def request_payouts(day: int) -> None:
        for clipper_id in clippers:
            code = f"clipper_available:{clipper_id}"
            available = books.accounts.get(code, {"balance_cents": 0})["balance_cents"]
            if available < 2_000 or rng.random() > 0.12:
                continue
            amount = available if rng.random() < 0.7 else available // 2
            books.tick(start + timedelta(days=day, hours=12))
            payout_id = books.new_id("payouts")
            payout = {
                "id": payout_id,
                "clipper_id": clipper_id,
                "amount_cents": amount,
                "status": "requested",
                "provider": "manual",
                "reference": "",
                "rejection_reason": "",
                "decided_by": None,
                "requested_at": books.clock,
                "decided_at": None,
            }
            rows["payouts"].append(payout)
            books.post(
                f"payout:{payout_id}:request",
                "payout_request",
                [
                    (books.accounts[code], -amount),
                    (books.account("clipper_payout_pending", user_id=clipper_id), amount),
                ],
                actor_id=clipper_id,
                payout_id=payout_id,
                details={"clipper_id": clipper_id},
            )
            requested.append((payout, day))

    def decide_payouts(day: int) -> None:
        while requested and requested[0][1] <= day - 2:
            payout, _ = requested.pop(0)
            books.tick(start + timedelta(days=day, hours=15))
            clipper_id, amount = payout["clipper_id"], payout["amount_cents"]
            in_payout = books.account("clipper_payout_pending", user_id=clipper_id)
            payout.update(decided_by=admin, decided_at=books.clock)
            if rng.random() < 0.9:
                reference = f"SEPA-{payout['id']}"
                payout.update(status="paid", reference=reference)
                books.post(
                    f"payout-paid:{payout['id']}",
                    "payout_paid",
                    [(in_payout, -amount), (books.account("external_payouts"), amount)],
                    actor_id=admin,
                    payout_id=payout["id"],
                    details={"clipper_id": clipper_id, "reference": reference},
                )
            else:
                payout.update(status="rejected", rejection_reason="Bank details do not match")
                books.post(
                    f"payout-rejected:{payout['id']}",
                    "payout_rejected",
                    [
                        (in_payout, -amount),
                        (books.account("clipper_available", user_id=clipper_id), amount),
                    ],
                    actor_id=admin,
                    payout_id=payout["id"],
                    details={"clipper_id": clipper_id, "reason": "Bank details do not match"},
                )

    for day in range(DAYS):
        while pending_campaigns and pending_campaigns[0]["day"] <= day:
            terms = pending_campaigns.pop(0)
            terms.pop("day")
            live.append(open_campaign(terms.pop("client_id"), day, **terms))
        for follow_up in later.pop(day, []):
            follow_up()
        open_now = [row for row in live if not row["is_exhausted"]]
        for _ in range(rng.randint(APPROVALS_PER_DAY // 2, APPROVALS_PER_DAY * 3 // 2)):
            if open_now:
                approve(rng.choice(open_now), day)
        decide_payouts(day)
        if day % 3 == 0:
            request_payouts(day)

    # Five fresh campaigns (price $10) and 1,000 approved clips in them (and five to warm
    # up with), not yet booked.
    to_book = []
    for n in range(5):
        row = open_campaign(
            clients[n],
            DAYS - 1,
            price_per_clip_cents=1_000,
            cpm_cents=200,
            cpm_cap_cents=5_000,
            max_clips=400,
            budget_cents=1_000 * 400,
        )
        for _ in range(BOOKINGS // 5 + 1):
            clipper_id = rng.choices(clippers, weights)[0]
            to_book.append(new_submission(row, clipper_id, books.tick(books.clock), 0))
    rng.shuffle(to_book)
    for row in rows["campaigns"]:
        row.pop("escrow", None)
        row.pop("day", None)
    rows["ledger_accounts"] = list(books.accounts.values())
    busiest = max(clippers, key=lambda c: approved_count[c])
    return books, {"to_book": to_book, "clippers": clippers, "busiest": busiest}


def load(url: str, books: Books) -> None:
    """Bulk insert every row, then move the id sequences past them and ANALYZE."""
    from sqlalchemy import create_engine, text

    from clipgen.models import (
        Campaign,
        LedgerAccount,
        LedgerEntry,
        LedgerTransaction,
        MarketJob,
        Payout,
        Publication,
        Submission,
        User,
    )

    order = (User, Campaign, MarketJob, Submission, Publication, Payout, LedgerAccount)
    order += (LedgerTransaction, LedgerEntry)
    engine = create_engine(url)
    with engine.begin() as conn:
        for model in order:
            table = model.__table__
            batch = books.rows[table.name]
            for offset in range(0, len(batch), 5_000):
                conn.execute(table.insert(), batch[offset : offset + 5_000])
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)

    def at(share: float) -> float:  # nearest rank
        return round(ordered[max(1, math.ceil(share * len(ordered))) - 1], 2)

    return {
        "calls": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(sum(ordered) / len(ordered), 2),
    }


def timed(calls: list[Callable[[], Any]], warm_up: int = 5) -> list[float]:
    for call in calls[:warm_up]:
        call()
    spent = []
    for call in calls:
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def explain(url: str, clipper_id: int) -> list[str]:
    """EXPLAIN ANALYZE of the statement's two queries for one clipper."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    plans = []
    with engine.connect() as conn:
        ids = [
            row[0]
            for row in conn.execute(
                text("SELECT id FROM ledger_accounts WHERE user_id = :u"), {"u": clipper_id}
            )
        ]
        listed = ", ".join(str(i) for i in ids) or "-1"
        for query in (
            f"SELECT count(*) FROM ledger_entries WHERE account_id IN ({listed})",
            "SELECT e.*, t.*, a.kind, c.title FROM ledger_entries e "
            "JOIN ledger_transactions t ON t.id = e.transaction_id "
            "JOIN ledger_accounts a ON a.id = e.account_id "
            "LEFT JOIN campaigns c ON c.id = t.campaign_id "
            f"WHERE e.account_id IN ({listed}) ORDER BY e.id DESC LIMIT 25 OFFSET 0",
        ):
            plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + query)).scalars().all()
            plans.append(query + "\n" + "\n".join(plan))
    engine.dispose()
    return plans


def main() -> int:
    with postgres() as admin_url:
        url = fresh_database(admin_url)
        os.environ["DATABASE_URL"] = url
        from sqlmodel import Session, func, select

        from clipgen.config import get_settings
        from clipgen.db import dispose_engines, get_engine, migrate, session_scope
        from clipgen.models import LedgerEntry, Role
        from clipgen.services.auth.passwords import hash_password
        from clipgen.services.auth.service import UserView
        from clipgen.services.money import earnings, reports
        from clipgen.services.money.ledger import check_invariants

        get_settings.cache_clear()
        load_before = round(os.getloadavg()[0], 2)
        migrate(url)
        began = time.perf_counter()
        books, plan = simulate(hash_password("a sturdy passphrase"))
        simulated = time.perf_counter() - began
        load(url, books)
        loaded = time.perf_counter() - began - simulated
        engine = get_engine()
        with Session(engine) as session:
            check_began = time.perf_counter()
            report = check_invariants(session)
            check_ms = (time.perf_counter() - check_began) * 1000
            entries = session.exec(select(func.count()).select_from(LedgerEntry)).one()
        if not report.ok or entries < TARGET_ENTRIES:
            print(json.dumps({"error": "seed failed", "invariants": repr(report)}), flush=True)
            return 1

        admin = UserView(1, "admin0@bench.example.com", "Admin", (Role.ADMIN.value,), "bronze")
        rng = random.Random(7)

        def clipper(clipper_id: int) -> UserView:
            return UserView(clipper_id, "", "", (Role.CLIPPER.value,), "bronze")

        def in_session(work: Callable[[Session], Any]) -> Callable[[], Any]:
            def call() -> Any:
                with Session(engine, expire_on_commit=False) as session:
                    return work(session)

            return call

        picks = [rng.choice(plan["clippers"]) for _ in range(REPORT_CALLS)]
        statement = timed(
            [
                in_session(lambda s, c=c: reports.clipper_statement(session=s, actor=clipper(c)))
                for c in picks
            ]
        )
        balances = timed(
            [
                in_session(lambda s, c=c: reports.clipper_balances(session=s, actor=clipper(c)))
                for c in picks
            ]
        )
        platform = timed(
            [
                in_session(lambda s: reports.platform_money(session=s, actor=admin))
                for _ in range(PLATFORM_CALLS)
            ],
            warm_up=2,
        )

        def booking(submission_id: int) -> Callable[[], Any]:
            def call() -> Any:
                with session_scope() as session:
                    return earnings.book_approval(session=session, submission_id=submission_id)

            return call

        to_book = plan["to_book"]
        for submission_id in to_book[:5]:  # warm up
            booking(submission_id)()
        approvals = timed([booking(s) for s in to_book[5:]], warm_up=0)
        with Session(engine) as session:
            after = check_invariants(session)

        busiest = {
            account["id"]
            for account in books.accounts.values()
            if account["user_id"] == plan["busiest"]
        }
        figures = {
            "database": "postgresql",
            "cpus": os.cpu_count(),
            "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
            "seed": {
                "ledger_entries": entries,
                "ledger_transactions": report.transactions,
                "ledger_accounts": report.accounts,
                "clippers": CLIPPERS,
                "clients": CLIENTS,
                "campaigns": len(books.rows["campaigns"]),
                "submissions": len(books.rows["submissions"]),
                "payouts": len(books.rows["payouts"]),
                "entries_of_busiest_clipper": sum(
                    1 for entry in books.rows["ledger_entries"] if entry["account_id"] in busiest
                ),
                "simulate_s": round(simulated, 1),
                "load_s": round(loaded, 1),
                "invariants_ok": report.ok,
                "check_invariants_ms": round(check_ms, 1),
            },
            "calls": {
                "clipper_statement": percentiles(statement),
                "clipper_balances": percentiles(balances),
                "platform_money": percentiles(platform),
                "book_approval": percentiles(approvals),
            },
            "targets_p95_ms": TARGETS_MS,
            "met": {
                name: percentiles(ms)["p95_ms"] < TARGETS_MS[name]
                for name, ms in (
                    ("clipper_statement", statement),
                    ("clipper_balances", balances),
                    ("book_approval", approvals),
                )
            },
            "invariants_ok_after": after.ok,
        }
        print(json.dumps(figures, indent=2), flush=True)
        if "--explain" in sys.argv:
            for text_plan in explain(url, plan["busiest"]):
                print(text_plan, flush=True)
        dispose_engines()
    return 0


if __name__ == "__main__":
    sys.exit(main())
