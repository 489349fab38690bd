"""The Dramatiq broker, chosen by settings: Redis when `REDIS_URL` is set."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from clipgen.config import get_settings


def configure_broker() -> dramatiq.Broker:
    """Make the process's global broker: Redis if configured, else in-process."""
    redis_url = get_settings().redis_url
    broker: dramatiq.Broker = RedisBroker(url=redis_url) if redis_url else StubBroker()
    dramatiq.set_broker(broker)
    return broker
