"""The asyncpg side of the fast path: statements compiled once for the driver, their
results decoded as SQLAlchemy would, the driver pool of routes that only read, and the
driver connection under a session's own (docs/decisions.md, "Data layer")."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import orjson
from sqlalchemy import (
    Float,
    Numeric,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
)
from sqlalchemy.sql.expression import ClauseElement, Executable

from app import faults, internals
from app.db import UTCDateTime
from app.timeouts import Turns, connect_args_of, of_engine


class Row(asyncpg.Record):  # type: ignore[misc]
    """A driver row, read as a SQLAlchemy ``Row`` is: by position, by attribute
    (``row.ward_code``) or as ``_asdict()``, so a service cannot tell which path ran.

    asyncpg makes it as it decodes the row (``record_class``, public API): no copy
    into another type per row, which cost a page of cameras 3 % of its
    instructions (docs/performance.md)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _fields(self) -> tuple[str, ...]:
        return tuple(self.keys())

    def _asdict(self) -> dict[str, Any]:
        return dict(self.items())

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(self.items())


def _named_row(names: list[str]) -> Any:
    return namedtuple("DecodedRow", names, rename=True)


@dataclass(frozen=True)
class AsyncpgQuery:
    """A statement compiled for asyncpg: its text, and how values become its arguments."""

    sql: str
    order: tuple[str, ...]  # the bindparam behind each $n
    processors: dict[str, Any]  # the column types' bind processors (UTC datetimes)
    fixed: dict[str, Any]  # values written into the statement itself (``.limit(1)``)
    # The result processors of the columns whose asyncpg value is not already
    # SQLAlchemy's, by position; none for every column type wardsafe has today.
    decoders: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
    # The named tuple a decoded row becomes (attribute access, as ``Row``'s).
    decoded_row: Any = None

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> AsyncpgQuery:
        """``statement`` compiled once for ``dialect`` (asyncpg's)."""
        compiled: Any = cast(ClauseElement, statement).compile(dialect=dialect)
        sql = str(compiled)
        # An IN list expands at execution time; such a statement is not prepared here.
        if "POSTCOMPILE" in sql:
            raise ValueError("a prepared read cannot hold an expanding IN list")
        fixed = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        decoders = result_decoders(statement, dialect)
        decoded_row: Any = None
        if decoders:
            names = [str(c.key) for c in getattr(statement, "exported_columns", ())]
            decoded_row = _named_row(names)
        return cls(sql, *internals.bind_order(compiled), fixed, decoders, decoded_row)

    def decoded(self, records: list[Any]) -> list[Any]:
        """``records`` as SQLAlchemy would give them: as they are, or as named tuples
        whose columns of a type SQLAlchemy converts are converted."""
        if not self.decoders:
            return records
        rows = []
        make = self.decoded_row._make
        for record in records:
            row = list(record)
            for position, decode in self.decoders:
                row[position] = decode(row[position])
            rows.append(make(row))
        return rows

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``values`` (every ``bindparam`` named)."""
        if self.fixed:
            values = {**self.fixed, **values}
        processors = self.processors
        return [
            processors[name](values[name]) if name in processors else values[name]
            for name in self.order
        ]


# The OID PostgreSQL gives a column of SQLAlchemy's numeric types, whose result
# processing on asyncpg depends on it: ``Float`` is created as double precision.
def _numeric_oid(type_: Any) -> int:
    return 701 if isinstance(type_, Float) else 1700


def result_decoders(
    statement: Executable, dialect: Dialect
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """The result processors SQLAlchemy would apply to ``statement``'s columns on
    ``dialect`` (asyncpg's), by position, for the driver path to apply too.

    Raises ``TypeError`` when the statement is built if a column's processing
    cannot be told without a database, rather than giving back another value
    than SQLAlchemy would at run time. A ``UTCDateTime`` needs none: asyncpg
    gives an aware UTC datetime for a ``timestamptz``, as it converts to."""
    decoders = []
    for position, column in enumerate(getattr(statement, "exported_columns", ())):
        type_ = column.type
        if isinstance(type_, UTCDateTime):
            continue
        impl = type_.dialect_impl(dialect)
        try:
            processor = impl.result_processor(dialect, None)
        except TypeError:
            if not isinstance(impl, Numeric | Float):
                raise TypeError(f"cannot tell how {column.key!r} ({type_!r}) comes back") from None
            processor = impl.result_processor(dialect, _numeric_oid(impl))  # type: ignore[no-untyped-call]
        if processor is not None:
            decoders.append((position, processor))
    return tuple(decoders)


class DriverPool:
    """A pool of asyncpg connections of its own, for the prepared reads of routes that
    only read, and for a write that is one statement by itself (``Prepared.gate``).

    On PostgreSQL a hot read skips SQLAlchemy's session and pool altogether:
    with them, a read by id spent about a third of its CPU taking and giving
    back a connection (docs/performance.md). Connections open as reads need
    them, up to ``size`` beside the engine's own, and stay open. They only
    ever run single statements outside a transaction (each commits as it
    completes), so a connection goes back as it is, with nothing to reset.
    JSON comes back decoded, as SQLAlchemy's connections give it.

    Not asyncpg's ``Pool``: taking and giving back one of its connections cost
    11 µs of CPU (a proxy object, and a task shielding each release), a
    twentieth of a read by id, for what a list of idle connections does here
    (docs/decisions.md). ``connect`` replaces how it opens one: the test suite
    hands it the test's own connection, so its reads take this path too.
    Reads queue for a connection in a semaphore of the pool's size, first come
    first served (asyncpg's queue let a newcomer take a connection returned
    for a waiter: a list's p99 went from 0.2 to 0.8 s).
    A connection that failed other than with an error of PostgreSQL's (it
    broke, or the read was cancelled mid-statement or timed out), or with one
    that ended its session (a shutdown), is closed, not reused; one found
    closed while idle (the server restarted) is replaced. Connections open
    with the engine's own bounds (app/timeouts.py), and a read waits for its
    turn no longer than the engine's acquire timeout."""

    def __init__(
        self,
        engine: AsyncEngine,
        size: int,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
    ) -> None:
        self.dialect = engine.dialect
        self._connect_args = connect_args_of(engine)
        self._connect = connect or self._connect_like_engine
        self._turns = Turns(size, of_engine(engine).acquire)
        self._idle: list[asyncpg.Connection] = []
        self._open: set[asyncpg.Connection] = set()

    async def _connect_like_engine(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(**self._connect_args)
        try:
            await _decode_json(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def _connection(self) -> asyncpg.Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._open.discard(connection)
        connection = await self._connect()
        self._open.add(connection)
        return connection

    async def fetch(self, query: AsyncpgQuery, values: Mapping[str, Any]) -> list[Any]:
        """The rows of ``query`` for ``values``, as asyncpg records."""
        async with self._turns:
            connection = await self._connection()
            try:
                records: list[Any] = query.decoded(
                    await connection.fetch(query.sql, *query.arguments(values), record_class=Row)
                )
            except asyncpg.PostgresError as error:
                if connection.is_closed() or faults.ends_connection(error):
                    self._open.discard(connection)
                    connection.terminate()
                else:
                    # The server refused the statement; the connection is as good as before.
                    self._idle.append(connection)
                raise internals.as_sqlalchemy_error(error, query.sql, self.dialect) from error
            except BaseException as error:
                self._open.discard(connection)
                connection.terminate()
                if isinstance(error, asyncpg.InterfaceError):
                    raise internals.as_sqlalchemy_error(error, query.sql, self.dialect) from error
                raise
            self._idle.append(connection)
        return records

    async def close(self) -> None:
        """Close the pool's connections (the app's shutdown)."""
        connections, self._open, self._idle = self._open, set(), []
        for connection in connections:
            try:
                await connection.close(timeout=5)
            except Exception:
                connection.terminate()


async def _decode_json(connection: asyncpg.Connection) -> None:
    # The codecs SQLAlchemy's asyncpg dialect sets, with orjson as its deserializer.
    await connection.set_type_codec(
        "json", encoder=str.encode, decoder=orjson.loads, schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),
        decoder=lambda data: orjson.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )


# Where a database connection keeps SQLAlchemy's adapter of it (``AsyncConnection.info``).
_ADAPTED = "wardsafe.asyncpg_adapter"


async def driver_in_transaction(connection: AsyncConnection) -> asyncpg.Connection | None:
    """The asyncpg connection under ``connection``, its transaction begun; None off asyncpg.

    SQLAlchemy's asyncpg adapter begins the transaction lazily, at the first
    statement that goes through it. A statement sent straight to the driver
    must find it begun (or it would commit on its own), so it is begun here
    the way the adapter begins it, and the session's commit or rollback ends
    it as usual. ``tests/test_db.py`` checks that this path is the one taken
    on PostgreSQL, so a SQLAlchemy release that changes the adapter fails
    there rather than silently."""
    if connection.dialect.driver != "asyncpg":
        return None
    # Looked up once per database connection (``info`` lives as long as it
    # does): asking SQLAlchemy for it costs a greenlet switch each time.
    adapted: Any = connection.info.get(_ADAPTED)
    if adapted is None:
        adapted = (await connection.get_raw_connection()).dbapi_connection
        connection.info[_ADAPTED] = adapted
    driver: asyncpg.Connection = adapted.driver_connection
    try:
        await internals.begin_as_adapter_would(adapted)
    except BaseException as error:
        # A BEGIN cut short (a server gone quiet, a timeout) may still reach the server
        # once it answers, leaving the connection in a transaction the adapter never
        # tracked: its next user's writes would wait in it, never committed. Ended
        # here, the connection cannot be used again (SQLAlchemy replaces it).
        if faults.ends_connection(error):
            driver.terminate()
        raise
    return driver


async def fetch_on_driver(
    driver: asyncpg.Connection, query: AsyncpgQuery, values: Any, dialect: Dialect
) -> list[Any]:
    try:
        records: list[Any] = query.decoded(
            await driver.fetch(query.sql, *query.arguments(values), record_class=Row)
        )
    except BaseException as error:
        # Past SQLAlchemy, which would invalidate it: the session's rollback would
        # wait on a connection that broke or still waits for a server gone quiet.
        if faults.ends_connection(error):
            driver.terminate()
        if isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError):
            # As SQLAlchemy raises it: services and the error handlers catch that.
            raise internals.as_sqlalchemy_error(error, query.sql, dialect) from error
        raise
    return records
