"""The anchors: what this machine does without wardsafe's framework, ORM and auth.

``/floor`` is a bare Starlette JSON endpoint (the framework floor). Every other
route is a raw-driver endpoint: Starlette + asyncpg + orjson, no ORM, no
auth, running the same SQL as one wardsafe scenario (written from the
services: columns, predicates, order and limit as wardsafe sends them).
Parameters the scenario fixes (ward, cursor position, report id) come in the
query string. Run with ``uvicorn bench.anchors:app``; ``BENCH_DSN`` names
the database.
"""

from __future__ import annotations

import hashlib
import math
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.db import AsyncpgQuery, uuid7
from app.models.cameras import unit_vector
from app.pagination import PAGE_LIMIT
from app.services.open311_queries import MAX_RESULTS

REPORT_COLUMNS = (
    "id, created_at, updated_at, version, province_code, ward_code, neighbourhood_id, "
    "category, description, lat, lon, address, media_refs, attributes, anonymous, "
    "reporter_id, source, status, priority, assigned_to, duplicate_of, acknowledged_at, "
    "resolved_at"
)
CAMERA_COLUMNS = (
    "id, created_at, updated_at, version, province_code, ward_code, neighbourhood_id, "
    "owner_kind, owner_user_id, owner_name, owner_phone, label, address, lat, lon, "
    "bearing_deg, covers, retention_days, sharing, status, last_verified_on"
)
GROUP_COLUMNS = (
    "id, created_at, updated_at, version, province_code, ward_code, neighbourhood_id, kind, "
    "name, status, households_covered, founded_on, founding_decision_no, charter_notes, "
    "households_linked"
)
# A crime-prevention channel's area, as group_coverage.area_households: its residential
# groups' households, else its neighbourhood's, else its ward's neighbourhoods'.
GROUP_AREA_HOUSEHOLDS = (
    "CASE WHEN g.kind = 'crime_prevention_channel' THEN coalesce("
    "(SELECT sum(r.households) FROM group_residential_groups c JOIN residential_groups r "
    "ON r.id = c.residential_group_id WHERE c.group_id = g.id AND r.deleted_at IS NULL), "
    "(SELECT n.households FROM neighbourhoods n WHERE n.id = g.neighbourhood_id "
    "AND n.deleted_at IS NULL), "
    "(SELECT sum(n.households) FROM neighbourhoods n WHERE n.ward_code = g.ward_code "
    "AND n.deleted_at IS NULL)) END AS area_households"
)
EARTH_RADIUS_M = 6_371_008.8
POOL: dict[str, asyncpg.Pool] = {}


def _json(value: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(value, default=str), status_code=status_code, media_type="application/json"
    )


def _rows(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


async def floor(_request: Request) -> Response:
    return _json({"status": "ok"})


async def cameras(request: Request) -> Response:
    ward = request.query_params["ward_code"]
    async with POOL["db"].acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE deleted_at IS NULL AND ward_code = $1 "
            "ORDER BY created_at, id LIMIT 51",
            ward,
        )
    return _json({"items": _rows(rows[:50]), "next_cursor": "x" if len(rows) > 50 else None})


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
    return _json({"items": _rows(rows[:50]), "next_cursor": "x" if len(rows) > 50 else None})


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
        return _json({"status": 404}, 404)
    return _json(dict(row))


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
    return _json({"items": items, "next_cursor": "x" if len(rows) > 50 else None})


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
        items = _rows(rows[:50])
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
    return _json({"items": items, "next_cursor": "x" if len(rows) > 50 else None})


def _open311_query() -> AsyncpgQuery:
    """wardsafe's Open311 list statement as the text asyncpg receives, compiled once.

    The very same text matters: written by hand (plain `$1` and a literal
    `LIMIT 1000`), PostgreSQL's generic plan for the prepared statement
    sorted every report of the period (24,690 on the full set) and ran the
    notes subquery for each: 1 s a request where wardsafe's took 23 ms."""
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    from app.services import open311_queries

    statement = open311_queries.window_listing("ward_code").statement
    return AsyncpgQuery.compile(statement, PGDialect_asyncpg())


OPEN311 = _open311_query()


