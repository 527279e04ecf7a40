"""Broadcasts as each caller sees them: overseers every broadcast of their units,
recipients the live ones sent to where they live, each with whether the caller
acknowledged it and its state (scheduled, live, expired) at the time of reading."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, exists, or_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository, Where, bound_value
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, utcnow
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement, BroadcastTarget
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role

# People who live in the units a broadcast targets; officers send, they receive.
RECIPIENT_ROLES = (Role.RESIDENT, Role.CAMERA_OWNER, Role.NEIGHBOURHOOD_HEAD, Role.GROUP_LEADER)
OVERSEER_ROLES = (Role.ADMIN, Role.PROVINCE_OFFICER, Role.WARD_OFFICER, Role.WARD_SYSTEM)

_table: Any = Broadcast.__table__  # type: ignore[attr-defined]
# The values every read binds besides its visibility: the time of reading and the reader
# (whose acknowledgement the list shows; none for a machine client).
_NOW = bound_value("now", _table.c.publish_at.type)
_READER = bound_value("reader", BroadcastAcknowledgement.__table__.c.user_id.type)  # type: ignore[attr-defined]


def _live(now: Any) -> ColumnElement[bool]:
    published: ColumnElement[bool] = col(Broadcast.publish_at) <= now
    unexpired: ColumnElement[bool] = col(Broadcast.expires_at).is_(None) | (
        col(Broadcast.expires_at) > now
    )
    return published & unexpired


def _targets_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(col(BroadcastTarget.broadcast_id) == col(Broadcast.id), *conditions)


def _sent_to_ward(ward_code: Any) -> ColumnElement[bool]:
    """Live, and sent to the whole of this ward."""
    ward_wide = and_(
        col(BroadcastTarget.level) == "ward", col(BroadcastTarget.ward_code) == ward_code
    )
    return _live(_NOW) & _targets_where(ward_wide)


def _sent_near(neighbourhood_id: Any) -> ColumnElement[bool]:
    """Live, and sent to this neighbourhood or one of its residential groups."""
    local = and_(
        # Two comparisons, not IN: a prepared statement holds no expanding list.
        or_(
            col(BroadcastTarget.level) == "neighbourhood",
            col(BroadcastTarget.level) == "residential_group",
        ),
        col(BroadcastTarget.neighbourhood_id) == neighbourhood_id,
    )
    return _live(_NOW) & _targets_where(local)


# Names the visibility uses that are no columns of broadcasts: where they were sent.
_THROUGH = {
    "targets_ward": lambda ward_code: _targets_where(col(BroadcastTarget.ward_code) == ward_code),
    "sent_to_ward": _sent_to_ward,
    "sent_near": _sent_near,
}


def visible_broadcasts(principal: Principal) -> Visible:
    """Overseers see every broadcast touching their units; recipients the live ones sent to
    their ward, their neighbourhood or a residential group of it. Default deny."""
    role = principal.role
    if role is Role.ADMIN:
        return Visible.all()
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return Visible.where(targets_ward=principal.ward_code)
    if role in (Role.PROVINCE_OFFICER, Role.WARD_SYSTEM) and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if role not in RECIPIENT_ROLES or not principal.ward_code:
        return Visible.nothing()
    received = Visible.where(sent_to_ward=principal.ward_code)
    if principal.neighbourhood_id is None:
        return received
    return received.or_where(sent_near=principal.neighbourhood_id)


def _state(state: Any) -> ColumnElement[bool]:
    """The ``state`` filter: scheduled, live or expired at the time of reading."""
    return or_(
        and_(state == "scheduled", col(Broadcast.publish_at) > _NOW),
        and_(state == "live", _live(_NOW)),
        and_(state == "expired", col(Broadcast.expires_at) <= _NOW),
    )


_acknowledged = (
    exists()
    .where(
        col(BroadcastAcknowledgement.broadcast_id) == col(Broadcast.id),
        col(BroadcastAcknowledgement.user_id) == _READER,
    )
    .label("acknowledged")
)

BROADCASTS = Repository(
    Broadcast,
    noun="broadcast",
    columns=(
        *columns(
            Broadcast.id,
            Broadcast.created_at,
            Broadcast.updated_at,
            Broadcast.version,
            Broadcast.province_code,
            Broadcast.ward_code,
            Broadcast.kind,
            Broadcast.title,
            Broadcast.body,
            Broadcast.target_unit_codes,
            Broadcast.publish_at,
            Broadcast.expires_at,
            Broadcast.author_id,
        ),
        _acknowledged,
    ),
    visible=visible_broadcasts,
    keyset=Keyset("broadcasts", columns(Broadcast.publish_at, Broadcast.id), descending=True),
    filters={"kind": Filter(Broadcast.kind), "state": Where(_state, String())},
    through=_THROUGH,
    writes=UnitOfWrite("broadcast", parts=[BroadcastTarget]),
)


def bound(principal: Principal, now: datetime) -> dict[str, Any]:
    """What a read of broadcasts binds besides: the time of reading and the reader."""
    return {"now": now, "reader": principal.subject if principal.kind == "user" else None}


def state_of(publish_at: datetime, expires_at: datetime | None, now: datetime) -> str:
    """scheduled, live or expired."""
    if publish_at > now:
        return "scheduled"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "live"


def present(row: Any, now: datetime | None = None) -> dict[str, Any]:
    """A broadcast row (or record) with its state and whether the caller acknowledged it."""
    values: dict[str, Any] = row._asdict() if hasattr(row, "_asdict") else row.model_dump()
    values["state"] = state_of(values["publish_at"], values["expires_at"], now or utcnow())
    values["acknowledged"] = bool(values.get("acknowledged", False))
    return values


async def list_broadcasts(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    kind: str | None = None,
    state: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Broadcasts the principal sees, newest first: residents the live ones sent to them."""
    now = utcnow()
    rows, next_cursor = await BROADCASTS.page(
        session, principal, page, codec, bound=bound(principal, now), kind=kind, state=state
    )
    return [present(row, now) for row in rows], next_cursor


async def get_broadcast(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> dict[str, Any]:
    """One broadcast the principal sees (404 otherwise)."""
    now = utcnow()
    row = await BROADCASTS.get(session, principal, broadcast_id, bound=bound(principal, now))
    return present(row, now)
