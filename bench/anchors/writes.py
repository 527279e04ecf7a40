"""The write anchors: a new report as a plain INSERT, and as the one statement wardsafe
sends with an Idempotency-Key."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.db import uuid7
from bench.anchors.common import POOL, as_json


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
    return as_json({"id": str(report_id), **body}, 201)


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
)
# The report's change row for the sync feed, written with it (issue 18): the
# transaction id is the column's default.
_CHANGE = (
    ", change AS (INSERT INTO changes (record_type, record_id, op, version, province_code, "
    "ward_code, was_province_code, was_ward_code, changed_at) SELECT 'report', "
    "$19::VARCHAR, 'upsert', 1, $10::VARCHAR, $11::VARCHAR, NULL, NULL, $2::TIMESTAMPTZ "
    "FROM gate) "
)
_KEYED_WITHOUT_CHANGE = _KEYED + "SELECT id FROM gate"
_KEYED = _KEYED + _CHANGE + "SELECT id FROM gate"


async def create_report_keyed(request: Request) -> Response:
    """The statement wardsafe's write sends, with nothing around it: the answer stored
    under the Idempotency-Key (the upsert that takes over an expired key), the report,
    its audit event and its change row written with it. A comparison, not the target's
    anchor (that is ``create_report``, a plain INSERT)."""
    return await _keyed(request, _KEYED)


async def create_report_keyed_without_change(request: Request) -> Response:
    """As ``create_report_keyed`` without the change row: what the change feed costs the
    write, measured in the same run."""
    return await _keyed(request, _KEYED_WITHOUT_CHANGE)


async def _keyed(request: Request, statement: str) -> Response:
    body = orjson.loads(await request.body())
    now = datetime.now(UTC)
    report_id = uuid7()
    reporter_id = uuid.UUID(request.query_params["reporter_id"])
    answer = orjson.dumps({"id": str(report_id), **body})
    async with POOL["db"].acquire() as conn:
        stored = await conn.fetchval(
            statement,
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
        return as_json({"detail": "key taken"}, 409)
    return Response(answer, 201, media_type="application/json")
