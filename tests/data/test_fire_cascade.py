"""``delete_all``: a parent's children soft-deleted through the unit of write, each with
its delete event, whatever their versions, and nothing else touched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import reset_request_id, set_request_id
from app.data.cascade import delete_all
from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import GUARDED, UnitOfWrite
from app.db import columns, utcnow
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
    before = set(GUARDED)
    yield
    GUARDED.intersection_update(before)


def neighbourhoods(writes: bool = True) -> Repository[Neighbourhood]:
    return Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id, Neighbourhood.name),
        visible=Visible.all(),
        keyset=Keyset("test-cascade", columns(Neighbourhood.name, Neighbourhood.id)),
        writes=UnitOfWrite("test_neighbourhood") if writes else None,
    )


async def delete_events(session: AsyncSession, record_id: uuid.UUID) -> list[tuple[str, str]]:
    found = await session.exec(
        select(AuditEvent).where(col(AuditEvent.record_id) == str(record_id))
    )
    return [(event.action, event.record_type) for event in found.all()]


async def test_the_parents_live_children_go_each_with_its_event(session: AsyncSession) -> None:
    name = unique("Khu ")
    first = await make_neighbourhood(session, HA_LONG, name=name)
    second = await make_neighbourhood(session, HA_LONG, name=name, version=4)
    gone = await make_neighbourhood(session, HA_LONG, name=name)
    gone.deleted_at = utcnow()
    other = await make_neighbourhood(session, HA_LONG, name=unique("Khu "))
    await session.flush()
    # The records are arranged outside the request; the delete runs in one.
    token = set_request_id(uuid.uuid4().hex)
    try:
        assert len(await delete_all(neighbourhoods(), session, OFFICER, name=name)) == 2
        assert WRITES_OUTSIDE_THE_UNIT == []
    finally:
        reset_request_id(token)
        WRITES_OUTSIDE_THE_UNIT.clear()
    session.expunge_all()
    for record, version in ((first, 2), (second, 5)):
        stored = await session.get(Neighbourhood, record.id)
        assert stored is not None
        assert (stored.deleted_at is not None, stored.version) == (True, version)
        assert await delete_events(session, record.id) == [("delete", "test_neighbourhood")]
    assert await delete_events(session, gone.id) == []
    untouched = await session.get(Neighbourhood, other.id)
    assert untouched is not None
    assert (untouched.deleted_at, untouched.version) == (None, 1)


async def test_no_children_no_write(session: AsyncSession) -> None:
    assert await delete_all(neighbourhoods(), session, OFFICER, name=unique("Khu ")) == []


async def test_it_needs_a_unit_of_write_and_the_parents_columns(session: AsyncSession) -> None:
    with pytest.raises(TypeError, match="declares no writes"):
        await delete_all(neighbourhoods(writes=False), session, OFFICER, name="x")
    with pytest.raises(TypeError, match="name the parent"):
        await delete_all(neighbourhoods(), session, OFFICER)
