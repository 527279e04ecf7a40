"""Fire-team equipment over HTTP: who records it, its dates, readiness and the due list."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.fire_equipment import FireEquipment
from app.services.fire.policies import today
from tests.conftest import Cast
from tests.factories import (
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_client,
)
from tests.fire_factories import (
    FireCast,
    make_equipment,
    make_fire_cast,
    make_full_kit,
    make_team,
)

TEAMS = "/api/v1/fire-teams"
DUE = "/api/v1/equipment-due"
DAY = date(2026, 6, 30)  # the edge every date test sits on


@pytest.fixture
async def fire(session: AsyncSession, cast: Cast) -> FireCast:
    return await make_fire_cast(session, cast)


def equipment_url(team_id: Any, equipment_id: Any = None) -> str:
    base = f"{TEAMS}/{team_id}/equipment"
    return f"{base}/{equipment_id}" if equipment_id else base


def extinguisher(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "extinguisher",
        "household": "Nhà số 1",
        "description": "Bình bột ABC 4 kg",
        "quantity": 2,
        "last_inspected_on": "2025-08-31",
        "inspection_interval_months": 6,
        "expires_on": "2029-12-31",
    }
    return {**body, **extra}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


class TestCreateEquipment:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        assert_unauthorized(await client.post(equipment_url(fire.team.id), json=extinguisher()))

    async def test_resident_gets_403(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(),
            headers=fire.headers(fire.cast.resident),
        )
        assert "fire:write" in assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(),
            headers=fire.headers(fire.cast.other_ward_officer),
        )
        assert_not_found(response)

    async def test_leader_of_another_team_gets_403(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(),
            headers=fire.headers(fire.other_leader),
        )
        assert "the team they lead" in assert_forbidden(response)

    async def test_the_teams_leader_records_it_and_the_dates_are_derived(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id), json=extinguisher(), headers=fire.headers(fire.leader)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == equipment_url(fire.team.id, body["id"])
        assert response.headers["etag"] == '"1"'
        # 31 Aug + 6 months: February has no 31st, so its last day.
        assert body["next_inspection_on"] == "2026-02-28"
        assert body["due_on"] == "2026-02-28"
        assert (body["team_id"], body["ward_code"], body["province_code"]) == (
            str(fire.team.id),
            HA_LONG,
            "22",
        )
        assert body["neighbourhood_id"] == str(fire.cast.ha_long_kp.id)
        [event] = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).all()
        assert (event.action, event.record_type) == ("create", "fire_equipment")

    @pytest.mark.parametrize("who", ["head", "ward_officer", "admin"])
    async def test_head_and_officers_record_it(
        self, client: httpx.AsyncClient, fire: FireCast, who: str
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(kind="alarm_bell", expires_on=None),
            headers=fire.headers(getattr(fire.cast, who)),
        )
        assert response.status_code == 201, response.text

    async def test_expiry_before_next_inspection_is_the_due_day(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(expires_on="2026-01-15"),
            headers=fire.headers(fire.cast.admin),
        )
        assert response.json()["due_on"] == "2026-01-15"

    async def test_at_a_public_point(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        team = await make_team(session, fire.cast.ha_long_kp, public_points=("Điểm CC ngõ 45",))
        await session.commit()
        body = extinguisher(household=None, public_point="Điểm CC ngõ 45", kind="hose")
        response = await client.post(
            equipment_url(team.id), json=body, headers=fire.headers(fire.cast.admin)
        )
        assert response.status_code == 201, response.text
        assert (response.json()["household"], response.json()["public_point"]) == (
            None,
            "Điểm CC ngõ 45",
        )

    @pytest.mark.parametrize(
        "location",
        [
            {"household": None},
            {"household": "Nhà số 99"},
            {"household": "Nhà số 1", "public_point": "Điểm CC"},
            {"household": None, "public_point": "Điểm không có"},
        ],
    )
    async def test_location_not_exactly_one_place_of_the_team_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast, location: dict[str, Any]
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(**location),
            headers=fire.headers(fire.cast.admin),
        )
        assert assert_problem(response, 422)["rule"] == "equipment_location"

    @pytest.mark.parametrize(
        "schedule",
        [
            {"inspection_interval_months": None},
            {"last_inspected_on": None},
            {"last_inspected_on": (today() + timedelta(days=2)).isoformat()},
        ],
    )
    async def test_half_or_future_inspection_schedule_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast, schedule: dict[str, Any]
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(**schedule),
            headers=fire.headers(fire.cast.admin),
        )
        assert assert_problem(response, 422)["rule"] == "equipment_inspection_schedule"

    @pytest.mark.parametrize(
        "bad",
        [
            {"kind": "bucket"},
            {"quantity": -1},
            {"inspection_interval_months": 0},
            {"expires_on": "9999-12-31"},
            {"team_id": str(uuid.uuid4())},
        ],
    )
    async def test_invalid_or_unknown_field_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast, bad: dict[str, Any]
    ) -> None:
        response = await client.post(
            equipment_url(fire.team.id),
            json=extinguisher(**bad),
            headers=fire.headers(fire.cast.admin),
        )
        assert_problem(response, 422, "validation-error")

    async def test_unknown_team_gets_404(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.post(
            equipment_url(uuid.uuid4()), json=extinguisher(), headers=cast.headers(cast.admin)
        )
        assert_not_found(response)


class TestReadEquipment:
    async def test_list_filters_by_kind_and_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        await make_full_kit(session, fire.team, "Nhà số 1")
        await make_full_kit(session, fire.team, "Nhà số 2")
        await make_equipment(session, fire.other_team)
        await session.commit()
        headers = fire.headers(fire.other_leader)  # reads every team of the neighbourhood
        bells = await client.get(
            equipment_url(fire.team.id), params={"kind": "alarm_bell"}, headers=headers
        )
        assert [item["household"] for item in bells.json()["items"]] == ["Nhà số 1", "Nhà số 2"]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            body = (
                await client.get(equipment_url(fire.team.id), params=params, headers=headers)
            ).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 6

    async def test_get_answers_the_etag_and_another_teams_item_is_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team)
        await session.commit()
        headers = fire.headers(fire.cast.head)
        response = await client.get(equipment_url(fire.team.id, item.id), headers=headers)
        assert (response.status_code, response.headers["etag"]) == (200, '"1"')
        assert_not_found(
            await client.get(equipment_url(fire.other_team.id, item.id), headers=headers)
        )
        assert_not_found(
            await client.get(
                equipment_url(fire.team.id, item.id),
                headers=fire.headers(fire.cast.other_ward_officer),
            )
        )


class TestUpdateEquipment:
    async def test_a_new_inspection_moves_the_due_day(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(
            session,
            fire.team,
            last_inspected_on=date(2025, 1, 31),
            inspection_interval_months=1,
            expires_on=date(2030, 1, 1),
        )
        await session.commit()
        response = await client.patch(
            equipment_url(fire.team.id, item.id),
            json={"last_inspected_on": "2026-01-31", "inspection_interval_months": 12},
            headers={**fire.headers(fire.leader), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert (response.json()["next_inspection_on"], response.json()["due_on"]) == (
            "2027-01-31",
            "2027-01-31",
        )
        session.expunge_all()
        stored = await session.get(FireEquipment, item.id)
        assert stored is not None
        assert stored.due_on == date(2027, 1, 31)

    async def test_clearing_the_schedule_leaves_the_expiry_as_due_day(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(
            session,
            fire.team,
            last_inspected_on=date(2025, 1, 1),
            inspection_interval_months=6,
            expires_on=date(2030, 1, 1),
        )
        await session.commit()
        response = await client.patch(
            equipment_url(fire.team.id, item.id),
            json={"last_inspected_on": None, "inspection_interval_months": None},
            headers={**fire.headers(fire.cast.admin), **if_match(1)},
        )
        assert (response.json()["next_inspection_on"], response.json()["due_on"]) == (
            None,
            "2030-01-01",
        )

    async def test_moving_it_to_a_house_outside_the_team_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team)
        await session.commit()
        response = await client.patch(
            equipment_url(fire.team.id, item.id),
            json={"household": "Nhà số 42"},
            headers={**fire.headers(fire.cast.admin), **if_match(1)},
        )
        assert assert_problem(response, 422)["rule"] == "equipment_location"

    async def test_other_leader_gets_403_and_missing_if_match_428_stale_412(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team)
        await session.commit()
        url = equipment_url(fire.team.id, item.id)
        assert_forbidden(
            await client.patch(
                url,
                json={"quantity": 3},
                headers={**fire.headers(fire.other_leader), **if_match(1)},
            )
        )
        assert_problem(
            await client.patch(url, json={"quantity": 3}, headers=fire.headers(fire.leader)), 428
        )
        assert_problem(
            await client.patch(
                url, json={"quantity": 3}, headers={**fire.headers(fire.leader), **if_match(5)}
            ),
            412,
        )


class TestDeleteEquipment:
    async def test_leader_deletes_and_it_is_gone(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team)
        await session.commit()
        url = equipment_url(fire.team.id, item.id)
        response = await client.delete(url, headers={**fire.headers(fire.leader), **if_match(1)})
        assert response.status_code == 204, response.text
        assert_not_found(await client.get(url, headers=fire.headers(fire.leader)))

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team)
        await session.commit()
        response = await client.delete(
            equipment_url(fire.team.id, item.id),
            headers={**fire.headers(fire.cast.other_ward_officer), **if_match(1)},
        )
        assert_not_found(response)


async def readiness(
    client: httpx.AsyncClient, fire: FireCast, as_of: date | None = None
) -> dict[str, Any]:
    params = {"as_of": as_of.isoformat()} if as_of else {}
    response = await client.get(
        f"{TEAMS}/{fire.team.id}/readiness", params=params, headers=fire.headers(fire.leader)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def house(body: dict[str, Any], label: str) -> dict[str, Any]:
    [found] = [h for h in body["households"] if h["household"] == label]
    return found


class TestReadiness:
    async def test_anonymous_401_resident_403_other_ward_404(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        url = f"{TEAMS}/{fire.team.id}/readiness"
        assert_unauthorized(await client.get(url))
        assert_forbidden(await client.get(url, headers=fire.headers(fire.cast.resident)))
        assert_not_found(await client.get(url, headers=fire.headers(fire.cast.other_ward_officer)))

    async def test_a_team_without_equipment_misses_everything_everywhere(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        body = await readiness(client, fire, DAY)
        assert (body["ready"], body["households_ready"], body["household_count"]) == (False, 0, 6)
        assert body["as_of"] == DAY.isoformat()
        assert [h["household"] for h in body["households"]] == fire.team.households
        assert all(
            h["missing"] == ["extinguisher", "forced_entry_tool", "alarm_bell"]
            for h in body["households"]
        )

    async def test_default_as_of_is_today_in_vietnam(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        assert (await readiness(client, fire))["as_of"] == today().isoformat()

    async def test_every_house_with_kit_in_date_is_ready(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        for label in fire.team.households:
            await make_full_kit(session, fire.team, label)
        await session.commit()
        body = await readiness(client, fire, DAY)
        assert (body["ready"], body["households_ready"]) == (True, 6)

    async def test_quantity_zero_other_houses_and_public_points_do_not_count(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        team = fire.team
        await make_equipment(session, team, "extinguisher", "Nhà số 1", quantity=0)
        await make_equipment(session, team, "forced_entry_tool", "Nhà số 2")
        await make_equipment(session, team, "alarm_bell", "Nhà số 1")
        await make_equipment(session, fire.other_team, "forced_entry_tool", "Nhà số 1")
        await session.commit()
        first = house(await readiness(client, fire, DAY), "Nhà số 1")
        assert first["missing"] == ["extinguisher", "forced_entry_tool"]
        assert first["ready"] is False

    @pytest.mark.parametrize(
        ("as_of", "late"),
        [(DAY - timedelta(days=1), False), (DAY, False), (DAY + timedelta(days=1), True)],
    )
    async def test_inspection_is_late_only_after_its_due_day(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        fire: FireCast,
        as_of: date,
        late: bool,
    ) -> None:
        # Inspected 31 Dec 2025 every 6 months: due 30 Jun 2026 (June has no 31st).
        kit = await make_full_kit(
            session,
            fire.team,
            "Nhà số 3",
            last_inspected_on=date(2025, 12, 31),
            inspection_interval_months=6,
        )
        await session.commit()
        assert kit[0].next_inspection_on == DAY
        body = house(await readiness(client, fire, as_of), "Nhà số 3")
        assert (body["ready"], len(body["inspection_late"])) == (not late, 3 if late else 0)
        assert (body["expired"], body["missing"]) == ([], [])
        if late:
            assert body["inspection_late"][0] == {
                "equipment_id": str(kit[0].id),
                "kind": "extinguisher",
                "next_inspection_on": DAY.isoformat(),
            }

    @pytest.mark.parametrize(
        ("as_of", "expired"),
        [(DAY - timedelta(days=1), False), (DAY, False), (DAY + timedelta(days=1), True)],
    )
    async def test_item_is_expired_only_after_its_expiry_day(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        fire: FireCast,
        as_of: date,
        expired: bool,
    ) -> None:
        await make_full_kit(session, fire.team, "Nhà số 4")
        item = await make_equipment(session, fire.team, "extinguisher", "Nhà số 4", expires_on=DAY)
        await session.commit()
        body = house(await readiness(client, fire, as_of), "Nhà số 4")
        assert body["ready"] is not expired
        assert body["expired"] == (
            [{"equipment_id": str(item.id), "kind": "extinguisher", "expires_on": DAY.isoformat()}]
            if expired
            else []
        )


async def due(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = await client.get(DUE, params=query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


class TestEquipmentDue:
    async def test_anonymous_401_resident_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_unauthorized(await client.get(DUE))
        assert_forbidden(await client.get(DUE, headers=cast.headers(cast.resident)))

    @pytest.mark.parametrize(
        ("before", "listed"),
        [(DAY - timedelta(days=1), False), (DAY, False), (DAY + timedelta(days=1), True)],
    )
    async def test_an_inspection_due_on_the_day_is_listed_only_before_a_later_day(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        fire: FireCast,
        before: date,
        listed: bool,
    ) -> None:
        item = await make_equipment(
            session,
            fire.team,
            last_inspected_on=date(2025, 12, 31),
            inspection_interval_months=6,
            expires_on=date(2030, 1, 1),
        )
        await session.commit()
        items = await due(client, fire.headers(fire.cast.ward_officer), before=before.isoformat())
        assert [i["id"] for i in items] == ([str(item.id)] if listed else [])
        if listed:
            assert items[0]["due_for"] == ["inspection"]
            assert items[0]["team_name"] == fire.team.name

    @pytest.mark.parametrize(("before", "listed"), [(DAY, False), (DAY + timedelta(days=1), True)])
    async def test_an_expiry_on_the_day_is_listed_only_before_a_later_day(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        fire: FireCast,
        before: date,
        listed: bool,
    ) -> None:
        item = await make_equipment(session, fire.team, "alarm_bell", expires_on=DAY)
        await session.commit()
        items = await due(client, fire.headers(fire.cast.admin), before=before.isoformat())
        assert [(i["id"], i["due_for"]) for i in items] == (
            [(str(item.id), ["expiry"])] if listed else []
        )

    async def test_items_come_soonest_first_across_pages_and_teams_in_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        days = [date(2026, 3, 1), date(2026, 1, 15), date(2026, 2, 1)]
        for team, day in zip((fire.team, fire.other_team, fire.bai_chay_team), days, strict=True):
            await make_equipment(session, team, "hose", expires_on=day)
        await make_equipment(session, fire.team, "hose", expires_on=date(2027, 1, 1))
        await make_equipment(session, fire.team, "hose")  # no dates: never due
        await session.commit()
        before = {"before": "2026-12-31"}
        province = await due(client, fire.headers(fire.cast.province_officer), **before)
        assert [i["expires_on"] for i in province] == ["2026-01-15", "2026-02-01", "2026-03-01"]
        ward = await due(client, fire.headers(fire.cast.ward_officer), **before)
        assert [i["team_id"] for i in ward] == [str(fire.other_team.id), str(fire.team.id)]
        by_team = await due(
            client, fire.headers(fire.cast.admin), team_id=str(fire.team.id), **before
        )
        assert [i["expires_on"] for i in by_team] == ["2026-03-01"]
        other_ward = await due(
            client, fire.headers(fire.cast.other_ward_officer), ward_code=HA_LONG, **before
        )
        assert other_ward == []
        head = await due(client, fire.headers(fire.other_kp_head), **before)
        assert head == []

    async def test_both_dates_before_the_day_name_both_reasons(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        await make_equipment(
            session,
            fire.team,
            last_inspected_on=date(2025, 1, 1),
            inspection_interval_months=6,
            expires_on=date(2025, 12, 1),
        )
        await session.commit()
        [item] = await due(client, fire.headers(fire.cast.admin), before="2026-01-01")
        assert item["due_for"] == ["inspection", "expiry"]
        assert item["due_on"] == "2025-07-01"

    async def test_default_before_is_today_so_overdue_items_show(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        overdue = await make_equipment(session, fire.team, expires_on=today() - timedelta(days=1))
        await make_equipment(session, fire.team, expires_on=today())
        await session.commit()
        items = await due(client, fire.headers(fire.cast.admin))
        assert [i["id"] for i in items] == [str(overdue.id)]

    async def test_ward_system_sees_its_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        await make_equipment(session, fire.team, expires_on=date(2026, 1, 1))
        await make_equipment(session, fire.bai_chay_team, expires_on=date(2026, 1, 1))
        machine, _ = await make_client(session, HA_LONG)
        await session.commit()
        items = await due(client, fire.cast.headers(machine), before="2027-01-01")
        assert {i["team_id"] for i in items} == {str(fire.team.id)}

    async def test_deleted_items_are_not_due(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        item = await make_equipment(session, fire.team, expires_on=date(2026, 1, 1))
        item.deleted_at = item.created_at
        session.add(item)
        await session.commit()
        assert await due(client, fire.headers(fire.cast.admin), before="2027-01-01") == []

    async def test_cursor_for_another_before_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        for day in (date(2026, 1, 1), date(2026, 1, 2)):
            await make_equipment(session, fire.team, expires_on=day)
        await session.commit()
        headers = fire.headers(fire.cast.admin)
        first = await client.get(DUE, params={"before": "2027-01-01", "limit": 1}, headers=headers)
        cursor = first.json()["next_cursor"]
        response = await client.get(
            DUE, params={"before": "2028-01-01", "limit": 1, "cursor": cursor}, headers=headers
        )
        assert_problem(response, 422, "invalid-cursor")
