"""Real PostgreSQL and Redis servers for the tests, on free loopback ports.

Each runs from a temporary directory and is stopped at the end of the run.
When the tests run as root (CI), PostgreSQL runs as the `postgres` user,
because it refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f} s")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(
        f"PostgreSQL's {name} was not found; install it with: apt-get install -y postgresql "
        "(make test does this when run as root)."
    )


def _as_postgres_user() -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return [], None, None
    user = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], user.pw_uid, user.pw_gid


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields a URL to its `postgres` database."""
    prefix, uid, gid = _as_postgres_user()
    root = Path(tempfile.mkdtemp(prefix="clipgen-pg-"))
    data = root / "data"
    if uid is not None:
        os.chown(root, uid, gid)
    port = free_port()
    subprocess.run(
        [
            *prefix,
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-U",
            "clipgen",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    log = root / "server.log"
    subprocess.run(
        [
            *prefix,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {root} -h 127.0.0.1 -F -c fsync=off -c full_page_writes=off",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://clipgen@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "redis-server was not found; install it with: apt-get install -y redis-server "
            "(make test does this when run as root)."
        )
    root = Path(tempfile.mkdtemp(prefix="clipgen-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(root),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
