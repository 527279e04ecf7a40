"""``delete_all`` as groups use it: the records that go with another (a group's members
with the group) soft-deleted together, each with its own ``delete`` event, inside the unit."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import reset_request_id, set_request_id
from app.data.cascade import delete_all
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

UNIT = UnitOfWrite("test_neighbourhood")
NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=(Neighbourhood.id,),
    visible=Visible.all(),
    keyset=Keyset("test-delete-all", columns(Neighbourhood.id)),
    writes=UNIT,
)


@contextlib.contextmanager
def in_a_request() -> Iterator[str]:
    """The write under test as a request's (the records it needs arranged before)."""
    request_id = uuid.uuid4().hex
    token = set_request_id(request_id)
    try:
        yield request_id
    finally:
        reset_request_id(token)


async def events(session: AsyncSession, record_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    found = await session.exec(
        select(AuditEvent).where(col(AuditEvent.record_id) == str(record_id))
    )
    return [(event.action, event.record_type, event.ward_code) for event in found.all()]


async def test_every_live_record_selected_is_deleted_with_its_own_event(
    session: AsyncSession,
) -> None:
    population = 1000 + uuid.uuid4().int % 10**6  # what the selected ones share
    first = await make_neighbourhood(session, HA_LONG, population=population)
    second = await make_neighbourhood(session, HA_LONG, population=population)
    other = await make_neighbourhood(session, HA_LONG, population=population + 1)
    gone = await make_neighbourhood(session, HA_LONG, population=population)
    await UNIT.delete(session, OFFICER, gone, gone.version)
    gone_at = gone.deleted_at

    with in_a_request() as request_id:
        deleted = await delete_all(NEIGHBOURHOODS, session, OFFICER, population=population)

    assert sorted(deleted) == sorted([first.id, second.id])
    for record in (first, second, other, gone):
        await session.refresh(record)
    assert first.deleted_at is not None
    assert second.deleted_at is not None
    assert (first.version, second.version) == (2, 2)
    assert (other.deleted_at, other.version) == (None, 1)
    assert (gone.deleted_at, gone.version) == (gone_at, 2)  # deleted before: left alone
    for record in (first, second):
        assert await events(session, record.id) == [("delete", "test_neighbourhood", HA_LONG)]
    assert await events(session, other.id) == []
    assert await events(session, gone.id) == [("delete", "test_neighbourhood", HA_LONG)]
    [event] = (
        await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == str(first.id)))
    ).all()
    assert (event.actor_id, event.request_id, event.changed_fields) == (
        OFFICER.subject,
        request_id,
        [],
    )


async def test_nothing_selected_deletes_and_records_nothing(session: AsyncSession) -> None:
    untouched = await make_neighbourhood(session, HA_LONG)
    deleted = await delete_all(NEIGHBOURHOODS, session, OFFICER, code=unique("none-"))
    assert deleted == []
    await session.refresh(untouched)
    assert untouched.deleted_at is None


async def test_its_statements_are_the_units_for_the_guard(session: AsyncSession) -> None:
    record = await make_neighbourhood(session, HA_LONG)
    before = set(GUARDED)
    UNIT.guard("neighbourhoods")
    try:
        with in_a_request():
            await delete_all(NEIGHBOURHOODS, session, OFFICER, id=record.id)
        assert WRITES_OUTSIDE_THE_UNIT == []
    finally:
        GUARDED.intersection_update(before)
        WRITES_OUTSIDE_THE_UNIT.clear()
