"""Fire teams over HTTP: the role matrix, the household rule, the leader's phone, If-Match."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.security import Role
from tests.conftest import Cast
from tests.factories import (
    QUANG_NINH,
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_client,
    make_user,
)
from tests.fire_factories import (
    LEADER_PHONE,
    FireCast,
    houses,
    make_drill,
    make_equipment,
    make_fire_cast,
    make_team,
)

TEAMS = "/api/v1/fire-teams"
MASKED = "09******78"


@pytest.fixture
async def fire(session: AsyncSession, cast: Cast) -> FireCast:
    return await make_fire_cast(session, cast)


def new_team(
    neighbourhood_id: uuid.UUID, households: int | list[str] = 8, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "neighbourhood_id": str(neighbourhood_id),
        "name": f"Tổ liên gia {uuid.uuid4().hex[:6]}",
        "leader_member": {"name": "Trần Văn Tổ", "phone": "0987654321"},
        "households": houses(households) if isinstance(households, int) else households,
        "public_fire_points": [
            {
                "label": "Điểm CC ngõ 45",
                "location": "Đầu ngõ 45",
                "lat": 20.95,
                "lon": 107.08,
                "equipment": ["2 bình bột 8 kg", "1 xà beng"],
            }
        ],
    }
    return {**body, **extra}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def stored(session: AsyncSession, team_id: uuid.UUID | str) -> FireTeam:
    session.expunge_all()
    team = await session.get(FireTeam, uuid.UUID(str(team_id)))
    assert team is not None
    return team


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


class TestListFireTeams:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(TEAMS))

    async def test_resident_without_fire_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(TEAMS, headers=cast.headers(cast.resident))
        assert "fire:read" in assert_forbidden(response)

    async def test_ward_officer_sees_only_their_wards_teams(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        seen = ids(await client.get(TEAMS, headers=fire.headers(fire.cast.ward_officer)))
        assert seen == {str(fire.team.id), str(fire.other_team.id)}

    async def test_province_officer_sees_both_wards_and_other_province_nothing(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        cast = fire.cast
        seen = ids(await client.get(TEAMS, headers=fire.headers(cast.province_officer)))
        assert seen == {str(fire.team.id), str(fire.other_team.id), str(fire.bai_chay_team.id)}
        assert ids(await client.get(TEAMS, headers=fire.headers(cast.other_province_officer))) == (
            set()
        )

    async def test_head_and_leaders_see_their_neighbourhood_only(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        expected = {str(fire.team.id), str(fire.other_team.id)}
        for account in (fire.cast.head, fire.leader, fire.other_leader):
            assert ids(await client.get(TEAMS, headers=fire.headers(account))) == expected
        assert ids(await client.get(TEAMS, headers=fire.headers(fire.other_kp_head))) == set()

    async def test_ward_system_sees_its_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        machine, _ = await make_client(session, BAI_CHAY)
        await session.commit()
        response = await client.get(TEAMS, headers=fire.cast.headers(machine))
        assert ids(response) == {str(fire.bai_chay_team.id)}

    async def test_filters_by_neighbourhood_status_and_leader(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        await make_team(session, fire.cast.ha_long_kp, status="disbanded", name="Tổ đã giải thể")
        await session.commit()
        headers = fire.headers(fire.cast.admin)
        by_leader = await client.get(
            TEAMS, params={"leader_user_id": str(fire.leader.id)}, headers=headers
        )
        assert ids(by_leader) == {str(fire.team.id)}
        disbanded = await client.get(
            TEAMS,
            params={"status": "disbanded", "neighbourhood_id": str(fire.cast.ha_long_kp.id)},
            headers=headers,
        )
        assert [item["name"] for item in disbanded.json()["items"]] == ["Tổ đã giải thể"]
        in_ward = await client.get(TEAMS, params={"ward_code": BAI_CHAY}, headers=headers)
        assert ids(in_ward) == {str(fire.bai_chay_team.id)}

    async def test_pages_walk_every_team_by_name_once(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = fire.headers(fire.cast.province_officer)
        names: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get(TEAMS, params=params, headers=headers)).json()
            names += [item["name"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert names == sorted(names)
        assert len(names) == 3

    async def test_cursor_with_other_filters_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = fire.headers(fire.cast.admin)
        first = await client.get(TEAMS, params={"limit": 1}, headers=headers)
        cursor = first.json()["next_cursor"]
        response = await client.get(
            TEAMS, params={"limit": 1, "cursor": cursor, "ward_code": HA_LONG}, headers=headers
        )
        assert_problem(response, 422, "invalid-cursor")


class TestCreateFireTeam:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_unauthorized(await client.post(TEAMS, json=new_team(cast.ha_long_kp.id)))

    async def test_province_officer_without_fire_write_gets_403(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(cast.ha_long_kp.id), headers=cast.headers(cast.province_officer)
        )
        assert "fire:write" in assert_forbidden(response)

    async def test_ward_officer_creates_with_location_etag_audit_and_full_phone(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        body = new_team(cast.ha_long_kp.id, ward_code=HA_LONG)
        response = await client.post(TEAMS, json=body, headers=cast.headers(cast.ward_officer))
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"{TEAMS}/{created['id']}"
        assert response.headers["etag"] == '"1"'
        assert (created["province_code"], created["ward_code"]) == (QUANG_NINH, HA_LONG)
        assert created["leader_member"] == {"name": "Trần Văn Tổ", "phone": "0987654321"}
        assert created["households"] == houses(8)
        assert created["household_count"] == 8
        assert created["status"] == "active"
        assert created["public_fire_points"][0]["equipment"] == ["2 bình bột 8 kg", "1 xà beng"]
        team = await stored(session, created["id"])
        assert (team.leader_phone, team.neighbourhood_id) == ("0987654321", cast.ha_long_kp.id)
        [event] = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == created["id"]))
        ).all()
        assert (event.action, event.record_type, event.ward_code) == (
            "create",
            "fire_team",
            HA_LONG,
        )
        assert "leader_member" in event.changed_fields
        assert "0987654321" not in str(event.model_dump())

    async def test_head_creates_in_their_neighbourhood_and_sees_the_phone_masked(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(cast.ha_long_kp.id), headers=cast.headers(cast.head)
        )
        assert response.status_code == 201, response.text
        assert response.json()["leader_member"]["phone"] == "09******21"

    async def test_head_of_another_neighbourhood_gets_403(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(fire.cast.ha_long_kp.id), headers=fire.headers(fire.other_kp_head)
        )
        assert "own ward or neighbourhood" in assert_forbidden(response)

    async def test_other_ward_officer_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.post(
            TEAMS, json=new_team(cast.ha_long_kp.id), headers=cast.headers(cast.other_ward_officer)
        )
        assert_forbidden(response)

    async def test_group_leader_gets_403_with_the_reason(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(fire.cast.ha_long_kp.id), headers=fire.headers(fire.leader)
        )
        assert "records drills and equipment" in assert_forbidden(response)

    @pytest.mark.parametrize(("count", "status"), [(4, 422), (5, 201), (15, 201), (16, 422)])
    async def test_household_count_edges(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, count: int, status: int
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(cast.ha_long_kp.id, count), headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == status, response.text
        if status == 422:
            body = assert_problem(response, 422, "validation-error")
            assert body["rule"] == "fire_team_household_count"
            assert body["errors"][0]["loc"] == ["body", "households"]
            assert f"has {count}" in body["detail"]
            teams = (await session.exec(select(FireTeam))).all()
            assert all(team.household_count != count for team in teams)
        else:
            assert response.json()["household_count"] == count

    async def test_the_same_house_twice_gets_422_naming_the_rule(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        households = [*houses(5), "  nhà SỐ   2 "]
        response = await client.post(
            TEAMS,
            json=new_team(cast.ha_long_kp.id, households),
            headers=cast.headers(cast.ward_officer),
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["rule"] == "fire_team_household_distinct"
        assert "Households 2 and 6" in body["detail"]

    async def test_leader_account_must_be_a_group_leader_of_the_neighbourhood(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        cast = fire.cast
        headers = fire.headers(cast.ward_officer)
        for wrong in (cast.resident.id, cast.head.id, uuid.uuid4()):
            body = new_team(cast.ha_long_kp.id, leader_user_id=str(wrong))
            response = await client.post(TEAMS, json=body, headers=headers)
            assert assert_problem(response, 422)["rule"] == "fire_team_leader_account"
        body = new_team(cast.ha_long_kp.id, leader_user_id=str(fire.leader.id))
        response = await client.post(TEAMS, json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["leader_user_id"] == str(fire.leader.id)

    async def test_a_group_leader_of_another_neighbourhood_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        elsewhere = await make_user(session, Role.GROUP_LEADER, str(fire.other_kp.id))
        await session.commit()
        body = new_team(fire.cast.ha_long_kp.id, leader_user_id=str(elsewhere.id))
        response = await client.post(TEAMS, json=body, headers=fire.headers(fire.cast.admin))
        assert assert_problem(response, 422)["rule"] == "fire_team_leader_account"

    async def test_ward_code_not_the_neighbourhoods_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_team(cast.ha_long_kp.id, ward_code=BAI_CHAY)
        response = await client.post(TEAMS, json=body, headers=cast.headers(cast.admin))
        body = assert_field_problem(response, ["body", "ward_code"], "value_error")
        assert BAI_CHAY in body["detail"]

    async def test_unknown_neighbourhood_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(uuid.uuid4()), headers=cast.headers(cast.admin)
        )
        assert_field_problem(response, ["body", "neighbourhood_id"], "not_found")

    async def test_taken_name_in_the_neighbourhood_gets_409(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        body = new_team(fire.cast.ha_long_kp.id, name=fire.team.name)
        response = await client.post(TEAMS, json=body, headers=fire.headers(fire.cast.admin))
        assert_problem(response, 409, "conflict")
        elsewhere = new_team(fire.other_kp.id, name=fire.team.name)
        response = await client.post(TEAMS, json=elsewhere, headers=fire.headers(fire.cast.admin))
        assert response.status_code == 201

    @pytest.mark.parametrize(
        "extra",
        [
            {"province_code": "01"},
            {"version": 7},
            {"household_count": 99},
            {"id": str(uuid.uuid4())},
        ],
    )
    async def test_mass_assigned_field_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, extra: dict[str, Any]
    ) -> None:
        response = await client.post(
            TEAMS, json=new_team(cast.ha_long_kp.id, **extra), headers=cast.headers(cast.admin)
        )
        assert_problem(response, 422, "validation-error")

    async def test_bad_phone_gets_422_without_echoing_it(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_team(cast.ha_long_kp.id, leader_member={"name": "A", "phone": "call-0912"})
        response = await client.post(TEAMS, json=body, headers=cast.headers(cast.admin))
        assert_problem(response, 422, "validation-error")
        assert "call-0912" not in response.text

    async def test_idempotency_key_replays_and_refuses_another_body(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.ward_officer), "Idempotency-Key": "team-2026-1"}
        body = new_team(cast.ha_long_kp.id)
        first = await client.post(TEAMS, json=body, headers=headers)
        again = await client.post(TEAMS, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.content == first.content
        assert again.headers["idempotency-replayed"] == "true"
        other = await client.post(TEAMS, json={**body, "name": "Khác"}, headers=headers)
        assert_problem(other, 422)
        teams = (
            await session.exec(select(FireTeam).where(col(FireTeam.name) == body["name"]))
        ).all()
        assert len(teams) == 1


class TestGetFireTeam:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        assert_unauthorized(await client.get(f"{TEAMS}/{fire.team.id}"))

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.get(
            f"{TEAMS}/{fire.team.id}", headers=fire.headers(fire.cast.other_ward_officer)
        )
        assert_not_found(response)

    async def test_head_of_another_neighbourhood_gets_404(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.get(
            f"{TEAMS}/{fire.team.id}", headers=fire.headers(fire.other_kp_head)
        )
        assert_not_found(response)

    @pytest.mark.parametrize(
        ("who", "phone"),
        [
            ("admin", LEADER_PHONE),
            ("ward_officer", LEADER_PHONE),
            ("peer_ward_officer", LEADER_PHONE),
            ("leader", LEADER_PHONE),
            ("head", MASKED),
            ("province_officer", MASKED),
            ("other_leader", MASKED),
        ],
    )
    async def test_phone_is_whole_only_for_the_wards_officers_admins_and_the_leader(
        self, client: httpx.AsyncClient, fire: FireCast, who: str, phone: str
    ) -> None:
        account = getattr(fire, who, None) or getattr(fire.cast, who)
        response = await client.get(f"{TEAMS}/{fire.team.id}", headers=fire.headers(account))
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"1"'
        assert response.json()["leader_member"] == {"name": "Vũ Thị Giang", "phone": phone}

    async def test_lists_mask_the_same_way(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        response = await client.get(TEAMS, headers=fire.headers(fire.leader))
        phones = {item["name"]: item["leader_member"]["phone"] for item in response.json()["items"]}
        assert phones == {fire.team.name: LEADER_PHONE, fire.other_team.name: MASKED}

    async def test_deleted_team_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        team = await stored(session, fire.team.id)
        team.deleted_at = team.created_at
        session.add(team)
        await session.commit()
        response = await client.get(f"{TEAMS}/{team.id}", headers=fire.headers(fire.cast.admin))
        assert_not_found(response)


class TestUpdateFireTeam:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        response = await client.patch(f"{TEAMS}/{fire.team.id}", json={}, headers=if_match(1))
        assert_unauthorized(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.cast.other_ward_officer), **if_match(1)}
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"name": "X"}, headers=headers
        )
        assert_not_found(response)

    async def test_the_teams_own_leader_gets_403(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.leader), **if_match(1)}
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"name": "X"}, headers=headers
        )
        assert "records drills and equipment" in assert_forbidden(response)

    async def test_head_changes_households_and_leader_and_gets_the_new_etag(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.cast.head), **if_match(1)}
        body = {
            "households": houses(10, "Hộ"),
            "leader_member": {"name": "Lê Văn Mới", "phone": "0901112233"},
            "leader_user_id": str(fire.other_leader.id),
            "status": "inactive",
        }
        response = await client.patch(f"{TEAMS}/{fire.team.id}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.json()["leader_member"] == {"name": "Lê Văn Mới", "phone": "09******33"}
        team = await stored(session, fire.team.id)
        assert (team.household_count, team.status, team.leader_user_id) == (
            10,
            "inactive",
            fire.other_leader.id,
        )
        [event] = (
            await session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.record_id) == str(team.id), col(AuditEvent.action) == "update"
                )
            )
        ).all()
        assert event.changed_fields == ["households", "leader_member", "leader_user_id", "status"]

    async def test_leader_user_id_null_removes_the_account_link(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"leader_user_id": None}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert (await stored(session, fire.team.id)).leader_user_id is None

    @pytest.mark.parametrize("count", [4, 16])
    async def test_household_count_outside_5_to_15_gets_422_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast, count: int
    ) -> None:
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"households": houses(count)}, headers=headers
        )
        assert assert_problem(response, 422)["rule"] == "fire_team_household_count"
        team = await stored(session, fire.team.id)
        assert (team.household_count, team.version) == (6, 1)

    async def test_dropping_a_house_that_keeps_equipment_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        await make_equipment(session, fire.team, "extinguisher", "Nhà số 6")
        await session.commit()
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"households": houses(5)}, headers=headers
        )
        assert "move or delete them first" in assert_problem(response, 409)["detail"]

    async def test_null_for_a_required_field_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.cast.admin), **if_match(1)}
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"households": None}, headers=headers
        )
        assert_problem(response, 422)

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.patch(
            f"{TEAMS}/{fire.team.id}", json={"name": "X"}, headers=fire.headers(fire.cast.admin)
        )
        assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412_and_keeps_the_first_change(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.cast.admin), **if_match(1)}
        url = f"{TEAMS}/{fire.team.id}"
        assert (await client.patch(url, json={"name": "Tên A"}, headers=headers)).status_code == 200
        assert_problem(await client.patch(url, json={"name": "Tên B"}, headers=headers), 412)
        assert (await stored(session, fire.team.id)).name == "Tên A"


class TestDeleteFireTeam:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        assert_unauthorized(await client.delete(f"{TEAMS}/{fire.team.id}", headers=if_match(1)))

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = {**fire.headers(fire.cast.other_ward_officer), **if_match(1)}
        assert_not_found(await client.delete(f"{TEAMS}/{fire.team.id}", headers=headers))

    async def test_team_and_its_equipment_go_and_each_is_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team)
        await session.commit()
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        response = await client.delete(f"{TEAMS}/{fire.team.id}", headers=headers)
        assert response.status_code == 204, response.text
        assert_not_found(
            await client.get(f"{TEAMS}/{fire.team.id}", headers=fire.headers(fire.cast.admin))
        )
        session.expunge_all()
        gone = await session.get(FireEquipment, item.id)
        assert gone is not None
        assert gone.deleted_at is not None
        deleted = (
            await session.exec(
                select(AuditEvent.record_type).where(col(AuditEvent.action) == "delete")
            )
        ).all()
        assert sorted(deleted) == ["fire_equipment", "fire_team"]

    async def test_team_with_drills_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        await make_drill(session, fire.team, date(2026, 3, 1))
        await session.commit()
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        response = await client.delete(f"{TEAMS}/{fire.team.id}", headers=headers)
        assert "disbanded" in assert_problem(response, 409)["detail"]

    async def test_stale_if_match_gets_412(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(3)}
        assert_problem(await client.delete(f"{TEAMS}/{fire.team.id}", headers=headers), 412)
