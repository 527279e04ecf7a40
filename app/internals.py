"""Every use of a library's private names, and nothing else.

Each one buys a measured gain (docs/performance.md, docs/decisions.md) and
each is pinned by a test in ``tests/test_internals.py`` that fails loudly,
naming the library, when an upgrade moves or renames it. Code elsewhere in
``app/`` uses the names defined here, never the libraries' private ones, so
an upgrade is checked in one place. The versions these were written against:
SQLAlchemy 2.1, FastAPI 0.165, Starlette 1.0, asyncpg 0.32, uvicorn 0.54.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from fastapi._body_limit import AppBodyLimitMiddleware
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from starlette._utils import get_route_path
from starlette.types import Scope
from uvicorn.supervisors import multiprocess

# SQLAlchemy: rows are read by position or by name, never keyed by the
# statement's column objects, so a result need not be re-keyed to each new
# statement's columns when its compiled form comes from the cache. The ORM sets
# the same option for its own queries; re-keying compares every selected column
# with ``==``, which builds a SQL expression each time: a fifth of a read by id.
ROWS_BY_NAME: dict[str, Any] = {"_result_disable_adapt_to_context": True}

# FastAPI: the two layers it wraps every app in that wardsafe unwraps when they
# would only pass the request on (app/main.py, WardsafeAPI).
IDLE_WHEN_TELEMETRY_OFF: type = ExceptionTelemetryMiddleware
IDLE_WITHOUT_BODY_LIMIT: type = AppBodyLimitMiddleware


def bind_order(compiled: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """SQLAlchemy: a compiled statement's bind names in ``$n`` order, and the column
    types' bind processors by name (what its execution layer applies)."""
    return tuple(compiled.positiontup or ()), dict(compiled._bind_processors)


async def begin_as_adapter_would(adapted: Any) -> None:
    """SQLAlchemy's asyncpg adapter: begin its transaction as its first statement would.

    The adapter begins lazily; a statement sent straight to the driver must
    find the transaction begun, or it would commit on its own."""
    if adapted._transaction is None and not adapted.autocommit:
        await adapted._start_transaction()


def as_sqlalchemy_error(error: Exception, sql: str, dialect: Dialect) -> DBAPIError:
    """SQLAlchemy's asyncpg dialect: asyncpg's ``error`` as SQLAlchemy raises it for a
    statement it ran itself (``IntegrityError``, ``ProgrammingError``, ``DBAPIError``...),
    by the dialect's own table, its parameters hidden.

    A statement sent straight to the driver then fails the way one sent through
    SQLAlchemy does: the same class for the services to catch, the same
    problem answer, the same fault for app/faults.py (which reads ``orig``)."""
    dbapi: Any = dialect.loaded_dbapi
    translated: Exception = error
    for kind in type(error).__mro__:
        emulated = dbapi._asyncpg_error_translate.get(kind)
        if emulated is not None:
            translated = emulated(error.args[0] if error.args else str(error), error)
            break
    wrapped = DBAPIError.instance(
        sql, None, translated, dbapi.Error, hide_parameters=True, dialect=dialect
    )
    assert isinstance(wrapped, DBAPIError)
    return wrapped


def pool_ceiling(pool: QueuePool) -> int:
    """SQLAlchemy: how many connections a ``QueuePool`` opens at most."""
    ceiling: int = pool.size() + pool._max_overflow
    return ceiling


def route_path(scope: Scope) -> str:
    """Starlette: the request's path below the app's ``root_path``, as its routes match it."""
    return get_route_path(scope)


def skip_caller_lookup() -> None:
    """The standard library's logging: no record looks up its caller's file and line.

    The stack walk cost every request's access line a few microseconds;
    logging's own comment on ``_srcfile`` names this use."""
    logging._srcfile = None


@contextlib.contextmanager
def workers_made_as(process: type[multiprocess.Process]) -> Iterator[None]:
    """uvicorn: within the block, its supervisor makes every worker as ``process``.

    It makes them (at start, on restart, on SIGHUP and SIGTTIN) from its
    module's ``Process`` and has no way to choose their server; copying its
    methods instead would miss what a later uvicorn changes in them."""
    made_as = multiprocess.Process
    multiprocess.Process = process  # type: ignore[misc]
    try:
        yield
    finally:
        multiprocess.Process = made_as  # type: ignore[misc]
