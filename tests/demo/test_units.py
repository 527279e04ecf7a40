"""The demo seed: Hạ Long's 27 neighbourhoods and 233 groups, Bãi Cháy's 5 and 30."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.errors import Conflict
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.models.units import Ward


async def count(
    session: AsyncSession,
    model: type[Neighbourhood] | type[ResidentialGroup],
    ward_code: str | None = None,
) -> int:
    statement = select(func.count()).select_from(model)
    if ward_code:
        statement = statement.where(col(model.ward_code) == ward_code)
    return (await session.exec(statement)).one()


class TestSeedDemo:
    async def test_first_run_adds_32_neighbourhoods_and_263_groups(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        await session.commit()
        assert (summary.neighbourhoods_added, summary.residential_groups_added) == (32, 263)
        assert summary.changed is True
        assert await count(session, Neighbourhood) == 32
        assert await count(session, ResidentialGroup) == 263
        assert await count(session, Neighbourhood, HA_LONG) == 27
        assert await count(session, ResidentialGroup, HA_LONG) == 233
        assert await count(session, Neighbourhood, BAI_CHAY) == 5
        assert await count(session, ResidentialGroup, BAI_CHAY) == 30

    async def test_rerun_adds_nothing(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        again = await demo_data.seed_demo(session)
        await session.commit()
        assert (again.neighbourhoods_added, again.residential_groups_added) == (0, 0)
        assert again.changed is False
        assert await count(session, Neighbourhood) == 32
        assert await count(session, ResidentialGroup) == 263

    async def test_populations_add_up(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        for ward_code, population in ((HA_LONG, 53_000), (BAI_CHAY, 7_500)):
            neighbourhoods = (
                await session.exec(
                    select(Neighbourhood).where(col(Neighbourhood.ward_code) == ward_code)
                )
            ).all()
            assert sum(n.population for n in neighbourhoods) == population
            for neighbourhood in neighbourhoods:
                groups = (
                    await session.exec(
                        select(ResidentialGroup).where(
                            col(ResidentialGroup.neighbourhood_id) == neighbourhood.id
                        )
                    )
                ).all()
                assert groups
                assert sum(g.population for g in groups) == neighbourhood.population
                assert sum(g.households for g in groups) == neighbourhood.households
                assert {(g.ward_code, g.province_code) for g in groups} == {(ward_code, "22")}

    async def test_ids_are_stable_across_runs(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        kp03 = await session.get(Neighbourhood, demo_id("neighbourhood", HA_LONG, "KP03"))
        assert kp03 is not None
        assert (kp03.code, kp03.name, kp03.ward_code) == ("KP03", "Khu phố 3", HA_LONG)

    async def test_rerun_restores_a_deleted_group_only(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        t005 = demo_id("residential-group", HA_LONG, "T005")
        await session.exec(delete(ResidentialGroup).where(col(ResidentialGroup.id) == t005))
        await session.commit()

        again = await demo_data.seed_demo(session)
        await session.commit()

        assert (again.neighbourhoods_added, again.residential_groups_added) == (0, 1)
        restored = await session.get(ResidentialGroup, t005)
        assert restored is not None
        assert restored.code == "T005"

    async def test_without_imported_wards_it_refuses(self, session: AsyncSession) -> None:
        await session.exec(delete(Ward).where(col(Ward.code) == BAI_CHAY))
        await session.flush()
        with pytest.raises(Conflict, match="import-units"):
            await demo_data.seed_demo(session)
