"""Administrative units: reads, and the import of the official codes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models.units import Neighbourhood, Province, ResidentialGroup, Ward
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.units import (
    NeighbourhoodCreate,
    NeighbourhoodUpdate,
    ResidentialGroupCreate,
    ResidentialGroupUpdate,
)
from app.security import Principal, Role, UnitLevel
from app.services import audit as audit_service
from app.text import fold, word_prefix_patterns

ListResult = tuple[Sequence[Any], str | None]

_ward_count = (
    select(func.count())
    .where(col(Ward.province_code) == col(Province.code))
    .correlate(Province)
    .scalar_subquery()
    .label("ward_count")
)
_PROVINCE_COLUMNS = (*columns(Province.code, Province.name, Province.division_type), _ward_count)
_WARD_COLUMNS = columns(Ward.code, Ward.name, Ward.division_type, Ward.province_code)
_NEIGHBOURHOOD_COLUMNS = columns(
    Neighbourhood.id,
    Neighbourhood.province_code,
    Neighbourhood.ward_code,
    Neighbourhood.code,
    Neighbourhood.name,
    Neighbourhood.households,
    Neighbourhood.population,
    Neighbourhood.created_at,
    Neighbourhood.updated_at,
    Neighbourhood.version,
)
_GROUP_COLUMNS = columns(
    ResidentialGroup.id,
    ResidentialGroup.province_code,
    ResidentialGroup.ward_code,
    ResidentialGroup.neighbourhood_id,
    ResidentialGroup.code,
    ResidentialGroup.name,
    ResidentialGroup.households,
    ResidentialGroup.population,
    ResidentialGroup.created_at,
    ResidentialGroup.updated_at,
    ResidentialGroup.version,
)

PROVINCES = Keyset("provinces", columns(Province.code))
WARDS = Keyset("wards", columns(Ward.code))
NEIGHBOURHOODS = Keyset("neighbourhoods", columns(Neighbourhood.code, Neighbourhood.id))
RESIDENTIAL_GROUPS = Keyset(
    "residential-groups", columns(ResidentialGroup.code, ResidentialGroup.id)
)


def name_matches(search_key: Any, q: str) -> ColumnElement[bool]:
    """``search_key`` (a folded name) has a word starting with the folded ``q``."""
    at_start, after_space = word_prefix_patterns(q)
    return or_(search_key.like(at_start, escape="\\"), search_key.like(after_space, escape="\\"))


async def list_provinces(
    session: AsyncSession, page: PageParams, codec: CursorCodec, *, q: str | None = None
) -> ListResult:
    """Official provinces in code order, optionally matching ``q`` without diacritics."""
    statement = select(*_PROVINCE_COLUMNS)
    if q:
        statement = statement.where(name_matches(col(Province.search_key), q))
    return await fetch_page(session, statement, PROVINCES, page, codec, {"q": fold(q or "")})


async def get_province(session: AsyncSession, code: str) -> Any:
    """One province by its official code."""
    row = await fetch_row(session, select(*_PROVINCE_COLUMNS).where(col(Province.code) == code))
    if row is None:
        raise NotFound(f"No province has the code {code!r}.")
    return row


async def list_wards(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    province_code: str | None = None,
    q: str | None = None,
) -> ListResult:
    """Official wards in code order, by province and/or a diacritic-free name match."""
    statement = select(*_WARD_COLUMNS)
    if province_code:
        statement = statement.where(col(Ward.province_code) == province_code)
    if q:
        statement = statement.where(name_matches(col(Ward.search_key), q))
    filters = {"province_code": province_code, "q": fold(q or "")}
    return await fetch_page(session, statement, WARDS, page, codec, filters)


async def get_ward(session: AsyncSession, code: str) -> Any:
    """One ward by its official code."""
    row = await fetch_row(session, select(*_WARD_COLUMNS).where(col(Ward.code) == code))
    if row is None:
        raise NotFound(f"No ward has the code {code!r}.")
    return row


async def list_neighbourhoods(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    ward_code: str | None = None,
) -> ListResult:
    """Neighbourhoods in code order, optionally of one ward."""
    statement = select(*_NEIGHBOURHOOD_COLUMNS).where(col(Neighbourhood.deleted_at).is_(None))
    if ward_code:
        statement = statement.where(col(Neighbourhood.ward_code) == ward_code)
    return await fetch_page(
        session, statement, NEIGHBOURHOODS, page, codec, {"ward_code": ward_code}
    )


async def get_neighbourhood(session: AsyncSession, neighbourhood_id: uuid.UUID) -> Any:
    """One live neighbourhood by id."""
    statement = select(*_NEIGHBOURHOOD_COLUMNS).where(
        col(Neighbourhood.id) == neighbourhood_id,
        col(Neighbourhood.deleted_at).is_(None),
    )
    row = await fetch_row(session, statement)
    if row is None:
        raise NotFound(f"No neighbourhood has the id {neighbourhood_id}.")
    return row


async def list_residential_groups(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    neighbourhood_id: uuid.UUID | None = None,
    ward_code: str | None = None,
) -> ListResult:
    """Residential groups in code order, by neighbourhood and/or ward."""
    statement = select(*_GROUP_COLUMNS).where(col(ResidentialGroup.deleted_at).is_(None))
    if neighbourhood_id:
        statement = statement.where(col(ResidentialGroup.neighbourhood_id) == neighbourhood_id)
    if ward_code:
        statement = statement.where(col(ResidentialGroup.ward_code) == ward_code)
    filters = {"neighbourhood_id": neighbourhood_id, "ward_code": ward_code}
    return await fetch_page(session, statement, RESIDENTIAL_GROUPS, page, codec, filters)


async def get_residential_group(session: AsyncSession, group_id: uuid.UUID) -> Any:
    """One live residential group by id."""
    statement = select(*_GROUP_COLUMNS).where(
        col(ResidentialGroup.id) == group_id,
        col(ResidentialGroup.deleted_at).is_(None),
    )
    row = await fetch_row(session, statement)
    if row is None:
        raise NotFound(f"No residential group has the id {group_id}.")
    return row


@dataclass(frozen=True)
class ImportSummary:
    """What one run of the official-units import changed."""

    provinces_added: int
    provinces_updated: int
    wards_added: int
    wards_updated: int

    @property
    def changed(self) -> bool:
        return any(
            (self.provinces_added, self.provinces_updated, self.wards_added, self.wards_updated)
        )


def _official_units() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    from vietnam_provinces import Province as OfficialProvince
    from vietnam_provinces import Ward as OfficialWard

    provinces = [
        {
            "code": f"{int(p.code):02d}",
            "name": p.name,
            "division_type": str(p.division_type.value),
            "codename": p.codename,
            "search_key": fold(p.name),
        }
        for p in OfficialProvince.iter_all()
    ]
    wards = [
        {
            "code": f"{int(w.code):05d}",
            "name": w.name,
            "division_type": str(w.division_type.value),
            "codename": w.codename,
            "province_code": f"{int(w.province_code):02d}",
            "search_key": fold(w.name),
        }
        for w in OfficialWard.iter_all()
    ]
    return provinces, wards


async def import_official_units(session: AsyncSession) -> ImportSummary:
    """Bring provinces and wards in line with ``vietnam-provinces``; a rerun changes nothing."""
    provinces, wards = _official_units()
    p_added, p_updated = await _upsert(session, Province, provinces)
    w_added, w_updated = await _upsert(session, Ward, wards)
    return ImportSummary(p_added, p_updated, w_added, w_updated)


OfficialUnit = TypeVar("OfficialUnit", Province, Ward)


async def _upsert(
    session: AsyncSession, model: type[OfficialUnit], rows: list[dict[str, str]]
) -> tuple[int, int]:
    existing = {obj.code: obj for obj in (await session.exec(select_model(model))).all()}
    added = updated = 0
    for row in rows:
        current = existing.get(row["code"])
        if current is None:
            session.add(model.model_validate(row))
            added += 1
            continue
        changes = {k: v for k, v in row.items() if getattr(current, k) != v}
        if changes:
            for key, value in changes.items():
                setattr(current, key, value)
            current.version += 1
            current.updated_at = utcnow()
            updated += 1
    await session.flush()
    return added, updated


@dataclass(frozen=True)
class UnitAnchor:
    """Where a ``unit_code`` sits: its level and the province/ward/neighbourhood it names."""

    level: UnitLevel
    unit_code: str
    province_code: str
    ward_code: str | None
    neighbourhood_id: uuid.UUID | None


async def resolve_unit(session: AsyncSession, unit_code: str) -> UnitAnchor | None:
    """Find the province (2 digits), ward (5 digits) or neighbourhood (UUID) a code names."""
    if len(unit_code) == 2 and unit_code.isdigit():
        province = await session.get(Province, unit_code)
        if province is None:
            return None
        return UnitAnchor(UnitLevel.PROVINCE, unit_code, unit_code, None, None)
    if len(unit_code) == 5 and unit_code.isdigit():
        ward = await session.get(Ward, unit_code)
        if ward is None:
            return None
        return UnitAnchor(UnitLevel.WARD, unit_code, ward.province_code, ward.code, None)
    try:
        neighbourhood_id = uuid.UUID(unit_code)
    except ValueError:
        return None
    row = await fetch_row(
        session,
        select(*columns(Neighbourhood.province_code, Neighbourhood.ward_code)).where(
            col(Neighbourhood.id) == neighbourhood_id, col(Neighbourhood.deleted_at).is_(None)
        ),
    )
    if row is None:
        return None
    return UnitAnchor(
        UnitLevel.NEIGHBOURHOOD,
        str(neighbourhood_id),
        row.province_code,
        row.ward_code,
        neighbourhood_id,
    )


def _writable(principal: Principal, ward_column: Any) -> ColumnElement[bool]:
    """Units a principal may change: admins everywhere, ward-level callers their ward."""
    if principal.role is Role.ADMIN:
        return true()
    if principal.ward_code and principal.role in (Role.WARD_OFFICER, Role.WARD_SYSTEM):
        return ward_column == principal.ward_code  # type: ignore[no-any-return]
    return false()


def can_write_ward(principal: Principal, ward_code: str) -> str | None:
    """Why ``principal`` may not add units to ``ward_code`` (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code == ward_code:
        return None
    return "You can add neighbourhoods and residential groups only in your own ward."


def _not_null(changes: dict[str, Any]) -> dict[str, Any]:
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        raise ValidationFailed(f"These fields cannot be null: {', '.join(nulls)}.")
    return changes


async def _writable_neighbourhood(
    session: AsyncSession, principal: Principal, neighbourhood_id: uuid.UUID
) -> Neighbourhood:
    found = (
        await session.exec(
            select_model(Neighbourhood).where(
                col(Neighbourhood.id) == neighbourhood_id,
                col(Neighbourhood.deleted_at).is_(None),
                _writable(principal, col(Neighbourhood.ward_code)),
            )
        )
    ).first()
    if found is None:
        raise NotFound(f"No neighbourhood you manage has the id {neighbourhood_id}.")
    return found


async def _ensure_neighbourhood_code_free(
    session: AsyncSession, ward_code: str, code: str, *, except_id: uuid.UUID | None = None
) -> None:
    statement = select(col(Neighbourhood.id)).where(
        col(Neighbourhood.ward_code) == ward_code,
        col(Neighbourhood.code) == code,
        col(Neighbourhood.deleted_at).is_(None),
    )
    if except_id:
        statement = statement.where(col(Neighbourhood.id) != except_id)
    if await fetch_row(session, statement) is not None:
        raise Conflict(f"Ward {ward_code} already has a neighbourhood with the code {code!r}.")


async def create_neighbourhood(
    session: AsyncSession, principal: Principal, data: NeighbourhoodCreate
) -> Neighbourhood:
    """Add a neighbourhood to a ward the principal manages."""
    ward = await session.get(Ward, data.ward_code)
    if ward is None:
        raise ValidationFailed(f"No ward has the code {data.ward_code!r}.", field="ward_code")
    reason = can_write_ward(principal, data.ward_code)
    if reason:
        raise Forbidden(reason)
    await _ensure_neighbourhood_code_free(session, data.ward_code, data.code)
    neighbourhood = Neighbourhood(province_code=ward.province_code, **data.model_dump())
    session.add(neighbourhood)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "neighbourhood",
        neighbourhood.id,
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        changed_fields=data.model_fields_set | {"ward_code", "code", "name"},
    )
    return neighbourhood


