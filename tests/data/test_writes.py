"""The unit of write: each record written with its audit event, derived columns on every
path, stale versions refused, and the suite's guard against writes that bypass it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import reset_request_id, set_request_id
from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import GUARDED, UNITS, Bookkeeping, UnitOfWrite
from app.db import columns
from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import PreconditionFailed
from app.models.audit import AuditEvent
from app.models.changes import Change
from app.models.neighbourhoods import Neighbourhood
from app.pagination import Keyset
from app.security import Principal, Role
from tests.conftest import WRITES_OUTSIDE_THE_UNIT
from tests.factories import make_neighbourhood, unique

OFFICER = Principal(
    subject=uuid.uuid4(),
    kind="user",
    role=Role.WARD_OFFICER,
    unit_code=HA_LONG,
    province_code="22",
    ward_code=HA_LONG,
    neighbourhood_id=None,
)


def households_from_population(record: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A derived column: the households figure follows the population."""
    population = values.get("population", record.population)
    return {"households": population // 4}


def neighbourhoods(derive: Any = None) -> Repository[Neighbourhood]:
    return Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id, Neighbourhood.name),
        visible=lambda principal: Visible.where(ward_code=principal.ward_code),
        keyset=Keyset("test-writes", columns(Neighbourhood.name, Neighbourhood.id)),
        writes=UnitOfWrite("test_neighbourhood", derive=derive),
    )


@pytest.fixture(autouse=True)
def guarded_as_before() -> Iterator[None]:
    """The repositories declared here guard their table for this test only."""
    before, units = set(GUARDED), dict(UNITS)
    yield
    GUARDED.intersection_update(before)
    UNITS.clear()
    UNITS.update(units)


@pytest.fixture
def in_a_request() -> Iterator[str]:
    request_id = uuid.uuid4().hex
    token = set_request_id(request_id)
    try:
        yield request_id
    finally:
        reset_request_id(token)


async def events(session: AsyncSession, record_id: uuid.UUID) -> list[tuple[str, list[str]]]:
    found = await session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.record_id) == str(record_id))
        .order_by(col(AuditEvent.created_at), col(AuditEvent.id))
    )
    return [(event.action, event.changed_fields) for event in found.all()]


def new_neighbourhood(**values: Any) -> Neighbourhood:
    return Neighbourhood(
        province_code="22", ward_code=HA_LONG, code=unique("KP-"), name="Khu mới", **values
    )


async def test_an_insert_writes_the_record_its_derived_columns_and_its_event(
    session: AsyncSession, in_a_request: str
) -> None:
    record = new_neighbourhood(population=400)
    await neighbourhoods(households_from_population).insert(
        session, OFFICER, record, fields={"name", "population"}
    )
    stored = await session.get(Neighbourhood, record.id)
    assert stored is not None
    assert stored.households == 100
    assert await events(session, record.id) == [("create", ["name", "population"])]
    [event] = (
        await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == str(record.id)))
    ).all()
    assert (event.actor_id, event.ward_code, event.request_id) == (
        OFFICER.subject,
        HA_LONG,
        in_a_request,
    )


async def test_an_update_compares_and_sets_derives_and_records(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG, population=40)
    repo = neighbourhoods(households_from_population)
    await repo.update(
        session, OFFICER, record, record.version, {"population": 800}, fields={"population"}
    )
    assert (record.population, record.households, record.version) == (800, 200, 2)
    with pytest.raises(PreconditionFailed):
        await repo.update(session, OFFICER, record, 1, {"population": 1}, fields={"population"})
    assert record.population == 800
    assert await events(session, record.id) == [("update", ["population"])]


async def test_a_delete_is_soft_and_recorded(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG)
    await neighbourhoods().delete(session, OFFICER, record, record.version)
    assert record.deleted_at is not None
    assert await events(session, record.id) == [("delete", [])]


async def changes(session: AsyncSession, record_id: uuid.UUID) -> list[tuple[Any, ...]]:
    found = await session.exec(
        select(Change)
        .where(col(Change.record_id) == str(record_id))
        .order_by(col(Change.txid), col(Change.id))
    )
    return [
        (c.record_type, c.op, c.version, c.ward_code, c.was_ward_code, c.was_province_code)
        for c in found.all()
    ]


