"""Rate limits counted with ``limits``: in memory, or in Redis so processes share the count."""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def limit(text: str) -> RateLimitItem:
    """Parse a limit such as ``"5 per 15 minutes"``."""
    return parse(text)


def _key(identifier: str) -> str:
    # Usernames and addresses are personal data: Redis sees only a digest.
    return hashlib.sha256(identifier.encode()).hexdigest()[:32]


class RateLimiter:
    """Counts events per key inside a moving window."""

    def __init__(self, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            found = storage_from_string(f"async+{redis_url}", implementation="redispy")
            assert isinstance(found, Storage)
            storage = found
        else:
            storage = MemoryStorage()
        self.storage = storage
        self._strategy = MovingWindowRateLimiter(storage)

    async def retry_after(self, item: RateLimitItem, namespace: str, identifier: str) -> int | None:
        """Seconds until ``identifier`` may try again, or None when it is under the limit."""
        key = _key(identifier)
        if await self._strategy.test(item, namespace, key):
            return None
        stats = await self._strategy.get_window_stats(item, namespace, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, item: RateLimitItem, namespace: str, identifier: str) -> bool:
        """Count one event; False when it went over the limit."""
        return await self._strategy.hit(item, namespace, _key(identifier))

    async def clear(self, item: RateLimitItem, namespace: str, identifier: str) -> None:
        """Forget the events counted for ``identifier``."""
        await self._strategy.clear(item, namespace, _key(identifier))
