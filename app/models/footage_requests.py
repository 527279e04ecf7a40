"""Footage requests, one item per camera asked, and their append-only chain of custody."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field

from app.db import UTCDateTime, uuid7
from app.models.base import Record, Timestamped


class ItemStatus(StrEnum):
    """Where one camera of a footage request stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


# The state machine: what may follow each status.
TRANSITIONS: dict[ItemStatus, tuple[ItemStatus, ...]] = {
    ItemStatus.PENDING: (ItemStatus.ACCEPTED, ItemStatus.DECLINED),
    ItemStatus.ACCEPTED: (ItemStatus.HANDED_OVER,),
    ItemStatus.DECLINED: (),
    ItemStatus.HANDED_OVER: (ItemStatus.CLOSED,),
    ItemStatus.CLOSED: (),
}
OPEN_STATUSES = (ItemStatus.PENDING, ItemStatus.ACCEPTED, ItemStatus.HANDED_OVER)


class CustodyAction(StrEnum):
    """What one custody event records."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


class FootageRequest(Record, table=True):
    """An officer's request for a time window of footage from cameras of their ward."""

    __tablename__ = "footage_requests"
    __table_args__ = (
        Index("ix_footage_requests_ward_code_created_at_id", "ward_code", "created_at", "id"),
        Index("ix_footage_requests_created_at_id", "created_at", "id"),
        CheckConstraint("window_end > window_start", name="window_order"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    case_code: str = Field(max_length=64, index=True)
    reason: str = Field(max_length=2000)
    window_start: datetime = Field(sa_type=UTCDateTime)
    window_end: datetime = Field(sa_type=UTCDateTime)
    respond_by: datetime = Field(sa_type=UTCDateTime)
    # Who asked: a user id, not a foreign key, as in the audit trail.
    requested_by: uuid.UUID
    requested_by_role: str = Field(max_length=32)
    # The custody chain's length and last hash: deleting the newest events
    # in the database would otherwise leave a chain that still verifies.
    custody_length: int = Field(default=0)
    custody_head: str = Field(max_length=64)


class FootageRequestItem(Record, table=True):
    """One camera of a footage request, with its own status."""

    __tablename__ = "footage_request_items"
    __table_args__ = (
        UniqueConstraint("footage_request_id", "camera_id"),
        CheckConstraint(
            "status IN (" + ", ".join(repr(s.value) for s in ItemStatus) + ")", name="status"
        ),
        CheckConstraint("size_bytes IS NULL OR size_bytes > 0", name="size_positive"),
    )

    footage_request_id: uuid.UUID = Field(foreign_key="footage_requests.id", index=True)
    camera_id: uuid.UUID = Field(foreign_key="cameras.id", index=True)
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    status: str = Field(max_length=16, index=True)
    # The owner's note; a decline's note is shown to the owner alone.
    response_note: str | None = Field(default=None, max_length=1000)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    responded_by: uuid.UUID | None = Field(default=None)
    sha256: str | None = Field(default=None, max_length=64)
    media_ref: str | None = Field(default=None, max_length=500)
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    handed_over_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handed_over_by: uuid.UUID | None = Field(default=None)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: uuid.UUID | None = Field(default=None)


class CustodyEvent(Timestamped, table=True):
    """One step in the chain of custody; never changed, never deleted.

    ``hash`` is SHA-256 over ``prev_hash`` and the event's canonical content,
    so an event edited or removed in the database breaks the chain."""

    __tablename__ = "custody_events"
    __table_args__ = (UniqueConstraint("footage_request_id", "sequence"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    footage_request_id: uuid.UUID = Field(foreign_key="footage_requests.id", index=True)
    sequence: int
    camera_id: uuid.UUID = Field(foreign_key="cameras.id", index=True)
    action: str = Field(max_length=32)
    actor_id: uuid.UUID | None = Field(default=None)
    actor_kind: str = Field(max_length=16)
    actor_role: str | None = Field(default=None, max_length=32)
    sha256: str | None = Field(default=None, max_length=64)
    media_ref: str | None = Field(default=None, max_length=500)
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


# Triggers that refuse UPDATE and DELETE on custody events. The migration
# creates them (with its own frozen copy of this SQL); tests that play the
# tamperer drop them inside their rolled-back transaction.
CUSTODY_GUARD_SQL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE FUNCTION custody_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'custody events are append-only'; END $$",
        "CREATE TRIGGER custody_events_append_only BEFORE UPDATE OR DELETE ON custody_events "
        "FOR EACH ROW EXECUTE FUNCTION custody_events_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events "
        "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END",
        "CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events "
        "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END",
    ),
}
CUSTODY_UNGUARD_SQL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS custody_events_append_only ON custody_events",
        "DROP FUNCTION IF EXISTS custody_events_append_only()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS custody_events_no_update",
        "DROP TRIGGER IF EXISTS custody_events_no_delete",
    ),
}

__all__ = [
    "OPEN_STATUSES",
    "TRANSITIONS",
    "CustodyAction",
    "CustodyEvent",
    "FootageRequest",
    "FootageRequestItem",
    "ItemStatus",
]
