"""Reads across related rows (app/data/related.py): a filter written as SQL of its value
(and of another filter's), and the visible rows for a set of keys, grouped, in order."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.related import RowsOf
from app.data.repository import Filter, Repository, Where
from app.data.visibility import Visible
from app.db import columns
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.neighbourhoods import Neighbourhood
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role
from tests.factories import make_neighbourhood

CODEC = CursorCodec("a test secret")


def officer(ward_code: str | None) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=Role.WARD_OFFICER,
        unit_code=ward_code,
        province_code="22",
        ward_code=ward_code,
        neighbourhood_id=None,
    )


def by_ward(principal: Principal) -> Visible:
    if principal.ward_code == "all":
        return Visible.all()
    return (
        Visible.where(ward_code=principal.ward_code) if principal.ward_code else Visible.nothing()
    )


_POPULATION = col(Neighbourhood.population)

NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=(Neighbourhood.id, Neighbourhood.ward_code, Neighbourhood.name),
    visible=by_ward,
    keyset=Keyset("test-related", columns(Neighbourhood.name, Neighbourhood.id)),
    filters={
        "named": Where(lambda name: col(Neighbourhood.name) == name),
        "population_max": Filter(Neighbourhood.population, "<="),
        # Between the value and population_max, which is given with it.
        "population_from": Where(
            lambda low, high: _POPULATION.between(low, high), also=("population_max",)
        ),
    },
)
BY_WARD = RowsOf(NEIGHBOURHOODS, Neighbourhood.ward_code)


@pytest.fixture
async def placed(session: AsyncSession) -> str:
    prefix = uuid.uuid4().hex[:6]
    for name, ward, population in (
        ("b", HA_LONG, 300),
        ("a", HA_LONG, 500),
        ("c", BAI_CHAY, 700),
    ):
        await make_neighbourhood(session, ward, name=f"{prefix} {name}", population=population)
    return prefix


async def names(session: AsyncSession, prefix: str, **filters: object) -> list[str]:
    rows, _ = await NEIGHBOURHOODS.page(
        session, officer("all"), PageParams(limit=200, cursor=None), CODEC, **filters
    )
    return [row.name for row in rows if row.name.startswith(prefix)]


async def test_a_related_filter_is_its_condition_of_the_value(
    session: AsyncSession, placed: str
) -> None:
    assert await names(session, placed, named=f"{placed} a") == [f"{placed} a"]


async def test_a_related_filter_reads_the_filter_given_with_it(
    session: AsyncSession, placed: str
) -> None:
    found = await names(session, placed, population_from=400, population_max=800)
    assert found == [f"{placed} a", f"{placed} c"]


async def test_rows_of_keys_come_grouped_in_the_keysets_order(
    session: AsyncSession, placed: str
) -> None:
    grouped = await BY_WARD.of(session, officer("all"), [HA_LONG, BAI_CHAY])
    assert [r.name for r in grouped[HA_LONG] if r.name.startswith(placed)] == [
        f"{placed} a",
        f"{placed} b",
    ]
    assert [r.name for r in grouped[BAI_CHAY] if r.name.startswith(placed)] == [f"{placed} c"]


async def test_rows_of_keys_are_only_the_visible_ones(session: AsyncSession, placed: str) -> None:
    grouped = await BY_WARD.of(session, officer(HA_LONG), [HA_LONG, BAI_CHAY])
    assert grouped[BAI_CHAY] == []
    assert await BY_WARD.of(session, officer(HA_LONG), []) == {}


def test_rows_of_a_column_the_repository_does_not_read_are_refused() -> None:
    with pytest.raises(TypeError, match="reads no column"):
        RowsOf(NEIGHBOURHOODS, Neighbourhood.population)
