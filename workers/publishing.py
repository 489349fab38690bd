"""Publishing actors: an approved clip's upload to YouTube, and the view sync (scheduled
daily by `VIEW_SYNC_CRON`, or sent by an admin's "Sync now").

Both run services that keep their own units of work: an upload records its progress as
it goes, and the sync commits each batch of readings, so a quota error or a killed
worker keeps what was done. Both are safe to run twice: a second worker finds the
upload taken, and a second sync's readings book no money twice.
"""

from __future__ import annotations

import logging

import dramatiq

from clipgen.db import session_scope
from clipgen.services.publishing import publications, sync

log = logging.getLogger(__name__)

# An upload of a long clip on a slow link; the resumable protocol continues where it was.
UPLOAD_TIME_LIMIT_MS = 2 * 60 * 60 * 1000
SYNC_TIME_LIMIT_MS = 60 * 60 * 1000


@dramatiq.actor(queue_name="publishing", max_retries=0, time_limit=UPLOAD_TIME_LIMIT_MS)
def upload_to_youtube(upload_id: int) -> None:
    """Upload one approved clip to its clipper's channel (a failure is kept on the row,
    with its reason and, for quota, when to retry)."""
    publications.run_youtube_upload(upload_id)


@dramatiq.actor(queue_name="maintenance", max_retries=0, time_limit=SYNC_TIME_LIMIT_MS)
def sync_views(triggered_by: int | None = None) -> None:
    """Read the views of every published clip and bring earnings up to date."""
    sync.run_view_sync(triggered_by=triggered_by)


@dramatiq.actor(queue_name="publishing", max_retries=0, time_limit=SYNC_TIME_LIMIT_MS)
def verify_post(publication_id: int) -> None:
    """Ask a newly added (or fixed) post's platform whether it is the clipper's post of the
    clip, and read its views if it is (a sync run of that one post)."""
    sync.run_view_sync(only_post=publication_id)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def recover_stale_uploads() -> None:
    """Send `upload_to_youtube` again for uploads no worker is on (scheduled)."""
    resend_stale_uploads()


def resend_stale_uploads() -> int:
    """Send `upload_to_youtube` again for every upload no worker is on; how many. An upload
    a killed worker left starts again from the first byte (YouTube creates the video only
    when the last chunk arrives, so nothing is published twice)."""
    with session_scope() as session:
        lost = publications.uploads_to_recover(session=session)
    for upload_id in lost:
        upload_to_youtube.send(upload_id=upload_id)
    if lost:
        log.info("Sent %d YouTube upload(s) no worker was on again: %s", len(lost), lost)
    return len(lost)
