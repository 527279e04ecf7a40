"""What a self-managed group covers: residential groups, and the households of its area.

The links are written with their group (``records.COVERAGE``); they are read
here in one statement per page of groups, joined to the residential groups
for their order and whether they are live: a read of a page's links, which a
repository (one table, one keyset) does not make."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, fetch_rows
from app.errors import FieldErrorType, ValidationFailed
from app.models.groups import GroupResidentialGroup, SelfManagedGroup
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.schemas.groups import GroupKind
from app.services.residential_groups import RESIDENTIAL_GROUPS

Group = SelfManagedGroup


def area_households() -> ColumnElement[Any]:
    """Households of the area a crime-prevention channel covers: its residential groups
    if it lists any, else its neighbourhood, else its ward's neighbourhoods."""
    covered = (
        select(func.sum(col(ResidentialGroup.households)))
        .select_from(GroupResidentialGroup)
        .join(
            ResidentialGroup,
            col(ResidentialGroup.id) == col(GroupResidentialGroup.residential_group_id),
        )
        .where(
            col(GroupResidentialGroup.group_id) == col(Group.id),
            col(ResidentialGroup.deleted_at).is_(None),
        )
        .correlate(Group)
        .scalar_subquery()
    )
    neighbourhood = (
        select(col(Neighbourhood.households))
        .where(
            col(Neighbourhood.id) == col(Group.neighbourhood_id),
            col(Neighbourhood.deleted_at).is_(None),
        )
        .correlate(Group)
        .scalar_subquery()
    )
    ward = (
        select(func.sum(col(Neighbourhood.households)))
        .where(
            col(Neighbourhood.ward_code) == col(Group.ward_code),
            col(Neighbourhood.deleted_at).is_(None),
        )
        .correlate(Group)
        .scalar_subquery()
    )
    return case(
        (
            col(Group.kind) == GroupKind.CRIME_PREVENTION_CHANNEL.value,
            func.coalesce(covered, neighbourhood, ward),
        ),
        else_=None,
    ).label("area_households")


async def covered_ids(
    session: AsyncSession, group_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The live residential groups each group covers, in code order (one query per page)."""
    ids = list(group_ids)
    covered: dict[uuid.UUID, list[uuid.UUID]] = {group_id: [] for group_id in ids}
    if not ids:
        return covered
    rows = await fetch_rows(
        session,
        select(*columns(GroupResidentialGroup.group_id, GroupResidentialGroup.residential_group_id))
        .join(
            ResidentialGroup,
            col(ResidentialGroup.id) == col(GroupResidentialGroup.residential_group_id),
        )
        .where(
            col(GroupResidentialGroup.group_id).in_(ids),
            col(ResidentialGroup.deleted_at).is_(None),
        )
        .order_by(col(ResidentialGroup.code), col(ResidentialGroup.id)),
    )
    for row in rows:
        covered[row.group_id].append(row.residential_group_id)
    return covered


async def check_covered(
    session: AsyncSession,
    ids: Sequence[uuid.UUID],
    ward_code: str,
    neighbourhood_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    """The distinct ids, if every one is a live residential group of the area (else 422)."""
    distinct = list(dict.fromkeys(ids))
    if not distinct:
        return distinct
    # One read by id each, held to the area (a group covers a handful).
    area: dict[str, Any] = {"ward_code": ward_code}
    if neighbourhood_id is not None:
        area["neighbourhood_id"] = neighbourhood_id
    missing: list[str] = []
    for residential_group_id in distinct:
        if await RESIDENTIAL_GROUPS.find(session, None, residential_group_id, **area) is None:
            missing.append(str(residential_group_id))
    if missing:
        where = "the group's neighbourhood" if neighbourhood_id else f"ward {ward_code}"
        raise ValidationFailed.field(
            ("body", "covered_residential_group_ids"),
            f"These are not residential groups of {where}: {', '.join(missing)}.",
            FieldErrorType.NOT_FOUND,
        )
    return distinct


async def stored_coverage(session: AsyncSession, group_id: uuid.UUID) -> list[uuid.UUID]:
    """The live residential groups a group covers now, in code order."""
    return (await covered_ids(session, [group_id]))[group_id]
