"""Marketplace actors, sent on a timer by `workers.scheduler`.

Each runs one service in its own unit of work and is safe to run twice or at
once on two workers: the services move rows with conditional UPDATEs, so a
second run finds nothing left to do and tells nobody twice. The `run_*`
functions beside the actors do the work and say how much (tests and scripts
call them; the actors return None, as Dramatiq actors should).
"""

from __future__ import annotations

import logging
from datetime import datetime

import dramatiq

from clipgen.db import session_scope
from clipgen.services.market import campaigns, claims, reviews

log = logging.getLogger(__name__)


def run_expire_claims(now: datetime | None = None) -> int:
    """Expire unsubmitted claims past their time-to-live (each clipper told once); how many."""
    with session_scope() as session:
        expired = claims.expire_claims(session=session, now=now)
    if expired:
        log.info("Expired %d claim(s).", expired)
    return expired


def run_warn_expiring_claims(now: datetime | None = None) -> int:
    """Warn clippers whose claim expires soon (once per claim); how many were warned."""
    with session_scope() as session:
        warned = claims.warn_expiring_claims(session=session, now=now)
    if warned:
        log.info("Warned %d clipper(s) of a claim about to expire.", warned)
    return warned


def run_auto_approve(now: datetime | None = None) -> int:
    """Approve submissions left unreviewed past the review window; how many."""
    with session_scope() as session:
        approved = reviews.auto_approve_overdue(session=session, now=now)
    if approved:
        log.info("Approved %d overdue submission(s) automatically.", approved)
    return approved


def run_close_due_campaigns(now: datetime | None = None) -> int:
    """Complete live campaigns whose deadline passed; how many."""
    with session_scope() as session:
        closed = campaigns.close_due_campaigns(session=session, now=now)
    if closed:
        log.info("Completed %d campaign(s) past their deadline.", closed)
    return closed


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def expire_claims() -> None:
    """Expire unsubmitted claims past their time-to-live, freeing their slots (scheduled)."""
    run_expire_claims()


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def warn_expiring_claims() -> None:
    """Tell clippers their claim expires within a few hours, once per claim (scheduled)."""
    run_warn_expiring_claims()


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def auto_approve_submissions() -> None:
    """Approve submissions nobody reviewed within the review window (scheduled)."""
    run_auto_approve()


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def close_due_campaigns() -> None:
    """Complete campaigns whose deadline passed, closing their unsubmitted claims (scheduled)."""
    run_close_due_campaigns()
