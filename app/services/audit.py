"""The audit trail: appended by every successful write, read by admins and province officers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import current_request_id
from app.data.writes import event_fields
from app.db import columns
from app.models.audit import AuditEvent
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.security import Principal, Role

# Fields whose values are personal or secret: audited by name only, which is
# all the trail ever stores anyway.
_COLUMNS = columns(
    AuditEvent.id,
    AuditEvent.created_at,
    AuditEvent.actor_id,
    AuditEvent.actor_kind,
    AuditEvent.actor_role,
    AuditEvent.action,
    AuditEvent.record_type,
    AuditEvent.record_id,
    AuditEvent.province_code,
    AuditEvent.ward_code,
    AuditEvent.request_id,
    AuditEvent.changed_fields,
)
AUDIT_EVENTS = Keyset(
    "audit-events", columns(AuditEvent.created_at, AuditEvent.id), descending=True
)


def record(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    record_type: str,
    record_id: uuid.UUID | str,
    *,
    province_code: str | None,
    ward_code: str | None,
    changed_fields: Iterable[str] = (),
) -> AuditEvent:
    """Append one event to the session; it commits with the write it describes."""
    event = AuditEvent(
        **event_fields(
            principal,
            action,
            record_type,
            record_id,
            province_code,
            ward_code,
            changed_fields,
            current_request_id(),
        )
    )
    session.add(event)
    return event


def _visible(principal: Principal) -> ColumnElement[bool]:
    if principal.role is Role.ADMIN:
        return true()
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code:
        return col(AuditEvent.province_code) == principal.province_code
    return false()


async def list_events(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    record_type: str | None = None,
    record_id: str | None = None,
    actor_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Sequence[Any], str | None]:
    """Audit events in scope, newest first, filtered by record, actor and time."""
    statement = select(*_COLUMNS).where(_visible(principal))
    if record_type:
        statement = statement.where(col(AuditEvent.record_type) == record_type)
    if record_id:
        statement = statement.where(col(AuditEvent.record_id) == record_id)
    if actor_id:
        statement = statement.where(col(AuditEvent.actor_id) == actor_id)
    if since:
        statement = statement.where(col(AuditEvent.created_at) >= since)
    if until:
        statement = statement.where(col(AuditEvent.created_at) < until)
    filters = {
        "record_type": record_type,
        "record_id": record_id,
        "actor_id": actor_id,
        "since": since,
        "until": until,
    }
    return await fetch_page(session, statement, AUDIT_EVENTS, page, codec, filters)
