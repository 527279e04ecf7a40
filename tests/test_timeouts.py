"""Turns: the first-come, first-served semaphore with a bounded wait (app/timeouts.py)."""

from __future__ import annotations

import asyncio

import pytest

from app.timeouts import AcquireTimeout, Turns


class TestTurns:
    async def test_a_free_turn_is_taken_at_once_and_given_back(self) -> None:
        turns = Turns(2, wait_seconds=0.5)
        await turns.acquire()
        assert not turns.locked()
        await turns.acquire()
        assert turns.locked()
        turns.release()
        assert not turns.locked()

    async def test_waiters_are_served_in_the_order_they_came(self) -> None:
        turns = Turns(1, wait_seconds=5)
        await turns.acquire()
        served: list[int] = []

        async def wait(number: int) -> None:
            async with turns:
                served.append(number)

        waiting = [asyncio.create_task(wait(number)) for number in range(5)]
        await asyncio.sleep(0)
        turns.release()
        await asyncio.gather(*waiting)
        assert served == [0, 1, 2, 3, 4]

    async def test_a_waiter_gives_up_after_its_bound(self) -> None:
        turns = Turns(1, wait_seconds=0.05)
        await turns.acquire()
        started = asyncio.get_running_loop().time()
        with pytest.raises(AcquireTimeout):
            await turns.acquire()
        assert 0.04 <= asyncio.get_running_loop().time() - started < 1
        # The turn still held is not lost: once released, the next caller gets it.
        turns.release()
        await asyncio.wait_for(turns.acquire(), 1)

    async def test_a_turn_released_to_a_cancelled_waiter_passes_to_the_next(self) -> None:
        turns = Turns(1, wait_seconds=5)
        await turns.acquire()
        first = asyncio.create_task(turns.acquire())
        second = asyncio.create_task(turns.acquire())
        await asyncio.sleep(0)
        turns.release()  # the first waiter's turn ...
        first.cancel()  # ... which it no longer wants
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await asyncio.wait_for(second, 1) is True
        assert turns.locked()
        turns.release()
        assert not turns.locked()
