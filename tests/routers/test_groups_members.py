"""Members of self-managed groups over HTTP: who manages them, eligibility, one leader, phones."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.group_members import GroupMember
from app.models.groups import SelfManagedGroup
from app.security import Role
from tests import factories
from tests.conftest import Cast
from tests.routers.test_groups import World, build_world, version

PHONE = "0912345678"
MASKED = "09******78"


@pytest.fixture
async def world(session: AsyncSession, cast: Cast) -> World:
    return await build_world(session, cast)


def members_url(group: SelfManagedGroup, member_id: uuid.UUID | str | None = None) -> str:
    base = f"/api/v1/groups/{group.id}/members"
    return f"{base}/{member_id}" if member_id else base


def new_member(**values: Any) -> dict[str, Any]:
    body = {
        "full_name": "Trần Văn Bình",
        "phone": PHONE,
        "birth_year": 1980,
        "position": "member",
        "joined_on": "2025-03-01",
        "resident_since": "2010-06-01",
    }
    return {**body, **values}


async def stored(session: AsyncSession, member_id: uuid.UUID | str) -> GroupMember:
    session.expunge_all()
    member = await session.get(GroupMember, uuid.UUID(str(member_id)))
    assert member is not None
    return member


@pytest.fixture
async def member(session: AsyncSession, world: World) -> GroupMember:
    """A member with a phone number in the head's neighbourhood's group."""
    stored_member = await factories.make_member(session, world.kp_group, phone=PHONE)
    await session.commit()
    return stored_member


async def leader_of(session: AsyncSession, world: World, group: SelfManagedGroup) -> Any:
    """A group_leader account of the head's neighbourhood, leading ``group``."""
    account = await factories.make_user(session, Role.GROUP_LEADER, str(world.cast.ha_long_kp.id))
    await factories.make_member(session, group, position="leader", user_id=account.id)
    await session.commit()
    return account


