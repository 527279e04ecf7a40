"""The rate limiter: a moving window in memory and in Redis, reservations given back,
client addresses, and the fall back to the process's own counts while Redis is away."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator

import pytest

from app.ratelimit import Rate, RateLimiter, client_key
from tests.conftest import RedisSpace
from tests.tcp_proxy import proxy_to

FIVE = Rate.parse("5 per 15 minutes")


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def limiter(
    request: pytest.FixtureRequest, redis_space: RedisSpace
) -> AsyncIterator[tuple[RateLimiter, Clock]]:
    clock = Clock()
    url = redis_space.url if request.param == "redis" else None
    # A timeout well above a loaded machine's Redis round trip: these tests are about the
    # counting; falling back to memory when Redis is slow has tests of its own.
    built = RateLimiter(
        url, secret="s" * 32, key_prefix=redis_space.prefix, clock=clock, timeout=5.0
    )
    try:
        yield built, clock
    finally:
        await built.close()


class TestMovingWindow:
    async def test_five_fit_the_sixth_waits_until_the_first_leaves_the_window(
        self, limiter: tuple[RateLimiter, Clock]
    ) -> None:
        rate_limiter, clock = limiter
        remaining = []
        for _ in range(5):
            reservation = await rate_limiter.reserve(FIVE, "test", "someone")
            assert reservation.decision.allowed
            remaining.append(reservation.decision.remaining)
            clock.now += 60
        assert remaining == [4, 3, 2, 1, 0]
        refused = await rate_limiter.reserve(FIVE, "test", "someone")
        assert not refused.decision.allowed
        # The first event was 300 s ago: it leaves the 900 s window in 600 s.
        assert refused.decision.retry_after == 600
        clock.now += 600
        assert (await rate_limiter.reserve(FIVE, "test", "someone")).decision.allowed

    async def test_identifiers_and_namespaces_count_apart(
        self, limiter: tuple[RateLimiter, Clock]
    ) -> None:
        rate_limiter, _ = limiter
        for _ in range(5):
            await rate_limiter.reserve(FIVE, "test", "someone")
        assert (await rate_limiter.reserve(FIVE, "test", "someone else")).decision.allowed
        assert (await rate_limiter.reserve(FIVE, "other", "someone")).decision.allowed

    async def test_a_released_event_is_given_back_once(
        self, limiter: tuple[RateLimiter, Clock]
    ) -> None:
        rate_limiter, _ = limiter
        held = [await rate_limiter.reserve(FIVE, "test", "someone") for _ in range(5)]
        await held[0].release()
        await held[0].release()
        assert (await rate_limiter.reserve(FIVE, "test", "someone")).decision.allowed
        assert not (await rate_limiter.reserve(FIVE, "test", "someone")).decision.allowed

    async def test_a_refused_reservation_gives_nothing_back(
        self, limiter: tuple[RateLimiter, Clock]
    ) -> None:
        rate_limiter, _ = limiter
        for _ in range(5):
            await rate_limiter.reserve(FIVE, "test", "someone")
        refused = await rate_limiter.reserve(FIVE, "test", "someone")
        await refused.release()
        assert not (await rate_limiter.reserve(FIVE, "test", "someone")).decision.allowed

    async def test_concurrent_reservations_never_exceed_the_limit(
        self, limiter: tuple[RateLimiter, Clock]
    ) -> None:
        rate_limiter, _ = limiter
        reservations = await asyncio.gather(
            *(rate_limiter.reserve(FIVE, "test", "someone") for _ in range(20))
        )
        assert sum(r.decision.allowed for r in reservations) == 5

    async def test_marks_are_remembered_for_their_time(
        self, limiter: tuple[RateLimiter, Clock]
    ) -> None:
        rate_limiter, _ = limiter
        assert not await rate_limiter.remembered("known", "someone")
        await rate_limiter.remember("known", "someone", 60)
        assert await rate_limiter.remembered("known", "someone")
        assert not await rate_limiter.remembered("known", "someone else")


class TestRedisKeys:
    async def test_keys_are_keyed_digests_under_the_prefix(self, redis_space: RedisSpace) -> None:
        rate_limiter = RateLimiter(redis_space.url, secret="s" * 32, key_prefix=redis_space.prefix)
        try:
            await rate_limiter.reserve(FIVE, "login-address", "192.0.2.1")
        finally:
            await rate_limiter.close()
        [key] = await redis_space.keys()
        assert key.startswith(f"{redis_space.prefix}:rl:login-address:")
        assert "192.0.2.1" not in key
        # Not a plain digest of the address, which anyone could recompute.
        assert hashlib.sha256(b"192.0.2.1").hexdigest()[:32] not in key


class TestClientKey:
    @pytest.mark.parametrize(
        ("host", "key"),
        [
            ("203.0.113.7", "203.0.113.7"),
            ("2001:db8:7:1::1", "2001:db8:7:1::/64"),
            ("2001:db8:7:1:ffff:ffff:ffff:ffff", "2001:db8:7:1::/64"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("testclient", "testclient"),
            (None, "unknown"),
        ],
    )
    def test_ipv6_counts_by_its_64(self, host: str | None, key: str) -> None:
        assert client_key(host) == key


class TestRedisAway:
    async def test_counts_fall_back_to_the_process_then_back_to_redis(
        self, redis_space: RedisSpace, caplog: pytest.LogCaptureFixture
    ) -> None:
        clock = Clock()
        async with proxy_to(redis_space.url) as proxy:
            url = proxy.url(redis_space.url)
            first = RateLimiter(url, secret="s" * 32, key_prefix=redis_space.prefix, clock=clock)
            second = RateLimiter(url, secret="s" * 32, key_prefix=redis_space.prefix, clock=clock)
            try:
                assert (await first.reserve(FIVE, "test", "someone")).decision.allowed
                assert first.redis_state == "ok"
                # Redis freezes: each call gives up after its timeout.
                proxy.pause()
                with caplog.at_level(logging.INFO, logger="wardsafe.ratelimit"):
                    # Meanwhile each process counts for itself, with one warning.
                    for _ in range(5):
                        assert (await first.reserve(FIVE, "test", "someone")).decision.allowed
                    assert not (await first.reserve(FIVE, "test", "someone")).decision.allowed
                    assert first.redis_state == "unavailable"
                    assert await first.ping() == "unavailable"
                    proxy.resume()
                    proxy.cut()
                    # Retried once its pause is over, and shared again.
                    clock.now += 6
                    assert (await first.reserve(FIVE, "test", "again")).decision.allowed
                    assert first.redis_state == "ok"
                for _ in range(4):
                    assert (await second.reserve(FIVE, "test", "again")).decision.allowed
                assert not (await second.reserve(FIVE, "test", "again")).decision.allowed
                records = [r for r in caplog.records if r.name == "wardsafe.ratelimit"]
                messages = [r.getMessage() for r in records]
                assert len(messages) == 2, messages
                assert "unreachable" in messages[0]
                assert "again" in messages[1]
            finally:
                await first.close()
                await second.close()