async def test_every_write_leaves_its_change_in_the_log_in_order(session: AsyncSession) -> None:
    """Insert, update and soft delete: one change each, with the version the record has
    after it, its unit, and no previous unit when it did not move."""
    repo = neighbourhoods()
    record = new_neighbourhood()
    await repo.insert(session, OFFICER, record, fields={"name"})
    await repo.update(session, OFFICER, record, 1, {"name": "Khu đổi tên"}, fields={"name"})
    await repo.delete(session, OFFICER, record, 2)
    assert await changes(session, record.id) == [
        ("test_neighbourhood", "upsert", 1, HA_LONG, None, None),
        ("test_neighbourhood", "upsert", 2, HA_LONG, None, None),
        ("test_neighbourhood", "delete", 3, HA_LONG, None, None),
    ]
    rows = (await session.exec(select(Change).where(col(Change.record_id) == str(record.id)))).all()
    assert all(row.changed_at is not None and row.txid is not None for row in rows)
    assert len({row.id for row in rows}) == 3


async def test_a_write_that_moves_a_record_names_the_unit_it_left(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG)
    await neighbourhoods().update(
        session, OFFICER, record, record.version, {"ward_code": BAI_CHAY}, fields={"ward_code"}
    )
    assert await changes(session, record.id) == [
        ("test_neighbourhood", "upsert", 2, BAI_CHAY, HA_LONG, None)
    ]


async def test_a_rolled_back_write_leaves_no_change(session: AsyncSession) -> None:
    record = new_neighbourhood()
    savepoint = await session.begin_nested()
    await neighbourhoods().insert(session, OFFICER, record, fields={"name"})
    await savepoint.rollback()
    assert await changes(session, record.id) == []


async def test_a_repository_without_writes_refuses_them(session: AsyncSession) -> None:
    reads_only = Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id,),
        visible=lambda principal: Visible.all(),
        keyset=Keyset("test-no-writes", columns(Neighbourhood.id)),
    )
    with pytest.raises(TypeError, match="declares no writes"):
        await reads_only.insert(session, OFFICER, new_neighbourhood(), fields=())


async def test_the_guard_sees_a_request_writing_a_guarded_table_past_the_unit(
    session: AsyncSession, in_a_request: str
) -> None:
    repo = neighbourhoods()  # declares the table guarded
    assert "neighbourhoods" in GUARDED
    try:
        await repo.insert(session, OFFICER, new_neighbourhood(), fields=())
        assert WRITES_OUTSIDE_THE_UNIT == []
        session.add(new_neighbourhood())
        await session.flush()
        assert WRITES_OUTSIDE_THE_UNIT == ["Insert on neighbourhoods"]
    finally:
        WRITES_OUTSIDE_THE_UNIT.clear()


async def test_records_a_test_arranges_outside_a_request_are_not_its_business(
    session: AsyncSession,
) -> None:
    neighbourhoods()
    await make_neighbourhood(session, HA_LONG)
    assert WRITES_OUTSIDE_THE_UNIT == []


async def test_bookkeeping_writes_its_own_table_unaudited_and_past_the_guard(
    session: AsyncSession, in_a_request: str
) -> None:
    books = Bookkeeping(Neighbourhood)
    assert "neighbourhoods" in GUARDED
    try:
        record = new_neighbourhood()
        await books.add(session, record)
        result = await books.execute(
            session,
            update(Neighbourhood).where(col(Neighbourhood.id) == record.id).values(name="Khu đổi"),
        )
        assert result.rowcount == 1
        assert WRITES_OUTSIDE_THE_UNIT == []
        stored = await session.get(Neighbourhood, record.id, populate_existing=True)
        assert stored is not None
        assert stored.name == "Khu đổi"
        assert await events(session, record.id) == []
    finally:
        WRITES_OUTSIDE_THE_UNIT.clear()


async def test_bookkeeping_refuses_another_tables_statement(session: AsyncSession) -> None:
    with pytest.raises(TypeError, match="only its own statements"):
        await Bookkeeping(Neighbourhood).execute(session, update(AuditEvent).values(action="x"))
