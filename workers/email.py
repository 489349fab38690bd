"""Email actors: send one queued email (sent after the commit that queued it), and the
sweep that takes over emails no worker is on (scheduled).

The row in `email_deliveries` holds the truth: `send_email` takes it with a conditional
UPDATE, so a duplicate or late message sends nothing, and retries are the row's own
(`max_retries=0`): a refused attempt puts it back in the queue with a due time and this
actor sends itself for then. A lost message costs nothing: the sweep sends it again.
"""

from __future__ import annotations

import logging

import dramatiq

from clipgen.models import utcnow
from clipgen.services.email import sending

log = logging.getLogger(__name__)

# Well under `sending.STALE_SENDING`, so a send is over before the sweep takes it back.
SEND_TIME_LIMIT_MS = 5 * 60 * 1000


@dramatiq.actor(queue_name="email", max_retries=0, time_limit=SEND_TIME_LIMIT_MS)
def send_email(delivery_id: int) -> None:
    """Send one queued email, once; after a temporary refusal, try again when it is due."""
    outcome = sending.deliver_email(delivery_id)
    if outcome.retry_at is not None:
        delay_ms = max(0, int((outcome.retry_at - utcnow()).total_seconds() * 1000))
        send_email.send_with_options(kwargs={"delivery_id": delivery_id}, delay=delay_ms)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def recover_stale_emails() -> None:
    """Send `send_email` again for emails no worker is on (scheduled)."""
    resend_stale_emails()


def resend_stale_emails() -> int:
    """Send every email a dead worker or a lost message left; how many."""
    ready = sending.emails_to_recover()
    for delivery_id in ready:
        send_email.send(delivery_id=delivery_id)
    if ready:
        log.info("Sent %d email(s) no worker was on again: %s", len(ready), ready)
    return len(ready)
