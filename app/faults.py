"""Database faults: which errors mean the database is briefly away (a 503 with
Retry-After, not a bug's 500), how their connections are dropped, and the one log
line per kind of fault.

The one place that classifies them: the request middleware answers and logs
with it, and the pools (app/db.py) drop the connections it says are done for."""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import DisconnectionError as PoolDisconnection
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from app.errors import DatabaseUnavailable, problem_response, problem_responses
from app.logs import type_name
from app.timeouts import AcquireTimeout

logger = logging.getLogger("wardsafe.faults")

# What a client is told to wait before it retries: a restart or a failover
# takes seconds; a request that ran into a timeout waited that long already.
RETRY_AFTER_SECONDS = 5

# At most one log line per kind of fault in this many seconds (the first at once).
LOG_EVERY_SECONDS = 10.0

# The kinds of fault, as the log line's ``kind`` names them.
UNREACHABLE = "unreachable"  # no connection could be made (refused, no route, no such host)
CONNECTION_LOST = "connection-lost"  # the connection broke or was closed under a request
RESTARTING = "restarting"  # the server is shutting down or starting up
TOO_MANY_CONNECTIONS = "too-many-connections"  # the server refused one more connection
STATEMENT_TIMEOUT = "statement-timeout"  # PostgreSQL's statement_timeout cancelled it
TIMEOUT = "timeout"  # no answer within the connect or the client's statement bound
ACQUIRE_TIMEOUT = "acquire-timeout"  # no connection came free in time
LOCKED = "locked"  # SQLite: another writer held the database past the busy timeout

# SQLSTATEs (PostgreSQL's appendix A) that mean the server is away, not that
# the statement is wrong; class 08 is the connection family.
_SQLSTATES = {
    "57P01": RESTARTING,  # admin_shutdown
    "57P02": RESTARTING,  # crash_shutdown
    "57P03": RESTARTING,  # cannot_connect_now (starting up, or in recovery)
    "53300": TOO_MANY_CONNECTIONS,
    "57014": STATEMENT_TIMEOUT,  # query_canceled
}
# The kinds after which the connection that raised them is no use any more.
_CONNECTION_ENDING = frozenset({UNREACHABLE, CONNECTION_LOST, RESTARTING, TIMEOUT})

# OSErrors about files, which a database connection does not raise: a bug's.
_FILE_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


@dataclass(frozen=True)
class Fault:
    """A database fault: its kind, and the type of the error that told it."""

    kind: str
    error_type: str


def _driver_kind(error: BaseException) -> str | None:
    """The kind of a driver's (or the network's) own error."""
    if isinstance(error, asyncpg.PostgresError):
        sqlstate = str(getattr(error, "sqlstate", "") or "")
        if sqlstate.startswith("08"):
            return CONNECTION_LOST
        return _SQLSTATES.get(sqlstate)
    if isinstance(error, asyncpg.InterfaceError):
        # asyncpg's way of saying it: "connection is closed", "connection was closed
        # in the middle of operation" (the same test as SQLAlchemy's is_disconnect).
        return CONNECTION_LOST if "connection" in str(error) and "closed" in str(error) else None
    if isinstance(error, sqlite3.OperationalError):
        name = str(getattr(error, "sqlite_errorname", ""))
        return LOCKED if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) else None
    if isinstance(error, AcquireTimeout):
        return ACQUIRE_TIMEOUT
    if isinstance(error, TimeoutError):
        return TIMEOUT
    if isinstance(error, ConnectionRefusedError | socket.gaierror | socket.herror):
        return UNREACHABLE
    if isinstance(error, ConnectionError):
        return CONNECTION_LOST
    if isinstance(error, OSError) and not isinstance(error, _FILE_ERRORS):
        # asyncio's "Multiple exceptions: [Errno 111] Connect call failed ..." is a
        # bare OSError, as are "Network is unreachable" and "No route to host".
        return UNREACHABLE
    return None


def _layers(error: BaseException) -> list[BaseException]:
    """``error`` and the driver's errors under it, innermost first: SQLAlchemy's error
    wraps its dialect's (``orig``), which for asyncpg wraps asyncpg's own (aiosqlite's
    is sqlite3's itself)."""
    layers = [error]
    inner = getattr(error, "orig", None)
    while isinstance(inner, BaseException) and len(layers) < 3:
        layers.append(inner)
        inner = getattr(inner, "orig", None)
    return layers[::-1]


