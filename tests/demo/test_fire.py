"""The fire-safety demo: teams across Hạ Long, overdue kit, 2025 drills, ranked competitions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo import fire as fire_demo
from app.demo.places import HA_LONG, PROVINCE_CODE, demo_id
from app.models.competitions import CompetitionEntry
from app.models.drills import Drill
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.models.users import User
from app.pagination import CursorCodec, PageParams
from app.security import Principal, Role
from app.services.auth import user_principal
from app.services.fire import equipment as equipment_service
from app.services.fire import ranking as ranking_service
from app.services.fire import readiness as readiness_service

AS_OF = date(2026, 11, 29)


def admin() -> Principal:
    return Principal(
        subject=demo_id("user", "admin"),
        kind="user",
        role=Role.ADMIN,
        unit_code=None,
        province_code=None,
        ward_code=None,
        neighbourhood_id=None,
    )


async def count(session: AsyncSession, model: type) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


class TestFireDemo:
    async def test_first_run_adds_teams_kit_drills_and_both_rounds(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        await session.commit()
        added = summary.added
        assert added["fire_teams"] == len(fire_demo.TEAMS) == 7
        assert added["fire_equipment"] == await count(session, FireEquipment) == 201
        assert added["drills"] == await count(session, Drill) == 28
        assert added["competitions"] == 2
        assert added["competition_entries"] == await count(session, CompetitionEntry) == 9
        wards = (await session.exec(select(FireTeam.ward_code))).all()
        assert sorted(wards).count(HA_LONG) == 6
        households = (await session.exec(select(FireTeam.household_count))).all()
        assert all(5 <= n <= 15 for n in households)

    async def test_rerun_adds_nothing_and_ids_are_stable(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        again = await demo_data.seed_demo(session)
        await session.commit()
        assert not any(
            again.added.get(kind)
            for kind in ("fire_teams", "fire_equipment", "drills", "competitions")
        )
        team = await session.get(FireTeam, demo_id("fire-team", "hl-kp01-a"))
        assert team is not None
        assert team.name == "Tổ liên gia ngõ 12 Cao Xanh"

    async def test_leader_halong_leads_a_team_that_is_not_ready(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        leader = await session.get(User, demo_id("user", "leader.halong"))
        assert leader is not None
        team_id = demo_id("fire-team", "hl-kp01-a")
        team = await session.get(FireTeam, team_id)
        assert team is not None
        assert team.leader_user_id == leader.id
        readiness = await readiness_service.readiness(
            session, user_principal(leader), team_id, AS_OF
        )
        assert readiness["household_count"] == 8
        assert 0 < readiness["households_ready"] < 8
        assert any(house["inspection_late"] for house in readiness["households"])

    async def test_some_equipment_is_overdue_today_and_more_falls_due_next_year(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        codec = CursorCodec("demo-test-secret")

        async def due_before(day: date) -> int:
            rows, _ = await equipment_service.list_due(
                session, admin(), PageParams(200, None), codec, before=day
            )
            return len(rows)

        overdue = await due_before(AS_OF)
        assert 0 < overdue < 60
        assert await due_before(date(2027, 12, 31)) > overdue

    async def test_drills_were_held_through_2025_and_one_each_is_planned(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        held = (
            await session.exec(select(Drill.occurs_on).where(col(Drill.held_at).is_not(None)))
        ).all()
        assert len(held) == 21
        assert {day.year for day in held} == {2025}
        assert {day.month for day in held} == {3, 7, 11}
        planned = (
            await session.exec(select(Drill.occurs_on).where(col(Drill.held_at).is_(None)))
        ).all()
        assert len(planned) == 7

    async def test_ward_round_ranks_with_a_tie_and_its_top_three_went_to_the_province(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        ward = await ranking_service.ranking(
            session, admin(), demo_id("competition", "ward-2025", HA_LONG)
        )
        assert [item["rank"] for item in ward["items"]] == [1, 2, 2, 4, 5, 6]
        top_three = {item["team_id"] for item in ward["items"][:3]}
        province = await ranking_service.ranking(
            session, admin(), demo_id("competition", "province-2025", PROVINCE_CODE)
        )
        assert {item["team_id"] for item in province["items"]} == top_three
        assert [item["rank"] for item in province["items"]] == [1, 2, 3]
