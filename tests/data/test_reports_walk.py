"""app/data/walk.py: every record over as many pages as it takes, and the first n."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data import walk
from app.data.repository import Repository
from app.data.visibility import Visible
from app.db import columns
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.neighbourhoods import Neighbourhood
from app.pagination import Keyset
from tests.factories import make_neighbourhood, unique

NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=(Neighbourhood.id, Neighbourhood.name, Neighbourhood.ward_code),
    visible=Visible.where(ward_code=HA_LONG),
    keyset=Keyset("test-walk", columns(Neighbourhood.name, Neighbourhood.id)),
    filters={"name": Neighbourhood.name},
)


async def names(session: AsyncSession, count: int) -> list[str]:
    prefix = unique("Khu ")
    made = [f"{prefix} {n:03}" for n in range(count)]
    for name in made:
        await make_neighbourhood(session, HA_LONG, name=name)
    return made


async def test_every_reads_past_a_page(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await names(session, 7)
    monkeypatch.setattr(walk, "PAGE", 3)
    rows = await walk.every(NEIGHBOURHOODS, session, None)
    found = [row.name for row in rows if row.name in made]
    assert found == made


async def test_every_keeps_to_the_filters_and_the_visibility(session: AsyncSession) -> None:
    [name] = await names(session, 1)
    await make_neighbourhood(session, BAI_CHAY, name=name)
    rows = await walk.every(NEIGHBOURHOODS, session, None, name=name)
    assert [(row.name, row.ward_code) for row in rows] == [(name, HA_LONG)]
    assert await walk.every(NEIGHBOURHOODS, session, None, name=str(uuid.uuid4())) == []


async def test_up_to_gives_the_first_ones_in_order(session: AsyncSession) -> None:
    made = await names(session, 5)
    rows = await walk.up_to(NEIGHBOURHOODS, session, None, 10_000)
    ours = [row.name for row in rows if row.name in made]
    assert ours == made
    first = await walk.up_to(NEIGHBOURHOODS, session, None, 2, name=made[0])
    assert [row.name for row in first] == [made[0]]
    assert len(await walk.up_to(NEIGHBOURHOODS, session, None, 2)) == 2
