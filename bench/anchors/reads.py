"""The read anchors: the SQL of each read scenario, sent by asyncpg with nothing around it."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.data.driver import AsyncpgQuery
from app.models.cameras import unit_vector
from app.pagination import PAGE_LIMIT
from app.services.reports.open311_reads import MAX_RESULTS
from bench.anchors.common import (
    CAMERA_COLUMNS,
    EARTH_RADIUS_M,
    GROUP_AREA_HOUSEHOLDS,
    GROUP_COLUMNS,
    POOL,
    REPORT_COLUMNS,
    as_dicts,
    as_json,
)


async def floor(_request: Request) -> Response:
    return as_json({"status": "ok"})


async def cameras(request: Request) -> Response:
    ward = request.query_params["ward_code"]
    async with POOL["db"].acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE deleted_at IS NULL AND ward_code = $1 "
            "ORDER BY created_at, id LIMIT 51",
            ward,
        )
    return as_json({"items": as_dicts(rows[:50]), "next_cursor": "x" if len(rows) > 50 else None})


async def reports(request: Request) -> Response:
    params = request.query_params
    ward = params["ward_code"]
    where = ["deleted_at IS NULL", "ward_code = $1"]
    args: list[Any] = [ward]
    for name in ("status", "category"):
        if name in params:
            args.append(params[name])
            where.append(f"{name} = ${len(args)}")
    if "after_created_at" in params:
        args += [datetime.fromisoformat(params["after_created_at"]), uuid.UUID(params["after_id"])]
        where.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    async with POOL["db"].acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE {' AND '.join(where)} "
            "ORDER BY created_at DESC, id DESC LIMIT 51",
            *args,
        )
    return as_json({"items": as_dicts(rows[:50]), "next_cursor": "x" if len(rows) > 50 else None})


async def report(request: Request) -> Response:
    params = request.query_params
    async with POOL["db"].acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {REPORT_COLUMNS}, tracking_code_hash, client_id FROM reports "
            "WHERE id = $1 AND deleted_at IS NULL AND ward_code = $2",
            uuid.UUID(params["id"]),
            params["ward_code"],
        )
    if row is None:
        return as_json({"status": 404}, 404)
    return as_json(dict(row))


async def near(request: Request) -> Response:
    params = request.query_params
    lat, lon, radius = float(params["lat"]), float(params["lon"]), float(params["radius_m"])
    x0, y0, z0 = unit_vector(lat, lon)
    chord = 2 * math.sin(radius / (2 * EARTH_RADIUS_M))
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    dlon = dlat / math.cos(math.radians(lat))
    chord2 = (
        "((unit_x - $1) * (unit_x - $1) + (unit_y - $2) * (unit_y - $2) "
        "+ (unit_z - $3) * (unit_z - $3))"
    )
    async with POOL["db"].acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {CAMERA_COLUMNS}, {chord2} AS chord2 FROM cameras WHERE lat BETWEEN $4 "
            f"AND $5 AND lon BETWEEN $6 AND $7 AND {chord2} <= $8 AND deleted_at IS NULL "
            f"AND ward_code = $9 ORDER BY {chord2}, id LIMIT 51",
            x0,
            y0,
            z0,
            lat - dlat,
            lat + dlat,
            lon - dlon,
            lon + dlon,
            chord * chord,
            params["ward_code"],
        )
    items = []
    for row in rows[:50]:
        item = dict(row)
        chord2_value = item.pop("chord2")
        item["distance_m"] = round(
            2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(max(chord2_value, 0)) / 2)), 1
        )
        items.append(item)
    return as_json({"items": items, "next_cursor": "x" if len(rows) > 50 else None})


async def groups(request: Request) -> Response:
    """The ward's groups in the full view, then the residential groups the page's cover
    (wardsafe's second statement), and ``coverage_ratio`` as GroupRead computes it."""
    ward = request.query_params["ward_code"]
    async with POOL["db"].acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {GROUP_COLUMNS}, {GROUP_AREA_HOUSEHOLDS} FROM self_managed_groups g "
            "WHERE ward_code = $1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT 51",
            ward,
        )
        items = as_dicts(rows[:50])
        covered = await conn.fetch(
            "SELECT c.group_id, c.residential_group_id FROM group_residential_groups c "
            "JOIN residential_groups r ON r.id = c.residential_group_id "
            "WHERE c.group_id = ANY($1::uuid[]) AND r.deleted_at IS NULL ORDER BY r.code, r.id",
            [item["id"] for item in items],
        )
    by_group: dict[uuid.UUID, list[uuid.UUID]] = {item["id"]: [] for item in items}
    for row in covered:
        by_group[row["group_id"]].append(row["residential_group_id"])
    for item in items:
        item["view"] = "full"
        item["covered_residential_group_ids"] = by_group[item["id"]]
        linked, area = item["households_linked"], item["area_households"]
        item["coverage_ratio"] = (
            round(linked / area, 4)
            if item["kind"] == "crime_prevention_channel" and linked is not None and area
            else None
        )
    return as_json({"items": items, "next_cursor": "x" if len(rows) > 50 else None})


