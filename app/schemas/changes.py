"""The change feed's answer (GET /api/v1/changes, docs/sync.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from app.services.changes.sources import SOURCES

# The record types the feed carries, one per domain (the `type` of an item).
ChangeType = StrEnum("ChangeType", {name: name for name in SOURCES})  # type: ignore[misc]


class ChangeOp(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


_DATA = (
    "The record as your own GET of it answers now: "
    + "; ".join(f"`{source.type}`: {source.description}" for source in SOURCES.values())
    + ". Null for a delete."
)


class ChangeRead(BaseModel):
    """One change of a record of your units: apply it to your copy, keyed by `type` and
    `id`. `upsert`: the record is as `data` says now (create or replace); `delete`: it
    was deleted or left your units (remove it)."""

    type: ChangeType
    id: uuid.UUID
    op: ChangeOp
    version: int | None = Field(description="The record's version (its ETag).")
    changed_at: datetime
    province_code: str | None
    ward_code: str | None
    data: dict[str, Any] | None = Field(description=_DATA)


class ChangePage(BaseModel):
    """One page of the change feed."""

    items: list[ChangeRead]
    next_cursor: str = Field(
        description=(
            "Pass it back as `since` for the next page. Never null: an empty page gives the "
            "position to resume from, which still moves on, so keep it even when nothing "
            "changed."
        )
    )
