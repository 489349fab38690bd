"""A small marketplace with a month of history, made through the real services with the
services' clock moved day by day: for the dashboards' browser test and screenshots."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from clipgen.models import Clip, Role, Submission, User, ViewSource, utcnow
from clipgen.services.auth.service import UserView
from clipgen.services.market import reviews
from clipgen.services.money import holds, payouts
from clipgen.services.publishing import publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.market import approved, live_campaign, submitted
from tests.support.money import person, verified


class ServiceClock:
    """The time the services see: every `utcnow` they imported answers with `now`."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.today = self.now.date()

    def at(self, days_ago: int, hour: int) -> datetime:
        self.now = datetime.combine(self.today - timedelta(days=days_ago), time(hour), UTC)
        return self.now


@contextmanager
def service_clock() -> Iterator[ServiceClock]:
    clock = ServiceClock()
    patched = [
        (module, module.utcnow)
        for name, module in list(sys.modules.items())
        if name.startswith("clipgen.services") and hasattr(module, "utcnow")
    ]
    for module, _ in patched:
        module.utcnow = lambda: clock.now
    try:
        yield clock
    finally:
        for module, original in patched:
            module.utcnow = original


@dataclass
class Marketplace:
    admin: UserView
    client: UserView
    clippers: list[UserView]
    campaign_ids: list[int]


# (clipper, campaign, approved days ago, final views, title)
CLIPS = (
    (0, 0, 27, 180_000, "Why we almost shut down"),
    (0, 0, 22, 64_000, "The hiring mistake"),
    (1, 0, 25, 120_000, "Pricing is a feeling"),
    (2, 1, 20, 41_000, "The one-click demo"),
    (0, 1, 16, 23_000, "Battery that lasts a week"),
    (1, 1, 12, 15_500, "Live: the price reveal"),
    (3, 0, 9, 9_800, "Cold emails that work"),
    (2, 0, 6, 5_400, "Our worst quarter"),
)


def seed_marketplace(session: Session, *, admin: UserView | None = None) -> Marketplace:
    """Northwind's two campaigns ($25 and $15 a clip, $2 CPM), four clippers, eight clips
    approved over the last four weeks and read every other day, earnings released after
    the hold, payouts paid and waiting, one rejection, one clip waiting for review."""
    with service_clock() as clock:
        clock.at(30, 9)
        admin = admin or person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "northwind")
        names = ("maya", "leo", "ines", "omar")
        clippers = []
        for days_ago, name in zip((29, 26, 21, 11), names, strict=True):
            clock.at(days_ago, 12)
            clippers.append(person(session, Role.CLIPPER, name))
            # Joined that day, for the admins' signups chart.
            session.get(User, clippers[-1].id).created_at = clock.now
        clock.at(30, 9)
        campaigns = [
            live_campaign(
                session,
                admin,
                client,
                title="Founders podcast: season 2",
                price_per_clip_cents=2_500,
                cpm_cents=200,
                cpm_cap_cents=40_000,
                budget_cents=250_000,
                max_clips=40,
            ),
            live_campaign(
                session,
                admin,
                client,
                title="Product launch keynote",
                price_per_clip_cents=1_500,
                cpm_cents=200,
                cpm_cap_cents=20_000,
                budget_cents=120_000,
                max_clips=30,
            ),
        ]
        posts = []
        for number, (who, which, days_ago, views, title) in enumerate(CLIPS, start=1):
            clock.at(days_ago, 10)
            _, submission = approved(session, client, clippers[who], campaigns[which])
            session.get(Clip, session.get(Submission, submission.id).clip_id).title = title
            post = publications.add_post_url(
                session=session,
                actor=clippers[who],
                submission_id=submission.id,
                url=f"https://www.youtube.com/shorts/demo{number:07d}",
            )
            verified(session, post)
            posts.append((post.id, days_ago, views))
        clock.at(18, 11)
        _, rejected = submitted(session, clippers[3], campaigns[1])
        reviews.reject_submission(
            session=session, actor=client, submission_id=rejected.id, reason="Off brief"
        )
        clock.at(2, 11)
        submitted(session, clippers[1], campaigns[0])

        for days_ago in range(29, -1, -1):
            for post_id, approved_ago, views in posts:
                age = approved_ago - days_ago
                if age <= 0 or (days_ago % 2 and days_ago):
                    continue
                share = min(1.0, age / max(approved_ago, 1))
                count = int(views * (1 - (1 - share) ** 3))
                sync.record_reading(
                    session,
                    post_id,
                    Counts(count, count // 25, count // 300),
                    source=ViewSource.MANUAL,
                    taken_at=clock.at(days_ago, 6),
                )
            if days_ago % 3 == 0:
                holds.release_matured_earnings(session=session, now=clock.at(days_ago, 7))
            if days_ago in (12, 5):
                clock.at(days_ago, 15)
                paid = payouts.request_payout(
                    session=session, actor=clippers[0], amount_cents=5_000
                )
                payouts.approve_payout(
                    session=session, actor=admin, payout_id=paid.id, reference=f"SEPA-{days_ago}"
                )
        clock.at(1, 16)
        payouts.request_payout(session=session, actor=clippers[1], amount_cents=2_000)
        session.flush()
    return Marketplace(admin, client, clippers, [c.id for c in campaigns])
