"""Rate limits for tests that are about something else: far above any test's burst
(a property test posts thousands of webhooks; one browser registers many users).
The rate limit tests set their own."""

from __future__ import annotations

from clipgen.config import RATE_LIMIT_DEFAULTS

GENEROUS_RATE_LIMITS = ";".join(f"{kind}=100000/minute" for kind in RATE_LIMIT_DEFAULTS)
