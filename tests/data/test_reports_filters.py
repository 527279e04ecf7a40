"""app/data/filters.py: OneOf keeps the rows whose column holds one of a list's values, in
one prepared statement whatever the list's length."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.filters import OneOf
from app.data.repository import Repository
from app.data.visibility import Visible
from app.db import columns
from app.demo.places import HA_LONG
from app.models.neighbourhoods import Neighbourhood
from app.pagination import Keyset
from tests.factories import make_neighbourhood, unique

NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=(Neighbourhood.id, Neighbourhood.name),
    visible=Visible.all(),
    keyset=Keyset("test-one-of", columns(Neighbourhood.name, Neighbourhood.id)),
    filters={"names": OneOf(Neighbourhood.name)},
)


async def made(session: AsyncSession) -> list[str]:
    prefix = unique("Khu ")
    found = [f"{prefix} {letter}" for letter in "abcd"]
    for name in found:
        await make_neighbourhood(session, HA_LONG, name=name)
    return found


async def test_keeps_the_rows_holding_one_of_the_values(session: AsyncSession) -> None:
    a, b, c, _ = await made(session)
    for wanted in ([a], [a, c], [c, b, a, "nobody"]):
        row = await NEIGHBOURHOODS.first(session, None, names=wanted)
        assert row is not None
        assert row.name == sorted(wanted)[0]
    assert await NEIGHBOURHOODS.first(session, None, names=["nobody"]) is None


async def test_an_empty_list_keeps_nothing_and_none_filters_nothing(
    session: AsyncSession,
) -> None:
    await made(session)
    assert await NEIGHBOURHOODS.first(session, None, names=[]) is None
    assert await NEIGHBOURHOODS.first(session, None, names=None) is not None


async def test_one_statement_for_lists_of_any_length(session: AsyncSession) -> None:
    a, b, c, d = await made(session)
    await NEIGHBOURHOODS.first(session, None, names=[a])
    built = len(NEIGHBOURHOODS._pages)
    await NEIGHBOURHOODS.first(session, None, names=[a, b, c, d])
    assert len(NEIGHBOURHOODS._pages) == built
