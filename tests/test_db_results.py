"""A prepared statement's rows come back as SQLAlchemy would give them, whichever path
runs it, for every column type; one whose result cannot be told is refused when built."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Enum, Numeric, String, bindparam, cast, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import app.models  # noqa: F401  (every table in the metadata)
from app.data.driver import Row, result_decoders
from app.data.prepared import Prepared
from app.sessions import Reads


class Shade(enum.Enum):
    light = "light"
    dark = "dark"


# Column types SQLAlchemy converts on the way out: an Enum to its member, a Numeric
# that is not a Decimal to a float.
CONVERTED = select(
    cast(bindparam("shade", type_=String), Enum(Shade, native_enum=False)).label("shade"),
    cast(bindparam("amount", type_=String), Numeric(10, 2, asdecimal=False)).label("amount"),
    cast(bindparam("exact", type_=String), Numeric(10, 2)).label("exact"),
)
VALUES = {"shade": "dark", "amount": "1.25", "exact": "2.50"}
EXPECTED = (Shade.dark, 1.25, Decimal("2.50"))


async def through_sqlalchemy(session: AsyncSession) -> tuple[Any, ...]:
    result = await session.exec(CONVERTED, params=VALUES)  # type: ignore[call-overload]
    return tuple(result.one())


async def test_a_prepared_statement_in_a_session_converts_as_sqlalchemy_does(
    session: AsyncSession,
) -> None:
    row = await Prepared(CONVERTED).row(session, VALUES)
    assert tuple(row) == EXPECTED == await through_sqlalchemy(session)
    assert type(row[1]) is float


async def test_the_driver_pool_converts_as_sqlalchemy_does(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    reads = Reads.of(engine, pool_size=1)
    if reads is None:
        return  # SQLite: every statement runs through SQLAlchemy
    try:
        row = await reads.driver.fetch(Prepared(CONVERTED)._compiled(engine.dialect), VALUES)
        assert tuple(row[0]) == EXPECTED == await through_sqlalchemy(session)
    finally:
        await reads.driver.close()


PLAIN = select(
    cast(bindparam("ward_code", type_=String), String).label("ward_code"),
    cast(bindparam("name", type_=String), String).label("name"),
)
PLAIN_VALUES = {"ward_code": "06688", "name": "Khu 1"}


def _reads_alike(row: Any) -> None:
    assert (row[0], row[1]) == tuple(row) == ("06688", "Khu 1")
    assert (row.ward_code, row.name) == ("06688", "Khu 1")
    assert row._asdict() == dict(row._mapping) == PLAIN_VALUES
    assert row._fields == ("ward_code", "name")
    with pytest.raises(AttributeError):
        _ = row.no_such_column


async def test_a_row_reads_alike_whichever_path_ran_it(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    """By position, by attribute, ``_asdict()``, ``_mapping``, ``_fields``: as a
    SQLAlchemy ``Row`` does, on the driver pool and on a session's connection."""
    _reads_alike(await Prepared(PLAIN).row(session, PLAIN_VALUES))
    _reads_alike((await session.exec(PLAIN, params=PLAIN_VALUES)).one())  # type: ignore[call-overload]
    reads = Reads.of(engine, pool_size=1)
    if reads is None:
        return  # SQLite: every statement runs through SQLAlchemy
    try:
        [row] = await reads.driver.fetch(Prepared(PLAIN)._compiled(engine.dialect), PLAIN_VALUES)
        _reads_alike(row)
        assert type(row) is Row  # made by asyncpg as it decodes: no copy per row
        [converted] = await reads.driver.fetch(
            Prepared(CONVERTED)._compiled(engine.dialect), VALUES
        )
        assert (converted.shade, converted.amount) == (Shade.dark, 1.25)
        assert converted._asdict() == dict(zip(("shade", "amount", "exact"), EXPECTED, strict=True))
    finally:
        await reads.driver.close()


def test_the_column_types_wardsafe_reads_today_need_no_conversion() -> None:
    """The hot statements pay nothing for the check: asyncpg's values are SQLAlchemy's."""
    assert SQLModel.metadata.tables
    for table in SQLModel.metadata.tables.values():
        assert result_decoders(select(table), _asyncpg()) == (), table.name


class Opaque(TypeDecorator[str]):
    """A type whose result processing depends on what the database says it is."""

    impl = String
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if coltype is None:
            raise TypeError("needs the column's type")
        return None


def test_a_column_whose_result_cannot_be_told_is_refused_when_built() -> None:
    with pytest.raises(TypeError, match="cannot tell how 'mystery'"):
        Prepared(select(cast(bindparam("x", type_=String), Opaque()).label("mystery")))


def _asyncpg() -> Dialect:
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    made: Dialect = dialect()  # type: ignore[no-untyped-call]
    return made
