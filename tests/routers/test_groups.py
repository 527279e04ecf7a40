"""Self-managed groups over HTTP: the register, who sees which view, coverage, filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.clients import Client
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import GroupResidentialGroup, SelfManagedGroup
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.models.users import User
from app.security import Role
from tests import factories
from tests.conftest import Cast

GROUPS = "/api/v1/groups"
SUMMARY_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "version",
    "view",
    "province_code",
    "ward_code",
    "neighbourhood_id",
    "kind",
    "name",
    "status",
}


def version(value: int) -> dict[str, str]:
    return {"If-Match": f'"{value}"'}


@dataclass
class World:
    """The cast, plus groups in two Hạ Long neighbourhoods, Hạ Long itself and Bãi Cháy,
    and the roles the cast lacks: a group leader, a camera owner, a ward system."""

    cast: Cast
    kp2: Neighbourhood  # another neighbourhood of Hạ Long
    kp_group: SelfManagedGroup  # security group of the head's neighbourhood
    kp2_group: SelfManagedGroup  # mediation team of kp2
    ward_group: SelfManagedGroup  # ward-wide grassroots team of Hạ Long
    bc_group: SelfManagedGroup  # Bãi Cháy
    leader: User  # group_leader in the head's neighbourhood, leads ward_group
    kp2_head: User
    camera_owner: User
    ward_system: Client

    def headers(self, account: User | Client, scopes: frozenset[str] | None = None) -> Any:
        return self.cast.headers(account, scopes)

    @property
    def ha_long_ids(self) -> set[str]:
        return {str(g.id) for g in (self.kp_group, self.kp2_group, self.ward_group)}


async def build_world(session: AsyncSession, cast: Cast) -> World:
    """Store the world (committed into the test's transaction)."""
    make_group = factories.make_self_managed_group
    kp2 = await factories.make_neighbourhood(session, HA_LONG, households=80)
    ward_group = await make_group(session, HA_LONG, "grassroots_security_team", name="Tổ bảo vệ")
    leader = await factories.make_user(session, Role.GROUP_LEADER, str(cast.ha_long_kp.id))
    await factories.make_member(session, ward_group, position="leader", user_id=leader.id)
    machine, _ = await factories.make_client(session, HA_LONG)
    world = World(
        cast=cast,
        kp2=kp2,
        kp_group=await make_group(session, cast.ha_long_kp, name="Tổ tự quản ANTT khu phố thử"),
        kp2_group=await make_group(session, kp2, "mediation_team", name="Tổ hòa giải khu phố 2"),
        ward_group=ward_group,
        bc_group=await make_group(session, cast.bai_chay_kp, name="Tổ tự quản Bãi Cháy"),
        leader=leader,
        kp2_head=await factories.make_user(session, Role.NEIGHBOURHOOD_HEAD, str(kp2.id)),
        camera_owner=await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG),
        ward_system=machine,
    )
    await session.commit()
    return world


@pytest.fixture
async def world(session: AsyncSession, cast: Cast) -> World:
    return await build_world(session, cast)


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of the group list, following cursors."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(GROUPS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def stored(session: AsyncSession, group_id: uuid.UUID | str) -> SelfManagedGroup:
    session.expunge_all()
    group = await session.get(SelfManagedGroup, uuid.UUID(str(group_id)))
    assert group is not None
    return group