def classify(error: BaseException) -> Fault | None:
    """The database fault ``error`` is, or None when it is something else (a bug: a 500)."""
    if isinstance(error, BaseExceptionGroup):
        faults = [classify(member) for member in error.exceptions]
        if faults and all(fault is not None for fault in faults):
            return faults[0]
        return None
    if isinstance(error, PoolTimeout):
        return Fault(ACQUIRE_TIMEOUT, type_name(error))
    for layer in _layers(error):
        kind = _driver_kind(layer)
        if kind is not None:
            return Fault(kind, type_name(layer))
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return Fault(CONNECTION_LOST, type_name(error))
    return None


def ends_connection(error: BaseException) -> bool:
    """Whether the connection that raised ``error`` can serve no other statement (it
    broke, or it is stuck waiting for a server that does not answer)."""
    if not isinstance(error, Exception):
        return True  # cancelled mid-statement: asyncpg still waits for the server
    for layer in _layers(error):
        if getattr(layer, "severity_en", None) in ("FATAL", "PANIC"):
            return True  # the server ended the session
    fault = classify(error)
    return fault is not None and fault.kind in _CONNECTION_ENDING


class FaultLog:
    """One short line per kind of fault, never a traceback: the first at once, then at
    most one per ``every`` seconds, which counts the ones not logged since.

    During a 10-second outage each request used to log a full traceback (1,730
    of them, 10 MB); an operator needs the kind, when it began and how often."""

    def __init__(
        self, every: float = LOG_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def report(self, fault: Fault, route: str) -> None:
        """Count ``fault`` on ``route`` (a template), logging it if its kind is due."""
        now = self._clock()
        last = self._last.get(fault.kind)
        if last is not None and now - last < self.every:
            self._suppressed[fault.kind] += 1
            return
        self._last[fault.kind] = now
        logger.warning(
            "database unavailable",
            extra={
                "kind": fault.kind,
                "error": fault.error_type,
                "route": route,
                "suppressed": self._suppressed.pop(fault.kind, 0),
            },
        )


fault_log = FaultLog()

DETAIL = "The database is briefly unavailable; retry after the Retry-After seconds."


def unavailable_response(request: Request) -> Response:
    """The 503 a database fault gets: the ``database-unavailable`` problem with
    Retry-After, or the route's own ``unavailable_response`` where its errors take
    another format (Open311's)."""
    own = getattr(request.scope.get("route"), "unavailable_response", None)
    if own is not None:
        response: Response = own()
        return response
    return problem_response(
        request,
        status=DatabaseUnavailable.status,
        slug=DatabaseUnavailable.slug,
        title=DatabaseUnavailable.title,
        detail=DETAIL,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def watch_connections(engine: AsyncEngine) -> None:
    """Make ``engine``'s pool drop connections that are done for (PostgreSQL).

    A connection the server closed while it sat in the pool (a restart) is
    replaced when it is checked out: asyncpg knows it is closed, so the check
    costs no round trip (``pool_pre_ping`` would cost one per checkout). One
    that broke or hung under a statement is invalidated, not reset and
    returned: a reset on it would wait on the server too."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # SQLAlchemy's documented way to have the pool open a fresh one.
            raise PoolDisconnection("the server closed the connection while it was idle")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if not ends_connection(context.original_exception):
            return
        context.is_disconnect = True
        connection = context.connection
        driver = None if connection is None or connection.invalidated else connection.connection
        if driver is not None and driver.driver_connection is not None:
            # Closed at once: SQLAlchemy's own close of an invalidated connection
            # first asks the server politely, and waits 2 s for one that is frozen.
            driver.driver_connection.terminate()


def declare_unavailable(schema: dict[str, Any]) -> None:
    """Declare the 503 problem on every operation of ``schema`` that reaches the database
    (Open311's routes declare their own, in their format)."""
    [(status, declared)] = problem_responses(DatabaseUnavailable.status).items()
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault(str(status), declared)
