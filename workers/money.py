"""Money actors: the scheduled release of pending earnings whose hold has ended, the
work of Stripe's webhook events, and the daily reconciliation with Stripe."""

from __future__ import annotations

import logging

import dramatiq

from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.services.money import holds, payouts, reconciliation, stripe_events, stripe_payouts

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def release_matured_earnings() -> None:
    """Make pending earnings past `EARNINGS_HOLD_DAYS` available (batches until done)."""
    while True:
        with session_scope() as session:
            released = holds.release_matured_earnings(session=session)
        if released:
            log.info("Released %d earning(s) from hold.", released)
        if released < holds.RELEASE_BATCH:
            return


@dramatiq.actor(queue_name="maintenance", max_retries=12, min_backoff=2_000, max_backoff=600_000)
def process_stripe_event(event_id: str) -> None:
    """Work one stored Stripe event (a deposit booked, ...), once; an event that came
    before the one it depends on is tried again later with backoff."""
    with session_scope() as session:
        outcome = stripe_events.process(session, event_id)
    log.info("Stripe event %s: %s", event_id, outcome)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def recover_stripe_events() -> None:
    """Send again the Stripe events received but not worked, and the bank payouts of
    approved Stripe payouts never asked for (a lost message)."""
    with session_scope() as session:
        waiting = stripe_events.unprocessed(session)
        unsent = stripe_payouts.unsent(session)
    for event_id in waiting:
        process_stripe_event.send(event_id)
    for payout_id in unsent:
        send_stripe_payout.send(payout_id)
    if waiting or unsent:
        log.info(
            "Sent %d unworked Stripe event(s) and %d bank payout(s) again.",
            len(waiting),
            len(unsent),
        )


@dramatiq.actor(queue_name="maintenance", max_retries=12, min_backoff=2_000, max_backoff=600_000)
def send_stripe_payout(payout_id: int) -> None:
    """Ask Stripe to pay an approved payout from the clipper's connected account to their
    bank, once (Stripe unreachable: tried again with backoff, with the same key)."""
    with session_scope() as session:
        outcome = stripe_payouts.send_bank_payout(session, payout_id)
    log.info("Stripe payout of payout #%s: %s", payout_id, outcome)


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def auto_approve_payout(payout_id: int) -> None:
    """Approve a small payout with no one, if the admins' limit and the clipper allow."""
    with session_scope() as session:
        outcome = payouts.auto_approve(session, payout_id)
    log.info("Automatic approval of payout #%s: %s", payout_id, outcome)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def reconcile_stripe() -> None:
    """Compare yesterday (UTC) of Stripe's balance transactions with the ledger, when
    Stripe is set up; a run is recorded either way Stripe answers (its error in words)."""
    if not get_settings().stripe_configured:
        return
    day = reconciliation.yesterday()
    with session_scope() as session:
        run = reconciliation.reconcile_day(session, day)
        summary = run.error or f"{run.matched} matched, {run.mismatches} mismatch(es)"
    log.info("Stripe reconciliation of %s: %s.", day, summary)
