"""The change feed's anchor: the statements of one feed page (the horizon, the page of
the change log, then the records of each type on it), sent by asyncpg with nothing
around them, for a ward officer's units."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.services.changes.sources import SOURCES
from bench.anchors.common import POOL, REPORT_COLUMNS, as_json

# One index-ordered part a unit condition, each a page, merged: as the feed's statement.
_LATER_UNITS = (
    "(later.ward_code = $1 OR later.was_ward_code = $1 AND later.was_ward_code IS NOT NULL "
    "OR later.ward_code IS NULL AND (later.province_code = $2 OR later.province_code IS NULL))"
)
_PARTS = (
    "c.ward_code = $1",
    "c.was_ward_code = $1 AND c.was_ward_code IS NOT NULL",
    "c.ward_code IS NULL AND (c.province_code = $2 OR c.province_code IS NULL)",
)
_PART = (
    "SELECT * FROM (SELECT c.id, c.txid, c.record_type, c.record_id, c.op, c.version, "
    "c.changed_at, c.province_code, c.ward_code FROM changes AS c WHERE {unit} "
    "AND (c.txid, c.id) > ($3, $4) AND c.txid < $5 AND c.id <= $6 "
    "AND c.record_type IN ({types}) AND NOT (EXISTS (SELECT * FROM changes AS later "
    "WHERE later.record_type = c.record_type AND later.record_id = c.record_id "
    "AND (later.txid, later.id) > (c.txid, c.id) AND " + _LATER_UNITS + ")) "
    "ORDER BY c.txid, c.id LIMIT $7) AS part"
)
_PAGE = (
    "SELECT * FROM ("
    + " UNION ALL ".join(_PART.replace("{unit}", unit) for unit in _PARTS)
    + ") AS merged ORDER BY txid, id LIMIT $7"
)
# The record types' reads, as the feed's sources run them (the repository's columns,
# its visibility for a ward officer, the ids of the page as an IN list).
_READS = {
    "report": (
        f"SELECT {REPORT_COLUMNS} FROM reports WHERE id IN ({{ids}}) AND ward_code = $1 "
        "AND deleted_at IS NULL ORDER BY created_at DESC, id DESC"
    ),
    "user": (
        "SELECT id, username, full_name, phone, role, unit_code, province_code, ward_code, "
        "is_active, created_at, updated_at, version FROM users WHERE id IN ({ids}) "
        "AND ward_code = $1 AND deleted_at IS NULL ORDER BY username, id"
    ),
}
_MAX_ID = 2**63 - 1
# Every type an officer's feed carries, as the feed names them in its page's statement.
_PAGE = _PAGE.replace("{types}", ", ".join(f"'{name}'" for name in sorted(SOURCES)))


async def changes(request: Request) -> Response:
    params = request.query_params
    ward, province = params["ward_code"], params["province_code"]
    after = (int(params.get("after_txid", -1)), int(params.get("after_id", -1)))
    async with POOL["db"].acquire() as conn:
        horizon = await conn.fetchval(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        )
        rows = await conn.fetch(
            _PAGE, ward, province, *after, horizon, _MAX_ID, int(params.get("limit", 100))
        )
        wanted: dict[str, list[uuid.UUID]] = {}
        for row in rows:
            wanted.setdefault(row["record_type"], []).append(uuid.UUID(row["record_id"]))
        current: dict[str, dict[str, Any]] = {}
        for record_type, ids in wanted.items():
            marks = ", ".join(f"${n}" for n in range(2, len(ids) + 2))
            found = await conn.fetch(_READS[record_type].format(ids=marks), ward, *ids)
            current[record_type] = {str(record["id"]): dict(record) for record in found}
    items = []
    for row in rows:
        data = current[row["record_type"]].get(row["record_id"])
        items.append(
            {
                "type": row["record_type"],
                "id": row["record_id"],
                "op": "upsert" if data is not None else "delete",
                "version": row["version"],
                "changed_at": row["changed_at"],
                "province_code": row["province_code"],
                "ward_code": row["ward_code"],
                "data": data,
            }
        )
    last = (rows[-1]["txid"], rows[-1]["id"]) if rows else after
    return as_json({"items": items, "next_cursor": f"{last[0]}:{last[1]}"})
