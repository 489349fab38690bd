"""Clip generation actors: thin entry points to `clipgen.services.media.flows`.

`process_job` plans a job's clips and renders the best ones; it sends one
`render_job_clip` message per clip, so every free worker takes a clip of its own.
`analyse_source` makes a campaign source's shared analysis when the campaign goes
live. Each takes ids and is safe to run twice; what a run does lives in the flows.
The one thing only Dramatiq knows is which exception its time limit raises, so each
actor hands `TimeLimitExceeded` to its flow, which ends the job with a message.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import TimeLimitExceeded

from clipgen.services.media import flows

# Imported by name: workers.embedded resumes jobs with it at start.
from clipgen.services.media.flows import resend_stale_jobs

# The exceptions that mean a worker ran out of time (a job then fails as too long).
_TIME_LIMIT = (TimeLimitExceeded,)


@dramatiq.actor(queue_name="generation", max_retries=0, time_limit=flows.TIME_LIMIT_MS)
def analyse_source(video_id: int) -> None:
    """Analyse a campaign's source once, for every clipper's job (sent when it goes live).

    A ready analysis, one being made elsewhere, or a video that is gone or is no
    campaign's source is left alone, so a duplicate message does nothing.
    """
    flows.analyse_video(video_id)


@dramatiq.actor(queue_name="generation", max_retries=0, time_limit=flows.TIME_LIMIT_MS)
def process_job(job_id: int, orphaned_before: float | None = None) -> None:
    """Make the clips of one processing job; a duplicate or late message does nothing.

    `orphaned_before` (a UNIX time) lets a restarted embedded app take over runs whose
    last heartbeat came before it started.
    """
    flows.make_job_clips(job_id, orphaned_before=orphaned_before, time_limit_errors=_TIME_LIMIT)


@dramatiq.actor(queue_name="generation", max_retries=0, time_limit=flows.CLIP_TIME_LIMIT_MS)
def render_job_clip(job_id: int, rank: int) -> None:
    """Render one planned clip of a job, unless another worker has it, it is done, or the
    job ended; so a duplicate or late message renders nothing."""
    flows.render_planned_clip(job_id, rank, time_limit_errors=_TIME_LIMIT)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def recover_stale_jobs(stale_after_s: float | None = None) -> None:
    """Send `process_job` again for every job no worker is on (scheduled every minute)."""
    resend_stale_jobs(stale_after_s=stale_after_s)
