"""Counts of self-managed groups (Core aggregates): by kind and status for the statistics,
exemplary models by year, and a group's designations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, fetch_row, fetch_rows
from app.errors import NotFound
from app.models.exemplary_models import ExemplaryModel
from app.models.groups import SelfManagedGroup
from app.schemas.groups import GroupKind, GroupStatus
from app.security import UnitLevel
from app.services import units as unit_service

Group = SelfManagedGroup


@dataclass(frozen=True)
class GroupCounts:
    """Groups of a unit by kind and status, and exemplary models by year."""

    unit_code: str
    by_kind_and_status: dict[str, dict[str, int]]
    exemplary_models_by_year: dict[int, int]

    @property
    def total(self) -> int:
        return sum(n for statuses in self.by_kind_and_status.values() for n in statuses.values())


async def count_groups(session: AsyncSession, unit_code: str) -> GroupCounts:
    """Count the live groups of a province, ward or neighbourhood (by SQL ``GROUP BY``).

    Every kind and status is present, zero where there is none."""
    anchor = await unit_service.resolve_unit(session, unit_code)
    if anchor is None:
        raise NotFound(f"No province, ward or neighbourhood has the code {unit_code!r}.")
    in_unit: ColumnElement[bool]
    if anchor.level is UnitLevel.PROVINCE:
        in_unit = col(Group.province_code) == anchor.province_code
    elif anchor.level is UnitLevel.WARD:
        in_unit = col(Group.ward_code) == anchor.ward_code
    else:
        in_unit = col(Group.neighbourhood_id) == anchor.neighbourhood_id
    live = col(Group.deleted_at).is_(None)
    by_kind: dict[str, dict[str, int]] = {
        kind.value: {status.value: 0 for status in GroupStatus} for kind in GroupKind
    }
    by_kind_and_status: Select[Any] = (
        select(*columns(Group.kind, Group.status), func.count().label("n"))
        .where(live, in_unit)
        .group_by(col(Group.kind), col(Group.status))
    )
    for row in await fetch_rows(session, by_kind_and_status):
        by_kind.setdefault(row.kind, {})[row.status] = int(row.n)
    by_year_statement: Select[Any] = (
        select(*columns(ExemplaryModel.year), func.count().label("n"))
        .join(Group, col(Group.id) == col(ExemplaryModel.group_id))
        .where(live, in_unit, col(ExemplaryModel.deleted_at).is_(None))
        .group_by(col(ExemplaryModel.year))
        .order_by(col(ExemplaryModel.year))
    )
    by_year = {int(row.year): int(row.n) for row in await fetch_rows(session, by_year_statement)}
    return GroupCounts(anchor.unit_code, by_kind, by_year)


async def designations(session: AsyncSession, group_id: uuid.UUID) -> int:
    """How many times a group was designated an exemplary model (live designations)."""
    row = await fetch_row(
        session,
        select(func.count()).where(
            col(ExemplaryModel.group_id) == group_id, col(ExemplaryModel.deleted_at).is_(None)
        ),
    )
    return int(row[0]) if row is not None else 0
