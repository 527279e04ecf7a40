"""Demo units: the neighbourhoods and residential groups of Hạ Long and Bãi Cháy."""

from __future__ import annotations

import random

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import PLANS, PROVINCE_CODE, SeedSummary, WardPlan, demo_id
from app.errors import Conflict
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.models.units import Ward


async def seed_units(session: AsyncSession, summary: SeedSummary) -> None:
    """Add each ward's missing neighbourhoods and groups; the wards must be imported already."""
    for plan in PLANS:
        if await session.get(Ward, plan.ward_code) is None:
            raise Conflict(
                f"Ward {plan.ward_code} is not imported; run `wardsafe import-units` first."
            )
        await _seed_ward(session, plan, summary)


def _split(total: int, parts: int) -> list[int]:
    """``total`` spread over ``parts`` as evenly as whole numbers allow."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _jitter(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` over ``parts`` unevenly, as real neighbourhoods are, summing exactly to it."""
    weights = [rng.uniform(0.7, 1.3) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


async def _seed_ward(session: AsyncSession, plan: WardPlan, summary: SeedSummary) -> None:
    rng = random.Random(f"wardsafe-demo-{plan.ward_code}")  # noqa: S311 (demo data, not secrets)
    existing_neighbourhoods = set(
        (
            await session.exec(
                select(Neighbourhood.code).where(col(Neighbourhood.ward_code) == plan.ward_code)
            )
        ).all()
    )
    existing_groups = set(
        (
            await session.exec(
                select(ResidentialGroup.id).where(col(ResidentialGroup.ward_code) == plan.ward_code)
            )
        ).all()
    )
    group_counts = _split(plan.residential_groups, plan.neighbourhoods)
    populations = _jitter(rng, plan.population, plan.neighbourhoods)
    group_number = 0
    for index in range(plan.neighbourhoods):
        code = f"KP{index + 1:02d}"
        neighbourhood_id = demo_id("neighbourhood", plan.ward_code, code)
        group_populations = _jitter(rng, populations[index], group_counts[index])
        group_households = [max(1, round(p / rng.uniform(3.4, 4.2))) for p in group_populations]
        if code not in existing_neighbourhoods:
            session.add(
                Neighbourhood(
                    id=neighbourhood_id,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    code=code,
                    name=f"Khu phố {index + 1}",
                    households=sum(group_households),
                    population=populations[index],
                )
            )
            summary.neighbourhoods_added += 1
            await session.flush()
        for position in range(group_counts[index]):
            group_number += 1
            group_code = f"T{group_number:03d}"
            group_id = demo_id("residential-group", plan.ward_code, group_code)
            if group_id in existing_groups:
                continue
            session.add(
                ResidentialGroup(
                    id=group_id,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    neighbourhood_id=neighbourhood_id,
                    code=group_code,
                    name=f"Tổ {group_number}",
                    households=group_households[position],
                    population=group_populations[position],
                )
            )
            summary.residential_groups_added += 1
