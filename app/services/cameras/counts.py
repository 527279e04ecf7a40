"""Counts over footage request items, as Core aggregates: how many open requests a camera
is still in (what keeps it from being deleted)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import fetch_row
from app.models.footage_requests import OPEN_STATUSES, FootageRequestItem


async def open_items_of(session: AsyncSession, camera_id: uuid.UUID) -> int:
    """How many open footage requests (an item pending, accepted or handed over) ask
    ``camera_id``."""
    found = await fetch_row(
        session,
        select(func.count()).where(
            col(FootageRequestItem.camera_id) == camera_id,
            col(FootageRequestItem.status).in_([s.value for s in OPEN_STATUSES]),
        ),
    )
    return int(found[0]) if found is not None else 0
