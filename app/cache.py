"""A small in-process cache of computed values: a time to live, a bound, and single flight.

Single flight: while one caller computes a missing key, others asking for the
same key wait for that computation instead of starting their own, so 32
phones asking for a province's figures at once cost one query, not 32.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Abandoned(Exception):
    """The computing caller was cancelled: a waiter tries again itself."""


@dataclass(frozen=True)
class Cached(Generic[V]):
    """A value and how many more whole seconds it may be served."""

    value: V
    seconds_left: int


class TTLCache(Generic[K, V]):
    """Values kept ``seconds`` after they were computed, at most ``maxsize`` of them.

    ``seconds == 0`` turns the cache off: every call computes. ``clock`` is
    ``time.monotonic`` unless a test gives its own."""

    def __init__(
        self,
        seconds: float,
        maxsize: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds < 0 or maxsize < 1:
            raise ValueError("seconds must be >= 0 and maxsize >= 1")
        self.seconds = seconds
        self.maxsize = maxsize
        self.clock = clock
        # Key -> (value, expiry), least recently used first.
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self._flights: dict[K, asyncio.Future[Cached[V]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every value (computations in flight still finish)."""
        self._entries.clear()

    async def get_or_compute(self, key: K, compute: Callable[[], Awaitable[V]]) -> Cached[V]:
        """The value of ``key``: the cached one while fresh, else ``compute()``'s, once."""
        if self.seconds == 0:
            return Cached(await compute(), 0)
        while True:
            found = self._fresh(key)
            if found is not None:
                return found
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, compute)
            try:
                # shield: a waiter that is cancelled must not cancel the others' computation.
                return await asyncio.shield(flight)
            except _Abandoned:
                continue

    def _fresh(self, key: K) -> Cached[V] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires = entry
        left = expires - self.clock()
        if left <= 0:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        # Whole seconds, rounded down: a client never keeps it longer than we would.
        return Cached(value, math.floor(left))

    async def _lead(self, key: K, compute: Callable[[], Awaitable[V]]) -> Cached[V]:
        flight: asyncio.Future[Cached[V]] = asyncio.get_running_loop().create_future()
        # Nobody may be waiting: retrieve the outcome so asyncio does not log it as lost.
        flight.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._flights[key] = flight
        try:
            value = await compute()
        except Exception as error:
            flight.set_exception(error)
            raise
        except BaseException:
            flight.set_exception(_Abandoned())
            raise
        finally:
            del self._flights[key]
        self._store(key, value)
        result = Cached(value, math.floor(self.seconds))
        flight.set_result(result)
        return result

    def _store(self, key: K, value: V) -> None:
        self._entries[key] = (value, self.clock() + self.seconds)
        self._entries.move_to_end(key)
        if len(self._entries) > self.maxsize:
            now = self.clock()
            for stale in [k for k, (_, expires) in self._entries.items() if expires <= now]:
                del self._entries[stale]
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
