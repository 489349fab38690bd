"""The in-process worker of the embedded defaults (no `REDIS_URL`).

Jobs live in the database, so a restart loses nothing: every job that was
queued or running when the app stopped is sent again at start, and
`begin_run` makes sure each runs once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator

import dramatiq
from dramatiq.brokers.stub import StubBroker

import workers
from workers.clips import resend_stale_renders
from workers.generation import resend_stale_jobs
from workers.scheduler import start_embedded_scheduler, stop_embedded_scheduler

log = logging.getLogger(__name__)


def start_in_process_worker() -> dramatiq.Worker | None:
    """Run the actors on threads of this process when no Redis broker is configured."""
    if not isinstance(workers.broker, StubBroker):
        return None
    started = time.time()
    worker = dramatiq.Worker(workers.broker, worker_threads=1)
    worker.start()
    # No scheduler process in embedded mode: the app sends the periodic actors itself.
    start_embedded_scheduler()
    # The previous process is gone, so no run it left has a live worker, however fresh
    # its last heartbeat: take over everything this process did not start.
    threading.Thread(target=_resume_jobs, args=(started,), daemon=True, name="resume-jobs").start()
    return worker


def _resume_jobs(started: float) -> None:
    try:
        resumed = resend_stale_jobs(requeue_after_s=0, orphaned_before=started)
        rerenders = resend_stale_renders(orphaned_before=started)
        if resumed or rerenders:
            log.info("Resumed %d unfinished job(s) and %d re-render(s).", resumed, rerenders)
    except Exception:  # a database that is not migrated yet must not stop the app
        log.exception("Could not resume unfinished jobs")


@contextlib.asynccontextmanager
async def in_process_worker() -> AsyncIterator[None]:
    """Reflex lifespan task: the embedded worker lives as long as the backend."""
    worker = start_in_process_worker()
    try:
        yield
    finally:
        if worker is not None:
            stop_embedded_scheduler()
            worker.stop(timeout=5_000)