class TestListMembers:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        factories.assert_unauthorized(await client.get(members_url(world.kp_group)))

    @pytest.mark.parametrize("role", ["resident", "camera_owner"])
    async def test_resident_and_camera_owner_get_403_names_and_kinds_only(
        self, client: httpx.AsyncClient, world: World, member: GroupMember, role: str
    ) -> None:
        account = world.cast.resident if role == "resident" else world.camera_owner
        response = await client.get(members_url(world.kp_group), headers=world.headers(account))
        assert "names and kinds only" in factories.assert_forbidden(response)

    async def test_token_without_groups_read_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        headers = world.headers(world.cast.ward_officer, frozenset({"members:write"}))
        response = await client.get(members_url(world.kp_group), headers=headers)
        factories.assert_forbidden(response)

    @pytest.mark.parametrize("account", ["other_ward_officer", "kp2_head"])
    async def test_group_outside_your_units_gets_404(
        self, client: httpx.AsyncClient, world: World, member: GroupMember, account: str
    ) -> None:
        who = getattr(world.cast, account, None) or getattr(world, account)
        response = await client.get(members_url(world.kp_group), headers=world.headers(who))
        factories.assert_not_found(response)

    @pytest.mark.parametrize(
        ("account", "sees_phone"),
        [
            ("admin", True),
            ("ward_officer", True),
            ("peer_ward_officer", True),
            ("province_officer", False),
            ("head", False),
            ("ward_system", False),
            ("leader", False),  # leads the ward-wide team, not this group
        ],
    )
    async def test_phone_is_masked_unless_yours_to_see(
        self,
        client: httpx.AsyncClient,
        world: World,
        member: GroupMember,
        account: str,
        sees_phone: bool,
    ) -> None:
        who = getattr(world.cast, account, None) or getattr(world, account)
        response = await client.get(members_url(world.kp_group), headers=world.headers(who))
        assert response.status_code == 200, response.text
        [item] = response.json()["items"]
        assert item["id"] == str(member.id)
        assert item["phone"] == (PHONE if sees_phone else MASKED)
        assert item["phone_masked"] is (not sees_phone)
        assert item["full_name"] == "Thành Viên Thử"

    async def test_the_groups_own_leader_sees_phones(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, member: GroupMember
    ) -> None:
        own_leader = await leader_of(session, world, world.kp_group)
        response = await client.get(members_url(world.kp_group), headers=world.headers(own_leader))
        phones = {item["id"]: item["phone"] for item in response.json()["items"]}
        assert phones[str(member.id)] == PHONE

    async def test_a_leader_who_left_sees_masked_phones(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, member: GroupMember
    ) -> None:
        account = await factories.make_user(
            session, Role.GROUP_LEADER, str(world.cast.ha_long_kp.id)
        )
        await factories.make_member(
            session, world.kp_group, position="leader", user_id=account.id, left_on=date(2025, 9, 1)
        )
        await session.commit()
        response = await client.get(members_url(world.kp_group), headers=world.headers(account))
        phones = {item["id"]: item["phone"] for item in response.json()["items"]}
        assert phones[str(member.id)] == MASKED

    async def test_member_without_phone_is_not_marked_masked(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        await factories.make_member(
            session, world.kp2_group, phone=None, elected_on=date(2025, 3, 1)
        )
        await session.commit()
        response = await client.get(
            members_url(world.kp2_group), headers=world.headers(world.cast.province_officer)
        )
        [item] = response.json()["items"]
        assert (item["phone"], item["phone_masked"]) == (None, False)

    async def test_position_and_active_filters_with_paging(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        made = [await factories.make_member(session, world.kp_group) for _ in range(5)]
        await factories.make_member(session, world.kp_group, left_on=date(2025, 10, 1))
        await factories.make_member(session, world.kp_group, position="deputy")
        deleted = await factories.make_member(session, world.kp_group)
        deleted.deleted_at = utcnow()
        await session.commit()
        headers = world.headers(world.cast.ward_officer)
        ids: list[str] = []
        sizes = []
        cursor = None
        while True:
            params: dict[str, Any] = {"position": "member", "active": "true", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            body = (
                await client.get(members_url(world.kp_group), params=params, headers=headers)
            ).json()
            sizes.append(len(body["items"]))
            ids.extend(item["id"] for item in body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sizes == [2, 2, 1]
        assert ids == [str(m.id) for m in made]
        left = await client.get(
            members_url(world.kp_group), params={"active": "false"}, headers=headers
        )
        assert [(m["active"], m["left_on"]) for m in left.json()["items"]] == [
            (False, "2025-10-01")
        ]


class TestGetMember:
    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        factories.assert_unauthorized(await client.get(members_url(world.kp_group, member.id)))

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.get(
            members_url(world.kp_group, member.id), headers=world.headers(world.cast.resident)
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.get(
            members_url(world.kp_group, member.id),
            headers=world.headers(world.cast.other_ward_officer),
        )
        factories.assert_not_found(response)

    async def test_member_under_another_groups_path_gets_404(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.get(
            members_url(world.ward_group, member.id), headers=world.headers(world.cast.admin)
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize(("account", "phone"), [("ward_officer", PHONE), ("head", MASKED)])
    async def test_right_role_gets_it_with_etag(
        self,
        client: httpx.AsyncClient,
        world: World,
        member: GroupMember,
        account: str,
        phone: str,
    ) -> None:
        response = await client.get(
            members_url(world.kp_group, member.id),
            headers=world.headers(getattr(world.cast, account)),
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        body = response.json()
        assert (body["phone"], body["group_id"], body["ward_code"], body["active"]) == (
            phone,
            str(world.kp_group.id),
            HA_LONG,
            True,
        )


class TestCreateMember:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        factories.assert_unauthorized(
            await client.post(members_url(world.kp_group), json=new_member())
        )

    @pytest.mark.parametrize("account", ["resident", "province_officer"])
    async def test_role_without_members_write_gets_403(
        self, client: httpx.AsyncClient, world: World, account: str
    ) -> None:
        response = await client.post(
            members_url(world.kp_group),
            json=new_member(),
            headers=world.headers(getattr(world.cast, account)),
        )
        assert "members:write" in factories.assert_forbidden(response)

    @pytest.mark.parametrize("account", ["other_ward_officer", "kp2_head"])
    async def test_group_outside_your_units_gets_404(
        self, client: httpx.AsyncClient, world: World, account: str
    ) -> None:
        who = getattr(world.cast, account, None) or getattr(world, account)
        response = await client.post(
            members_url(world.kp_group), json=new_member(), headers=world.headers(who)
        )
        factories.assert_not_found(response)

    async def test_leader_of_another_group_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        # world.leader sees the neighbourhood's group but leads only the ward-wide team.
        response = await client.post(
            members_url(world.kp_group), json=new_member(), headers=world.headers(world.leader)
        )
        assert "group they lead" in factories.assert_forbidden(response)

    async def test_the_groups_leader_adds_a_member_and_sees_the_phone(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            members_url(world.ward_group), json=new_member(), headers=world.headers(world.leader)
        )
        assert response.status_code == 201, response.text
        assert response.json()["phone"] == PHONE

    async def test_head_adds_one_and_gets_the_phone_masked(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            members_url(world.kp_group), json=new_member(), headers=world.headers(world.cast.head)
        )
        assert response.status_code == 201, response.text
        assert (response.json()["phone"], response.json()["phone_masked"]) == (MASKED, True)

    async def test_ward_officer_adds_one_with_location_etag_row_and_audit_without_values(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO)
        response = await client.post(
            members_url(world.kp_group),
            json=new_member(position="deputy"),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == members_url(world.kp_group, body["id"])
        assert response.headers["etag"] == '"1"'
        assert (body["phone"], body["position"], body["province_code"]) == (PHONE, "deputy", "22")
        row = await stored(session, body["id"])
        assert (row.phone, row.group_id, row.ward_code) == (PHONE, world.kp_group.id, HA_LONG)
        event = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).one()
        assert (event.action, event.record_type) == ("create", "group_member")
        assert "phone" in event.changed_fields
        assert PHONE not in event.model_dump_json()
        assert "Trần Văn Bình" not in event.model_dump_json()
        assert PHONE not in caplog.text

    async def test_admin_adds_one_anywhere(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.post(
            members_url(world.bc_group), json=new_member(), headers=world.headers(world.cast.admin)
        )
        assert response.status_code == 201, response.text
        assert response.json()["ward_code"] == BAI_CHAY

    @pytest.mark.parametrize(
        ("birth_year", "extra", "status"),
        [
            (2008, {}, 422),  # 17 in 2025
            (2007, {}, 201),  # 18
            (1955, {}, 201),  # 70
            (1954, {}, 422),  # 71
            (1954, {"exception_approved_by": "Chủ tịch UBND phường"}, 201),
            (2008, {"exception_approved_by": "Chủ tịch UBND phường"}, 422),
        ],
    )
    async def test_grassroots_team_age_at_its_edges(
        self,
        client: httpx.AsyncClient,
        world: World,
        birth_year: int,
        extra: dict[str, str],
        status: int,
    ) -> None:
        response = await client.post(
            members_url(world.ward_group),
            json=new_member(birth_year=birth_year, joined_on="2025-12-31", **extra),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == status, response.text
        if status == 422:
            body = factories.assert_problem(response, 422, "validation-error")
            assert body["rule"] == "grassroots_team_age"
            assert body["errors"][0]["loc"] == ["body", "birth_year"]
            assert "18" in body["detail"] or "70" in body["detail"]

    @pytest.mark.parametrize(
        ("resident_since", "status"),
        [
            ("2024-03-01", 201),  # exactly a year before joining
            ("2024-03-02", 422),  # a day short
            ("2020-01-01", 201),
            (None, 422),
        ],
    )
    async def test_grassroots_team_residence_of_a_year(
        self, client: httpx.AsyncClient, world: World, resident_since: str | None, status: int
    ) -> None:
        response = await client.post(
            members_url(world.ward_group),
            json=new_member(joined_on="2025-03-01", resident_since=resident_since),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == status, response.text
        if status == 422:
            assert response.json()["rule"] == "grassroots_team_residence"

    async def test_other_kinds_take_a_17_year_old_newcomer(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            members_url(world.kp_group),
            json=new_member(birth_year=2008, resident_since=None),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == 201, response.text

    async def test_mediation_team_needs_elected_on(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        headers = world.headers(world.cast.ward_officer)
        missing = await client.post(
            members_url(world.kp2_group), json=new_member(), headers=headers
        )
        body = factories.assert_problem(missing, 422, "validation-error")
        assert body["rule"] == "mediation_team_election"
        elected = await client.post(
            members_url(world.kp2_group), json=new_member(elected_on="2025-02-20"), headers=headers
        )
        assert elected.status_code == 201, elected.text
        assert elected.json()["elected_on"] == "2025-02-20"

    async def test_second_active_leader_gets_409_naming_the_rule(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        # world.ward_group already has world.leader as its active leader.
        response = await client.post(
            members_url(world.ward_group),
            json=new_member(position="leader"),
            headers=world.headers(world.cast.ward_officer),
        )
        body = factories.assert_problem(response, 409, "conflict")
        assert body["rule"] == "one_active_leader"
        leaders = await session.exec(
            select(GroupMember).where(
                col(GroupMember.group_id) == world.ward_group.id,
                col(GroupMember.position) == "leader",
            )
        )
        assert len(leaders.all()) == 1

    async def test_new_leader_once_the_old_one_left(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        headers = world.headers(world.cast.ward_officer)
        first = await client.post(
            members_url(world.kp_group), json=new_member(position="leader"), headers=headers
        )
        assert first.status_code == 201
        left = await client.patch(
            members_url(world.kp_group, first.json()["id"]),
            json={"left_on": "2025-11-30"},
            headers={**headers, **version(1)},
        )
        assert left.status_code == 200, left.text
        assert left.json()["active"] is False
        second = await client.post(
            members_url(world.kp_group), json=new_member(position="leader"), headers=headers
        )
        assert second.status_code == 201, second.text

    async def test_a_leader_who_left_can_be_recorded_beside_the_active_one(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            members_url(world.ward_group),
            json=new_member(position="leader", left_on="2025-06-30"),
            headers=world.headers(world.cast.ward_officer),
        )
        assert response.status_code == 201, response.text

    async def test_dissolved_group_takes_no_new_member(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        world.kp_group.status = "dissolved"
        session.add(world.kp_group)
        await session.commit()
        response = await client.post(
            members_url(world.kp_group), json=new_member(), headers=world.headers(world.cast.admin)
        )
        assert factories.assert_problem(response, 409, "conflict")["rule"] == "group_dissolved"

    @pytest.mark.parametrize(
        "body",
        [
            new_member(phone="not a phone"),
            new_member(phone="12"),
            new_member(position="chair"),
            new_member(birth_year=1800),
            new_member(joined_on="yesterday"),
            new_member(ward_code=BAI_CHAY),
            new_member(group_id=str(uuid.uuid4())),
            new_member(birth_year=2026),
            new_member(left_on="2025-01-01"),
            {"full_name": "Thiếu ngày vào"},
        ],
    )
    async def test_bad_body_gets_422(
        self, client: httpx.AsyncClient, world: World, body: dict[str, Any]
    ) -> None:
        response = await client.post(
            members_url(world.kp_group), json=body, headers=world.headers(world.cast.admin)
        )
        factories.assert_problem(response, 422, "validation-error")

    async def test_idempotency_key_replays_the_first_answer(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        headers = {**world.headers(world.cast.ward_officer), "Idempotency-Key": "member-1"}
        first = await client.post(members_url(world.kp_group), json=new_member(), headers=headers)
        again = await client.post(members_url(world.kp_group), json=new_member(), headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert first.content == again.content
        rows = await session.exec(
            select(GroupMember).where(col(GroupMember.group_id) == world.kp_group.id)
        )
        assert len(rows.all()) == 1

    async def test_the_same_key_and_body_for_another_group_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        headers = {**world.headers(world.cast.ward_officer), "Idempotency-Key": "member-2"}
        first = await client.post(members_url(world.kp_group), json=new_member(), headers=headers)
        assert first.status_code == 201
        other = await client.post(members_url(world.ward_group), json=new_member(), headers=headers)
        factories.assert_problem(other, 422, "validation-error")
        rows = await session.exec(
            select(GroupMember).where(col(GroupMember.group_id) == world.ward_group.id)
        )
        assert len(rows.all()) == 1  # only the leader the world began with


class TestLinkingAnAccount:
    async def test_head_links_a_group_leader_account_who_then_manages_the_group(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        account = await factories.make_user(
            session, Role.GROUP_LEADER, str(world.cast.ha_long_kp.id)
        )
        await session.commit()
        headers = world.headers(account)
        before = await client.post(members_url(world.kp_group), json=new_member(), headers=headers)
        factories.assert_forbidden(before)
        linked = await client.post(
            members_url(world.kp_group),
            json=new_member(position="leader", user_id=str(account.id)),
            headers=world.headers(world.cast.head),
        )
        assert linked.status_code == 201, linked.text
        assert linked.json()["user_id"] == str(account.id)
        after = await client.post(members_url(world.kp_group), json=new_member(), headers=headers)
        assert after.status_code == 201, after.text
        assert after.json()["phone"] == PHONE

    async def test_group_leader_setting_user_id_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            members_url(world.ward_group),
            json=new_member(user_id=str(world.leader.id)),
            headers=world.headers(world.leader),
        )
        assert "link a member" in factories.assert_forbidden(response)

    @pytest.mark.parametrize("whose", ["resident", "other_ward_leader", "unknown"])
    async def test_user_id_of_no_group_leader_of_the_ward_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, whose: str
    ) -> None:
        if whose == "resident":
            user_id = world.cast.resident.id
        elif whose == "other_ward_leader":
            other = await factories.make_user(
                session, Role.GROUP_LEADER, str(world.cast.bai_chay_kp.id)
            )
            await session.commit()
            user_id = other.id
        else:
            user_id = uuid.uuid4()
        response = await client.post(
            members_url(world.kp_group),
            json=new_member(user_id=str(user_id)),
            headers=world.headers(world.cast.ward_officer),
        )
        body = factories.assert_field_problem(response, ["body", "user_id"], "value_error")
        assert body["errors"][0]["msg"] == body["detail"]
        assert world.kp_group.ward_code in body["detail"]

    async def test_one_account_twice_in_a_group_gets_409(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            members_url(world.ward_group),
            json=new_member(user_id=str(world.leader.id)),
            headers=world.headers(world.cast.ward_officer),
        )
        factories.assert_problem(response, 409, "conflict")


class TestUpdateMember:
    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id), json={"full_name": "X"}, headers=version(1)
        )
        factories.assert_unauthorized(response)

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json={"full_name": "X"},
            headers={**world.headers(world.cast.resident), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_leader_of_another_group_gets_403(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json={"full_name": "X"},
            headers={**world.headers(world.leader), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, member: GroupMember
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json={"full_name": "X"},
            headers={**world.headers(world.cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)
        assert (await stored(session, member.id)).version == 1

    @pytest.mark.parametrize("account", ["ward_officer", "head", "admin"])
    async def test_right_role_changes_it_with_a_new_etag_and_audit(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        member: GroupMember,
        account: str,
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json={"phone": "0987654321", "position": "deputy"},
            headers={**world.headers(getattr(world.cast, account)), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.json()["position"] == "deputy"
        row = await stored(session, member.id)
        assert (row.phone, row.version) == ("0987654321", 2)
        event = (
            await session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.record_id) == str(member.id), col(AuditEvent.action) == "update"
                )
            )
        ).one()
        assert event.changed_fields == ["phone", "position"]
        assert "0987654321" not in event.model_dump_json()

    async def test_the_groups_leader_changes_a_member(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        member = await factories.make_member(session, world.ward_group)
        await session.commit()
        response = await client.patch(
            members_url(world.ward_group, member.id),
            json={"full_name": "Tên Mới"},
            headers={**world.headers(world.leader), **version(1)},
        )
        assert response.status_code == 200, response.text

    async def test_the_rules_are_checked_again(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        member = await factories.make_member(session, world.ward_group, birth_year=1960)
        await session.commit()
        response = await client.patch(
            members_url(world.ward_group, member.id),
            json={"birth_year": 1954},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        assert factories.assert_problem(response, 422)["rule"] == "grassroots_team_age"
        approved = await client.patch(
            members_url(world.ward_group, member.id),
            json={"birth_year": 1954, "exception_approved_by": "QĐ 58/QĐ-UBND"},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        assert approved.status_code == 200, approved.text

    async def test_promoting_a_second_leader_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        member = await factories.make_member(session, world.ward_group)
        await session.commit()
        response = await client.patch(
            members_url(world.ward_group, member.id),
            json={"position": "leader"},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        assert factories.assert_problem(response, 409, "conflict")["rule"] == "one_active_leader"
        assert (await stored(session, member.id)).position == "member"

    async def test_the_leader_stays_leader_while_changing_a_phone(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        leader_row = (
            await session.exec(
                select(GroupMember).where(col(GroupMember.user_id) == world.leader.id)
            )
        ).one()
        response = await client.patch(
            members_url(world.ward_group, leader_row.id),
            json={"phone": "0911111111"},
            headers={**world.headers(world.leader), **version(1)},
        )
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        "body", [{"full_name": None}, {"position": None}, {"joined_on": None}, {"group_id": "x"}]
    )
    async def test_bad_body_gets_422(
        self, client: httpx.AsyncClient, world: World, member: GroupMember, body: dict[str, Any]
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json=body,
            headers={**world.headers(world.cast.admin), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json={"full_name": "X"},
            headers=world.headers(world.cast.admin),
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.patch(
            members_url(world.kp_group, member.id),
            json={"full_name": "X"},
            headers={**world.headers(world.cast.admin), **version(3)},
        )
        factories.assert_problem(response, 412, "precondition-failed")


class TestDeleteMember:
    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.delete(members_url(world.kp_group, member.id), headers=version(1))
        factories.assert_unauthorized(response)

    async def test_province_officer_gets_403(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.delete(
            members_url(world.kp_group, member.id),
            headers={**world.headers(world.cast.province_officer), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.delete(
            members_url(world.kp_group, member.id),
            headers={**world.headers(world.cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize("account", ["ward_officer", "head", "admin"])
    async def test_right_role_deletes_it(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        member: GroupMember,
        account: str,
    ) -> None:
        headers = world.headers(getattr(world.cast, account))
        url = members_url(world.kp_group, member.id)
        response = await client.delete(url, headers={**headers, **version(1)})
        assert response.status_code == 204
        factories.assert_not_found(await client.get(url, headers=headers))
        assert (await stored(session, member.id)).deleted_at is not None

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.delete(
            members_url(world.kp_group, member.id), headers=world.headers(world.cast.admin)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, world: World, member: GroupMember
    ) -> None:
        response = await client.delete(
            members_url(world.kp_group, member.id),
            headers={**world.headers(world.cast.admin), **version(2)},
        )
        factories.assert_problem(response, 412, "precondition-failed")
