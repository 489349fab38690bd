"""Housekeeping actors."""

from __future__ import annotations

import dramatiq

from clipgen.db import session_scope
from clipgen.services.auth import service as auth


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def purge_expired_sessions() -> None:
    """Delete sign-in sessions and failure records that can no longer be used."""
    with session_scope() as session:
        auth.purge_expired_sessions(session=session)
