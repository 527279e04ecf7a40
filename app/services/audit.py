"""The audit trail: appended by every successful write, read by admins and province officers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.db import columns
from app.models.audit import AuditEvent
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role

# Fields whose values are personal or secret: audited by name only, which is
# all the trail ever stores anyway.
_COLUMNS = (
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


def visible_events(principal: Principal) -> Visible:
    """Administrators see every event; a province officer those of their province."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    return Visible.nothing()


AUDIT_EVENTS = Repository(
    AuditEvent,
    noun="audit event",
    columns=_COLUMNS,
    visible=visible_events,
    keyset=Keyset("audit-events", columns(AuditEvent.created_at, AuditEvent.id), descending=True),
    filters={
        "record_type": AuditEvent.record_type,
        "record_id": AuditEvent.record_id,
        "actor_id": AuditEvent.actor_id,
        "since": Filter(AuditEvent.created_at, ">="),
        "until": Filter(AuditEvent.created_at, "<"),
    },
)


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
    return await AUDIT_EVENTS.page(
        session,
        principal,
        page,
        codec,
        # An empty record_type or record_id filters nothing, as it always did.
        record_type=record_type or None,
        record_id=record_id or None,
        actor_id=actor_id,
        since=since,
        until=until,
    )
