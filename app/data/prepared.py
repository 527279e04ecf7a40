"""``Prepared`` statements (built once, run on the driver on PostgreSQL, through
SQLAlchemy on SQLite), ``NewRows`` (a table's rows written by a plain INSERT) and the rows
held for a gate (``held_rows``, ``Prepared.gate``): the data layer's own tools, named by no
service or router."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from pydantic_core import PydanticUndefined
from sqlalchemy import (
    bindparam,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.driver import (
    AsyncpgQuery,
    DriverPool,
    driver_in_transaction,
    fetch_on_driver,
    result_decoders,
)
from app.db import core_connection, execute_by_name, refuse_in_read_session

# Called with each writing statement a ``Prepared`` runs, which passes SQLAlchemy's
# engine events on PostgreSQL: the test suite's check that guarded tables are
# written only by the unit of write (tests/conftest.py). None in production.
observe_writes: Callable[[Any], None] | None = None


# The dialect a ``Prepared`` statement's columns are checked against when it is built.
_ASYNCPG: Dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]


# Where a read session's DriverPool rides (``AsyncSession.info``).
READ_POOL = "wardsafe.driver_pool"


# The statement a ``Prepared`` holds: a SELECT, or an INSERT (with or without RETURNING).
S = TypeVar("S", bound=Executable)


class Prepared(Generic[S]):
    """A hot statement, built once with ``bindparam``s and run with values.

    Rows come back as tuples in the statement's column order (zip them with
    ``names``). On PostgreSQL the statement is compiled once and sent by
    asyncpg as a prepared statement: SQLAlchemy's execution and result layers
    cost a read by id about half its CPU, and a new report more than that
    (docs/performance.md). In a read session (``get_read_session``) it goes
    to the ``DriverPool``; in any other session, to the driver connection
    under the session's own, in its transaction. JSON, UUIDs and UTC
    datetimes come back from asyncpg as SQLAlchemy would give them, and an
    error as SQLAlchemy would raise it (``IntegrityError``...). On SQLite it
    runs through SQLAlchemy in the session."""

    def __init__(self, statement: S) -> None:
        self.statement = statement
        self.names: tuple[str, ...] = tuple(
            str(column.key) for column in cast(Any, statement).exported_columns
        )
        self._asyncpg: AsyncpgQuery | None = None
        self._gates: dict[tuple[NewRows, ...], Prepared[Any]] = {}
        # Refused now, where it is built, if its columns cannot come back as SQLAlchemy's.
        result_decoders(statement, _ASYNCPG)
        self._writes: bool = getattr(statement, "is_dml", False)

    def _compiled(self, dialect: Dialect) -> AsyncpgQuery:
        if self._asyncpg is None:
            self._asyncpg = AsyncpgQuery.compile(self.statement, dialect)
        return self._asyncpg

    async def rows(self, session: AsyncSession, values: Mapping[str, Any]) -> Sequence[Any]:
        """The rows for ``values`` (every ``bindparam`` of the statement named)."""
        if self._writes:
            refuse_in_read_session(session, self.statement)
            if observe_writes is not None:
                observe_writes(self.statement)
        pool: DriverPool | None = session.info.get(READ_POOL)
        if pool is not None:
            return await pool.fetch(self._compiled(pool.dialect), values)
        connection = await core_connection(session)
        driver = await driver_in_transaction(connection)
        if driver is not None:
            dialect = connection.dialect
            return await fetch_on_driver(driver, self._compiled(dialect), values, dialect)
        result = await execute_by_name(connection, self.statement, values)
        return result.all() if result.returns_rows else []

    async def row(self, session: AsyncSession, values: Mapping[str, Any]) -> Any | None:
        """The first row for ``values``, or None."""
        found = await self.rows(session, values)
        return found[0] if found else None

    async def gate(
        self, session: AsyncSession, values: Mapping[str, Any], held: HeldRows
    ) -> Any | None:
        """The first row for ``values``; the ``held`` new rows are written only if it is one.

        For an ``INSERT ... RETURNING`` that decides whether a request's work
        stands (the answer stored under an Idempotency-Key). On PostgreSQL all
        of it is one statement: each held row is inserted ``SELECT``-ed from
        this statement's ``RETURNING``, in a data-modifying ``WITH``, so it is
        written exactly when this statement returns a row. If the session has
        begun no transaction, that statement runs on a ``DriverPool``
        connection by itself and commits as it completes (call this as the
        request's last write; a write that went through the session first keeps
        it in the session's transaction). One round trip where the statements
        one by one took five (docs/performance.md). On SQLite: this
        statement, then each held row if it returned one, in the session's
        transaction."""
        if not held:
            return await self.row(session, values)
        if session.get_bind().dialect.name != "postgresql":
            found = await self.row(session, values)
            if found is not None:
                for new_rows, row in held:
                    await new_rows.insert(session, row)
            return found
        combined = self._gating(tuple(new_rows for new_rows, _ in held))
        arguments = dict(values)
        for position, (_, row) in enumerate(held):
            arguments.update({f"w{position}_{name}": value for name, value in row.items()})
        pool: DriverPool | None = session.info.get(ALONE_POOL)
        if pool is not None and not session.in_transaction():
            found = await pool.fetch(combined._compiled(pool.dialect), arguments)
            return found[0] if found else None
        return await combined.row(session, arguments)

    def _gating(self, tables: tuple[NewRows, ...]) -> Prepared[Any]:
        statement = self._gates.get(tables)
        if statement is None:
            # WITH gate AS (<this statement>),
            #   w0 AS (INSERT INTO <table> (<columns>) SELECT $1, $2, ... FROM gate), ...
            # SELECT <this statement's RETURNING> FROM gate
            # SQLAlchemy's asyncpg dialect writes each parameter with its type
            # ($1::UUID), so the SELECT gives the columns' types without a
            # CAST, which would cut a too-long string short where the INSERT
            # refuses it. (A column type it wrote no cast for would fail when
            # PostgreSQL prepares the statement, in every test that files a
            # report, not quietly.)
            gate = cast(Any, self.statement).cte("gate")
            writes = [
                insert(new_rows.table)
                .from_select(
                    [column.key for column in new_rows.columns],
                    select(
                        *(
                            bindparam(f"w{position}_{column.key}", type_=column.type)
                            for column in new_rows.columns
                        )
                    ).select_from(gate),
                )
                .cte(f"w{position}")
                for position, new_rows in enumerate(tables)
            ]
            statement = Prepared(select(*gate.c).add_cte(*writes))
            self._gates[tables] = statement
        return statement


class NewRows:
    """New rows of one table, each written by a plain ``INSERT`` of its values.

    For the hottest write (a new report and its audit event), past the ORM's
    unit of work: constructing a SQLModel table object and flushing it cost
    the write about a third of its CPU (docs/performance.md). ``values``
    fills every column the caller does not give from the model's own
    defaults (``id``, ``created_at``, ``version``...), so a row written here
    is the row the ORM would have written; the model stays the one place
    that says what a column defaults to. The ``INSERT`` is a ``Prepared``
    statement, in the session's transaction: on PostgreSQL asyncpg sends it,
    on SQLite SQLAlchemy does. Inside ``held_rows`` a row waits instead, to be
    written with the statement that decides whether it stands
    (``Prepared.gate``)."""

    def __init__(self, model: type[SQLModel], *, server_side: Sequence[str] = ()) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        self.table = table
        # The columns written: all but those the database fills (``server_side``: an
        # autoincrement id, a server default such as the change log's transaction id).
        self.columns: tuple[Any, ...] = tuple(c for c in table.c if c.key not in server_side)
        statement = insert(table)
        if server_side:
            statement = statement.values(
                {c.key: bindparam(c.key, type_=c.type) for c in self.columns}
            )
        self._insert = Prepared(statement)
        self._defaults: tuple[tuple[str, Any, Callable[[], Any] | None], ...] = tuple(
            (name, field.default, cast(Callable[[], Any] | None, field.default_factory))
            for name, field in model.model_fields.items()
            if name in table.c and name not in server_side
        )
        self._names = frozenset(name for name, _, _ in self._defaults)

    def values(self, **given: Any) -> dict[str, Any]:
        """A whole row: ``given``, and the model's default for every other column."""
        unknown = given.keys() - self._names
        if unknown:
            raise TypeError(f"no such columns: {sorted(unknown)}")
        row: dict[str, Any] = {}
        for name, default, factory in self._defaults:
            if name in given:
                row[name] = given[name]
            elif factory is not None:
                row[name] = factory()
            elif default is PydanticUndefined:
                raise TypeError(f"{name} has no default; give it")
            else:
                row[name] = default
        return row

    async def insert(self, session: AsyncSession, row: Mapping[str, Any]) -> None:
        """Write ``row`` (from ``values``) in the session's transaction, or hold it for
        the gate when ``held_rows`` is open on the session."""
        held: HeldRows | None = session.info.get(_HELD)
        if held is not None:
            held.append((self, row))
            return
        await self._insert.rows(session, row)


# New rows waiting for their gate: each with the table it goes to.
HeldRows = list[tuple[NewRows, Mapping[str, Any]]]


# Where the rows held for a gate wait (``AsyncSession.info``).
_HELD = "wardsafe.held_rows"


# Where a write session finds the DriverPool for a gate that runs by itself
# (``AsyncSession.info``; a test's session, bound to its own connection, has none).
ALONE_POOL = "wardsafe.statement_alone"


@contextlib.contextmanager
def held_rows(session: AsyncSession) -> Iterator[HeldRows]:
    """Within the block, ``NewRows.insert`` on ``session`` holds its rows instead of
    writing them: the caller writes them with ``Prepared.gate``."""
    held: HeldRows = []
    session.info[_HELD] = held
    try:
        yield held
    finally:
        del session.info[_HELD]
