"""Fire drills over HTTP: planning and recording, who may, the results rule and the filters."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.drills import Drill
from tests.conftest import Cast
from tests.factories import (
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
)
from tests.fire_factories import FireCast, make_drill, make_fire_cast, make_team

DRILLS = "/api/v1/drills"


@pytest.fixture
async def fire(session: AsyncSession, cast: Cast) -> FireCast:
    return await make_fire_cast(session, cast)


def planned(team_id: Any, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "team_id": str(team_id),
        "scenario": "Cháy bếp gas tại nhà số 3; cứu người kẹt tầng 2",
        "planned_for": "2026-12-20",
    }
    return {**body, **extra}


def held(team_id: Any, **extra: Any) -> dict[str, Any]:
    results: dict[str, Any] = {
        "planned_for": "2025-10-04",
        "held_at": "2025-10-04T08:30:00+07:00",
        "participants": 24,
        "households_present": 6,
        "response_seconds": 95,
        "outcome": "passed",
        "notes": "Bình chữa cháy nhà số 5 khó mở chốt.",
    }
    return planned(team_id, **{**results, **extra})


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


class TestCreateDrill:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        assert_unauthorized(await client.post(DRILLS, json=planned(fire.team.id)))

    async def test_resident_gets_403(self, client: httpx.AsyncClient, fire: FireCast) -> None:
        response = await client.post(
            DRILLS, json=planned(fire.team.id), headers=fire.headers(fire.cast.resident)
        )
        assert "fire:write" in assert_forbidden(response)

    async def test_the_teams_leader_plans_one(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        response = await client.post(
            DRILLS, json=planned(fire.team.id), headers=fire.headers(fire.leader)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{DRILLS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert (body["held"], body["held_at"], body["occurs_on"]) == (False, None, "2026-12-20")
        assert (body["ward_code"], body["neighbourhood_id"]) == (
            HA_LONG,
            str(fire.cast.ha_long_kp.id),
        )
        [event] = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).all()
        assert (event.action, event.record_type) == ("create", "drill")

    async def test_a_held_drill_records_its_results_on_its_vietnamese_day(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        body = held(fire.team.id, held_at="2025-10-04T18:30:00Z")  # 01:30 on the 5th in Hạ Long
        response = await client.post(DRILLS, json=body, headers=fire.headers(fire.cast.head))
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["held"] is True
        assert created["held_at"].startswith("2025-10-04T18:30:00")
        assert created["occurs_on"] == "2025-10-05"
        assert (created["outcome"], created["response_seconds"]) == ("passed", 95)

    async def test_leader_of_another_team_gets_403(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        response = await client.post(
            DRILLS, json=planned(fire.team.id), headers=fire.headers(fire.other_leader)
        )
        assert "the team they lead" in assert_forbidden(response)

    async def test_team_the_caller_cannot_see_gets_422_like_no_team(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        headers = fire.headers(fire.cast.other_ward_officer)
        for team_id in (fire.team.id, uuid.uuid4()):
            response = await client.post(DRILLS, json=planned(team_id), headers=headers)
            body = assert_field_problem(response, ["body", "team_id"], "not_found")
            assert body["errors"][0]["msg"] == body["detail"]
            assert body["detail"] == f"No fire team you can see has the id {team_id}."

    @pytest.mark.parametrize("result", ["participants", "households_present", "response_seconds"])
    async def test_results_without_held_at_get_422_naming_the_rule(
        self, client: httpx.AsyncClient, fire: FireCast, result: str
    ) -> None:
        response = await client.post(
            DRILLS, json=planned(fire.team.id, **{result: 5}), headers=fire.headers(fire.leader)
        )
        body = assert_problem(response, 422)
        assert body["rule"] == "drill_results_need_held_at"
        assert body["errors"][0]["loc"] == ["body", result]

    async def test_held_in_the_future_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast
    ) -> None:
        later = (utcnow() + timedelta(hours=1)).isoformat()
        response = await client.post(
            DRILLS, json=held(fire.team.id, held_at=later), headers=fire.headers(fire.leader)
        )
        assert assert_problem(response, 422)["rule"] == "drill_held_in_future"

    @pytest.mark.parametrize(("present", "status"), [(6, 201), (7, 422)])
    async def test_households_present_at_most_the_teams(
        self, client: httpx.AsyncClient, fire: FireCast, present: int, status: int
    ) -> None:
        body = {**held(fire.team.id), "households_present": present}
        response = await client.post(DRILLS, json=body, headers=fire.headers(fire.leader))
        assert response.status_code == status, response.text
        if status == 422:
            assert response.json()["rule"] == "drill_households_present"

    @pytest.mark.parametrize(
        "bad",
        [
            {"held_at": "2025-10-04T08:30:00"},  # no offset
            {"held_at": "0001-01-01T00:00:00+07:00"},
            {"outcome": "great"},
            {"province_code": "01"},
        ],
    )
    async def test_invalid_or_unknown_field_gets_422(
        self, client: httpx.AsyncClient, fire: FireCast, bad: dict[str, Any]
    ) -> None:
        response = await client.post(
            DRILLS, json={**held(fire.team.id), **bad}, headers=fire.headers(fire.cast.admin)
        )
        assert_problem(response, 422, "validation-error")

    async def test_disbanded_team_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        team = await make_team(session, fire.cast.ha_long_kp, status="disbanded")
        await session.commit()
        response = await client.post(
            DRILLS, json=planned(team.id), headers=fire.headers(fire.cast.admin)
        )
        assert_problem(response, 409, "conflict")


class TestListDrills:
    @pytest.fixture
    async def drills(self, session: AsyncSession, fire: FireCast) -> dict[str, Drill]:
        made = {
            "held_jan": await make_drill(
                session,
                fire.team,
                date(2025, 1, 10),
                held_at=datetime(2025, 1, 11, 2, 0, tzinfo=UTC),
                outcome="passed",
            ),
            "held_jun": await make_drill(
                session,
                fire.other_team,
                date(2025, 6, 1),
                held_at=datetime(2025, 6, 1, 1, 0, tzinfo=UTC),
                outcome="failed",
            ),
            "planned_dec": await make_drill(session, fire.team, date(2025, 12, 31)),
            "bai_chay": await make_drill(session, fire.bai_chay_team, date(2025, 6, 1)),
        }
        await session.commit()
        return made

    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(DRILLS))

    async def test_ward_officer_sees_their_ward_in_calendar_order(
        self, client: httpx.AsyncClient, fire: FireCast, drills: dict[str, Drill]
    ) -> None:
        response = await client.get(DRILLS, headers=fire.headers(fire.cast.ward_officer))
        assert ids(response) == [str(drills[k].id) for k in ("held_jan", "held_jun", "planned_dec")]

    async def test_filters(
        self, client: httpx.AsyncClient, fire: FireCast, drills: dict[str, Drill]
    ) -> None:
        headers = fire.headers(fire.cast.admin)

        async def listed(**params: Any) -> set[str]:
            found = ids(await client.get(DRILLS, params=params, headers=headers))
            return {name for name, drill in drills.items() if str(drill.id) in found}

        assert await listed(team_id=str(fire.team.id)) == {"held_jan", "planned_dec"}
        assert await listed(ward_code=BAI_CHAY) == {"bai_chay"}
        assert await listed(held="true") == {"held_jan", "held_jun"}
        assert await listed(held="false") == {"planned_dec", "bai_chay"}
        assert await listed(outcome="failed") == {"held_jun"}
        # occurs_on: the held day (11 Jan in Vietnam, though planned for the 10th).
        assert await listed(to="2025-01-10") == set()
        assert await listed(to="2025-01-11") == {"held_jan"}
        assert await listed(**{"from": "2025-06-01", "to": "2025-06-01"}) == {
            "held_jun",
            "bai_chay",
        }
        assert await listed(**{"from": "2025-12-31"}) == {"planned_dec"}
        assert await listed(**{"from": "2026-01-01"}) == set()

    async def test_from_after_to_gets_422(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.get(
            DRILLS,
            params={"from": "2025-02-01", "to": "2025-01-01"},
            headers=cast.headers(cast.admin),
        )
        assert_field_problem(response, ["query", "from"], "less_than_equal")

    async def test_pages_walk_by_day(
        self, client: httpx.AsyncClient, fire: FireCast, drills: dict[str, Drill]
    ) -> None:
        headers = fire.headers(fire.cast.province_officer)
        days: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            body = (await client.get(DRILLS, params=params, headers=headers)).json()
            days += [item["occurs_on"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert days == ["2025-01-11", "2025-06-01", "2025-06-01", "2025-12-31"]

    async def test_head_of_another_neighbourhood_sees_none(
        self, client: httpx.AsyncClient, fire: FireCast, drills: dict[str, Drill]
    ) -> None:
        assert ids(await client.get(DRILLS, headers=fire.headers(fire.other_kp_head))) == []


class TestGetDrill:
    async def test_etag_and_other_ward_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(session, fire.team, date(2026, 3, 1))
        await session.commit()
        response = await client.get(f"{DRILLS}/{drill.id}", headers=fire.headers(fire.other_leader))
        assert (response.status_code, response.headers["etag"]) == (200, '"1"')
        assert response.json()["held"] is False
        assert_not_found(
            await client.get(
                f"{DRILLS}/{drill.id}", headers=fire.headers(fire.cast.other_ward_officer)
            )
        )


class TestUpdateDrill:
    async def test_leader_records_it_held_and_the_day_follows(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(session, fire.team, date(2025, 11, 1))
        await session.commit()
        response = await client.patch(
            f"{DRILLS}/{drill.id}",
            json={
                "held_at": "2025-11-02T07:00:00+07:00",
                "outcome": "needs_improvement",
                "response_seconds": 140,
            },
            headers={**fire.headers(fire.leader), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["held"], body["occurs_on"], body["outcome"]) == (
            True,
            "2025-11-02",
            "needs_improvement",
        )
        assert response.headers["etag"] == '"2"'

    async def test_unholding_a_drill_with_results_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(
            session,
            fire.team,
            date(2025, 11, 1),
            held_at=datetime(2025, 11, 1, 1, tzinfo=UTC),
            outcome="passed",
        )
        await session.commit()
        response = await client.patch(
            f"{DRILLS}/{drill.id}",
            json={"held_at": None},
            headers={**fire.headers(fire.cast.admin), **if_match(1)},
        )
        assert assert_problem(response, 422)["rule"] == "drill_results_need_held_at"

    async def test_other_leader_403_other_ward_404_no_if_match_428_stale_412(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(session, fire.team, date(2026, 3, 1))
        await session.commit()
        url = f"{DRILLS}/{drill.id}"
        body = {"scenario": "Cháy chập điện"}
        assert_forbidden(
            await client.patch(
                url, json=body, headers={**fire.headers(fire.other_leader), **if_match(1)}
            )
        )
        assert_not_found(
            await client.patch(
                url,
                json=body,
                headers={**fire.headers(fire.cast.other_ward_officer), **if_match(1)},
            )
        )
        assert_problem(await client.patch(url, json=body, headers=fire.headers(fire.leader)), 428)
        assert_problem(
            await client.patch(
                url, json=body, headers={**fire.headers(fire.leader), **if_match(2)}
            ),
            412,
        )

    async def test_team_id_cannot_be_changed(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(session, fire.team, date(2026, 3, 1))
        await session.commit()
        response = await client.patch(
            f"{DRILLS}/{drill.id}",
            json={"team_id": str(fire.other_team.id)},
            headers={**fire.headers(fire.cast.admin), **if_match(1)},
        )
        assert_problem(response, 422, "validation-error")


class TestDeleteDrill:
    async def test_head_deletes_and_it_is_gone(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(session, fire.team, date(2026, 3, 1))
        await session.commit()
        url = f"{DRILLS}/{drill.id}"
        response = await client.delete(url, headers={**fire.headers(fire.cast.head), **if_match(1)})
        assert response.status_code == 204, response.text
        assert_not_found(await client.get(url, headers=fire.headers(fire.cast.head)))

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        drill = await make_drill(session, fire.team, date(2026, 3, 1))
        await session.commit()
        response = await client.delete(
            f"{DRILLS}/{drill.id}",
            headers={**fire.headers(fire.cast.other_ward_officer), **if_match(1)},
        )
        assert_not_found(response)