class TestListGroups:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        factories.assert_unauthorized(await client.get(GROUPS))

    async def test_token_without_groups_read_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        headers = world.headers(world.cast.resident, frozenset({"reports:create"}))
        assert "groups:read" in factories.assert_forbidden(
            await client.get(GROUPS, headers=headers)
        )

    async def test_admin_sees_every_ward(self, client: httpx.AsyncClient, world: World) -> None:
        ids = {g["id"] for g in await listed(client, world.headers(world.cast.admin))}
        assert ids >= world.ha_long_ids | {str(world.bc_group.id)}

    async def test_province_officer_sees_their_province_only(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        ids = {g["id"] for g in await listed(client, world.headers(world.cast.province_officer))}
        assert ids >= world.ha_long_ids | {str(world.bc_group.id)}
        other = await listed(client, world.headers(world.cast.other_province_officer))
        assert not {g["id"] for g in other} & (world.ha_long_ids | {str(world.bc_group.id)})

    async def test_ward_officer_sees_their_ward_in_full(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        items = await listed(client, world.headers(world.cast.ward_officer))
        assert {g["id"] for g in items} == world.ha_long_ids
        assert {g["view"] for g in items} == {"full"}
        assert {g["ward_code"] for g in items} == {HA_LONG}

    async def test_head_sees_their_neighbourhood_only(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        items = await listed(client, world.headers(world.cast.head))
        assert [g["id"] for g in items] == [str(world.kp_group.id)]

    async def test_group_leader_sees_their_neighbourhood_and_the_team_they_lead(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        items = await listed(client, world.headers(world.leader))
        assert {g["id"] for g in items} == {str(world.kp_group.id), str(world.ward_group.id)}
        assert {g["view"] for g in items} == {"full"}

    @pytest.mark.parametrize("role", ["resident", "camera_owner"])
    async def test_resident_and_camera_owner_get_names_and_kinds_only(
        self, client: httpx.AsyncClient, world: World, role: str
    ) -> None:
        account = world.cast.resident if role == "resident" else world.camera_owner
        items = await listed(client, world.headers(account))
        assert {g["id"] for g in items} == world.ha_long_ids
        for item in items:
            assert set(item) == SUMMARY_FIELDS
            assert item["view"] == "summary"
        names = {g["name"] for g in items}
        assert "Tổ hòa giải khu phố 2" in names

    async def test_ward_system_sees_its_ward_in_full(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        items = await listed(client, world.headers(world.ward_system))
        assert {g["id"] for g in items} == world.ha_long_ids
        assert "households_covered" in items[0]

    async def test_other_ward_resident_sees_none_of_ha_long(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        items = await listed(client, world.headers(world.cast.other_resident))
        assert {g["id"] for g in items} == {str(world.bc_group.id)}

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"kind": "mediation_team"}, {"kp2_group"}),
            ({"kind": "grassroots_security_team"}, {"ward_group"}),
            ({"status": "suspended"}, {"kp_group"}),
            ({"status": "active"}, {"kp2_group", "ward_group"}),
            ({"q": "to hoa giai"}, {"kp2_group"}),
            ({"q": "TỔ BẢO"}, {"ward_group"}),
            ({"q": "khu pho"}, {"kp_group", "kp2_group"}),
            ({"q": "oa giai"}, set()),
            ({"kind": "security_self_management", "status": "suspended"}, {"kp_group"}),
            ({"ward_code": BAI_CHAY}, set()),
        ],
    )
    async def test_filters(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        params: dict[str, str],
        expected: set[str],
    ) -> None:
        world.kp_group.status = "suspended"
        session.add(world.kp_group)
        await session.commit()
        items = await listed(client, world.headers(world.cast.ward_officer), **params)
        assert {g["id"] for g in items} == {str(getattr(world, name).id) for name in expected}

    async def test_neighbourhood_filter(self, client: httpx.AsyncClient, world: World) -> None:
        items = await listed(
            client, world.headers(world.cast.admin), neighbourhood_id=str(world.kp2.id)
        )
        assert [g["id"] for g in items] == [str(world.kp2_group.id)]

    async def test_filters_combined_with_paging_walk_every_match_once(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        made = []
        for index in range(7):
            made.append(
                await factories.make_self_managed_group(
                    session, world.kp2, "crime_prevention_channel", name=f"Nhóm Zalo số {index}"
                )
            )
        await factories.make_self_managed_group(
            session, world.kp2, "crime_prevention_channel", name="Nhóm Zalo cũ", status="dissolved"
        )
        await session.commit()
        headers = world.headers(world.cast.ward_officer)
        params = {
            "kind": "crime_prevention_channel",
            "status": "active",
            "neighbourhood_id": str(world.kp2.id),
            "q": "nhom zalo",
            "limit": 3,
        }
        pages = []
        cursor = None
        while True:
            response = await client.get(
                GROUPS, params={**params, **({"cursor": cursor} if cursor else {})}, headers=headers
            )
            body = response.json()
            pages.append([g["id"] for g in body["items"]])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [i for page in pages for i in page] == [str(g.id) for g in made]

    async def test_cursor_with_other_filters_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        headers = world.headers(world.cast.ward_officer)
        first = await client.get(GROUPS, params={"limit": 1}, headers=headers)
        cursor = first.json()["next_cursor"]
        assert cursor
        response = await client.get(
            GROUPS, params={"limit": 1, "cursor": cursor, "kind": "mediation_team"}, headers=headers
        )
        factories.assert_problem(response, 422, "invalid-cursor")

    @pytest.mark.parametrize(
        "params", [{"limit": 201}, {"kind": "choir"}, {"status": "gone"}, {"ward_code": "6688"}]
    )
    async def test_bad_query_gets_422(
        self, client: httpx.AsyncClient, world: World, params: dict[str, Any]
    ) -> None:
        response = await client.get(GROUPS, params=params, headers=world.headers(world.cast.admin))
        factories.assert_problem(response, 422, "validation-error")

    async def test_deleted_group_is_not_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        world.kp2_group.deleted_at = utcnow()
        session.add(world.kp2_group)
        await session.commit()
        items = await listed(client, world.headers(world.cast.ward_officer))
        assert str(world.kp2_group.id) not in {g["id"] for g in items}


class TestGetGroup:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        factories.assert_unauthorized(await client.get(f"{GROUPS}/{world.kp_group.id}"))

    async def test_token_without_groups_read_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        headers = world.headers(world.cast.ward_officer, frozenset({"units:write"}))
        factories.assert_forbidden(
            await client.get(f"{GROUPS}/{world.kp_group.id}", headers=headers)
        )

    @pytest.mark.parametrize(
        ("account", "group"),
        [
            ("other_ward_officer", "kp_group"),
            ("head", "kp2_group"),
            ("head", "ward_group"),
            ("kp2_head", "kp_group"),
            ("other_resident", "kp_group"),
            ("other_province_officer", "bc_group"),
        ],
    )
    async def test_outside_your_units_gets_404(
        self, client: httpx.AsyncClient, world: World, account: str, group: str
    ) -> None:
        who = getattr(world.cast, account, None) or getattr(world, account)
        response = await client.get(
            f"{GROUPS}/{getattr(world, group).id}", headers=world.headers(who)
        )
        factories.assert_not_found(response)
        assert "etag" not in response.headers

    async def test_unknown_id_gets_404(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.get(
            f"{GROUPS}/{uuid.uuid4()}", headers=world.headers(world.cast.admin)
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize("account", ["ward_officer", "head", "admin", "province_officer"])
    async def test_right_role_gets_the_full_record_and_etag(
        self, client: httpx.AsyncClient, world: World, account: str
    ) -> None:
        response = await client.get(
            f"{GROUPS}/{world.kp_group.id}", headers=world.headers(getattr(world.cast, account))
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"1"'
        body = response.json()
        assert body["view"] == "full"
        assert (body["id"], body["kind"], body["ward_code"], body["province_code"]) == (
            str(world.kp_group.id),
            "security_self_management",
            HA_LONG,
            "22",
        )
        assert body["neighbourhood_id"] == str(world.cast.ha_long_kp.id)
        assert body["covered_residential_group_ids"] == []
        assert body["coverage_ratio"] is None

    async def test_resident_gets_the_summary(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.get(
            f"{GROUPS}/{world.ward_group.id}", headers=world.headers(world.cast.resident)
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        assert set(response.json()) == SUMMARY_FIELDS
        assert response.json()["neighbourhood_id"] is None


class TestCoverageRatio:
    async def channel(
        self, client: httpx.AsyncClient, world: World, group: SelfManagedGroup
    ) -> dict[str, Any]:
        response = await client.get(f"{GROUPS}/{group.id}", headers=world.headers(world.cast.admin))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def test_neighbourhood_channel_against_its_households(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        # kp2 has 80 households.
        group = await factories.make_self_managed_group(
            session, world.kp2, "crime_prevention_channel", households_linked=60
        )
        await session.commit()
        body = await self.channel(client, world, group)
        assert (body["area_households"], body["coverage_ratio"]) == (80, 0.75)

    async def test_every_household_linked_is_1(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        group = await factories.make_self_managed_group(
            session, world.kp2, "crime_prevention_channel", households_linked=80
        )
        await session.commit()
        assert (await self.channel(client, world, group))["coverage_ratio"] == 1.0

    async def test_ratio_is_rounded_to_4_decimals(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        neighbourhood = await factories.make_neighbourhood(session, HA_LONG, households=3)
        group = await factories.make_self_managed_group(
            session, neighbourhood, "crime_prevention_channel", households_linked=2
        )
        await session.commit()
        assert (await self.channel(client, world, group))["coverage_ratio"] == 0.6667

    async def test_covered_residential_groups_are_the_area_when_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        t1 = await factories.make_group(session, world.kp2, households=20)
        t2 = await factories.make_group(session, world.kp2, households=30)
        gone = await factories.make_group(session, world.kp2, households=100)
        gone.deleted_at = utcnow()
        group = await factories.make_self_managed_group(
            session, world.kp2, "crime_prevention_channel", households_linked=25
        )
        for rg in (t1, t2, gone):
            session.add(GroupResidentialGroup(group_id=group.id, residential_group_id=rg.id))
        await session.commit()
        body = await self.channel(client, world, group)
        assert (body["area_households"], body["coverage_ratio"]) == (50, 0.5)
        assert set(body["covered_residential_group_ids"]) == {str(t1.id), str(t2.id)}

    async def test_ward_wide_channel_against_the_wards_neighbourhoods(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        group = await factories.make_self_managed_group(
            session, HA_LONG, "crime_prevention_channel", households_linked=90
        )
        await session.commit()
        households = (
            await session.exec(
                select(func.sum(Neighbourhood.households)).where(
                    col(Neighbourhood.ward_code) == HA_LONG, col(Neighbourhood.deleted_at).is_(None)
                )
            )
        ).one()
        body = await self.channel(client, world, group)
        assert body["area_households"] == households
        assert body["coverage_ratio"] == round(90 / households, 4)

    async def test_area_without_households_gives_null(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        empty = await factories.make_neighbourhood(session, HA_LONG, households=0)
        group = await factories.make_self_managed_group(
            session, empty, "crime_prevention_channel", households_linked=0
        )
        await session.commit()
        body = await self.channel(client, world, group)
        assert (body["area_households"], body["coverage_ratio"]) == (0, None)

    async def test_channel_without_households_linked_gives_null(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        group = await factories.make_self_managed_group(
            session, world.kp2, "crime_prevention_channel"
        )
        await session.commit()
        body = await self.channel(client, world, group)
        assert (body["area_households"], body["coverage_ratio"]) == (80, None)

    async def test_other_kinds_have_no_ratio(self, client: httpx.AsyncClient, world: World) -> None:
        body = await self.channel(client, world, world.kp2_group)
        assert (body["area_households"], body["coverage_ratio"]) == (None, None)

    async def test_list_shows_the_ratio_too(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        await factories.make_self_managed_group(
            session, world.kp2, "crime_prevention_channel", households_linked=40
        )
        await session.commit()
        items = await listed(
            client, world.headers(world.cast.ward_officer), kind="crime_prevention_channel"
        )
        assert [g["coverage_ratio"] for g in items] == [0.5]


def new_group(**values: Any) -> dict[str, Any]:
    return {"kind": "security_self_management", "name": "Tổ tự quản ANTT mới", **values}


class TestCreateGroup:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        body = new_group(ward_code=HA_LONG)
        factories.assert_unauthorized(await client.post(GROUPS, json=body))

    @pytest.mark.parametrize("account", ["resident", "province_officer"])
    async def test_role_without_groups_write_gets_403(
        self, client: httpx.AsyncClient, world: World, account: str
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(ward_code=HA_LONG),
            headers=world.headers(getattr(world.cast, account)),
        )
        assert "groups:write" in factories.assert_forbidden(response)

    async def test_group_leader_gets_403(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(neighbourhood_id=str(world.cast.ha_long_kp.id)),
            headers=world.headers(world.leader),
        )
        factories.assert_forbidden(response)

    async def test_ward_officer_in_another_ward_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(neighbourhood_id=str(world.cast.bai_chay_kp.id)),
            headers=world.headers(world.cast.ward_officer),
        )
        assert "own ward" in factories.assert_forbidden(response)
        count = await session.exec(
            select(func.count()).where(col(SelfManagedGroup.name) == "Tổ tự quản ANTT mới")
        )
        assert count.one() == 0

    async def test_head_in_another_neighbourhood_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(neighbourhood_id=str(world.kp2.id)),
            headers=world.headers(world.cast.head),
        )
        assert "own neighbourhood" in factories.assert_forbidden(response)

    async def test_head_creating_a_ward_wide_group_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS, json=new_group(ward_code=HA_LONG), headers=world.headers(world.cast.head)
        )
        assert "ward officers" in factories.assert_forbidden(response)

    async def test_head_creates_one_in_their_neighbourhood(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(kind="mediation_team", neighbourhood_id=str(world.cast.ha_long_kp.id)),
            headers=world.headers(world.cast.head),
        )
        assert response.status_code == 201, response.text
        assert response.json()["ward_code"] == HA_LONG

    async def test_ward_officer_creates_one_with_location_etag_row_and_audit(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        body = new_group(
            kind="crime_prevention_channel",
            name="Nhóm Zalo phòng, chống tội phạm khu phố 2",
            neighbourhood_id=str(world.kp2.id),
            households_covered=80,
            households_linked=80,
            founded_on="2024-03-15",
            founding_decision_no="125/QĐ-UBND",
            charter_notes="Trực 24/7.",
        )
        response = await client.post(
            GROUPS, json=body, headers=world.headers(world.cast.ward_officer)
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"{GROUPS}/{created['id']}"
        assert response.headers["etag"] == '"1"'
        assert {k: created[k] for k in body} == body
        assert (created["province_code"], created["ward_code"], created["status"]) == (
            "22",
            HA_LONG,
            "active",
        )
        assert (created["view"], created["coverage_ratio"], created["version"]) == ("full", 1.0, 1)
        row = await stored(session, created["id"])
        assert row.search_key == "nhom zalo phong, chong toi pham khu pho 2"
        event = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == created["id"]))
        ).one()
        assert (event.action, event.record_type, event.ward_code) == ("create", "group", HA_LONG)
        assert event.actor_id == world.cast.ward_officer.id
        assert {"name", "households_linked", "kind"} <= set(event.changed_fields)
        read = await client.get(
            response.headers["location"], headers=world.headers(world.cast.ward_officer)
        )
        assert read.json() == created

    async def test_admin_creates_a_ward_wide_team_anywhere(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(kind="grassroots_security_team", ward_code=BAI_CHAY),
            headers=world.headers(world.cast.admin),
        )
        assert response.status_code == 201, response.text
        assert (response.json()["ward_code"], response.json()["neighbourhood_id"]) == (
            BAI_CHAY,
            None,
        )

    async def test_covered_residential_groups_come_back_distinct_in_code_order(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        t2 = await factories.make_group(session, world.kp2, code="T002")
        t1 = await factories.make_group(session, world.kp2, code="T001")
        await session.commit()
        response = await client.post(
            GROUPS,
            json=new_group(
                kind="grassroots_security_team",
                neighbourhood_id=str(world.kp2.id),
                covered_residential_group_ids=[str(t2.id), str(t1.id), str(t2.id)],
            ),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        assert response.json()["covered_residential_group_ids"] == [str(t1.id), str(t2.id)]
        links = await session.exec(
            select(func.count()).where(
                col(GroupResidentialGroup.group_id) == uuid.UUID(response.json()["id"])
            )
        )
        assert links.one() == 2

    async def test_ward_wide_team_covers_groups_of_several_neighbourhoods(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        t1 = await factories.make_group(session, world.kp2)
        t2 = await factories.make_group(session, world.cast.ha_long_kp)
        await session.commit()
        response = await client.post(
            GROUPS,
            json=new_group(
                kind="grassroots_security_team",
                ward_code=HA_LONG,
                covered_residential_group_ids=[str(t1.id), str(t2.id)],
            ),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        assert len(response.json()["covered_residential_group_ids"]) == 2

    @pytest.mark.parametrize("where", ["other_neighbourhood", "other_ward", "unknown", "deleted"])
    async def test_covering_a_residential_group_outside_the_area_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, where: str
    ) -> None:
        if where == "unknown":
            target = uuid.uuid4()
        else:
            unit = world.cast.bai_chay_kp if where == "other_ward" else world.cast.ha_long_kp
            if where == "deleted":
                unit = world.kp2
            rg = await factories.make_group(session, unit)
            if where == "deleted":
                rg.deleted_at = utcnow()
            await session.commit()
            target = rg.id
        response = await client.post(
            GROUPS,
            json=new_group(
                neighbourhood_id=str(world.kp2.id), covered_residential_group_ids=[str(target)]
            ),
            headers=world.headers(world.cast.admin),
        )
        body = factories.assert_problem(response, 422, "validation-error")
        assert str(target) in body["detail"]

    async def test_households_linked_on_a_group_that_is_no_channel_gets_422_naming_the_rule(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(ward_code=HA_LONG, households_linked=10),
            headers=world.headers(world.cast.admin),
        )
        body = factories.assert_field_problem(
            response, ["body", "households_linked"], "households_linked_channel_only"
        )
        assert body["rule"] == "households_linked_channel_only"

    @pytest.mark.parametrize(
        "body",
        [
            new_group(),
            new_group(ward_code="99999"),
            new_group(neighbourhood_id=str(uuid.uuid4())),
            new_group(ward_code=HA_LONG, kind="choir"),
            new_group(ward_code=HA_LONG, status="gone"),
            new_group(ward_code=HA_LONG, name=""),
            new_group(ward_code=HA_LONG, households_covered=-1),
            new_group(ward_code=HA_LONG, province_code="01"),
            new_group(ward_code=HA_LONG, search_key="x"),
            new_group(ward_code=HA_LONG, version=3),
        ],
    )
    async def test_bad_body_gets_422(
        self, client: httpx.AsyncClient, world: World, body: dict[str, Any]
    ) -> None:
        response = await client.post(GROUPS, json=body, headers=world.headers(world.cast.admin))
        factories.assert_problem(response, 422, "validation-error")

    async def test_ward_code_and_neighbourhood_of_another_ward_get_422(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS,
            json=new_group(ward_code=BAI_CHAY, neighbourhood_id=str(world.kp2.id)),
            headers=world.headers(world.cast.admin),
        )
        factories.assert_field_problem(response, ["body", "ward_code"], "value_error")

    async def test_neither_neighbourhood_nor_ward_gets_422_naming_both_missing(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            GROUPS, json=new_group(), headers=world.headers(world.cast.admin)
        )
        body = factories.assert_problem(response, 422, "validation-error")
        assert [(error["loc"], error["type"]) for error in body["errors"]] == [
            (["body", "neighbourhood_id"], "missing"),
            (["body", "ward_code"], "missing"),
        ]
        assert all(error["msg"] == body["detail"] for error in body["errors"])
        assert "field" not in body

    async def test_idempotency_key_replays_and_refuses_another_body(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        headers = {**world.headers(world.cast.ward_officer), "Idempotency-Key": "group-1"}
        body = new_group(ward_code=HA_LONG, name="Tổ một lần")
        first = await client.post(GROUPS, json=body, headers=headers)
        again = await client.post(GROUPS, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.content == first.content
        assert again.headers["idempotency-replayed"] == "true"
        other = await client.post(GROUPS, json={**body, "name": "Tổ khác"}, headers=headers)
        factories.assert_problem(other, 422, "validation-error")
        count = await session.exec(
            select(func.count()).where(col(SelfManagedGroup.name) == "Tổ một lần")
        )
        assert count.one() == 1


class TestUpdateGroup:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}", json={"name": "X"}, headers=version(1)
        )
        factories.assert_unauthorized(response)

    @pytest.mark.parametrize("account", ["resident", "province_officer"])
    async def test_role_without_groups_write_gets_403(
        self, client: httpx.AsyncClient, world: World, account: str
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}",
            json={"name": "X"},
            headers={**world.headers(getattr(world.cast, account)), **version(1)},
        )
        factories.assert_forbidden(response)

    @pytest.mark.parametrize(
        ("account", "group"),
        [("other_ward_officer", "kp_group"), ("head", "kp2_group"), ("head", "ward_group")],
    )
    async def test_outside_your_units_gets_404(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        account: str,
        group: str,
    ) -> None:
        target = getattr(world, group)
        response = await client.patch(
            f"{GROUPS}/{target.id}",
            json={"name": "X"},
            headers={**world.headers(getattr(world.cast, account)), **version(1)},
        )
        factories.assert_not_found(response)
        assert (await stored(session, target.id)).version == 1

    @pytest.mark.parametrize("account", ["ward_officer", "head", "admin"])
    async def test_right_role_changes_it_with_a_new_etag_and_audit(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, account: str
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}",
            json={"name": "Tổ tự quản số Một", "status": "suspended", "charter_notes": None},
            headers={**world.headers(getattr(world.cast, account)), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        body = response.json()
        assert (body["name"], body["status"], body["version"]) == (
            "Tổ tự quản số Một",
            "suspended",
            2,
        )
        row = await stored(session, world.kp_group.id)
        assert (row.search_key, row.status) == ("to tu quan so mot", "suspended")
        event = (
            await session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.record_id) == str(world.kp_group.id),
                    col(AuditEvent.action) == "update",
                )
            )
        ).one()
        assert event.changed_fields == ["charter_notes", "name", "status"]
        found = await listed(client, world.headers(world.cast.admin), q="so mot")
        assert [g["id"] for g in found] == [str(world.kp_group.id)]

    async def test_covered_list_is_replaced(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        t1 = await factories.make_group(session, world.kp2, code="T001")
        t2 = await factories.make_group(session, world.kp2, code="T002")
        session.add(GroupResidentialGroup(group_id=world.kp2_group.id, residential_group_id=t1.id))
        await session.commit()
        url = f"{GROUPS}/{world.kp2_group.id}"
        headers = world.headers(world.cast.ward_officer)
        response = await client.patch(
            url,
            json={"covered_residential_group_ids": [str(t2.id)]},
            headers={**headers, **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.json()["covered_residential_group_ids"] == [str(t2.id)]
        emptied = await client.patch(
            url, json={"covered_residential_group_ids": []}, headers={**headers, **version(2)}
        )
        assert emptied.json()["covered_residential_group_ids"] == []

    async def test_moving_to_a_neighbourhood_its_coverage_is_outside_of_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        t1 = await factories.make_group(session, world.kp2)
        session.add(GroupResidentialGroup(group_id=world.kp2_group.id, residential_group_id=t1.id))
        await session.commit()
        response = await client.patch(
            f"{GROUPS}/{world.kp2_group.id}",
            json={"neighbourhood_id": str(world.cast.ha_long_kp.id)},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")

    async def test_ward_officer_makes_a_group_ward_wide(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp2_group.id}",
            json={"neighbourhood_id": None},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.json()["neighbourhood_id"] is None

    async def test_head_making_their_group_ward_wide_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}",
            json={"neighbourhood_id": None},
            headers={**world.headers(world.cast.head), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_moving_to_another_wards_neighbourhood_gets_422(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}",
            json={"neighbourhood_id": str(world.cast.bai_chay_kp.id)},
            headers={**world.headers(world.cast.admin), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")

    @pytest.mark.parametrize(
        "body",
        [
            {"kind": "mediation_team"},
            {"ward_code": BAI_CHAY},
            {"version": 5},
            {"name": None},
            {"status": None},
            {"households_linked": 4},
        ],
    )
    async def test_bad_or_immutable_field_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, body: dict[str, Any]
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}",
            json=body,
            headers={**world.headers(world.cast.admin), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")
        assert (await stored(session, world.kp_group.id)).version == 1

    async def test_without_if_match_gets_428(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.patch(
            f"{GROUPS}/{world.kp_group.id}",
            json={"name": "X"},
            headers=world.headers(world.cast.ward_officer),
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        headers = world.headers(world.cast.ward_officer)
        url = f"{GROUPS}/{world.kp_group.id}"
        first = await client.patch(url, json={"name": "Một"}, headers={**headers, **version(1)})
        assert first.status_code == 200
        second = await client.patch(url, json={"name": "Hai"}, headers={**headers, **version(1)})
        factories.assert_problem(second, 412, "precondition-failed")
        assert (await stored(session, world.kp_group.id)).name == "Một"


class TestDeleteGroup:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.delete(f"{GROUPS}/{world.kp_group.id}", headers=version(1))
        factories.assert_unauthorized(response)

    async def test_resident_gets_403(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.delete(
            f"{GROUPS}/{world.kp_group.id}",
            headers={**world.headers(world.cast.resident), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        response = await client.delete(
            f"{GROUPS}/{world.kp_group.id}",
            headers={**world.headers(world.cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)
        assert (await stored(session, world.kp_group.id)).deleted_at is None

    @pytest.mark.parametrize("account", ["ward_officer", "head", "admin"])
    async def test_right_role_deletes_it_and_its_members(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, account: str
    ) -> None:
        member = await factories.make_member(session, world.kp_group)
        await session.commit()
        headers = world.headers(getattr(world.cast, account))
        url = f"{GROUPS}/{world.kp_group.id}"
        response = await client.delete(url, headers={**headers, **version(1)})
        assert response.status_code == 204
        factories.assert_not_found(await client.get(url, headers=headers))
        assert (await stored(session, world.kp_group.id)).deleted_at is not None
        row = await session.get(GroupMember, member.id)
        assert row is not None
        assert row.deleted_at is not None
        actions = (
            await session.exec(
                select(AuditEvent.action).where(col(AuditEvent.record_id) == str(world.kp_group.id))
            )
        ).all()
        assert list(actions) == ["delete"]
        member_events = await session.exec(
            select(AuditEvent.action).where(col(AuditEvent.record_id) == str(member.id))
        )
        assert list(member_events.all()) == ["delete"]

    async def test_designated_group_gets_409_naming_the_rule(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        session.add(
            ExemplaryModel(
                group_id=world.kp_group.id,
                province_code="22",
                ward_code=HA_LONG,
                year=2025,
                decision_no="1/QĐ",
            )
        )
        await session.commit()
        response = await client.delete(
            f"{GROUPS}/{world.kp_group.id}",
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        body = factories.assert_problem(response, 409, "conflict")
        assert body["rule"] == "exemplary_model_designated"

    async def test_without_if_match_gets_428(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.delete(
            f"{GROUPS}/{world.kp_group.id}", headers=world.headers(world.cast.admin)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.delete(
            f"{GROUPS}/{world.kp_group.id}",
            headers={**world.headers(world.cast.admin), **version(2)},
        )
        factories.assert_problem(response, 412, "precondition-failed")


class TestResidentialGroupsStillDelete:
    async def test_hard_deleting_a_covered_residential_group_removes_the_link(
        self, session: AsyncSession, world: World
    ) -> None:
        rg = await factories.make_group(session, world.kp2)
        session.add(GroupResidentialGroup(group_id=world.kp2_group.id, residential_group_id=rg.id))
        await session.commit()
        await session.delete(rg)
        await session.commit()
        links = await session.exec(
            select(func.count()).where(col(GroupResidentialGroup.group_id) == world.kp2_group.id)
        )
        assert links.one() == 0
        assert await session.get(ResidentialGroup, rg.id) is None