async def update_neighbourhood(
    session: AsyncSession,
    principal: Principal,
    neighbourhood_id: uuid.UUID,
    expected_version: int,
    data: NeighbourhoodUpdate,
) -> Neighbourhood:
    """Change a neighbourhood, if it is still at ``expected_version``."""
    neighbourhood = await _writable_neighbourhood(session, principal, neighbourhood_id)
    changes = _not_null(data.model_dump(exclude_unset=True))
    if "code" in changes:
        await _ensure_neighbourhood_code_free(
            session, neighbourhood.ward_code, changes["code"], except_id=neighbourhood.id
        )
    await compare_and_set(session, neighbourhood, expected_version, changes)
    audit_service.record(
        session,
        principal,
        "update",
        "neighbourhood",
        neighbourhood.id,
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        changed_fields=changes,
    )
    return neighbourhood


async def delete_neighbourhood(
    session: AsyncSession, principal: Principal, neighbourhood_id: uuid.UUID, expected_version: int
) -> None:
    """Delete an empty neighbourhood (its residential groups must go first)."""
    neighbourhood = await _writable_neighbourhood(session, principal, neighbourhood_id)
    groups = await fetch_row(
        session,
        select(func.count()).where(
            col(ResidentialGroup.neighbourhood_id) == neighbourhood.id,
            col(ResidentialGroup.deleted_at).is_(None),
        ),
    )
    if groups is not None and groups[0]:
        raise Conflict(
            f"The neighbourhood still has {groups[0]} residential groups; delete them first."
        )
    await compare_and_set(session, neighbourhood, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "neighbourhood",
        neighbourhood.id,
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
    )


