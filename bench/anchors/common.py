"""What the anchors share: their connection pool, the columns they select, JSON out."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from starlette.responses import Response

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
# A crime-prevention channel's area, as groups.coverage.area_households: its residential
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


def as_json(value: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(value, default=str), status_code=status_code, media_type="application/json"
    )


def as_dicts(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]
