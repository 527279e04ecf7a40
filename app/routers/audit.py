"""The audit trail (administrators; province officers for their province)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query

from app.deps import CursorCodecDep, PageDep, ReadSessionDep, scoped
from app.errors import problem_responses
from app.pagination import Page
from app.routing import APIRouter
from app.schemas.audit import AuditEventRead
from app.schemas.common import Text, Timestamp
from app.security import Principal
from app.services import audit as audit_service

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])


@router.get("", response_model=Page[AuditEventRead], responses=problem_responses(401, 403, 422))
async def list_audit_events(
    session: ReadSessionDep,
    principal: Annotated[Principal, scoped("audit:read")],
    page: PageDep,
    codec: CursorCodecDep,
    record_type: Annotated[
        str | None, Text(max_length=64), Query(examples=["neighbourhood"])
    ] = None,
    record_id: Annotated[str | None, Text(max_length=64), Query()] = None,
    actor_id: Annotated[uuid.UUID | None, Query()] = None,
    # Aware only: a time without an offset names no instant (and would fail to bind).
    since: Annotated[
        Timestamp | None,
        Query(alias="from", description="At or after this time (ISO 8601 with offset)."),
    ] = None,
    until: Annotated[
        Timestamp | None, Query(alias="to", description="Before this time (with offset).")
    ] = None,
) -> dict[str, Any]:
    """List audit events in your scope, newest first: who did what, when, to which record."""
    rows, next_cursor = await audit_service.list_events(
        session,
        principal,
        page,
        codec,
        record_type=record_type,
        record_id=record_id,
        actor_id=actor_id,
        since=since,
        until=until,
    )
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}
