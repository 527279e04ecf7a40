"""The in-process TTL cache: freshness, its bound, and one computation per key at a time."""

from __future__ import annotations

import asyncio

import pytest

from app.cache import TTLCache


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Counts its calls; each call answers the next number, or waits for ``gate`` first."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.calls = 0
        self.gate = gate

    async def __call__(self) -> int:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        return self.calls


class TestFreshness:
    async def test_a_value_is_served_until_it_expires(self) -> None:
        clock, load = Clock(), Loader()
        cache: TTLCache[str, int] = TTLCache(60, clock=clock)
        first = await cache.get_or_compute("22", load)
        clock.now += 59.5
        second = await cache.get_or_compute("22", load)
        clock.now += 0.5
        third = await cache.get_or_compute("22", load)
        assert (first.value, first.seconds_left) == (1, 60)
        # Whole seconds left, rounded down.
        assert (second.value, second.seconds_left) == (1, 0)
        assert (third.value, third.seconds_left, load.calls) == (2, 60, 2)

    async def test_seconds_left_count_down(self) -> None:
        clock = Clock()
        cache: TTLCache[str, int] = TTLCache(60, clock=clock)
        await cache.get_or_compute("22", Loader())
        clock.now += 20.2
        assert (await cache.get_or_compute("22", Loader())).seconds_left == 39

    async def test_zero_seconds_computes_every_time(self) -> None:
        load = Loader()
        cache: TTLCache[str, int] = TTLCache(0)
        answers = [await cache.get_or_compute("22", load) for _ in range(3)]
        assert [(a.value, a.seconds_left) for a in answers] == [(1, 0), (2, 0), (3, 0)]
        assert len(cache) == 0

    async def test_keys_are_kept_apart(self) -> None:
        load = Loader()
        cache: TTLCache[str, int] = TTLCache(60)
        assert (await cache.get_or_compute("22", load)).value == 1
        assert (await cache.get_or_compute("06688", load)).value == 2
        assert (await cache.get_or_compute("22", load)).value == 1

    def test_negative_seconds_are_refused(self) -> None:
        with pytest.raises(ValueError, match="seconds"):
            TTLCache(-1)


class TestBound:
    async def test_the_least_recently_used_key_goes_first(self) -> None:
        cache: TTLCache[str, int] = TTLCache(60, maxsize=2)
        load = Loader()
        await cache.get_or_compute("a", load)
        await cache.get_or_compute("b", load)
        await cache.get_or_compute("a", load)  # a is now the more recent
        await cache.get_or_compute("c", load)
        assert len(cache) == 2
        assert (await cache.get_or_compute("a", load)).value == 1
        assert (await cache.get_or_compute("b", load)).value == 4

    async def test_expired_keys_go_before_fresh_ones(self) -> None:
        clock = Clock()
        cache: TTLCache[str, int] = TTLCache(60, maxsize=2, clock=clock)
        load = Loader()
        await cache.get_or_compute("old", load)
        clock.now += 50
        await cache.get_or_compute("recent", load)
        clock.now += 20  # "old" has expired, "recent" has not
        await cache.get_or_compute("new", load)
        assert (await cache.get_or_compute("recent", load)).value == 2
        assert load.calls == 3


class TestSingleFlight:
    async def test_concurrent_misses_share_one_computation(self) -> None:
        gate = asyncio.Event()
        load = Loader(gate)
        cache: TTLCache[str, int] = TTLCache(60)
        callers = [asyncio.create_task(cache.get_or_compute("22", load)) for _ in range(32)]
        await asyncio.sleep(0)
        gate.set()
        answers = await asyncio.gather(*callers)
        assert load.calls == 1
        assert {a.value for a in answers} == {1}

    async def test_an_error_reaches_every_waiter_and_is_not_kept(self) -> None:
        gate = asyncio.Event()

        async def failing() -> int:
            await gate.wait()
            raise RuntimeError("database went away")

        cache: TTLCache[str, int] = TTLCache(60)
        callers = [asyncio.create_task(cache.get_or_compute("22", failing)) for _ in range(3)]
        await asyncio.sleep(0)
        gate.set()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
        assert (await cache.get_or_compute("22", Loader())).value == 1

    async def test_a_cancelled_computation_lets_a_waiter_compute(self) -> None:
        gate = asyncio.Event()
        load = Loader(gate)
        cache: TTLCache[str, int] = TTLCache(60)
        leader = asyncio.create_task(cache.get_or_compute("22", load))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(cache.get_or_compute("22", load))
        await asyncio.sleep(0)
        leader.cancel()
        await asyncio.sleep(0)
        gate.set()
        answer = await waiter
        assert leader.cancelled()
        assert (answer.value, load.calls) == (2, 2)

    async def test_a_cancelled_waiter_does_not_cancel_the_computation(self) -> None:
        gate = asyncio.Event()
        load = Loader(gate)
        cache: TTLCache[str, int] = TTLCache(60)
        leader = asyncio.create_task(cache.get_or_compute("22", load))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(cache.get_or_compute("22", load))
        await asyncio.sleep(0)
        waiter.cancel()
        gate.set()
        assert (await leader).value == 1
        assert waiter.cancelled()
