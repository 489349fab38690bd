"""Money actors: the scheduled release of pending earnings whose hold has ended."""

from __future__ import annotations

import logging

import dramatiq

from clipgen.db import session_scope
from clipgen.services.money import holds

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
