"""``Links``: a record's link rows (a group's covered residential groups) added and
replaced as a set inside the unit of write, with no event of their own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import reset_request_id, set_request_id
from app.data.links import Links
from app.data.writes import GUARDED
from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.groups import GroupResidentialGroup
from tests.conftest import WRITES_OUTSIDE_THE_UNIT
from tests.factories import make_group, make_neighbourhood, make_self_managed_group

LINKS = Links(
    GroupResidentialGroup,
    owner=GroupResidentialGroup.group_id,
    target=GroupResidentialGroup.residential_group_id,
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


async def arranged(session: AsyncSession, count: int) -> tuple[Any, list[uuid.UUID]]:
    neighbourhood = await make_neighbourhood(session, HA_LONG)
    group = await make_self_managed_group(session, neighbourhood)
    targets = [(await make_group(session, neighbourhood)).id for _ in range(count)]
    return group, targets


async def links(session: AsyncSession, group_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Each linked residential group, by the id of its link row."""
    found = await session.exec(
        select(GroupResidentialGroup).where(col(GroupResidentialGroup.group_id) == group_id)
    )
    return {row.residential_group_id: row.id for row in found.all()}


def test_the_link_table_is_guarded() -> None:
    assert "group_residential_groups" in GUARDED


async def test_added_links_are_there_and_no_event_is_recorded(session: AsyncSession) -> None:
    group, targets = await arranged(session, 2)
    with in_a_request():
        await LINKS.add(session, group.id, targets)
    assert WRITES_OUTSIDE_THE_UNIT == []
    assert set(await links(session, group.id)) == set(targets)
    for target in targets:
        recorded = await session.exec(
            select(AuditEvent).where(col(AuditEvent.record_id) == str(target))
        )
        assert recorded.all() == []


async def test_replace_removes_the_others_adds_the_missing_and_keeps_the_rest(
    session: AsyncSession,
) -> None:
    group, (kept, dropped, added) = await arranged(session, 3)
    await LINKS.add(session, group.id, [kept, dropped])
    before = await links(session, group.id)
    with in_a_request():
        await LINKS.replace(session, group.id, [kept, added])
    assert WRITES_OUTSIDE_THE_UNIT == []
    after = await links(session, group.id)
    assert set(after) == {kept, added}
    assert after[kept] == before[kept]  # the kept link row is the same row
    stored = await session.get(GroupResidentialGroup, before[dropped])
    assert stored is None  # a hard delete: a link is there or not


async def test_replace_with_nothing_removes_every_link(session: AsyncSession) -> None:
    group, targets = await arranged(session, 2)
    await LINKS.add(session, group.id, targets)
    await LINKS.replace(session, group.id, [])
    assert await links(session, group.id) == {}


async def test_a_link_written_past_it_in_a_request_is_caught(session: AsyncSession) -> None:
    group, [target] = await arranged(session, 1)
    try:
        with in_a_request():
            session.add(GroupResidentialGroup(group_id=group.id, residential_group_id=target))
            await session.flush()
        assert WRITES_OUTSIDE_THE_UNIT == ["Insert on group_residential_groups"]
    finally:
        WRITES_OUTSIDE_THE_UNIT.clear()
