"""Re-rendering a trimmed clip: the actors behind `clips.request_trim`.

`rerender_clip` takes the clip's id and the version to render, and runs the flow
in `clipgen.services.media.trim_flow` (the trim itself waits on the clip row, so a
duplicate or late message does nothing); recovery sends a lost message again.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import TimeLimitExceeded

from clipgen.services.media import trim_flow

# Imported by name: workers.embedded resumes re-renders with it at start.
from clipgen.services.media.trim_flow import resend_stale_renders

TIME_LIMIT_MS = 30 * 60 * 1000


@dramatiq.actor(queue_name="clips", max_retries=0, time_limit=TIME_LIMIT_MS)
def rerender_clip(clip_id: int, version: int) -> None:
    """Render `version` of a clip from the trim pending on its row and swap it in; safe to
    run twice."""
    trim_flow.render_pending_trim(clip_id, version, time_limit_errors=(TimeLimitExceeded,))


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def recover_stale_renders() -> None:
    """Send `rerender_clip` again for every re-render no worker is on (scheduled)."""
    resend_stale_renders()
