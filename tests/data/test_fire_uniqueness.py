"""``taken``: a uniqueness rule's read finds the live record that holds the values,
whoever may see it, and refuses a filter left without a value."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.uniqueness import taken
from app.data.visibility import Visible
from app.data.writes import GUARDED
from app.db import columns, utcnow
from app.demo.places import HA_LONG
from app.models.neighbourhoods import Neighbourhood
from app.pagination import Keyset
from tests.factories import make_neighbourhood, unique


@pytest.fixture(autouse=True)
def guarded_as_before() -> Iterator[None]:
    before = set(GUARDED)
    yield
    GUARDED.intersection_update(before)


def unseen() -> Repository[Neighbourhood]:
    """Neighbourhoods no principal may see: what ``taken`` finds is found past scoping."""
    return Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(Neighbourhood.id, Neighbourhood.name, Neighbourhood.ward_code),
        visible=lambda principal: Visible.nothing(),
        keyset=Keyset("test-taken", columns(Neighbourhood.name, Neighbourhood.id)),
        filters={"ward_code": Neighbourhood.ward_code, "name": Neighbourhood.name},
    )


async def test_finds_the_holder_whoever_may_see_it(session: AsyncSession) -> None:
    name = unique("Khu ")
    held = await make_neighbourhood(session, HA_LONG, name=name)
    found = await taken(unseen(), session, ward_code=HA_LONG, name=name)
    assert found is not None
    assert (found.id, found.name) == (held.id, name)


async def test_none_holds_values_no_live_record_has(session: AsyncSession) -> None:
    name = unique("Khu ")
    gone = await make_neighbourhood(session, HA_LONG, name=name)
    gone.deleted_at = utcnow()
    await session.flush()
    repository = unseen()
    assert await taken(repository, session, ward_code=HA_LONG, name=name) is None
    assert await taken(repository, session, ward_code=HA_LONG, name=unique("Khu ")) is None


async def test_every_filter_must_have_a_value_and_be_declared(session: AsyncSession) -> None:
    repository = unseen()
    with pytest.raises(TypeError, match="every filter"):
        await taken(repository, session, ward_code=HA_LONG, name=None)
    with pytest.raises(TypeError, match="no such filters"):
        await taken(repository, session, code=str(uuid.uuid4()))
