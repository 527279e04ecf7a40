"""Exemplary models: a group designated a model (mô hình điển hình) for a year."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models.groups import ExemplaryModel, SelfManagedGroup
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.exemplary_models import ExemplaryModelCreate, ExemplaryModelUpdate
from app.schemas.groups import GroupKind
from app.security import Principal, Role
from app.services import audit as audit_service
from app.services import group_policies as policies
from app.services import groups as group_service

Group = SelfManagedGroup
EXEMPLARY_MODELS = Keyset("exemplary-models", columns(ExemplaryModel.created_at, ExemplaryModel.id))
_COLUMNS = (
    *columns(
        ExemplaryModel.id,
        ExemplaryModel.created_at,
        ExemplaryModel.updated_at,
        ExemplaryModel.version,
        ExemplaryModel.province_code,
        ExemplaryModel.ward_code,
        ExemplaryModel.group_id,
        ExemplaryModel.year,
        ExemplaryModel.decision_no,
        ExemplaryModel.citation,
    ),
    col(Group.name).label("group_name"),
    col(Group.kind).label("group_kind"),
)


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Designations of the groups ``principal`` may see (names and kinds suffice)."""
    return col(ExemplaryModel.deleted_at).is_(None) & group_service.visible(principal)


def _base() -> Select[Any]:
    return select(*_COLUMNS).join(Group, col(Group.id) == col(ExemplaryModel.group_id))


def can_designate(principal: Principal, group: policies.GroupRow) -> str | None:
    """Why ``principal`` may not record designations of this group (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == group.ward_code:
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
    statement = _base().where(_visible(principal))
    if group_id:
        statement = statement.where(col(ExemplaryModel.group_id) == group_id)
    if year:
        statement = statement.where(col(ExemplaryModel.year) == year)
    if ward_code:
        statement = statement.where(col(ExemplaryModel.ward_code) == ward_code)
    if kind:
        statement = statement.where(col(Group.kind) == kind.value)
    filters = {
        "group_id": group_id,
        "year": year,
        "ward_code": ward_code,
        "kind": kind.value if kind else None,
    }
    rows, next_cursor = await fetch_page(session, statement, EXEMPLARY_MODELS, page, codec, filters)
    return [dict(row._mapping) for row in rows], next_cursor


async def get_exemplary_model(
    session: AsyncSession, principal: Principal, model_id: uuid.UUID
) -> dict[str, Any]:
    """One designation of a group ``principal`` may see."""
    row = await fetch_row(
        session, _base().where(col(ExemplaryModel.id) == model_id, _visible(principal))
    )
    if row is None:
        raise NotFound(f"No exemplary model has the id {model_id}.")
    return dict(row._mapping)


async def _ensure_year_free(
    session: AsyncSession, group_id: uuid.UUID, year: int, except_id: uuid.UUID | None = None
) -> None:
    statement = select(col(ExemplaryModel.id)).where(
        col(ExemplaryModel.group_id) == group_id,
        col(ExemplaryModel.year) == year,
        col(ExemplaryModel.deleted_at).is_(None),
    )
    if except_id is not None:
        statement = statement.where(col(ExemplaryModel.id) != except_id)
    if await fetch_row(session, statement) is not None:
        raise Conflict(
            f"The group is already an exemplary model for {year}.",
            rule="one_designation_per_year",
        )


async def create_exemplary_model(
    session: AsyncSession, principal: Principal, data: ExemplaryModelCreate
) -> dict[str, Any]:
    """Record that a group was designated an exemplary model for a year."""
    group = await group_service.visible_group(session, principal, data.group_id)
    reason = can_designate(principal, group)
    if reason:
        raise Forbidden(reason)
    await _ensure_year_free(session, group.id, data.year)
    designation = ExemplaryModel(
        **data.model_dump(), province_code=group.province_code, ward_code=group.ward_code
    )
    session.add(designation)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "exemplary_model",
        designation.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
        changed_fields=data.model_fields_set | {"group_id", "year", "decision_no"},
    )
    return await get_exemplary_model(session, principal, designation.id)


async def _writable(
    session: AsyncSession, principal: Principal, model_id: uuid.UUID
) -> ExemplaryModel:
    found = (
        await session.exec(
            select_model(ExemplaryModel, Group)
            .join(Group, col(Group.id) == col(ExemplaryModel.group_id))
            .where(col(ExemplaryModel.id) == model_id, _visible(principal))
        )
    ).first()
    if found is None:
        raise NotFound(f"No exemplary model has the id {model_id}.")
    designation, group = found
    reason = can_designate(principal, group)
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
        await _ensure_year_free(session, designation.group_id, changes["year"], designation.id)
    await compare_and_set(session, designation, expected_version, changes)
    audit_service.record(
        session,
        principal,
        "update",
        "exemplary_model",
        designation.id,
        province_code=designation.province_code,
        ward_code=designation.ward_code,
        changed_fields=changes,
    )
    return await get_exemplary_model(session, principal, designation.id)


async def delete_exemplary_model(
    session: AsyncSession, principal: Principal, model_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a designation recorded by mistake."""
    designation = await _writable(session, principal, model_id)
    await compare_and_set(session, designation, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "exemplary_model",
        designation.id,
        province_code=designation.province_code,
        ward_code=designation.ward_code,
    )
