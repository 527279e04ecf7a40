"""The unit of write of a record changed in steps (app/data/writes.py): parts appended with
no event of their own, a version bump, a compare-and-set on a status, columns set as they
are, and the step's one event; every statement the unit's, as the guard sees."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import reset_request_id, set_request_id
from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import GUARDED, UnitOfWrite
from app.db import columns
from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
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


@pytest.fixture(autouse=True)
def guarded_as_before() -> Iterator[None]:
    """The repositories declared here guard their table for this test only."""
    before = set(GUARDED)
    yield
    GUARDED.intersection_update(before)


@contextlib.contextmanager
def request() -> Iterator[str]:
    """The write under test as a request's (its records arranged before, outside one)."""
    request_id = uuid.uuid4().hex
    token = set_request_id(request_id)
    try:
        yield request_id
    finally:
        reset_request_id(token)


def unit() -> UnitOfWrite:
    writes = UnitOfWrite("test_neighbourhood")
    Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id,),
        visible=lambda principal: Visible.all(),
        keyset=Keyset("test-parts", columns(Neighbourhood.id)),
        writes=writes,
    )
    return writes


async def stored(session: AsyncSession, record_id: uuid.UUID) -> Neighbourhood:
    found = (
        await session.exec(
            select(Neighbourhood)
            .where(col(Neighbourhood.id) == record_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    return found


async def events(session: AsyncSession, record_id: uuid.UUID) -> list[tuple[str, list[str]]]:
    found = await session.exec(
        select(AuditEvent).where(col(AuditEvent.record_id) == str(record_id))
    )
    return [(event.action, event.changed_fields) for event in found.all()]


async def test_parts_are_appended_with_no_event_and_past_no_guard(session: AsyncSession) -> None:
    writes = unit()
    parts = [
        Neighbourhood(province_code="22", ward_code=HA_LONG, code=unique("KP-"), name=name)
        for name in ("Khu một", "Khu hai")
    ]
    try:
        with request():
            await writes.append(session, parts)
        assert WRITES_OUTSIDE_THE_UNIT == []
    finally:
        WRITES_OUTSIDE_THE_UNIT.clear()
    for part in parts:
        assert (await stored(session, part.id)).name == part.name
        assert await events(session, part.id) == []


async def test_a_bump_moves_the_version_on_whatever_it_is(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG)
    writes = unit()
    try:
        with request():
            await writes.bump(session, record.id)
            await writes.bump(session, record.id, {"name": "Khu đổi tên"})
        assert WRITES_OUTSIDE_THE_UNIT == []
    finally:
        WRITES_OUTSIDE_THE_UNIT.clear()
    found = await stored(session, record.id)
    assert (found.version, found.name) == (3, "Khu đổi tên")


async def test_a_move_writes_only_while_the_expected_values_hold(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG, households=100)
    writes = unit()
    assert await writes.move(session, record.id, {"households": 100}, {"households": 120})
    assert not await writes.move(session, record.id, {"households": 100}, {"households": 999})
    found = await stored(session, record.id)
    assert (found.households, found.version) == (120, 2)


async def test_set_writes_values_and_leaves_the_version(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG, population=400)
    await unit().set(session, record.id, {"population": 410})
    found = await stored(session, record.id)
    assert (found.population, found.version) == (410, 1)


async def test_an_event_alone_records_the_step(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG)
    with request() as in_a_request:
        await unit().event(session, OFFICER, "respond", record, ["status", "response_note"])
    assert await events(session, record.id) == [("respond", ["response_note", "status"])]
    [event] = (
        await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == str(record.id)))
    ).all()
    assert (event.record_type, event.ward_code, event.request_id) == (
        "test_neighbourhood",
        HA_LONG,
        in_a_request,
    )


async def test_a_unit_no_repository_declares_writes_nothing(session: AsyncSession) -> None:
    with pytest.raises(TypeError, match="declared by no repository"):
        await UnitOfWrite("loose").bump(session, uuid.uuid4())
