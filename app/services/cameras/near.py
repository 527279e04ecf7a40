"""Cameras near a point: a page of the registry nearest first, each with its distance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.ranked import RankedPages, Search, searched
from app.db import columns
from app.models.cameras import Camera, unit_vector
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal
from app.services.cameras.access import CAMERAS, present
from app.services.cameras.geo import (
    Near,
    bounding_box,
    chord_distance_m,
    chord_squared,
    distance_key,
)

# The squared chord between a camera's unit vector and the point's: it grows with the
# great-circle distance, so it orders by distance without a square root or a sine.
_DX = col(Camera.unit_x) - searched("near_x")
_DY = col(Camera.unit_y) - searched("near_y")
_DZ = col(Camera.unit_z) - searched("near_z")
_CHORD2 = (_DX * _DX + _DY * _DY + _DZ * _DZ).label("chord2")


def _within(ranges: int) -> list[ColumnElement[bool]]:
    """The cameras within the radius: the bounding box narrows the candidates through the
    (lat, lon) indexes (one or two longitude ranges), the chord decides exactly."""
    return [
        col(Camera.lat).between(searched("lat_min"), searched("lat_max")),
        or_(
            *(
                col(Camera.lon).between(searched(f"lon_min_{i}"), searched(f"lon_max_{i}"))
                for i in range(ranges)
            )
        ),
        _CHORD2.element <= searched("chord2_max"),
    ]


# Whole rows in one statement: the top-N sort keeps only a page of them, and a second
# statement for the page's rows by id cost more than the wider sort. Ties by id.
CAMERAS_NEAR = RankedPages(
    CAMERAS,
    keyset=Keyset("cameras-near", (_CHORD2, *columns(Camera.id))),
    where=_within,
)


def _search(near: Near) -> Search:
    box = bounding_box(near.lat, near.lon, near.radius_m)
    x0, y0, z0 = unit_vector(near.lat, near.lon)
    values: dict[str, Any] = {
        "near_x": x0,
        "near_y": y0,
        "near_z": z0,
        "lat_min": box.lat_min,
        "lat_max": box.lat_max,
        "chord2_max": chord_squared(near.radius_m),
    }
    for i, (low, high) in enumerate(box.lon_ranges):
        values[f"lon_min_{i}"], values[f"lon_max_{i}"] = low, high
    return Search(
        shape=len(box.lon_ranges),
        values=values,
        scope={"near": f"{near.lat!r},{near.lon!r}", "radius_m": near.radius_m},
    )


async def list_near(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    filters: Mapping[str, Any],
    near: Near,
) -> tuple[list[dict[str, Any]], str | None]:
    """Visible cameras within ``near``'s radius, nearest first, each with its distance."""
    rows, next_cursor = await CAMERAS_NEAR.page(
        session, principal, page, codec, _search(near), **filters
    )
    items = []
    for row in rows:
        item = present(principal, row[:-1])
        item["distance_m"] = distance_key(chord_distance_m(row.chord2))
        items.append(item)
    return items, next_cursor
