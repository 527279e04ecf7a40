"""Counts of safe-zone certifications for the statistics: certified areas per unit and year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import fetch_rows
from app.errors import NotFound
from app.models.certifications import Certification, CertificationStatus
from app.security import UnitLevel
from app.services import units as unit_service


@dataclass(frozen=True)
class CertifiedAreas:
    """For one unit and year: areas registered, and areas certified (not revoked)."""

    unit_code: str
    year: int
    registered: int
    certified: int


async def certified_areas(
    session: AsyncSession,
    unit_code: str,
    *,
    year: int | None = None,
    on: date | None = None,
    breakdown: bool = False,
) -> list[CertifiedAreas]:
    """Certified areas per year for a province, ward or neighbourhood, counted in SQL.

    ``breakdown`` counts per ward of a province or per neighbourhood of a ward
    instead. ``on`` counts the certificates standing on that day (decided by
    then, not revoked by then) rather than today's."""
    anchor = await unit_service.resolve_unit(session, unit_code)
    if anchor is None:
        raise NotFound(f"No province, ward or neighbourhood has the code {unit_code!r}.")
    if anchor.level is UnitLevel.PROVINCE:
        in_unit = col(Certification.province_code) == anchor.province_code
        child: Any = col(Certification.ward_code)
    elif anchor.level is UnitLevel.WARD:
        in_unit = col(Certification.ward_code) == anchor.ward_code
        child = col(Certification.neighbourhood_id)
    else:
        in_unit = col(Certification.neighbourhood_id) == anchor.neighbourhood_id
        child = col(Certification.neighbourhood_id)
    if on is None:
        standing = col(Certification.status) == CertificationStatus.CERTIFIED.value
    else:
        standing = (
            (col(Certification.decision_outcome) == CertificationStatus.CERTIFIED.value)
            & (col(Certification.decided_on) <= on)
            & (col(Certification.revoked_on).is_(None) | (col(Certification.revoked_on) > on))
        )
    certified = func.sum(case((standing, 1), else_=0))
    keys: list[Any] = [child, col(Certification.year)] if breakdown else [col(Certification.year)]
    statement = (
        select(*keys, func.count().label("registered"), certified.label("certified"))
        .where(col(Certification.deleted_at).is_(None), in_unit)
        .group_by(*keys)
        .order_by(*keys)
    )
    if year is not None:
        statement = statement.where(col(Certification.year) == year)
    rows = await fetch_rows(session, statement)
    return [
        CertifiedAreas(
            unit_code=str(row[0]) if breakdown else anchor.unit_code,
            year=row.year,
            registered=row.registered,
            certified=int(row.certified or 0),
        )
        for row in rows
    ]
