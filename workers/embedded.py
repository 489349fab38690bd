"""The in-process worker of the embedded defaults (no `REDIS_URL`).

Jobs live in the database, so a restart loses nothing: every job that was
queued or running when the app stopped is sent again at start, and
`begin_run` makes sure each runs once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator

import dramatiq
from dramatiq.brokers.stub import StubBroker

import workers
from workers.generation import recover_stale_jobs

log = logging.getLogger(__name__)


def start_in_process_worker() -> dramatiq.Worker | None:
    """Run the actors on threads of this process when no Redis broker is configured."""
    if not isinstance(workers.broker, StubBroker):
        return None
    worker = dramatiq.Worker(workers.broker, worker_threads=1)
    worker.start()
    # The previous process is gone, so none of its running jobs has a live worker.
    threading.Thread(target=_resume_jobs, daemon=True, name="resume-jobs").start()
    return worker


def _resume_jobs() -> None:
    try:
        resumed = recover_stale_jobs(stale_after_s=0)
        if resumed:
            log.info("Resumed %d unfinished job(s).", resumed)
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
            worker.stop(timeout=5_000)