def _open311_query() -> AsyncpgQuery:
    """wardsafe's Open311 list statement as the text asyncpg receives, compiled once.

    The very same text matters: written by hand (plain `$1` and a literal
    `LIMIT 1000`), PostgreSQL's generic plan for the prepared statement
    sorted every report of the period (24,690 on the full set) and ran the
    notes subquery for each: 1 s a request where wardsafe's took 23 ms."""
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    from app.services.reports import open311_reads

    # The repository's page statement for a ward's window (built as each request builds it).
    given = frozenset({"ward_code", "start", "end"})
    statement = open311_reads.REQUESTS._page(("all",), given, False).statement
    return AsyncpgQuery.compile(statement, PGDialect_asyncpg())


OPEN311 = _open311_query()


async def open311(request: Request) -> Response:
    params = request.query_params
    ward = params["jurisdiction_id"]
    arguments = OPEN311.arguments(
        {
            "ward_code": ward,
            PAGE_LIMIT: MAX_RESULTS + 1,
            "start": datetime.fromisoformat(params["start_date"]),
            "end": datetime.fromisoformat(params["end_date"]),
        }
    )
    async with POOL["db"].acquire() as conn:
        name = await conn.fetchval("SELECT name FROM wards WHERE code = $1", ward)
        rows = await conn.fetch(OPEN311.sql, *arguments)
    items = [
        {
            "service_request_id": str(row["id"]),
            "status": "closed"
            if row["status"] in ("resolved", "rejected", "duplicate")
            else "open",
            "status_notes": row["status_notes"],
            "service_code": row["category"],
            "agency_responsible": f"Công an {name}",
            "requested_datetime": row["created_at"],
            "updated_datetime": row["updated_at"],
            "lat": round(row["lat"], 3) if row["lat"] is not None else None,
            "long": round(row["lon"], 3) if row["lon"] is not None else None,
        }
        for row in rows
    ]
    return as_json(items)


async def statistics(request: Request) -> Response:
    # wardsafe's SQL without its cache: this anchor runs both queries every time.
    params = request.query_params
    column = "province_code" if params.get("level") == "province" else "ward_code"
    unit = params["unit_code"]
    scope = f"{column} = $1 AND deleted_at IS NULL"
    async with POOL["db"].acquire() as conn:
        # The unit's lookup, as wardsafe resolves unit_code first.
        await conn.fetchval(
            "SELECT code FROM provinces WHERE code = $1 UNION ALL "
            "SELECT code FROM wards WHERE code = $1",
            unit,
        )
        pairs = await conn.fetch(
            f"SELECT status, category, count(*) AS n FROM reports WHERE {scope} "
            "GROUP BY status, category",
            unit,
        )
        row = await conn.fetchrow(
            "SELECT count(*) AS acknowledged, percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP "
            "(ORDER BY EXTRACT(EPOCH FROM (acknowledged_at - created_at))) AS percentiles "
            f"FROM reports WHERE {scope} AND acknowledged_at IS NOT NULL",
            unit,
        )
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for pair in pairs:
        by_status[pair["status"]] = by_status.get(pair["status"], 0) + pair["n"]
        by_category[pair["category"]] = by_category.get(pair["category"], 0) + pair["n"]
    median, p90 = row["percentiles"] or (None, None)
    return as_json(
        {
            "unit_code": unit,
            "total": sum(by_status.values()),
            "by_status": dict(sorted(by_status.items())),
            "by_category": dict(sorted(by_category.items())),
            "acknowledged": row["acknowledged"],
            "median_seconds_to_acknowledge": None if median is None else round(float(median)),
            "p90_seconds_to_acknowledge": None if p90 is None else round(float(p90)),
        }
    )
