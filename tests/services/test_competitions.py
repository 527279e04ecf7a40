"""Competition rules at the service level: RANK() in SQL on both databases, qualification."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import ValidationFailed
from app.models.competitions import Competition
from app.models.fire_teams import FireTeam
from app.schemas.competitions import EntryCreate
from app.services.auth import user_principal
from app.services.fire import entries as entry_service
from app.services.fire import ranking as ranking_service
from app.services.fire.competitions import can_run_competition
from tests.conftest import Cast
from tests.factories import QUANG_NINH
from tests.fire_factories import make_competition, make_entry, make_team


async def teams(session: AsyncSession, cast: Cast, count: int) -> list[FireTeam]:
    return [await make_team(session, cast.ha_long_kp) for _ in range(count)]


async def ranks(session: AsyncSession, cast: Cast, competition: Competition) -> list[int | None]:
    body = await ranking_service.ranking(session, user_principal(cast.admin), competition.id)
    return [item["rank"] for item in body["items"]] + [i["rank"] for i in body["unscored"]]


class TestRanking:
    async def test_all_equal_share_rank_1(self, session: AsyncSession, cast: Cast) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        for team in await teams(session, cast, 4):
            await make_entry(session, competition, team, 80, 80, 100.5)
        assert await ranks(session, cast, competition) == [1, 1, 1, 1]

    async def test_standard_competition_ranking_skips_after_a_tie(
        self, session: AsyncSession, cast: Cast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        a, b, c, d = await teams(session, cast, 4)
        await make_entry(session, competition, a, 90, 90, 100)
        await make_entry(session, competition, b, 80, 80, 100)
        await make_entry(session, competition, c, 80, 80, 100)
        await make_entry(session, competition, d, 70, 70, 100)
        assert await ranks(session, cast, competition) == [1, 2, 2, 4]

    async def test_fractional_seconds_break_a_tie(self, session: AsyncSession, cast: Cast) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        slow, fast = await teams(session, cast, 2)
        await make_entry(session, competition, slow, 80, 80, 100.2)
        await make_entry(session, competition, fast, 80, 80, 100.1)
        body = await ranking_service.ranking(session, user_principal(cast.admin), competition.id)
        assert [(i["rank"], i["team_id"]) for i in body["items"]] == [(1, fast.id), (2, slow.id)]

    async def test_other_competitions_do_not_share_the_ranking(
        self, session: AsyncSession, cast: Cast
    ) -> None:
        mine = await make_competition(session, "ward", HA_LONG)
        other = await make_competition(session, "ward", HA_LONG)
        a, b = await teams(session, cast, 2)
        await make_entry(session, mine, a, 50, 50, 100)
        await make_entry(session, other, b, 99, 99, 50)
        assert await ranks(session, cast, mine) == [1]


class TestQualification:
    async def test_province_round_takes_a_ward_top_three_team_only(
        self, session: AsyncSession, cast: Cast
    ) -> None:
        ward = await make_competition(session, "ward", HA_LONG, year=2026)
        entrants = await teams(session, cast, 5)
        for team, total in zip(entrants, (200, 190, 180, 180, 170), strict=True):
            await make_entry(session, ward, team, total // 2, total - total // 2, 100)
        province = await make_competition(session, "province", QUANG_NINH, year=2026)
        officer = user_principal(cast.province_officer)
        for team in entrants[:4]:  # ranks 1, 2, 3, 3
            entry = await entry_service.create_entry(
                session, officer, province.id, EntryCreate(team_id=team.id)
            )
            assert entry.ward_code == HA_LONG
        with pytest.raises(ValidationFailed) as refused:
            await entry_service.create_entry(
                session, officer, province.id, EntryCreate(team_id=entrants[4].id)
            )
        assert refused.value.extensions["rule"] == "competition_province_qualification"

    async def test_ward_officers_do_not_run_province_rounds(self, cast: Cast) -> None:
        officer = user_principal(cast.ward_officer)
        assert can_run_competition(officer, "province", QUANG_NINH)
        assert can_run_competition(officer, "ward", HA_LONG) is None
        assert can_run_competition(officer, "ward", BAI_CHAY)
        assert can_run_competition(user_principal(cast.admin), "province", "01") is None
