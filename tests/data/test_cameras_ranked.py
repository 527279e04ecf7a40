"""Pages in the order of a key computed per search (app/data/ranked.py): the repository's
visibility and filters, the search's values bound, its cursors valid for it alone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Integer
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.ranked import RankedPages, Search, searched
from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.db import columns
from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import InvalidCursor
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
    return (
        Visible.where(ward_code=principal.ward_code) if principal.ward_code else Visible.nothing()
    )


def _target() -> Any:
    return searched("target", Integer())


# How far a neighbourhood's population is from the one searched for.
_GAP = (col(Neighbourhood.population) - _target()) * (col(Neighbourhood.population) - _target())
GAP = _GAP.label("gap")

NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=(Neighbourhood.id, Neighbourhood.ward_code, Neighbourhood.name),
    visible=by_ward,
    keyset=Keyset("test-ranked-plain", columns(Neighbourhood.name, Neighbourhood.id)),
    filters={"households_at_least": Filter(Neighbourhood.households, ">=")},
)


def _within(shape: Any) -> list[Any]:
    # The shape: whether the search also caps the gap.
    return [GAP.element <= searched("gap_max", Integer())] if shape else []


CLOSEST = RankedPages(
    NEIGHBOURHOODS,
    keyset=Keyset("test-ranked", (GAP, *columns(Neighbourhood.id))),
    where=_within,
)


def search(target: int, gap_max: int | None = None) -> Search:
    values: dict[str, Any] = {"target": target}
    if gap_max is not None:
        values["gap_max"] = gap_max
    return Search(
        shape=gap_max is not None,
        values=values,
        scope={"target": target, "gap_max": gap_max},
    )


async def walk(
    session: AsyncSession, principal: Principal, found: Search, prefix: str, **filters: Any
) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        rows, cursor = await CLOSEST.page(
            session, principal, PageParams(limit=2, cursor=cursor), CODEC, found, **filters
        )
        seen += [(row.name, row.gap) for row in rows if row.name.startswith(prefix)]
        if cursor is None:
            return seen


@pytest.fixture
async def placed(session: AsyncSession) -> str:
    prefix = uuid.uuid4().hex[:6]
    for name, population, households in (("a", 400, 100), ("b", 410, 20), ("c", 395, 100)):
        await make_neighbourhood(
            session, HA_LONG, name=f"{prefix} {name}", population=population, households=households
        )
    await make_neighbourhood(session, HA_LONG, name=f"{prefix} far", population=9000)
    await make_neighbourhood(session, BAI_CHAY, name=f"{prefix} other", population=400)
    return prefix


async def test_pages_follow_the_computed_key_with_the_searchs_values_bound(
    session: AsyncSession, placed: str
) -> None:
    seen = await walk(session, officer(HA_LONG), search(400), placed)
    assert seen == [
        (f"{placed} a", 0),
        (f"{placed} c", 25),
        (f"{placed} b", 100),
        (f"{placed} far", 8600 * 8600),
    ]


async def test_the_searchs_conditions_and_the_filters_narrow_it(
    session: AsyncSession, placed: str
) -> None:
    assert await walk(session, officer(HA_LONG), search(400, gap_max=50), placed) == [
        (f"{placed} a", 0),
        (f"{placed} c", 25),
    ]
    narrowed = await walk(session, officer(HA_LONG), search(400), placed, households_at_least=50)
    assert [name for name, _ in narrowed] == [f"{placed} a", f"{placed} c", f"{placed} far"]


async def test_nothing_visible_is_an_empty_page(session: AsyncSession, placed: str) -> None:
    rows, cursor = await CLOSEST.page(
        session, officer(None), PageParams(limit=5, cursor=None), CODEC, search(400)
    )
    assert (rows, cursor) == ([], None)


async def test_a_cursor_of_another_search_is_refused(session: AsyncSession, placed: str) -> None:
    _, cursor = await CLOSEST.page(
        session, officer(HA_LONG), PageParams(limit=1, cursor=None), CODEC, search(400)
    )
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        await CLOSEST.page(
            session, officer(HA_LONG), PageParams(limit=1, cursor=cursor), CODEC, search(401)
        )


async def test_an_undeclared_filter_is_a_programming_error(session: AsyncSession) -> None:
    with pytest.raises(TypeError, match="no such filters"):
        await CLOSEST.page(
            session, officer(HA_LONG), PageParams(limit=1, cursor=None), CODEC, search(1), code="x"
        )
