"""How long wardsafe waits on its database: to connect, for a statement, for a free
connection. Both pools (the engine's and the ``DriverPool``) connect with the same bounds."""

from __future__ import annotations

import asyncio
import collections
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

from app.config import Settings

# asyncpg's own bound on a statement is this much longer than PostgreSQL's, so
# that a server that answers cancels the statement itself (a clean error, the
# connection kept) and the client's bound only ends the wait on one that does not.
CLIENT_MARGIN_SECONDS = 1.0


class AcquireTimeout(TimeoutError):
    """No connection came free within the acquire timeout."""


@dataclass(frozen=True)
class Timeouts:
    """The database bounds of one engine (WARDSAFE_DB_*_TIMEOUT_SECONDS), in seconds."""

    connect: float
    statement: float
    acquire: float
    # A transaction left idle (a process stuck between statements) is ended by the
    # server after this long: it would hold the change feed's horizon back.
    idle_in_transaction: float
    # Off for migrations: a schema change may run longer than any request should.
    bound_statements: bool = True

    @classmethod
    def of(cls, settings: Settings, *, bound_statements: bool = True) -> Timeouts:
        """The bounds ``settings`` give."""
        return cls(
            connect=settings.db_connect_timeout_seconds,
            statement=settings.db_statement_timeout_seconds,
            acquire=settings.db_acquire_timeout_seconds,
            idle_in_transaction=settings.db_idle_in_transaction_timeout_seconds,
            bound_statements=bound_statements,
        )

    def asyncpg_args(self) -> dict[str, Any]:
        """Keyword arguments for ``asyncpg.connect``."""
        args: dict[str, Any] = {"timeout": self.connect}
        if self.bound_statements:
            args["command_timeout"] = self.statement + CLIENT_MARGIN_SECONDS
            args["server_settings"] = {
                "statement_timeout": str(round(self.statement * 1000)),
                "idle_in_transaction_session_timeout": str(round(self.idle_in_transaction * 1000)),
            }
        return args

    @property
    def sqlite_busy_seconds(self) -> float:
        """How long a SQLite connection waits for the database's lock (PostgreSQL's
        statement_timeout bounds a lock wait the same way)."""
        return self.statement


# The bounds each engine was made with, found from its pool (an engine's
# ``execution_options`` copies share it), for the DriverPool beside it.
_BY_POOL: weakref.WeakKeyDictionary[Pool, Timeouts] = weakref.WeakKeyDictionary()


def remember(engine: AsyncEngine, timeouts: Timeouts) -> None:
    """Record the bounds ``engine`` connects with."""
    _BY_POOL[engine.pool] = timeouts


def _default(name: str) -> float:
    default: float = Settings.model_fields[f"db_{name}_timeout_seconds"].default
    return default


DEFAULTS = Timeouts(
    connect=_default("connect"),
    statement=_default("statement"),
    acquire=_default("acquire"),
    idle_in_transaction=_default("idle_in_transaction"),
)


def of_engine(engine: AsyncEngine) -> Timeouts:
    """The bounds ``engine`` was made with (``create_engine``), else the defaults."""
    return _BY_POOL.get(engine.pool, DEFAULTS)


# What SQLAlchemy's asyncpg dialect takes from the URL for its own adapter, and
# the ``asyncpg.connect`` argument that means the same for a bare connection.
_ADAPTER_ONLY = {"prepared_statement_cache_size": "statement_cache_size"}


def connect_args_of(engine: AsyncEngine) -> dict[str, Any]:
    """``asyncpg.connect``'s arguments for a connection like ``engine``'s own: its URL's,
    updated with its bounds as SQLAlchemy updates them with ``connect_args``.

    The URL's ``prepared_statement_cache_size`` (0 behind pgbouncer in
    transaction mode, which cannot keep a named statement between
    transactions) sizes SQLAlchemy's adapter's cache; for a bare connection
    it is asyncpg's ``statement_cache_size``, which with 0 sends every
    statement unnamed."""
    _, url_args = engine.dialect.create_connect_args(engine.url)
    for adapter_name, driver_name in _ADAPTER_ONLY.items():
        if adapter_name in url_args:
            url_args.setdefault(driver_name, url_args.pop(adapter_name))
    return {**url_args, **of_engine(engine).asyncpg_args()}


class Turns:
    """A first-come, first-served semaphore whose wait is bounded: a caller still
    waiting after ``wait_seconds`` gets ``AcquireTimeout`` (a 503) instead of a turn.

    Not ``asyncio.Semaphore`` under ``asyncio.timeout``: under load most callers
    wait, and the timeout's context (its task lookups, rescheduling and
    exit) cost a read by id about a tenth of its CPU. Here a waiter is a
    future in a queue with one timer handle of the loop's; a caller that need
    not wait sets none. A turn given to a waiter that was cancelled or timed
    out meanwhile passes to the next one."""

    def __init__(self, value: int, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._free = value
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def free(self) -> int:
        """How many turns are free now."""
        return self._free

    def locked(self) -> bool:
        """Whether a caller would have to wait."""
        return self._free == 0 or bool(self._waiters)

    async def acquire(self) -> Literal[True]:
        """A turn, or ``AcquireTimeout`` once ``wait_seconds`` have passed without one."""
        if not self.locked():
            self._free -= 1
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self.wait_seconds, _expire, waiter, self.wait_seconds)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # given a turn just as it was cancelled: pass it on
            raise
        finally:
            timer.cancel()
        return True

    def release(self) -> None:
        """Give the turn back: to the first caller still waiting, else to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.release()


def _expire(waiter: asyncio.Future[None], seconds: float) -> None:
    if not waiter.done():
        waiter.set_exception(AcquireTimeout(f"no connection came free within {seconds} s"))
