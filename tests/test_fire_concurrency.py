"""Fire-safety writes racing with real commits: one entry per team, one winner per ETag."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func
from sqlmodel import col, select

from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.competitions import Competition, CompetitionEntry
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from tests.conftest import Committed
from tests.factories import make_neighbourhood
from tests.fire_factories import make_competition, make_equipment, make_team


@dataclass
class Stage:
    team: FireTeam
    competition: Competition
    item: FireEquipment


@pytest.fixture
async def stage(committed: Committed) -> AsyncIterator[Stage]:
    """A committed team with one item and a ward round, removed again afterwards."""
    async with committed.sessionmaker() as session:
        neighbourhood = await make_neighbourhood(session, HA_LONG, f"{committed.prefix}kp")
        team = await make_team(session, neighbourhood)
        competition = await make_competition(session, "ward", HA_LONG)
        item = await make_equipment(session, team)
        await session.commit()
    try:
        yield Stage(team, competition, item)
    finally:
        async with committed.sessionmaker() as session:
            ids = [str(team.id), str(competition.id), str(item.id)]
            entries = select(col(CompetitionEntry.id)).where(
                col(CompetitionEntry.team_id) == team.id
            )
            entry_ids = [str(i) for i in (await session.exec(entries)).all()]
            await session.exec(
                delete(AuditEvent).where(col(AuditEvent.record_id).in_(ids + entry_ids))
            )
            await session.exec(
                delete(CompetitionEntry).where(col(CompetitionEntry.team_id) == team.id)
            )
            await session.exec(delete(Competition).where(col(Competition.id) == competition.id))
            await session.exec(delete(FireEquipment).where(col(FireEquipment.team_id) == team.id))
            await session.exec(delete(FireTeam).where(col(FireTeam.id) == team.id))
            await session.commit()


class TestConcurrentEntries:
    async def test_20_entries_of_one_team_give_one_201_and_19_409(
        self, committed: Committed, stage: Stage
    ) -> None:
        url = f"/api/v1/competitions/{stage.competition.id}/entries"
        body = {"team_id": str(stage.team.id)}
        responses = await asyncio.gather(
            *(committed.client.post(url, json=body, headers=committed.headers) for _ in range(20))
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {201: 1, 409: 19}, [r.text for r in responses if r.status_code >= 500]
        async with committed.sessionmaker() as session:
            stored = (
                await session.exec(
                    select(func.count()).where(col(CompetitionEntry.team_id) == stage.team.id)
                )
            ).one()
        assert stored == 1


class TestConcurrentInspection:
    async def test_20_patches_with_one_etag_give_one_200(
        self, committed: Committed, stage: Stage
    ) -> None:
        url = f"/api/v1/fire-teams/{stage.team.id}/equipment/{stage.item.id}"
        headers = {**committed.headers, "If-Match": '"1"'}
        responses = await asyncio.gather(
            *(
                committed.client.patch(url, json={"quantity": 2 + i}, headers=headers)
                for i in range(20)
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 412: 19}, [r.text for r in responses if r.status_code >= 500]
        [winner] = [r for r in responses if r.status_code == 200]
        async with committed.sessionmaker() as session:
            stored = await session.get(FireEquipment, stage.item.id)
        assert stored is not None
        assert (stored.version, stored.quantity) == (2, winner.json()["quantity"])
