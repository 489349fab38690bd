"""Analytics benchmark: `make bench-analytics`. Prints JSON figures; asserts nothing.

On PostgreSQL (TEST_POSTGRES_URL, or a throwaway server of its own), in a fresh database:
the money benchmark's six simulated months (`money_bench.simulate`: about 105,000 ledger
entries, 2,000 clippers, 60 clients, 245 campaigns, 10,869 approved clips each with a
post), signups spread over those months, a few open fraud flags, and 1,000,000 view
snapshots: every post read from its publication to today (daily, more often for some),
its views growing towards its final count. Snapshots go in with COPY; generating and
loading are timed apart.

It then times each dashboard's service call, each in its own session as a page makes it,
30 calls per dashboard and range ("30" days, the default, and "all"): the 30 busiest
clippers, the 30 busiest clients, the 30 campaigns with the most posts, and the admins'
dashboard; and prints p50/p95 per dashboard against the 300 ms target.
`--explain` also prints PostgreSQL's plan of the busiest client's views statement.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from tests.bench.money_bench import percentiles, postgres, simulate, timed

DATABASE = "clipgen_analytics_bench"
SNAPSHOTS = 1_000_000
CALLS = 30
RANGES = ("30", "all")
OPEN_FLAGS = 25
TARGET_P95_MS = 300


def fresh_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + DATABASE


def spread_signups(rows: dict[str, list[dict[str, Any]]], rng: random.Random, now) -> None:
    """People joined over the six months, more of them lately (a growing marketplace)."""
    start = min(user["created_at"] for user in rows["users"])
    span = (now - start).total_seconds()
    for user in rows["users"]:
        joined = start + timedelta(seconds=span * rng.random() ** 0.7)
        user["created_at"] = user["password_changed_at"] = joined


def snapshot_plan(publications: list[dict[str, Any]], now) -> list[int]:
    """How many readings each post gets: 1,000,000 in all, in proportion to its age (a
    post published yesterday has a reading or two, one of six months about 180)."""
    ages = [
        max(1.0, (now - post["published_at"]).total_seconds() / 86_400) for post in publications
    ]
    total = sum(ages)
    counts = [max(1, int(SNAPSHOTS * age / total)) for age in ages]
    short = SNAPSHOTS - sum(counts)
    for index in range(abs(short)):
        counts[index % len(counts)] += (
            1 if short > 0 else -1 if counts[index % len(counts)] > 1 else 0
        )
    return counts


def write_snapshots(url: str, publications: list[dict[str, Any]], now, rng) -> int:
    """COPY the readings of every post into view_snapshots; how many were written."""
    import psycopg

    counts = snapshot_plan(publications, now)
    written = 0
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY view_snapshots (publication_id, source, views, likes, comments, taken_at) "
            "FROM STDIN"
        ) as copy:
            for post, count in zip(publications, counts, strict=True):
                published = post["published_at"]
                age = max(now - published, timedelta(hours=1))
                final = int(post["views"])
                for n in range(1, count + 1):
                    share = n / count
                    taken = published + age * share - timedelta(minutes=rng.randint(0, 50))
                    # Most views come early: a post's views grow like 1 - (1 - t)^3.
                    views = final if n == count else int(final * (1 - (1 - share) ** 3))
                    copy.write_row(
                        (post["id"], "youtube_api", views, views // 30, views // 400, taken)
                    )
                    written += 1
        conn.commit()
    return written


def open_flags(url: str, publication_ids: list[int], rng: random.Random, now) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for publication_id in rng.sample(publication_ids, OPEN_FLAGS):
            conn.execute(
                text(
                    "INSERT INTO fraud_flags (publication_id, reason, evidence, status, "
                    "resolution_note, created_at) VALUES (:p, 'A spike far above its trend', "
                    "'{}', 'open', '', :at)"
                ),
                {"p": publication_id, "at": now - timedelta(hours=rng.randint(1, 200))},
            )
    engine.dispose()


def explain(url: str, client_id: int) -> list[str]:
    from sqlalchemy import create_engine

    from clipgen.models import Campaign
    from clipgen.services.analytics import views
    from clipgen.services.analytics.periods import window

    engine = create_engine(url)
    query = views.summary_query(
        window("30"),
        where=[Campaign.client_id == client_id],
        totals_by=("campaign", "clipper"),
        series_by="campaign",
        series_count=5,
    )
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled)).scalars()
        lines = [str(compiled), *plan]
    engine.dispose()
    return lines


def main() -> int:
    with postgres() as admin_url:
        url = fresh_database(admin_url)
        os.environ["DATABASE_URL"] = url
        from sqlalchemy import create_engine, text
        from sqlmodel import Session

        from clipgen.config import get_settings
        from clipgen.db import dispose_engines, get_engine, migrate
        from clipgen.models import Role, utcnow
        from clipgen.services.analytics import admin, client, clipper
        from clipgen.services.auth.passwords import hash_password
        from clipgen.services.auth.service import UserView
        from tests.bench.money_bench import load

        get_settings.cache_clear()
        load_before = round(os.getloadavg()[0], 2)
        migrate(url)
        rng = random.Random(20_261_128)
        now = utcnow()

        began = time.perf_counter()
        books, plan = simulate(hash_password("a sturdy passphrase"))
        spread_signups(books.rows, rng, now)
        simulated = time.perf_counter() - began
        began = time.perf_counter()
        load(url, books)
        loaded_money = time.perf_counter() - began
        publications = books.rows["publications"]
        began = time.perf_counter()
        snapshots = write_snapshots(url, publications, now, rng)
        open_flags(url, [post["id"] for post in publications], rng, now)
        engine = create_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            entries = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        engine.dispose()
        loaded_views = time.perf_counter() - began

        # The heaviest users of each dashboard: most posts (so most snapshots).
        clipper_posts = Counter(post["clipper_id"] for post in publications)
        job_campaign = {job["id"]: job["campaign_id"] for job in books.rows["market_jobs"]}
        submission_job = {s["id"]: s["job_id"] for s in books.rows["submissions"]}
        campaign_client = {c["id"]: c["client_id"] for c in books.rows["campaigns"]}
        campaign_posts = Counter(
            job_campaign[submission_job[post["submission_id"]]] for post in publications
        )
        client_posts = Counter()
        for campaign_id, count in campaign_posts.items():
            client_posts[campaign_client[campaign_id]] += count
        busiest_clippers = [c for c, _ in clipper_posts.most_common(CALLS)]
        busiest_clients = [c for c, _ in client_posts.most_common(CALLS)]
        biggest_campaigns = [c for c, _ in campaign_posts.most_common(CALLS)]

        def person(user_id: int, role: Role) -> UserView:
            return UserView(user_id, "", "", (role.value,), "bronze")

        admin_user = person(1, Role.ADMIN)
        engine = get_engine()

        def call(service, **kwargs):
            def run() -> Any:
                with Session(engine, expire_on_commit=False) as session:
                    return service(session=session, **kwargs)

            return run

        figures: dict[str, Any] = {}
        for range_key in RANGES:
            calls = {
                "clipper": [
                    call(
                        clipper.clipper_dashboard,
                        actor=person(c, Role.CLIPPER),
                        range_key=range_key,
                    )
                    for c in busiest_clippers
                ],
                "client": [
                    call(
                        client.client_dashboard,
                        actor=person(c, Role.CLIENT),
                        range_key=range_key,
                    )
                    for c in busiest_clients
                ],
                "campaign": [
                    call(
                        client.campaign_dashboard,
                        actor=person(campaign_client[c], Role.CLIENT),
                        campaign_id=c,
                        range_key=range_key,
                    )
                    for c in biggest_campaigns
                ],
                "admin": [
                    call(admin.admin_dashboard, actor=admin_user, range_key=range_key)
                    for _ in range(CALLS)
                ],
            }
            figures[range_key] = {
                name: percentiles(timed(runs, warm_up=3)) for name, runs in calls.items()
            }

        result = {
            "database": "postgresql",
            "cpus": os.cpu_count(),
            "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
            "seed": {
                "view_snapshots": snapshots,
                "ledger_entries": entries,
                "publications": len(publications),
                "clippers": len(plan["clippers"]),
                "campaigns": len(books.rows["campaigns"]),
                "snapshots_of_busiest_client": sum(
                    count
                    for post, count in zip(
                        publications, snapshot_plan(publications, now), strict=True
                    )
                    if campaign_client[job_campaign[submission_job[post["submission_id"]]]]
                    == busiest_clients[0]
                ),
                "simulate_money_s": round(simulated, 1),
                "load_money_s": round(loaded_money, 1),
                "generate_and_copy_snapshots_s": round(loaded_views, 1),
            },
            "calls_per_dashboard": CALLS,
            "p95_target_ms": TARGET_P95_MS,
            "dashboards": figures,
            "met": all(
                stats["p95_ms"] < TARGET_P95_MS
                for by_name in figures.values()
                for stats in by_name.values()
            ),
        }
        print(json.dumps(result, indent=2), flush=True)
        if "--explain" in sys.argv:
            for line in explain(url, busiest_clients[0]):
                print(line, flush=True)
        dispose_engines()
    return 0


if __name__ == "__main__":
    sys.exit(main())