async def _writable_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> ResidentialGroup:
    found = (
        await session.exec(
            select_model(ResidentialGroup).where(
                col(ResidentialGroup.id) == group_id,
                col(ResidentialGroup.deleted_at).is_(None),
                _writable(principal, col(ResidentialGroup.ward_code)),
            )
        )
    ).first()
    if found is None:
        raise NotFound(f"No residential group you manage has the id {group_id}.")
    return found


async def _ensure_group_code_free(
    session: AsyncSession,
    neighbourhood_id: uuid.UUID,
    code: str,
    *,
    except_id: uuid.UUID | None = None,
) -> None:
    statement = select(col(ResidentialGroup.id)).where(
        col(ResidentialGroup.neighbourhood_id) == neighbourhood_id,
        col(ResidentialGroup.code) == code,
        col(ResidentialGroup.deleted_at).is_(None),
    )
    if except_id:
        statement = statement.where(col(ResidentialGroup.id) != except_id)
    if await fetch_row(session, statement) is not None:
        raise Conflict(f"The neighbourhood already has a residential group with the code {code!r}.")


async def create_residential_group(
    session: AsyncSession, principal: Principal, data: ResidentialGroupCreate
) -> ResidentialGroup:
    """Add a residential group to a neighbourhood the principal manages."""
    neighbourhood = await _writable_neighbourhood(session, principal, data.neighbourhood_id)
    await _ensure_group_code_free(session, neighbourhood.id, data.code)
    group = ResidentialGroup(
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        **data.model_dump(),
    )
    session.add(group)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "residential_group",
        group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
        changed_fields=data.model_fields_set | {"neighbourhood_id", "code", "name"},
    )
    return group


async def update_residential_group(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    expected_version: int,
    data: ResidentialGroupUpdate,
) -> ResidentialGroup:
    """Change a residential group, if it is still at ``expected_version``."""
    group = await _writable_group(session, principal, group_id)
    changes = _not_null(data.model_dump(exclude_unset=True))
    if "code" in changes:
        await _ensure_group_code_free(
            session, group.neighbourhood_id, changes["code"], except_id=group.id
        )
    await compare_and_set(session, group, expected_version, changes)
    audit_service.record(
        session,
        principal,
        "update",
        "residential_group",
        group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
        changed_fields=changes,
    )
    return group


async def delete_residential_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a residential group."""
    group = await _writable_group(session, principal, group_id)
    await compare_and_set(session, group, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "residential_group",
        group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
    )
