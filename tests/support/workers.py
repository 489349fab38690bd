"""Real Dramatiq worker processes for tests, and the app's side of sending them work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from clipgen.config import PROJECT_ROOT

T = TypeVar("T")

# argv: queues (comma-separated), stale-after seconds, heartbeat seconds, threads.
WORKER_SCRIPT = textwrap.dedent(
    """
    import logging, signal, sys, threading
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import workers
    from dramatiq import Worker
    from clipgen.services.media import flows
    assert type(workers.broker).__name__ == "RedisBroker"
    flows.STALE_AFTER_S = float(sys.argv[2])
    flows.HEARTBEAT_EVERY_S = float(sys.argv[3])
    worker = Worker(
        workers.broker, queues=set(sys.argv[1].split(",")), worker_threads=int(sys.argv[4]),
        worker_timeout=100,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    worker.start()
    logging.getLogger("worker").info("Worker ready.")
    while not stopping.wait(0.2):
        pass
    worker.stop()
    """
)


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL the worker and whatever it started (ffmpeg), as a crash or an OOM kill would."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextmanager
def worker_process(
    env: dict[str, str],
    log_path: Path,
    *,
    queues: Sequence[str] = ("generation",),
    stale_after_s: float = 120.0,
    heartbeat_every_s: float = 20.0,
    threads: int = 1,
) -> Iterator[subprocess.Popen]:
    """A Dramatiq worker process on `queues`, stopped (then killed if need be) at the end."""
    arguments = [",".join(queues), str(stale_after_s), str(heartbeat_every_s), str(threads)]
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, *arguments],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        kill_worker(process)


def run_in_app_process(env: dict[str, str], code: str) -> str:
    """Run `code` in a fresh process importing the workers as the app does (sends go to Redis)."""
    script = f"import json\nimport workers\nfrom workers.generation import *\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_for(
    condition: Callable[[], T], what: str, *, logs: Callable[[], str], deadline_s: float = 180.0
) -> T:
    """Poll until `condition` is truthy; after the deadline, fail showing the workers' logs."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}.\n{logs()}")
