"""Fixtures for tests that run real Dramatiq workers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import redis

# Redis databases 1-15 in turn, so a message a killed worker left cannot reach the next test.
_redis_databases = itertools.count()


@pytest.fixture
def broker_url(redis_url: str) -> Iterator[str]:
    """A Redis database of this test's own, emptied before and after."""
    url = redis_url.rsplit("/", 1)[0] + f"/{next(_redis_databases) % 15 + 1}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """The messages services send to workers, as (actor name, ids), in the order sent.

    Services send only after their transaction commits (`clipgen.services.tasks`).
    """
    from clipgen.services import tasks

    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages
