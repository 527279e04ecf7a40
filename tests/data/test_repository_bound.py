"""What a read binds besides its visibility (the time now, the reader), a filter written as
SQL of its value, a 404 naming the parent, and the writes that come with a record: its
parts, and a compare-and-set held to a condition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Integer, String, and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository, Where, bound_value
from app.data.visibility import Visible
from app.data.writes import GUARDED, UnitOfWrite
from app.db import columns
from app.demo.places import HA_LONG
from app.errors import NotFound, PreconditionFailed
from app.models.audit import AuditEvent
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role
from tests.factories import make_neighbourhood, unique

CODEC = CursorCodec("a test secret")
OFFICER = Principal(
    subject=uuid.uuid4(),
    kind="user",
    role=Role.WARD_OFFICER,
    unit_code=HA_LONG,
    province_code="22",
    ward_code=HA_LONG,
    neighbourhood_id=None,
)
# A bound value the columns and a filter name: a population to compare with.
_AT_LEAST = bound_value("at_least", Integer())


def _size(size: Any) -> Any:
    """The ``size`` filter: small or large against the bound ``at_least``."""
    return or_(
        and_(size == "small", col(Neighbourhood.population) < _AT_LEAST),
        and_(size == "large", col(Neighbourhood.population) >= _AT_LEAST),
    )


def repository(name: str) -> Repository[Neighbourhood]:
    return Repository(
        Neighbourhood,
        noun="neighbourhood",
        columns=(
            Neighbourhood.id,
            Neighbourhood.name,
            Neighbourhood.population,
            (col(Neighbourhood.population) >= _AT_LEAST).label("large"),
        ),
        visible=lambda principal: Visible.where(ward_code=principal.ward_code),
        keyset=Keyset("test-bound", columns(Neighbourhood.population, Neighbourhood.id)),
        filters={"name": Neighbourhood.name, "size": Where(_size, String())},
        missing="No neighbourhood named {name} has the id {id}.",
        writes=UnitOfWrite(name, parts=[ResidentialGroup]),
    )


@pytest.fixture(autouse=True)
def guarded_as_before() -> Iterator[None]:
    before = set(GUARDED)
    yield
    GUARDED.intersection_update(before)


async def three(session: AsyncSession, name: str) -> list[Neighbourhood]:
    return [
        await make_neighbourhood(session, HA_LONG, name=name, population=p) for p in (10, 20, 30)
    ]


async def test_bound_values_reach_the_columns_and_the_filter(session: AsyncSession) -> None:
    name = unique("Khu ")
    made = await three(session, name)
    repo = repository("test_bound")
    row = await repo.get(session, OFFICER, made[1].id, bound={"at_least": 15})
    assert row.large in (True, 1)
    row = await repo.get(session, OFFICER, made[1].id, bound={"at_least": 25})
    assert row.large in (False, 0)
    rows, _ = await repo.page(
        session,
        OFFICER,
        PageParams(limit=10, cursor=None),
        CODEC,
        bound={"at_least": 15},
        name=name,
        size="large",
    )
    assert [row.id for row in rows] == [made[1].id, made[2].id]
    rows, _ = await repo.page(
        session,
        OFFICER,
        PageParams(limit=10, cursor=None),
        CODEC,
        bound={"at_least": 15},
        name=name,
        size="small",
    )
    assert [row.id for row in rows] == [made[0].id]


async def test_the_cursor_carries_the_filters_not_the_bound_values(session: AsyncSession) -> None:
    name = unique("Khu ")
    made = await three(session, name)
    repo = repository("test_bound")
    large = {"name": name, "size": "large"}
    first, cursor = await repo.page(
        session, OFFICER, PageParams(limit=1, cursor=None), CODEC, bound={"at_least": 0}, **large
    )
    assert [row.id for row in first] == [made[0].id]
    assert cursor is not None
    # The next request reads at another bound value (another time now) with the same cursor.
    rest, _ = await repo.page(
        session,
        OFFICER,
        PageParams(limit=5, cursor=cursor),
        CODEC,
        bound={"at_least": 5},
        name=name,
        size="large",
    )
    assert [row.id for row in rest] == [made[1].id, made[2].id]


async def test_the_404_under_a_parent_names_it(session: AsyncSession) -> None:
    made = await make_neighbourhood(session, HA_LONG, name=unique("Khu "))
    with pytest.raises(NotFound) as raised:
        await repository("test_bound").get(
            session, OFFICER, made.id, bound={"at_least": 0}, name="elsewhere"
        )
    assert raised.value.detail == f"No neighbourhood named elsewhere has the id {made.id}."


async def events(session: AsyncSession, record_id: uuid.UUID) -> list[str]:
    found = await session.exec(
        select(AuditEvent).where(col(AuditEvent.record_id) == str(record_id))
    )
    return [event.action for event in found.all()]


async def test_parts_are_written_with_their_record_under_its_one_event(
    session: AsyncSession,
) -> None:
    repo = repository("test_parts")
    record = Neighbourhood(province_code="22", ward_code=HA_LONG, code=unique("KP-"), name="Khu")

    def part(code: str) -> ResidentialGroup:
        return ResidentialGroup(
            province_code="22",
            ward_code=HA_LONG,
            neighbourhood_id=record.id,
            code=unique(code),
            name="Tổ",
        )

    await repo.insert(session, OFFICER, record, fields={"name"}, parts=[part("T1-")])
    await repo.update(
        session, OFFICER, record, 1, {"name": "Khu mới"}, fields={"name"}, parts=[part("T2-")]
    )
    groups = (
        await session.exec(
            select(ResidentialGroup).where(col(ResidentialGroup.neighbourhood_id) == record.id)
        )
    ).all()
    assert len(groups) == 2
    assert await events(session, record.id) == ["create", "update"]
    for group in groups:
        assert await events(session, group.id) == []


async def test_an_update_held_to_a_condition_is_412_when_the_row_fails_it(
    session: AsyncSession,
) -> None:
    repo = repository("test_where")
    record = await make_neighbourhood(session, HA_LONG, population=10)
    with pytest.raises(PreconditionFailed):
        await repo.update(
            session,
            OFFICER,
            record,
            record.version,
            {"name": "Khu đổi"},
            fields={"name"},
            where=col(Neighbourhood.population) > 10,
        )
    await repo.update(
        session,
        OFFICER,
        record,
        record.version,
        {"name": "Khu đổi"},
        fields={"name"},
        where=col(Neighbourhood.population) == 10,
    )
    assert (record.name, record.version) == ("Khu đổi", 2)
    assert await events(session, record.id) == ["update"]
