"""Rate limits: sliding-window counters in Redis (shared by every process) or in memory.

A limit such as ``"5 per 15 minutes"`` (the notation of the ``limits`` package,
which parses it) is a moving window: at most 5 events in any 15 minutes, each
event kept (by a random id and its time) until it leaves the window, so a
``Retry-After`` is exact and a reservation can be taken back by its id.

Counted here rather than with the strategies of ``limits`` (docs/decisions.md):
a reservation can be given back (a replayed or failed report, a sign-in that
turned out right is not a failure), and with Redis away the counting goes on in
the process, with one warning, until Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import limits
import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

logger = logging.getLogger("wardsafe.ratelimit")

T = TypeVar("T")

# What a Redis that is down, restarting or unreachable raises.
_REDIS_FAULTS = (RedisError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Rate:
    """At most ``amount`` events in any ``seconds``-long stretch of time."""

    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"5 per 15 minutes"``, ``"10/hour"``: the notation of the ``limits`` package."""
        item = limits.parse(text)
        return cls(int(item.amount), int(item.get_expiry()))


@dataclass(frozen=True)
class Decision:
    """Whether an event fits its limit, what is left, and when the next one would fit."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until one more event fits; 0 when this one was allowed


def client_key(host: str | None) -> str:
    """The address a client is counted by: an IPv4 address, or an IPv6 address's /64.

    One subscriber gets a whole /64 (RFC 6177), so counting each IPv6
    address alone would let one phone rotate through 2^64 budgets."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


class _Store(Protocol):
    async def reserve(
        self, key: str, rate: Rate, now: float, member: str
    ) -> tuple[bool, int, float]: ...

    async def release(self, key: str, member: str) -> None: ...

    async def remember(self, key: str, seconds: int) -> None: ...

    async def remembered(self, key: str) -> bool: ...


class _Memory:
    """The counters of this process: each key's event times inside its window; keys whose
    events have all left their window are dropped as the map grows."""

    _PURGE_EVERY = 1024

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        # key -> (window length, [(time, member)] oldest first)
        self._events: dict[str, tuple[int, list[tuple[float, str]]]] = {}
        self._marks: dict[str, float] = {}  # key -> when it is forgotten
        self._writes = 0

    async def reserve(
        self, key: str, rate: Rate, now: float, member: str
    ) -> tuple[bool, int, float]:
        _, events = self._events.get(key, (rate.seconds, []))
        events = [event for event in events if event[0] > now - rate.seconds]
        if len(events) >= rate.amount:
            self._events[key] = (rate.seconds, events)
            return False, len(events), events[len(events) - rate.amount][0]
        events.append((now, member))
        self._events[key] = (rate.seconds, events)
        self._writes += 1
        if self._writes % self._PURGE_EVERY == 0:
            self._purge(now)
        return True, len(events), 0.0

    async def release(self, key: str, member: str) -> None:
        found = self._events.get(key)
        if found is not None:
            seconds, events = found
            self._events[key] = (seconds, [event for event in events if event[1] != member])

    async def remember(self, key: str, seconds: int) -> None:
        self._marks[key] = self._clock() + seconds

    async def remembered(self, key: str) -> bool:
        until = self._marks.get(key)
        return until is not None and until > self._clock()

    def _purge(self, now: float) -> None:
        self._events = {
            key: (seconds, events)
            for key, (seconds, events) in self._events.items()
            if events and events[-1][0] > now - seconds
        }
        self._marks = {key: until for key, until in self._marks.items() if until > now}


# Atomic in Redis: of concurrent requests, only as many as fit are counted. The
# events of a key are a sorted set of reservation ids scored by their time.
_RESERVE = """
local now, window, amount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= amount then
  local freeing = redis.call('ZRANGE', KEYS[1], count - amount, count - amount, 'WITHSCORES')
  return {0, count, freeing[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return {1, count + 1, '0'}
"""


class _Redis:
    """The counters in Redis, shared by every process: a sorted set a key, expiring."""

    def __init__(self, url: str, timeout: float) -> None:
        self.client = redis_asyncio.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        self._reserve: Any = self.client.register_script(_RESERVE)

    async def reserve(
        self, key: str, rate: Rate, now: float, member: str
    ) -> tuple[bool, int, float]:
        allowed, count, freeing = await self._reserve(
            keys=[key], args=[repr(now), rate.seconds, rate.amount, member]
        )
        return bool(allowed), int(count), float(freeing)

    async def release(self, key: str, member: str) -> None:
        await self.client.zrem(key, member)

    async def remember(self, key: str, seconds: int) -> None:
        await self.client.set(key, b"1", ex=seconds)

    async def remembered(self, key: str) -> bool:
        return bool(await self.client.exists(key))


