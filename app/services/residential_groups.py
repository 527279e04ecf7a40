"""Residential groups (tổ dân phố): public reads; ward officers and admins write."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.data.uniqueness import taken
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns
from app.errors import Conflict
from app.models.residential_groups import ResidentialGroup
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.residential_groups import ResidentialGroupCreate, ResidentialGroupUpdate
from app.security import Principal
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
        "code": ResidentialGroup.code,
        "updated_since": Filter(ResidentialGroup.updated_at, ">="),
    },
)
MANAGED_RESIDENTIAL_GROUPS = Repository(
    ResidentialGroup,
    noun="residential group you manage",
    columns=_COLUMNS,
    visible=neighbourhood_service.managed,
    keyset=_KEYSET,
    writes=UnitOfWrite("residential_group"),
)


async def list_residential_groups(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    neighbourhood_id: uuid.UUID | None = None,
    ward_code: str | None = None,
    updated_since: datetime | None = None,
) -> ListResult:
    """Residential groups in code order, by neighbourhood and/or ward."""
    return await RESIDENTIAL_GROUPS.page(
        session,
        None,
        page,
        codec,
        neighbourhood_id=neighbourhood_id,
        ward_code=ward_code,
        updated_since=updated_since,
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
    # Live codes are unique in a neighbourhood, so the first with this code is the only one.
    holder = await taken(RESIDENTIAL_GROUPS, session, neighbourhood_id=neighbourhood_id, code=code)
    if holder is not None and holder.id != except_id:
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
    return await MANAGED_RESIDENTIAL_GROUPS.insert(
        session,
        principal,
        group,
        fields=data.model_fields_set | {"neighbourhood_id", "code", "name"},
    )


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
    return await MANAGED_RESIDENTIAL_GROUPS.update(
        session, principal, group, expected_version, changes, fields=changes
    )


async def delete_residential_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a residential group."""
    group = await get_managed(session, principal, group_id)
    await MANAGED_RESIDENTIAL_GROUPS.delete(session, principal, group, expected_version)
