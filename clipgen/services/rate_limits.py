"""How often a user, and a client address, may make each kind of call.

The limits are one table in settings (`config.RATE_LIMIT_DEFAULTS`, overridden by
`RATE_LIMITS`). Counts live in Redis when `REDIS_URL` is set (every app process and
worker shares them) and in this process's memory in the embedded mode. A moving
window is used, so a burst cannot straddle a window edge to get twice the limit.

`hit` checks every key before counting any, and raises `RateLimited` before the caller
does its work, so a refused call changes nothing.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from clipgen.config import RATE_LIMIT_DEFAULTS, Settings, get_settings
from clipgen.services.errors import RateLimited

KEY_PREFIX = "clipgen-limits"


@dataclass(frozen=True)
class _Limiter:
    settings: Settings
    storage: Storage
    strategy: MovingWindowRateLimiter
    items: dict[str, RateLimitItem]


_current: _Limiter | None = None
_lock = threading.Lock()


def _limiter() -> _Limiter:
    """The limiter of the current settings (a new one when the settings were reread)."""
    global _current
    settings = get_settings()
    with _lock:
        if _current is None or _current.settings is not settings:
            storage: Storage
            if settings.redis_url:
                storage = RedisStorage(settings.redis_url, key_prefix=KEY_PREFIX)
            else:
                storage = MemoryStorage()
            items = {kind: parse(value) for kind, value in settings.rate_limit_table.items()}
            _current = _Limiter(settings, storage, MovingWindowRateLimiter(storage), items)
        return _current


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


def address_key(address: str) -> str:
    return f"ip:{address or 'unknown'}"


def _refusal(limiter: _Limiter, item: RateLimitItem, kind: str, keys: list[str]) -> RateLimited:
    reset = max(limiter.strategy.get_window_stats(item, kind, key).reset_time for key in keys)
    now = datetime.now(UTC).timestamp()
    seconds = max(1, math.ceil(reset - now))
    return RateLimited(
        f"Too many attempts; try again in {seconds} s.",
        retry_at=datetime.fromtimestamp(now + seconds, UTC),
    )


def check(kind: str, *keys: str) -> None:
    """Raise `RateLimited` when any of `keys` has used up `kind`'s limit; count nothing."""
    limiter = _limiter()
    item = limiter.items[kind]
    full = [key for key in keys if not limiter.strategy.test(item, kind, key)]
    if full:
        raise _refusal(limiter, item, kind, full)


def hit(kind: str, *keys: str) -> None:
    """Count one `kind` call for each of `keys` (a user, a client address), or raise
    `RateLimited` with nothing counted when any of them has used up its limit."""
    limiter = _limiter()
    item = limiter.items[kind]
    check(kind, *keys)
    full = [key for key in keys if not limiter.strategy.hit(item, kind, key)]
    if full:  # another request took the last slot between the check and the count
        raise _refusal(limiter, item, kind, full)


def clear(kind: str, *keys: str) -> None:
    """Forget the calls counted for `keys` (e.g. wrong passwords after a right one)."""
    limiter = _limiter()
    item = limiter.items[kind]
    for key in keys:
        limiter.strategy.clear(item, kind, key)


def known_kinds() -> tuple[str, ...]:
    """Every kind of limited call (the keys of `RATE_LIMIT_DEFAULTS`)."""
    return tuple(RATE_LIMIT_DEFAULTS)
