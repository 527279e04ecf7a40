"""Exemplary models: a group designated a model (mô hình điển hình) for a year."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict, Forbidden, ValidationFailed
from app.models.exemplary_models import ExemplaryModel
from app.pagination import CursorCodec, PageParams
from app.schemas.exemplary_models import ExemplaryModelCreate, ExemplaryModelUpdate
from app.schemas.groups import GroupKind
from app.security import Principal, Role
from app.services.groups import registry as group_service
from app.services.groups.records import EXEMPLARY_MODELS


def can_designate(principal: Principal, ward_code: str) -> str | None:
    """Why ``principal`` may not record designations of a group of this ward (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == ward_code:
        return None
    return "Exemplary models are designated by the authorities; ward officers record them."


async def list_exemplary_models(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    group_id: uuid.UUID | None = None,
    year: int | None = None,
    ward_code: str | None = None,
    kind: GroupKind | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Designations of the groups ``principal`` may see, by group, year, ward and kind."""
    rows, next_cursor = await EXEMPLARY_MODELS.page(
        session,
        principal,
        page,
        codec,
        # An empty (or zero) filter filters nothing, as it always did.
        group_id=group_id or None,
        year=year or None,
        ward_code=ward_code or None,
        kind=kind.value if kind else None,
    )
    return [row._asdict() for row in rows], next_cursor


async def get_exemplary_model(
    session: AsyncSession, principal: Principal, model_id: uuid.UUID
) -> dict[str, Any]:
    """One designation of a group ``principal`` may see."""
    row = await EXEMPLARY_MODELS.get(session, principal, model_id)
    return dict(row._asdict())


async def _ensure_year_free(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    year: int,
    except_id: uuid.UUID | None = None,
) -> None:
    # One live designation per group and year (a partial unique index); whoever records
    # the group's designations sees them all.
    designated = await EXEMPLARY_MODELS.first(session, principal, group_id=group_id, year=year)
    if designated is not None and designated.id != except_id:
        raise Conflict(
            f"The group is already an exemplary model for {year}.",
            rule="one_designation_per_year",
        )


async def create_exemplary_model(
    session: AsyncSession, principal: Principal, data: ExemplaryModelCreate
) -> dict[str, Any]:
    """Record that a group was designated an exemplary model for a year."""
    group = await group_service.visible_group(session, principal, data.group_id)
    reason = can_designate(principal, group.ward_code)
    if reason:
        raise Forbidden(reason)
    await _ensure_year_free(session, principal, group.id, data.year)
    designation = ExemplaryModel(
        **data.model_dump(), province_code=group.province_code, ward_code=group.ward_code
    )
    await EXEMPLARY_MODELS.insert(
        session,
        principal,
        designation,
        fields=data.model_fields_set | {"group_id", "year", "decision_no"},
    )
    return await get_exemplary_model(session, principal, designation.id)


async def _writable(
    session: AsyncSession, principal: Principal, model_id: uuid.UUID
) -> ExemplaryModel:
    designation = await EXEMPLARY_MODELS.get_for_update(session, principal, model_id)
    # A designation is placed as its group is (its ward copied from the group's).
    reason = can_designate(principal, designation.ward_code)
    if reason:
        raise Forbidden(reason)
    return designation


async def update_exemplary_model(
    session: AsyncSession,
    principal: Principal,
    model_id: uuid.UUID,
    expected_version: int,
    data: ExemplaryModelUpdate,
) -> dict[str, Any]:
    """Change a designation, if it is still at ``expected_version``."""
    designation = await _writable(session, principal, model_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(k for k in ("year", "decision_no") if k in changes and changes[k] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if "year" in changes:
        await _ensure_year_free(
            session, principal, designation.group_id, changes["year"], designation.id
        )
    await EXEMPLARY_MODELS.update(
        session, principal, designation, expected_version, changes, fields=changes
    )
    return await get_exemplary_model(session, principal, designation.id)


async def delete_exemplary_model(
    session: AsyncSession, principal: Principal, model_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a designation recorded by mistake."""
    designation = await _writable(session, principal, model_id)
    await EXEMPLARY_MODELS.delete(session, principal, designation, expected_version)
