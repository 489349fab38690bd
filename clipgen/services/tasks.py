"""Background work a service asks for: a Dramatiq message sent once its transaction commits.

Services name an actor and its ids; the message leaves only after the commit,
so a worker never sees a row that was rolled back, and a failed request sends
nothing. Pages and state never talk to the queue themselves.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from clipgen.db import after_commit

log = logging.getLogger(__name__)

PROCESS_JOB = "process_job"
RERENDER_CLIP = "rerender_clip"
ANALYSE_SOURCE = "analyse_source"
UPLOAD_TO_YOUTUBE = "upload_to_youtube"
SYNC_VIEWS = "sync_views"
SEND_EMAIL = "send_email"


def send_after_commit(session: Session, actor_name: str, **ids: int) -> None:
    """Queue `actor_name(**ids)` for when `session` commits."""
    after_commit(session, lambda: send_now(actor_name, **ids))


def send_now(actor_name: str, **ids: int) -> None:
    """Send `actor_name(**ids)` on the configured broker (for scheduled work and recovery)."""
    import workers  # configures the broker and registers every actor

    workers.broker.get_actor(actor_name).send_with_options(kwargs=ids)
