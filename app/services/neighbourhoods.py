"""Neighbourhoods (khu phố): public reads; ward officers and admins write."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.data.uniqueness import taken
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, fetch_row
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.neighbourhoods import NeighbourhoodCreate, NeighbourhoodUpdate
from app.security import Principal, Role
from app.services.units import ListResult, province_of_ward

_COLUMNS = (
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
_KEYSET = Keyset("neighbourhoods", columns(Neighbourhood.code, Neighbourhood.id))


def managed(principal: Principal) -> Visible:
    """Units a principal may change: admins everywhere, ward-level callers their ward."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.ward_code and principal.role in (Role.WARD_OFFICER, Role.WARD_SYSTEM):
        return Visible.where(ward_code=principal.ward_code)
    return Visible.nothing()


# Anyone reads neighbourhoods; a principal changes those it manages (its own 404).
NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood",
    columns=_COLUMNS,
    visible=Visible.all(),
    keyset=_KEYSET,
    filters={
        "ward_code": Neighbourhood.ward_code,
        "code": Neighbourhood.code,
        "updated_since": Filter(Neighbourhood.updated_at, ">="),
    },
)
MANAGED_NEIGHBOURHOODS = Repository(
    Neighbourhood,
    noun="neighbourhood you manage",
    columns=_COLUMNS,
    visible=managed,
    keyset=_KEYSET,
    writes=UnitOfWrite("neighbourhood"),
)


async def list_neighbourhoods(
    session: AsyncSession,
    page: PageParams,
    codec: CursorCodec,
    *,
    ward_code: str | None = None,
    updated_since: datetime | None = None,
) -> ListResult:
    """Neighbourhoods in code order, optionally of one ward."""
    return await NEIGHBOURHOODS.page(
        session, None, page, codec, ward_code=ward_code, updated_since=updated_since
    )


async def get_neighbourhood(session: AsyncSession, neighbourhood_id: uuid.UUID) -> Any:
    """One live neighbourhood by id."""
    return await NEIGHBOURHOODS.get(session, None, neighbourhood_id)


def can_write_ward(principal: Principal, ward_code: str) -> str | None:
    """Why ``principal`` may not add units to ``ward_code`` (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code == ward_code:
        return None
    return "You can add neighbourhoods and residential groups only in your own ward."


def reject_nulls(changes: dict[str, Any]) -> dict[str, Any]:
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    return changes


async def get_managed(
    session: AsyncSession, principal: Principal, neighbourhood_id: uuid.UUID
) -> Neighbourhood:
    """A neighbourhood the principal manages, to change (404 otherwise)."""
    return await MANAGED_NEIGHBOURHOODS.get_for_update(session, principal, neighbourhood_id)


async def _ensure_neighbourhood_code_free(
    session: AsyncSession, ward_code: str, code: str, *, except_id: uuid.UUID | None = None
) -> None:
    # Live codes are unique in a ward, so the first with this code is the only one.
    holder = await taken(NEIGHBOURHOODS, session, ward_code=ward_code, code=code)
    if holder is not None and holder.id != except_id:
        raise Conflict(f"Ward {ward_code} already has a neighbourhood with the code {code!r}.")


async def create_neighbourhood(
    session: AsyncSession, principal: Principal, data: NeighbourhoodCreate
) -> Neighbourhood:
    """Add a neighbourhood to a ward the principal manages."""
    province_code = await province_of_ward(session, data.ward_code)
    if province_code is None:
        raise ValidationFailed.field(
            ("body", "ward_code"),
            f"No ward has the code {data.ward_code!r}.",
            FieldErrorType.NOT_FOUND,
        )
    reason = can_write_ward(principal, data.ward_code)
    if reason:
        raise Forbidden(reason)
    await _ensure_neighbourhood_code_free(session, data.ward_code, data.code)
    neighbourhood = Neighbourhood(province_code=province_code, **data.model_dump())
    return await MANAGED_NEIGHBOURHOODS.insert(
        session,
        principal,
        neighbourhood,
        fields=data.model_fields_set | {"ward_code", "code", "name"},
    )


async def update_neighbourhood(
    session: AsyncSession,
    principal: Principal,
    neighbourhood_id: uuid.UUID,
    expected_version: int,
    data: NeighbourhoodUpdate,
) -> Neighbourhood:
    """Change a neighbourhood, if it is still at ``expected_version``."""
    neighbourhood = await get_managed(session, principal, neighbourhood_id)
    changes = reject_nulls(data.model_dump(exclude_unset=True))
    if "code" in changes:
        await _ensure_neighbourhood_code_free(
            session, neighbourhood.ward_code, changes["code"], except_id=neighbourhood.id
        )
    return await MANAGED_NEIGHBOURHOODS.update(
        session, principal, neighbourhood, expected_version, changes, fields=changes
    )


async def delete_neighbourhood(
    session: AsyncSession, principal: Principal, neighbourhood_id: uuid.UUID, expected_version: int
) -> None:
    """Delete an empty neighbourhood (its residential groups must go first)."""
    neighbourhood = await get_managed(session, principal, neighbourhood_id)
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
    await MANAGED_NEIGHBOURHOODS.delete(session, principal, neighbourhood, expected_version)
