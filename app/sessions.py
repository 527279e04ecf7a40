"""The request's sessions: a ``ReadSession`` for routes that only read (no transaction
on PostgreSQL, prepared reads through the driver pool), a ``WriteSession`` committed when
the route returns, and the first-come, first-served slots both wait in."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
)
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.types import Scope

from app import internals
from app.data.driver import DriverPool
from app.data.prepared import ALONE_POOL, READ_POOL
from app.db import ON_ROLLBACK, ReadSession, WriteSession, read_session_of
from app.timeouts import Turns, of_engine


def connection_slots(engine: AsyncEngine) -> Turns | None:
    """A first-come, first-served queue for the pool's connections (PostgreSQL).

    Under load SQLAlchemy's async pool is not fair: a request woken for a
    returned connection can find it taken by a newer one and goes back to the
    end of the line. With 32 callers and 20 connections, one request in a
    hundred waited 1 to 5 seconds (docs/performance.md). Requests take a slot
    before their session and keep it until the session closes, so the pool
    itself never has a waiter, and they are served in the order they came. One
    that waits longer than the acquire timeout gets a 503."""
    pool = engine.pool
    if engine.dialect.name != "postgresql" or not isinstance(pool, QueuePool):
        return None
    return Turns(internals.pool_ceiling(pool), of_engine(engine).acquire)


def _slot(request: Request) -> Turns | contextlib.nullcontext[None]:
    slots: Turns | None = getattr(request.app.state, "connection_slots", None)
    return slots if slots is not None else contextlib.nullcontext()


@dataclass(frozen=True)
class Reads:
    """How routes that only read reach PostgreSQL: statements outside a transaction,
    prepared reads through the driver's own pool (which also runs a write that is
    one statement by itself, ``Prepared.gate``)."""

    engine: AsyncEngine
    autocommit: AsyncEngine  # the engine's pool, each statement on its own
    driver: DriverPool

    @classmethod
    def of(cls, engine: AsyncEngine, pool_size: int) -> Reads | None:
        """For ``engine`` on PostgreSQL; None elsewhere (SQLite keeps its transaction:
        it costs no round trip there)."""
        if engine.dialect.name != "postgresql":
            return None
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(engine, autocommit, DriverPool(engine, pool_size))


def _reads_of(state: Any) -> Reads | None:
    """The app's ``Reads``, if its sessionmaker is bound to their engine (a test's
    sessionmaker, bound to its own connection, gets plain sessions of it)."""
    reads: Reads | None = getattr(state, "reads", None)
    if reads is not None and state.sessionmaker.kw.get("bind") is reads.engine:
        return reads
    return None


# Where the request's read session waits to be closed (the ASGI scope).
_READ_SESSION = "wardsafe.read_session"


async def get_read_session(request: Request) -> ReadSession:
    """A session for routes that only read: no transaction on PostgreSQL, and prepared
    reads through the ``DriverPool``.

    The request's transaction would cost two more round trips to the server
    (BEGIN, COMMIT) for one SELECT, a third of a light read's time against
    the database (docs/performance.md). A route that reads several times
    sees each statement's own snapshot, which is what a list or a figure
    needs. Not a ``yield`` dependency: FastAPI's machinery for those cost a
    read by id a sixth of its CPU. The session connects only if a statement
    needs it, and the route (``app.routing.Route``) closes it when its
    handler is done; a route of another class cannot have one. A test's
    sessionmaker, bound to its own connection, gets a read session of it."""
    if not getattr(request.scope.get("route"), "closes_read_sessions", False):
        raise RuntimeError("a read session needs a route that closes it (app.routing.Route)")
    state = request.app.state
    slots: Turns | None = getattr(state, "connection_slots", None)
    if slots is not None:
        await slots.acquire()
    try:
        sessionmaker: async_sessionmaker[WriteSession] = state.sessionmaker
        reads = _reads_of(state)
        if reads is not None:
            session = read_session_of(sessionmaker, bind=reads.autocommit)
            session.info[READ_POOL] = reads.driver
        else:
            session = read_session_of(sessionmaker)
    except BaseException:
        if slots is not None:
            slots.release()
        raise
    request.scope[_READ_SESSION] = (session, slots)
    return session


async def close_read_session(scope: Scope) -> None:
    """Close the request's read session, if it opened one, and free its slot."""
    held: tuple[ReadSession, Turns | None] | None = scope.pop(_READ_SESSION, None)
    if held is None:
        return
    session, slots = held
    try:
        # A session that never ran a statement through SQLAlchemy holds nothing.
        if session.in_transaction():
            await session.close()
    finally:
        if slots is not None:
            slots.release()


async def get_session(request: Request) -> AsyncIterator[WriteSession]:
    """One session per request: committed once when the route returns, rolled back on error.

    A session that never reached the database (a new report whose one
    statement ran by itself, ``Prepared.gate``) has nothing to commit or
    close, and skips both."""
    state = request.app.state
    sessionmaker: async_sessionmaker[WriteSession] = state.sessionmaker
    async with _slot(request):
        session = sessionmaker()
        reads = _reads_of(state)
        if reads is not None:
            session.info[ALONE_POOL] = reads.driver
        try:
            yield session
            if session.in_transaction():
                await session.commit()
        except BaseException:
            try:
                await session.rollback()
            finally:
                for undo in session.info.pop(ON_ROLLBACK, ()):
                    await undo()
            raise
        finally:
            if session.in_transaction():
                await session.close()
