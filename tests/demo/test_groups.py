"""The groups' demo data: Hạ Long's mix, Bãi Cháy's channels, members, leaders who sign in."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo import groups as groups_demo
from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import SelfManagedGroup
from app.models.users import User
from app.services.groups.member_rules import check_member
from tests import factories

MINE = {"groups", "group members", "exemplary models"}


@pytest.fixture(autouse=True)
def only_the_groups_seeder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Units, accounts and this domain's seeder only: other domains' demo data is theirs to test."""
    assert groups_demo.seed_demo in demo_data._domain_seeders()
    monkeypatch.setattr(demo_data, "_domain_seeders", lambda: (groups_demo.seed_demo,))


async def kinds(session: AsyncSession, ward_code: str) -> Counter[str]:
    rows = await session.exec(
        select(SelfManagedGroup.kind).where(col(SelfManagedGroup.ward_code) == ward_code)
    )
    return Counter(rows.all())


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    result = []
    for model in (SelfManagedGroup, GroupMember, ExemplaryModel):
        result.append((await session.exec(select(func.count()).select_from(model))).one())
    return result[0], result[1], result[2]


class TestGroupsDemo:
    async def test_ha_long_gets_the_mix_and_bai_chay_its_channels(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        await session.commit()
        assert await kinds(session, HA_LONG) == {
            "security_self_management": 27,
            "crime_prevention_channel": 27,
            "mediation_team": 27,
            "grassroots_security_team": 9,
            "market_self_management": 1,
            "boarding_house_self_management": 1,
        }
        assert await kinds(session, BAI_CHAY) == {
            "security_self_management": 5,
            "crime_prevention_channel": 5,
        }
        groups, members, models = await counts(session)
        assert {k: v for k, v in summary.added.items() if k in MINE} == {
            "groups": 102,
            "group members": members,
            "exemplary models": len(groups_demo.EXEMPLARY),
        }
        assert groups == 102
        assert models == len(groups_demo.EXEMPLARY)

    async def test_channels_link_every_household_and_teams_cover_residential_groups(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        headers = await factories.login(client, "officer.halong")
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get("/api/v1/groups", params=params, headers=headers)).json()
            items.extend(body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len(items) == 92
        channels = [g for g in items if g["kind"] == "crime_prevention_channel"]
        assert {g["coverage_ratio"] for g in channels} == {1.0}
        teams = [g for g in items if g["kind"] == "grassroots_security_team"]
        assert {g["neighbourhood_id"] for g in teams} == {None}
        covered = [rg for team in teams for rg in team["covered_residential_group_ids"]]
        assert len(covered) == len(set(covered)) == 233
        q = await client.get("/api/v1/groups", params={"q": "cho ha long"}, headers=headers)
        assert [g["kind"] for g in q.json()["items"]] == ["market_self_management"]

    async def test_members_meet_their_groups_rules_with_one_leader_each(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        rows = (
            await session.exec(
                select(GroupMember, SelfManagedGroup.kind).join(
                    SelfManagedGroup, col(SelfManagedGroup.id) == col(GroupMember.group_id)
                )
            )
        ).all()
        leaders: Counter[Any] = Counter()
        for member, kind in rows:
            check_member(kind, member.model_dump())
            assert member.phone is not None
            assert member.phone.startswith("09")
            assert len(member.phone) == 10
            if member.position == "leader":
                leaders[member.group_id] += 1
        groups = (await session.exec(select(func.count()).select_from(SelfManagedGroup))).one()
        assert len(leaders) == groups
        assert set(leaders.values()) == {1}

    async def test_demo_leaders_sign_in_and_manage_their_group(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        for username, ward_code in (("leader.halong", HA_LONG), ("leader.baichay", BAI_CHAY)):
            group_id = demo_id("group", ward_code, "security/KP01")
            account = await session.get(User, demo_id("user", username))
            assert account is not None
            leader_row = (
                await session.exec(
                    select(GroupMember).where(
                        col(GroupMember.group_id) == group_id, col(GroupMember.position) == "leader"
                    )
                )
            ).one()
            assert (leader_row.user_id, leader_row.full_name) == (account.id, account.full_name)
            headers = await factories.login(client, username)
            url = f"/api/v1/groups/{group_id}/members"
            listed = await client.get(url, headers=headers)
            assert listed.status_code == 200
            assert not any(item["phone_masked"] for item in listed.json()["items"])
            added = await client.post(
                url,
                json={"full_name": "Thành Viên Mới", "birth_year": 1990, "joined_on": "2026-01-05"},
                headers=headers,
            )
            assert added.status_code == 201, added.text
        head = await factories.login(client, "head.halong")
        masked = await client.get(
            f"/api/v1/groups/{demo_id('group', HA_LONG, 'security/KP01')}/members", headers=head
        )
        with_phones = [item for item in masked.json()["items"] if item["phone"]]
        assert with_phones
        assert all(item["phone_masked"] for item in with_phones)

    async def test_rerun_adds_nothing_and_restores_only_what_went_missing(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        before = await counts(session)
        again = await demo_data.seed_demo(session)
        await session.commit()
        assert not MINE & set(again.added)
        assert await counts(session) == before

        member_id = demo_id("group-member", HA_LONG, "channel/KP02", "1")
        original = await session.get(GroupMember, member_id)
        assert original is not None
        phone, name = original.phone, original.full_name
        await session.exec(delete(GroupMember).where(col(GroupMember.id) == member_id))
        await session.commit()
        session.expunge_all()
        restored = await demo_data.seed_demo(session)
        await session.commit()
        assert {k: v for k, v in restored.added.items() if k in MINE} == {"group members": 1}
        again_member = await session.get(GroupMember, member_id)
        assert again_member is not None
        assert (again_member.phone, again_member.full_name) == (phone, name)

    async def test_without_logins_the_leaders_are_linked_once_the_accounts_exist(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session, with_logins=False)
        await session.commit()
        group_id = demo_id("group", HA_LONG, "security/KP01")
        statement = select(GroupMember.user_id).where(
            col(GroupMember.group_id) == group_id, col(GroupMember.position) == "leader"
        )
        assert (await session.exec(statement)).one() is None
        await demo_data.seed_demo(session)
        await session.commit()
        assert (await session.exec(statement)).one() == demo_id("user", "leader.halong")
