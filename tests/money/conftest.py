"""The money tests' fake Stripe: the real stripe library pointed at it for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_stripe import FakeStripe


@pytest.fixture
def fake(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """A running fake Stripe that keeps its events: each test delivers them when, in what
    order and as often as it likes (`tests/support/stripe_webhooks.py`)."""
    with FakeStripe() as running:
        running.deliver_events = False
        running.apply_env(monkeypatch)
        yield running
