"""Every table of the schema has its writer declared (a repository's unit of write and
its parts, a Bookkeeping, Links, the audit trail), so the suite's guard, which fails a
request's write to any table outside them, leaves no table to chance."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import app.main  # noqa: F401  (every domain's declarations)
from app.data.writes import GUARDED, UnitOfWrite
from app.demo.places import HA_LONG
from app.models.broadcasts import BroadcastTarget
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.security import Principal, Role
from tests.factories import unique


def test_every_table_has_a_declared_writer() -> None:
    tables = set(SQLModel.metadata.tables)
    assert tables - GUARDED == set()


def test_a_units_parts_are_declared_with_it() -> None:
    unit = UnitOfWrite("test_parts", parts=[BroadcastTarget])
    assert unit.parts == {"broadcast_targets"}
    assert "broadcast_targets" in GUARDED


async def test_a_part_of_an_undeclared_table_is_refused(session: AsyncSession) -> None:
    unit = UnitOfWrite("test_undeclared_parts")
    record = Neighbourhood(province_code="22", ward_code=HA_LONG, code=unique("KP-"), name="Khu")
    part = ResidentialGroup(
        province_code="22",
        ward_code=HA_LONG,
        neighbourhood_id=record.id,
        code=unique("T-"),
        name="Tổ",
    )
    officer = Principal(
        subject=record.id,
        kind="user",
        role=Role.WARD_OFFICER,
        unit_code=HA_LONG,
        province_code="22",
        ward_code=HA_LONG,
        neighbourhood_id=None,
    )
    with pytest.raises(TypeError, match="declares no parts in residential_groups"):
        await unit.insert(session, officer, record, fields=(), parts=[part])
