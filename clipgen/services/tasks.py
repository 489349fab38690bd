"""Background work a service asks for: a Dramatiq message sent once its transaction commits.

Services name an actor and its ids; the message leaves only after the commit,
so a worker never sees a row that was rolled back, and a failed request sends
nothing. Pages and state never talk to the queue themselves.

Services know only the actors' names: the broker lives in `workers`, which
installs the sender when imported (the app, the scheduler and the `dramatiq`
command all import it), so services never import the layer above them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session

from clipgen.db import after_commit

log = logging.getLogger(__name__)

PROCESS_JOB = "process_job"
RENDER_JOB_CLIP = "render_job_clip"
RERENDER_CLIP = "rerender_clip"
ANALYSE_SOURCE = "analyse_source"
UPLOAD_TO_YOUTUBE = "upload_to_youtube"
SYNC_VIEWS = "sync_views"
VERIFY_POST = "verify_post"
SEND_EMAIL = "send_email"
PROCESS_STRIPE_EVENT = "process_stripe_event"
SEND_STRIPE_PAYOUT = "send_stripe_payout"
AUTO_APPROVE_PAYOUT = "auto_approve_payout"


Sender = Callable[[str, dict[str, int | str]], None]
_sender: Sender | None = None


class NoSender(RuntimeError):
    """A message was sent before `workers` installed the broker's sender."""


def install_sender(sender: Sender) -> None:
    """Hand every message from now on to `sender(actor_name, ids)` (`workers` calls this)."""
    global _sender
    _sender = sender


def send_after_commit(session: Session, actor_name: str, **ids: int | str) -> None:
    """Queue `actor_name(**ids)` for when `session` commits."""
    after_commit(session, lambda: send_now(actor_name, **ids))


def send_now(actor_name: str, **ids: int | str) -> None:
    """Send `actor_name(**ids)` on the configured broker (for scheduled work and recovery)."""
    if _sender is None:
        raise NoSender(
            f"Cannot send {actor_name}: no worker broker is set up in this process "
            "(import workers first)."
        )
    _sender(actor_name, ids)
