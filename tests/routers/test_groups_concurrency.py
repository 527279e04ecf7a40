"""One active leader per group, under concurrent requests that really commit."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import GroupResidentialGroup, SelfManagedGroup
from tests import factories
from tests.conftest import Committed

LEADER = {
    "full_name": "Người Tranh Chấp",
    "phone": "0912345678",
    "birth_year": 1980,
    "position": "leader",
    "joined_on": "2025-03-01",
    "resident_since": "2010-01-01",
}


@pytest.fixture
async def group(committed: Committed) -> AsyncIterator[SelfManagedGroup]:
    """A committed group in a committed neighbourhood; removed (with its members) afterwards."""
    async with committed.sessionmaker() as session:
        neighbourhood = await factories.make_neighbourhood(
            session, HA_LONG, f"{committed.prefix}kp"
        )
        stored = await factories.make_self_managed_group(
            session, neighbourhood, name=f"{committed.prefix}group"
        )
        await session.commit()
    yield stored
    async with committed.sessionmaker() as session:
        member_ids = select(col(GroupMember.id)).where(col(GroupMember.group_id) == stored.id)
        ids = [str(i) for i in (await session.exec(member_ids)).all()]
        await session.exec(
            delete(AuditEvent).where(
                or_(col(AuditEvent.record_id).in_(ids), col(AuditEvent.record_id) == str(stored.id))
            )
        )
        for model in (GroupMember, GroupResidentialGroup, ExemplaryModel):
            await session.exec(delete(model).where(col(model.group_id) == stored.id))
        await session.exec(delete(SelfManagedGroup).where(col(SelfManagedGroup.id) == stored.id))
        await session.commit()


async def active_leaders(committed: Committed, group: SelfManagedGroup) -> int:
    async with committed.sessionmaker() as session:
        rows = await session.exec(
            select(GroupMember.id).where(
                col(GroupMember.group_id) == group.id,
                col(GroupMember.position) == "leader",
                col(GroupMember.left_on).is_(None),
                col(GroupMember.deleted_at).is_(None),
            )
        )
        return len(rows.all())


class TestOneLeaderUnderConcurrency:
    async def test_10_leaders_posted_at_once_give_one_201_and_nine_409_naming_the_rule(
        self, committed: Committed, group: SelfManagedGroup
    ) -> None:
        url = f"/api/v1/groups/{group.id}/members"
        responses = await asyncio.gather(
            *(committed.client.post(url, json=LEADER, headers=committed.headers) for _ in range(10))
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {201: 1, 409: 9}, [r.text for r in responses if r.status_code >= 500]
        rules = {r.json().get("rule") for r in responses if r.status_code == 409}
        assert rules == {"one_active_leader"}
        assert await active_leaders(committed, group) == 1

    async def test_two_members_promoted_at_once_give_one_leader(
        self, committed: Committed, group: SelfManagedGroup
    ) -> None:
        async with committed.sessionmaker() as session:
            members = [await factories.make_member(session, group) for _ in range(6)]
            await session.commit()
        headers = {**committed.headers, "If-Match": '"1"'}
        responses = await asyncio.gather(
            *(
                committed.client.patch(
                    f"/api/v1/groups/{group.id}/members/{member.id}",
                    json={"position": "leader"},
                    headers=headers,
                )
                for member in members
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 409: 5}, [r.text for r in responses if r.status_code >= 500]
        assert await active_leaders(committed, group) == 1

    async def test_the_database_refuses_a_second_active_leader_itself(
        self, committed: Committed, group: SelfManagedGroup
    ) -> None:
        async with committed.sessionmaker() as session:
            await factories.make_member(session, group, position="leader")
            await factories.make_member(session, group, position="leader", left_on=date(2025, 6, 1))
            await session.commit()
        async with committed.sessionmaker() as session:
            with pytest.raises(IntegrityError):
                await factories.make_member(session, group, position="leader")
            await session.rollback()
        assert await active_leaders(committed, group) == 1
