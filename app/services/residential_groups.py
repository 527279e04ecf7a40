"""Residential groups (tổ dân phố): public reads; ward officers and admins write."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict
from app.models.units import ResidentialGroup
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.residential_groups import ResidentialGroupCreate, ResidentialGroupUpdate
from app.security import Principal
from app.services import audit as audit_service
from app.services import neighbourhoods as neighbourhood_service
from app.services.units import ListResult

_COLUMNS = (
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
_KEYSET = Keyset("residential-groups", columns(ResidentialGroup.code, ResidentialGroup.id))

# Anyone reads residential groups; a principal changes those of the wards it manages.
RESIDENTIAL_GROUPS = Repository(
    ResidentialGroup,
    noun="residential group",
    columns=_COLUMNS,
    visible=Visible.all(),
    keyset=_KEYSET,
    filters={
        "neighbourhood_id": ResidentialGroup.neighbourhood_id,
        "ward_code": ResidentialGroup.ward_code,
    },
)
MANAGED_RESIDENTIAL_GROUPS = Repository(
    ResidentialGroup,
    noun="residential group you manage",
    columns=_COLUMNS,
    visible=neighbourhood_service.managed,
    keyset=_KEYSET,
)


async def list_residential_groups(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    neighbourhood_id: uuid.UUID | None = None,
    ward_code: str | None = None,
) -> ListResult:
    """Residential groups in code order, by neighbourhood and/or ward."""
    return await RESIDENTIAL_GROUPS.page(
        session, None, page, codec, neighbourhood_id=neighbourhood_id, ward_code=ward_code
    )


async def get_residential_group(session: AsyncSession, group_id: uuid.UUID) -> Any:
    """One live residential group by id."""
    return await RESIDENTIAL_GROUPS.get(session, None, group_id)


async def get_managed(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> ResidentialGroup:
    """A residential group the principal manages, to change (404 otherwise)."""
    return await MANAGED_RESIDENTIAL_GROUPS.get_for_update(session, principal, group_id)


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
    neighbourhood = await neighbourhood_service.get_managed(
        session, principal, data.neighbourhood_id
    )
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
    group = await get_managed(session, principal, group_id)
    changes = neighbourhood_service.reject_nulls(data.model_dump(exclude_unset=True))
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
    group = await get_managed(session, principal, group_id)
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
