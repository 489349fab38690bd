"""Money actors: the scheduled release of pending earnings whose hold has ended, and the
work of Stripe's webhook events."""

from __future__ import annotations

import logging

import dramatiq

from clipgen.db import session_scope
from clipgen.services.money import holds, stripe_events

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
    """Send again the Stripe events received but not worked (a lost message)."""
    with session_scope() as session:
        waiting = stripe_events.unprocessed(session)
    for event_id in waiting:
        process_stripe_event.send(event_id)
    if waiting:
        log.info("Sent %d unworked Stripe event(s) again.", len(waiting))
