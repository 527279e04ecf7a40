"""Competitions over HTTP: who runs which round, entries, the ranking and the province rule."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.competitions import Competition, CompetitionEntry
from app.models.fire_teams import FireTeam
from tests.conftest import Cast
from tests.factories import (
    HOAN_KIEM,
    QUANG_NINH,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_neighbourhood,
)
from tests.fire_factories import (
    FireCast,
    make_competition,
    make_entry,
    make_fire_cast,
    make_team,
)

COMPETITIONS = "/api/v1/competitions"


@pytest.fixture
async def fire(session: AsyncSession, cast: Cast) -> FireCast:
    return await make_fire_cast(session, cast)


def new_competition(level: str = "ward", unit_code: str = HA_LONG, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "year": 2026,
        "level": level,
        "unit_code": unit_code,
        "name": f"Hội thi PCCC {uuid.uuid4().hex[:6]}",
        "held_on": "2026-10-04",
    }
    return {**body, **extra}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def entries_url(competition: Competition) -> str:
    return f"{COMPETITIONS}/{competition.id}/entries"


async def teams(session: AsyncSession, fire: FireCast, count: int) -> list[FireTeam]:
    """``count`` more teams of Hạ Long."""
    return [await make_team(session, fire.cast.ha_long_kp) for _ in range(count)]


class TestCreateCompetition:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.post(COMPETITIONS, json=new_competition()))

    @pytest.mark.parametrize("who", ["head", "resident"])
    async def test_role_without_competitions_write_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, who: str
    ) -> None:
        response = await client.post(
            COMPETITIONS, json=new_competition(), headers=cast.headers(getattr(cast, who))
        )
        assert "competitions:write" in assert_forbidden(response)

    async def test_ward_officer_opens_a_round_of_their_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            COMPETITIONS, json=new_competition(), headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{COMPETITIONS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert (body["province_code"], body["ward_code"], body["level"]) == (
            QUANG_NINH,
            HA_LONG,
            "ward",
        )
        [event] = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).all()
        assert (event.action, event.record_type) == ("create", "competition")

    async def test_province_officer_opens_a_province_round_with_no_ward(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            COMPETITIONS,
            json=new_competition("province", QUANG_NINH),
            headers=cast.headers(cast.province_officer),
        )
        assert response.status_code == 201, response.text
        assert (response.json()["ward_code"], response.json()["province_code"]) == (None, "22")

    @pytest.mark.parametrize(
        ("who", "level", "unit"),
        [
            ("other_ward_officer", "ward", HA_LONG),
            ("ward_officer", "province", QUANG_NINH),
            ("province_officer", "ward", HA_LONG),
            ("other_province_officer", "province", QUANG_NINH),
        ],
    )
    async def test_a_round_that_is_not_yours_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, who: str, level: str, unit: str
    ) -> None:
        response = await client.post(
            COMPETITIONS,
            json=new_competition(level, unit),
            headers=cast.headers(getattr(cast, who)),
        )
        assert "are run by" in assert_forbidden(response)

    @pytest.mark.parametrize(
        ("level", "unit"), [("ward", QUANG_NINH), ("province", HA_LONG), ("ward", "99999")]
    )
    async def test_unit_code_not_of_the_level_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, level: str, unit: str
    ) -> None:
        response = await client.post(
            COMPETITIONS, json=new_competition(level, unit), headers=cast.headers(cast.admin)
        )
        assert assert_problem(response, 422)["rule"] == "competition_unit"

    async def test_held_on_outside_the_year_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            COMPETITIONS,
            json=new_competition(held_on="2025-12-31"),
            headers=cast.headers(cast.admin),
        )
        assert assert_problem(response, 422)["rule"] == "competition_held_on_year"

    async def test_same_name_same_unit_and_year_gets_409(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_competition()
        headers = cast.headers(cast.ward_officer)
        assert (await client.post(COMPETITIONS, json=body, headers=headers)).status_code == 201
        assert_problem(await client.post(COMPETITIONS, json=body, headers=headers), 409)
        next_year = {**body, "year": 2027, "held_on": None}
        assert (await client.post(COMPETITIONS, json=next_year, headers=headers)).status_code == 201


class TestReadCompetitions:
    async def test_each_sees_their_wards_rounds_and_their_provinces(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        ha_long = await make_competition(session, "ward", HA_LONG)
        bai_chay = await make_competition(session, "ward", BAI_CHAY)
        province = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        cast = fire.cast

        async def seen(account: Any) -> set[str]:
            response = await client.get(COMPETITIONS, headers=fire.headers(account))
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        assert await seen(cast.ward_officer) == {str(ha_long.id), str(province.id)}
        assert await seen(fire.leader) == {str(ha_long.id), str(province.id)}
        assert await seen(cast.other_ward_officer) == {str(bai_chay.id), str(province.id)}
        assert await seen(cast.province_officer) == {
            str(ha_long.id),
            str(bai_chay.id),
            str(province.id),
        }
        assert await seen(cast.other_province_officer) == set()
        assert_not_found(
            await client.get(
                f"{COMPETITIONS}/{ha_long.id}", headers=fire.headers(cast.other_ward_officer)
            )
        )
        response = await client.get(
            f"{COMPETITIONS}/{province.id}", headers=fire.headers(cast.other_ward_officer)
        )
        assert (response.status_code, response.headers["etag"]) == (200, '"1"')

    async def test_list_filters_and_newest_year_first(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        older = await make_competition(session, "ward", HA_LONG, year=2025)
        newer = await make_competition(session, "ward", HA_LONG, year=2026)
        province = await make_competition(session, "province", QUANG_NINH, year=2026)
        await session.commit()
        headers = cast.headers(cast.admin)
        response = await client.get(COMPETITIONS, params={"unit_code": HA_LONG}, headers=headers)
        assert [i["id"] for i in response.json()["items"]] == [str(newer.id), str(older.id)]
        response = await client.get(
            COMPETITIONS, params={"level": "province", "year": 2026}, headers=headers
        )
        assert [i["id"] for i in response.json()["items"]] == [str(province.id)]


class TestUpdateAndDeleteCompetition:
    async def test_ward_officer_renames_their_round(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        response = await client.patch(
            f"{COMPETITIONS}/{competition.id}",
            json={"name": "Hội thi mới", "held_on": "2026-11-01"},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert (response.json()["name"], response.headers["etag"]) == ("Hội thi mới", '"2"')

    async def test_year_and_level_are_fixed(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        for change in ({"year": 2027}, {"level": "province"}, {"unit_code": BAI_CHAY}):
            response = await client.patch(
                f"{COMPETITIONS}/{competition.id}",
                json=change,
                headers={**cast.headers(cast.admin), **if_match(1)},
            )
            assert_problem(response, 422, "validation-error")

    async def test_ward_officer_cannot_change_the_province_round(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        competition = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        response = await client.patch(
            f"{COMPETITIONS}/{competition.id}",
            json={"name": "X"},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert_forbidden(response)

    async def test_other_ward_officer_gets_404_and_stale_412_and_no_if_match_428(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        url = f"{COMPETITIONS}/{competition.id}"
        assert_not_found(
            await client.patch(
                url,
                json={"name": "X"},
                headers={**cast.headers(cast.other_ward_officer), **if_match(1)},
            )
        )
        headers = cast.headers(cast.ward_officer)
        assert_problem(await client.patch(url, json={"name": "X"}, headers=headers), 428)
        assert_problem(
            await client.patch(url, json={"name": "X"}, headers={**headers, **if_match(9)}), 412
        )

    async def test_delete_with_entries_gets_409_and_without_204(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        entry = await make_entry(session, competition, fire.team)
        await session.commit()
        url = f"{COMPETITIONS}/{competition.id}"
        headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        assert_problem(await client.delete(url, headers=headers), 409)
        entry_headers = {**fire.headers(fire.cast.ward_officer), **if_match(1)}
        response = await client.delete(f"{url}/entries/{entry.id}", headers=entry_headers)
        assert response.status_code == 204, response.text
        assert (await client.delete(url, headers=headers)).status_code == 204
        assert_not_found(await client.get(url, headers=fire.headers(fire.cast.ward_officer)))


class TestEntries:
    async def test_ward_officer_enters_a_team_once(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        headers = fire.headers(fire.cast.ward_officer)
        body = {"team_id": str(fire.team.id), "theory_score": 80, "practical_score": 90}
        response = await client.post(entries_url(competition), json=body, headers=headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"{entries_url(competition)}/{created['id']}"
        assert (created["total_score"], created["practical_seconds"]) == (170, None)
        assert created["ward_code"] == HA_LONG
        again = await client.post(
            entries_url(competition), json={"team_id": str(fire.team.id)}, headers=headers
        )
        assert "already entered" in assert_problem(again, 409)["detail"]

    @pytest.mark.parametrize("where", ["other_ward", "nowhere"])
    async def test_team_outside_the_unit_gets_422_alike(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast, where: str
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        team_id = fire.bai_chay_team.id if where == "other_ward" else uuid.uuid4()
        response = await client.post(
            entries_url(competition),
            json={"team_id": str(team_id)},
            headers=fire.headers(fire.cast.admin),
        )
        body = assert_problem(response, 422)
        assert body["rule"] == "competition_entry_unit"
        assert body["detail"] == f"No fire team of ward {HA_LONG} has the id {team_id}."

    async def test_team_of_another_province_cannot_enter_a_province_round(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        ha_noi_team = await make_team(session, await make_neighbourhood(session, HOAN_KIEM))
        competition = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        response = await client.post(
            entries_url(competition),
            json={"team_id": str(ha_noi_team.id)},
            headers=cast.headers(cast.admin),
        )
        assert assert_problem(response, 422)["rule"] == "competition_entry_unit"

    async def test_head_cannot_enter_teams_and_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        body = {"team_id": str(fire.team.id)}
        assert_forbidden(
            await client.post(
                entries_url(competition), json=body, headers=fire.headers(fire.cast.head)
            )
        )
        assert_not_found(
            await client.post(
                entries_url(competition),
                json=body,
                headers=fire.headers(fire.cast.other_ward_officer),
            )
        )

    @pytest.mark.parametrize(
        "bad",
        [{"theory_score": 101}, {"practical_score": -1}, {"practical_seconds": 0}, {"rank": 1}],
    )
    async def test_scores_outside_their_range_get_422(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast, bad: dict[str, Any]
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        response = await client.post(
            entries_url(competition),
            json={"team_id": str(fire.team.id), **bad},
            headers=fire.headers(fire.cast.admin),
        )
        assert_problem(response, 422, "validation-error")

    async def test_scores_are_judged_later_and_the_total_follows(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        entry = await make_entry(session, competition, fire.team, theory=70)
        await session.commit()
        url = f"{entries_url(competition)}/{entry.id}"
        headers = fire.headers(fire.cast.ward_officer)
        response = await client.patch(
            url,
            json={"practical_score": 85, "practical_seconds": 120.5},
            headers={**headers, **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert (response.json()["total_score"], response.headers["etag"]) == (155, '"2"')
        read = await client.get(url, headers=fire.headers(fire.leader))
        assert (read.json()["practical_seconds"], read.headers["etag"]) == (120.5, '"2"')
        session.expunge_all()
        stored = await session.get(CompetitionEntry, entry.id)
        assert stored is not None
        assert stored.total_score == 155

    async def test_entries_list_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        for team in await teams(session, fire, 3):
            await make_entry(session, competition, team)
        await session.commit()
        headers = fire.headers(fire.cast.ward_officer)
        first = await client.get(entries_url(competition), params={"limit": 2}, headers=headers)
        second = await client.get(
            entries_url(competition),
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=headers,
        )
        assert len(first.json()["items"]) == 2
        assert (len(second.json()["items"]), second.json()["next_cursor"]) == (1, None)


class TestRanking:
    async def read(
        self, client: httpx.AsyncClient, fire: FireCast, competition: Competition
    ) -> dict[str, Any]:
        response = await client.get(
            f"{COMPETITIONS}/{competition.id}/ranking", headers=fire.headers(fire.leader)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def test_anonymous_401_and_other_ward_404(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        await session.commit()
        url = f"{COMPETITIONS}/{competition.id}/ranking"
        assert_unauthorized(await client.get(url))
        assert_not_found(await client.get(url, headers=fire.headers(fire.cast.other_ward_officer)))

    async def test_total_then_faster_time_then_theory_and_full_ties_share_a_rank(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        a, b, c, d, e, f, g = await teams(session, fire, 7)
        scores = [
            (a, 90, 90, 100.0),  # 180: first
            (b, 85, 90, 110.0),  # 175, 110 s, theory 85: ties with c on all three
            (c, 85, 90, 110.0),
            (d, 95, 80, 110.0),  # 175, 110 s, theory 95: beats b and c on theory
            (e, 75, 100, 100.0),  # 175, 100 s: faster than b, c, d
            (f, 50, 50, 90.0),  # 100: last of the scored
            (g, 80, None, None),  # not judged yet
        ]
        for team, theory, practical, seconds in scores:
            await make_entry(session, competition, team, theory, practical, seconds)
        await session.commit()
        body = await self.read(client, fire, competition)
        ranked = [(item["rank"], item["team_id"]) for item in body["items"]]
        b_c = sorted([b, c], key=lambda t: t.name)
        assert ranked == [
            (1, str(a.id)),
            (2, str(e.id)),
            (3, str(d.id)),
            (4, str(b_c[0].id)),
            (4, str(b_c[1].id)),
            (6, str(f.id)),
        ]
        assert body["items"][0]["total_score"] == 180
        assert body["items"][0]["team_name"] == a.name
        assert [(u["rank"], u["team_id"]) for u in body["unscored"]] == [(None, str(g.id))]
        assert (body["level"], body["unit_code"], body["year"]) == ("ward", HA_LONG, 2026)

    async def test_withdrawn_entries_are_not_ranked(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        competition = await make_competition(session, "ward", HA_LONG)
        first = await make_entry(session, competition, fire.team, 90, 90, 100)
        await make_entry(session, competition, fire.other_team, 80, 80, 100)
        first.deleted_at = first.created_at
        session.add(first)
        await session.commit()
        body = await self.read(client, fire, competition)
        assert [(i["rank"], i["team_id"]) for i in body["items"]] == [(1, str(fire.other_team.id))]


class TestProvinceEntryRule:
    async def ward_round(
        self,
        session: AsyncSession,
        entrants: list[FireTeam],
        totals: list[int],
        *,
        year: int = 2026,
    ) -> Competition:
        competition = await make_competition(session, "ward", HA_LONG, year=year)
        for team, total in zip(entrants, totals, strict=True):
            await make_entry(session, competition, team, total // 2, total - total // 2, 100.0)
        return competition

    async def enter(
        self, client: httpx.AsyncClient, cast: Cast, province: Competition, team: FireTeam
    ) -> httpx.Response:
        return await client.post(
            entries_url(province),
            json={"team_id": str(team.id)},
            headers=cast.headers(cast.province_officer),
        )

    async def test_the_top_three_of_a_ward_round_enter_and_the_fourth_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        entrants = await teams(session, fire, 4)
        await self.ward_round(session, entrants, [190, 180, 170, 160])
        province = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        for team in entrants[:3]:
            response = await self.enter(client, fire.cast, province, team)
            assert response.status_code == 201, response.text
            assert response.json()["ward_code"] == HA_LONG
        body = assert_problem(await self.enter(client, fire.cast, province, entrants[3]), 422)
        assert body["rule"] == "competition_province_qualification"

    async def test_a_tie_for_third_lets_both_in_but_ranks_1_2_2_leave_the_fourth_out(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        tied_third = await teams(session, fire, 4)
        await self.ward_round(session, tied_third, [190, 180, 170, 170])
        tied_second = await teams(session, fire, 4)
        await self.ward_round(session, tied_second, [190, 180, 180, 170])
        province = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        for team in (*tied_third, *tied_second[:3]):
            response = await self.enter(client, fire.cast, province, team)
            assert response.status_code == 201, response.text
        response = await self.enter(client, fire.cast, province, tied_second[3])
        assert assert_problem(response, 422)["rule"] == "competition_province_qualification"

    async def test_a_top_three_of_another_year_or_unjudged_does_not_qualify(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        last_year = await teams(session, fire, 1)
        await self.ward_round(session, last_year, [200], year=2025)
        unjudged = await make_competition(session, "ward", HA_LONG)
        await make_entry(session, unjudged, fire.team, 100, None, None)
        province = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        for team in (last_year[0], fire.team, fire.other_team):
            response = await self.enter(client, fire.cast, province, team)
            assert assert_problem(response, 422)["rule"] == "competition_province_qualification"

    async def test_only_the_provinces_officers_enter_teams(
        self, client: httpx.AsyncClient, session: AsyncSession, fire: FireCast
    ) -> None:
        entrants = await teams(session, fire, 1)
        await self.ward_round(session, entrants, [190])
        province = await make_competition(session, "province", QUANG_NINH)
        await session.commit()
        response = await client.post(
            entries_url(province),
            json={"team_id": str(entrants[0].id)},
            headers=fire.headers(fire.cast.ward_officer),
        )
        assert "province's officers" in assert_forbidden(response)