async def open311(request: Request) -> Response:
    params = request.query_params
    ward = params["jurisdiction_id"]
    arguments = OPEN311.arguments(
        {
            "unit": ward,
            PAGE_LIMIT: MAX_RESULTS,
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
    return _json(items)


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
    return _json(
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


async def create_report(request: Request) -> Response:
    body = orjson.loads(await request.body())
    now = datetime.now(UTC)
    report_id = uuid7()  # as wardsafe: time-ordered ids append to the primary-key index
    async with POOL["db"].acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO reports (id, created_at, updated_at, version, province_code, ward_code, "
            "category, description, address, media_refs, attributes, anonymous, reporter_id, "
            "source, status, priority) VALUES ($1, $2, $2, 1, $3, $4, $5, $6, $7, '[]', '{}', "
            "false, $8, 'app', 'received', 'normal')",
            report_id,
            now,
            "22",
            body["ward_code"],
            body["category"],
            body["description"],
            body.get("address"),
            uuid.UUID(request.query_params["reporter_id"]),
        )
    return _json({"id": str(report_id), **body}, 201)


# What wardsafe sends for a new report with an Idempotency-Key: one statement
# (docs/performance.md, the write path). The answer stored under the key
# decides; the report and its audit event are selected from its RETURNING, so
# they are written only if the key was free. Outside a transaction: the
# statement commits as it completes.
_KEYED = (
    "WITH gate AS (INSERT INTO idempotency_keys (id, created_at, updated_at, version, "
    "deleted_at, actor_key, key, request_hash, status_code, response_body, response_headers, "
    "expires_at) VALUES ($1::UUID, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ, 1, NULL, $3::VARCHAR, "
    "$4::VARCHAR, $5::VARCHAR, 201, $6::BYTEA, $7::JSON, $8::TIMESTAMPTZ) "
    "ON CONFLICT (actor_key, key) DO UPDATE SET created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, version = excluded.version, "
    "deleted_at = excluded.deleted_at, request_hash = excluded.request_hash, "
    "status_code = excluded.status_code, response_body = excluded.response_body, "
    "response_headers = excluded.response_headers, expires_at = excluded.expires_at "
    "WHERE idempotency_keys.expires_at <= $2::TIMESTAMPTZ RETURNING idempotency_keys.id), "
    "report AS (INSERT INTO reports (id, created_at, updated_at, version, deleted_at, "
    "province_code, ward_code, neighbourhood_id, category, description, lat, lon, address, "
    "media_refs, attributes, anonymous, reporter_id, tracking_code_hash, source, client_id, "
    "status, priority, assigned_to, duplicate_of, acknowledged_at, resolved_at) "
    "SELECT $9::UUID, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ, 1, NULL, $10::VARCHAR, $11::VARCHAR, "
    "NULL, $12::VARCHAR, $13::VARCHAR, NULL, NULL, $14::VARCHAR, $15::JSON, $16::JSON, false, "
    "$17::UUID, NULL, 'app', NULL, 'received', 'normal', NULL, NULL, NULL, NULL FROM gate), "
    "audit AS (INSERT INTO audit_events (id, created_at, updated_at, version, deleted_at, "
    "actor_id, actor_kind, actor_role, action, record_type, record_id, province_code, "
    "ward_code, request_id, changed_fields) SELECT $18::UUID, $2::TIMESTAMPTZ, "
    "$2::TIMESTAMPTZ, 1, NULL, $17::UUID, 'user', 'resident', 'create', 'report', "
    "$19::VARCHAR, $10::VARCHAR, $11::VARCHAR, $20::VARCHAR, $21::JSON FROM gate) "
    "SELECT id FROM gate"
)


async def create_report_keyed(request: Request) -> Response:
    """The statement wardsafe's write sends, with nothing around it: the answer stored
    under the Idempotency-Key (the upsert that takes over an expired key), the report
    and its audit event written with it. A comparison, not the target's anchor (that
    is ``create_report``, a plain INSERT)."""
    body = orjson.loads(await request.body())
    now = datetime.now(UTC)
    report_id = uuid7()
    reporter_id = uuid.UUID(request.query_params["reporter_id"])
    answer = orjson.dumps({"id": str(report_id), **body})
    async with POOL["db"].acquire() as conn:
        stored = await conn.fetchval(
            _KEYED,
            uuid7(),
            now,
            f"user:{reporter_id}",
            request.headers["idempotency-key"],
            hashlib.sha256(await request.body()).hexdigest(),
            answer,
            orjson.dumps({"Location": f"/api/v1/reports/{report_id}"}).decode(),
            now + timedelta(hours=24),
            report_id,
            "22",
            body["ward_code"],
            body["category"],
            body["description"],
            body.get("address"),
            "[]",
            "{}",
            reporter_id,
            uuid7(),
            str(report_id),
            request.headers.get("x-request-id"),
            orjson.dumps(sorted(body)).decode(),
        )
    if stored is None:
        return _json({"detail": "key taken"}, 409)
    return Response(answer, 201, media_type="application/json")


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    POOL["db"] = await asyncpg.create_pool(
        os.environ["BENCH_DSN"], min_size=5, max_size=int(os.environ.get("BENCH_POOL", "15"))
    )
    yield
    await POOL["db"].close()


app = Starlette(
    routes=[
        Route("/floor", floor),
        Route("/cameras", cameras),
        Route("/cameras/near", near),
        Route("/groups", groups),
        Route("/reports", reports),
        Route("/reports/one", report),
        Route("/reports/create", create_report, methods=["POST"]),
        Route("/reports/create-keyed", create_report_keyed, methods=["POST"]),
        Route("/open311", open311),
        Route("/statistics", statistics),
    ],
    lifespan=lifespan,
)