class Reservation:
    """One event counted against a limit, which ``release`` gives back (once)."""

    def __init__(self, decision: Decision, store: _Store | None, key: str, member: str) -> None:
        self.decision = decision
        self._store = store if decision.allowed else None
        self._key = key
        self._member = member

    async def release(self) -> None:
        """Give the event back: it did not happen after all. Safe to call twice."""
        store, self._store = self._store, None
        if store is None:
            return
        # Redis may have gone away since: the event then expires with its window.
        with contextlib.suppress(*_REDIS_FAULTS):
            await store.release(self._key, self._member)


class RateLimiter:
    """Counts events per key; in Redis when it is configured and answers, else in memory.

    Keys are an HMAC of the identifier under the secret key: usernames and
    addresses are personal data, and a plain digest of an IPv4 address is
    undone by trying all four billion."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        secret: str = "",
        key_prefix: str = "wardsafe",
        timeout: float = 0.25,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._secret = secret.encode()
        self._prefix = key_prefix
        self._memory = _Memory(clock)
        self._redis = _Redis(redis_url, timeout) if redis_url else None
        self._retry_seconds = retry_seconds
        self._timeout = timeout
        self._down_until = 0.0
        self._down = False

    @property
    def redis_state(self) -> str:
        """``ok``, ``unavailable`` (counting in the process meanwhile) or ``not_configured``."""
        if self._redis is None:
            return "not_configured"
        return "unavailable" if self._down else "ok"

    def _key(self, namespace: str, identifier: str) -> str:
        digest = hmac.new(self._secret, identifier.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self._prefix}:rl:{namespace}:{digest}"

    async def _on_store(self, work: Callable[[_Store], Awaitable[T]]) -> tuple[T, _Store]:
        """``work`` on Redis while it answers; on the process's own counters otherwise."""
        redis = self._redis
        if redis is not None and self._clock() >= self._down_until:
            try:
                result = await work(redis)
            except _REDIS_FAULTS as error:
                self._went_down(error)
            else:
                if self._down:
                    self._down = False
                    logger.info("Redis answers again: rate limits are shared again")
                return result, redis
        return await work(self._memory), self._memory

    def _went_down(self, error: BaseException) -> None:
        self._down_until = self._clock() + self._retry_seconds
        if not self._down:
            self._down = True
            logger.warning(
                "Redis is unreachable: rate limits are counted in each process until it is back",
                extra={"error": type(error).__name__},
            )

    async def reserve(self, rate: Rate, namespace: str, identifier: str) -> Reservation:
        """Count one event if it fits the limit (atomically); the decision says if it did."""
        key = self._key(namespace, identifier)
        now = self._clock()
        member = secrets.token_hex(8)
        (allowed, count, freeing), store = await self._on_store(
            lambda store: store.reserve(key, rate, now, member)
        )
        if allowed:
            decision = Decision(True, rate.amount, max(0, rate.amount - count), 0)
        else:
            wait = max(1, math.ceil(freeing + rate.seconds - now))
            decision = Decision(False, rate.amount, 0, wait)
        return Reservation(decision, store, key, member)

    async def remember(self, namespace: str, identifier: str, seconds: int) -> None:
        """Keep a mark for ``identifier`` for ``seconds``."""
        key = self._key(namespace, identifier)
        await self._on_store(lambda store: store.remember(key, seconds))

    async def remembered(self, namespace: str, identifier: str) -> bool:
        """Whether ``identifier`` carries a live mark."""
        key = self._key(namespace, identifier)
        found, _ = await self._on_store(lambda store: store.remembered(key))
        return found

    async def ping(self) -> str:
        """Ask Redis now, bounded by the limiter's timeout (readiness); the state afterwards."""
        if self._redis is not None:
            try:
                async with asyncio.timeout(2 * self._timeout):
                    await self._redis.client.ping()
            except _REDIS_FAULTS as error:
                self._went_down(error)
            else:
                if self._down:
                    self._down = False
                    self._down_until = 0.0
                    logger.info("Redis answers again: rate limits are shared again")
        return self.redis_state

    async def close(self) -> None:
        """Close the connections to Redis (the app's shutdown)."""
        if self._redis is not None:
            await self._redis.client.aclose()
