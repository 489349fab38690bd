"""Actors run on real Dramatiq workers through a real Redis broker."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from clipgen.config import PROJECT_ROOT


def test_a_redis_worker_runs_the_session_purge(database_url: str, redis_url: str) -> None:
    from clipgen.db import session_scope
    from clipgen.services.auth import service as auth

    with session_scope() as session:
        auth.register(
            session=session,
            email="ada@example.com",
            display_name="Ada",
            password="a sturdy passphrase",
            role="clipper",
        )
        token, _ = auth.sign_in(
            session=session, email="ada@example.com", password="a sturdy passphrase"
        )
        auth.sign_out(session=session, token=token)

    # A separate process, like `make worker`: it sends the job, a worker runs it.
    script = textwrap.dedent(
        """
        import dramatiq
        from dramatiq import Worker
        import workers
        from workers.maintenance import purge_expired_sessions
        assert type(workers.broker).__name__ == "RedisBroker"
        purge_expired_sessions.send()
        worker = Worker(workers.broker, worker_timeout=100)
        worker.start()
        workers.broker.join(purge_expired_sessions.queue_name, timeout=30_000)
        worker.join()
        worker.stop()
        """
    )
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    import os

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr

    from sqlalchemy import func
    from sqlmodel import select

    from clipgen.models import AuthSession

    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(AuthSession)).one() == 0
