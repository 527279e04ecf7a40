"""Open311 reads: service requests and their updates.

With an ``api_key``, a ward system reads its ward or province. Without one,
anybody reads one ward's public view (``jurisdiction_id`` required), as
GeoReport v2 intends, with no description, address or media and the location
rounded to about 110 m. Never a reporter's identity or contact, never an
internal note.

A list covers a window of at most 90 days (the last 90 by default) and at
most 1,000 requests; ``service_request_id`` overrides every other filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import exists, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.filters import OneOf
from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.data.walk import up_to
from app.db import columns, utcnow
from app.models.clients import Client
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.models.units import Ward
from app.pagination import Keyset
from app.schemas.common import instant_in_range
from app.services.reports import categories as report_categories
from app.services.reports.open311 import (
    CLOSED,
    OPEN,
    Open311Failure,
    authenticate,
    serves,
    status_of,
    ward_of,
)
from app.services.reports.records import CLOSED_STATUSES, OPEN_STATUSES

MAX_SPAN = timedelta(days=90)
# Three decimals of a degree: about 110 m, a street block rather than a door.
PUBLIC_COORDINATE_DECIMALS = 3
MAX_RESULTS = 1000


# What a read covers: ("ward_code", a ward's code) or ("province_code", a province's).
Unit = tuple[str, str]


async def _unit(session: AsyncSession, client: Client, jurisdiction_id: str | None) -> Unit:
    """The reports a client reads: its ward or province, narrowed to one ward on request."""
    if jurisdiction_id:
        ward = await ward_of(session, jurisdiction_id)
        if not serves(client, ward):
            raise Open311Failure(403, f"This api_key does not serve jurisdiction {ward.code}.")
        return "ward_code", ward.code
    if client.ward_code is not None:
        return "ward_code", client.ward_code
    return "province_code", client.province_code


async def _read_unit(session: AsyncSession, params: Mapping[str, str], action: str) -> Unit:
    """What this read covers: the key's units, or without a key one named ward."""
    api_key = params.get("api_key")
    jurisdiction_id = params.get("jurisdiction_id")
    if api_key:
        client = await authenticate(session, api_key, action)
        _reader(client)
        return await _unit(session, client, jurisdiction_id)
    if not jurisdiction_id:
        raise Open311Failure(
            400, "jurisdiction_id (a ward code) is required when reading without an api_key."
        )
    ward = await ward_of(session, jurisdiction_id)
    return "ward_code", ward.code


def _reader(client: Client) -> None:
    if "reports:read" not in client.scopes.split():
        raise Open311Failure(403, "This api_key's client may not read reports (reports:read).")


def _datetime(form: Mapping[str, str], name: str) -> datetime | None:
    raw = form.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Failure(
            400, f"{name} must be a W3C datetime, e.g. 2026-01-01T00:00:00Z."
        ) from None
    if value.tzinfo is None:
        raise Open311Failure(400, f"{name} must carry a time zone (Z or an offset).")
    if not instant_in_range(value):
        # What the API's datetime type takes (docs/api-guide.md): the window's
        # arithmetic and the conversion to UTC stay inside Python's years.
        raise Open311Failure(
            400, f"{name} must lie between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z."
        )
    return value


def window(params: Mapping[str, str]) -> tuple[datetime, datetime]:
    """``start_date`` and ``end_date``: the last 90 days by default, never more than 90."""
    start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
    if start is None and end is None:
        end = utcnow()
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Failure(400, "end_date is before start_date.")
    if end - start > MAX_SPAN:
        raise Open311Failure(400, "start_date and end_date may not span more than 90 days.")
    return start, end


def _codes(params: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in (params.get(name) or "").split(",") if part.strip()]


_latest_public_note = (
    select(col(ReportUpdate.note))
    .where(
        col(ReportUpdate.report_id) == col(Report.id),
        col(ReportUpdate.public).is_(True),
        col(ReportUpdate.note).is_not(None),
    )
    .order_by(col(ReportUpdate.created_at).desc(), col(ReportUpdate.id).desc())
    .limit(1)
    .correlate(Report)
    .scalar_subquery()
    .label("status_notes")
)
_ward_name = (
    select(col(Ward.name))
    .where(col(Ward.code) == col(Report.ward_code))
    .correlate(Report)
    .scalar_subquery()
    .label("ward_name")
)

# Service requests, newest first. Open311's scope is not a principal's: it is the
# api_key's units (or, without a key, the ward named), which ``_read_unit`` checks
# and every read gives as its ``ward_code`` or ``province_code`` filter.
REQUESTS = Repository(
    Report,
    noun="service request",
    # `_request` unpacks rows in this order.
    columns=(
        Report.id,
        Report.status,
        Report.category,
        Report.description,
        Report.created_at,
        Report.updated_at,
        Report.address,
        Report.lat,
        Report.lon,
        Report.media_refs,
        _ward_name,
        _latest_public_note,
    ),
    visible=Visible.all(),
    keyset=Keyset("open311-requests", columns(Report.created_at, Report.id), descending=True),
    filters={
        "ward_code": Report.ward_code,
        "province_code": Report.province_code,
        "start": Filter(Report.created_at, ">="),
        "end": Filter(Report.created_at, "<="),
        "statuses": OneOf(Report.status),
        "service_codes": OneOf(Report.category),
    },
)

# Status changes and public notes (what a city system syncs), oldest first, of reports
# not deleted; scoped, like every entry, by the codes it carries.
_SYNCED = (col(ReportUpdate.kind) == "transition") | (
    (col(ReportUpdate.kind) == "note") & col(ReportUpdate.public).is_(True)
)
_OF_A_LIVE_REPORT = exists(
    select(col(Report.id)).where(
        col(Report.id) == col(ReportUpdate.report_id), col(Report.deleted_at).is_(None)
    )
)
FEED = Repository(
    ReportUpdate,
    noun="service request update",
    columns=(
        ReportUpdate.id,
        ReportUpdate.report_id,
        ReportUpdate.kind,
        ReportUpdate.to_status,
        ReportUpdate.note,
        ReportUpdate.public,
        ReportUpdate.created_at,
    ),
    visible=Visible.all(),
    keyset=Keyset("open311-updates", columns(ReportUpdate.created_at, ReportUpdate.id)),
    filters={
        "ward_code": ReportUpdate.ward_code,
        "province_code": ReportUpdate.province_code,
        "start": Filter(ReportUpdate.created_at, ">="),
        "end": Filter(ReportUpdate.created_at, "<="),
        "synced": Filter(_SYNCED),
        "live": Filter(_OF_A_LIVE_REPORT),
    },
)


@lru_cache(maxsize=4096)
def _agency(ward_name: str) -> str:
    return f"Công an {ward_name[:1].lower()}{ward_name[1:]}"


def _request(row: Any, *, public: bool = False) -> dict[str, Any]:
    # Up to 1,000 of these per answer: plain tuple unpacking, one dict each.
    (
        report_id,
        status,
        category_code,
        description,
        created_at,
        updated_at,
        address,
        lat,
        lon,
        media_refs,
        ward_name,
        status_notes,
    ) = row
    category = report_categories.CATEGORIES[category_code]
    if public:
        # Read without a key: what happened, roughly where, and how it went;
        # not the reporter's words, the exact address or the photos.
        description = address = None
        lat = round(lat, PUBLIC_COORDINATE_DECIMALS) if lat is not None else None
        lon = round(lon, PUBLIC_COORDINATE_DECIMALS) if lon is not None else None
        media_refs = None
    return {
        "service_request_id": str(report_id),
        "status": status_of(status),
        "status_notes": status_notes,
        "service_name": category.name,
        "service_code": category.code,
        "description": description,
        "agency_responsible": _agency(ward_name),
        "service_notice": None,
        # Datetimes as they are: OPEN311_JSON and the XML writer format them.
        "requested_datetime": created_at,
        "updated_datetime": updated_at,
        "expected_datetime": None,
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": media_refs[0] if media_refs else None,
    }


async def _by_ids(session: AsyncSession, unit: Unit, wanted: list[uuid.UUID]) -> list[Any]:
    """The requests of ``unit`` with these ids, newest first, at most ``MAX_RESULTS``."""
    column, code = unit
    rows = []
    for report_id in dict.fromkeys(wanted):
        row = await REQUESTS.find(session, None, report_id, **{column: code})
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda row: (row.created_at, row.id), reverse=True)
    return rows[:MAX_RESULTS]


async def list_requests(session: AsyncSession, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """Requests in the key's scope, newest first: by ids (which override every other filter),
    or by service, status and a window of at most 90 days; at most 1,000."""
    unit = await _read_unit(session, params, "read requests")
    public = not params.get("api_key")
    ids = _codes(params, "service_request_id")
    if ids:
        try:
            wanted = [uuid.UUID(value) for value in ids]
        except ValueError:
            raise Open311Failure(400, "service_request_id must be a comma list of ids.") from None
        return [_request(row, public=public) for row in await _by_ids(session, unit, wanted)]
    start, end = window(params)
    service_codes = _codes(params, "service_code")
    unknown = sorted(set(service_codes) - set(report_categories.CATEGORIES))
    if unknown:
        raise Open311Failure(400, f"Unknown service_code: {', '.join(unknown)}.")
    statuses = set(_codes(params, "status"))
    if not statuses <= {OPEN, CLOSED}:
        raise Open311Failure(400, "status must be open, closed, or both (comma-separated).")
    narrowed: dict[str, Any] = {}
    if service_codes:
        narrowed["service_codes"] = service_codes
    if statuses == {OPEN}:
        narrowed["statuses"] = list(OPEN_STATUSES)
    elif statuses == {CLOSED}:
        narrowed["statuses"] = list(CLOSED_STATUSES)
    column, code = unit
    rows = await up_to(
        REQUESTS, session, None, MAX_RESULTS, start=start, end=end, **{column: code}, **narrowed
    )
    return [_request(row, public=public) for row in rows]


async def get_request(
    session: AsyncSession, service_request_id: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """One request in the key's scope or the named ward (404 otherwise)."""
    column, code = await _read_unit(session, params, "read requests")
    try:
        report_id = uuid.UUID(service_request_id)
    except ValueError:
        report_id = None
    row = None
    if report_id is not None:
        row = await REQUESTS.find(session, None, report_id, **{column: code})
    if row is None:
        raise Open311Failure(404, f"service_request_id {service_request_id!r} was not found.")
    return _request(row, public=not params.get("api_key"))


async def list_updates(session: AsyncSession, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """Status changes and public notes in a window (oldest first, at most 1,000), so that a
    city system can sync; an internal note shows as its status change, with no text."""
    column, code = await _read_unit(session, params, "read updates")
    start, end = window(params)
    rows = await up_to(
        FEED,
        session,
        None,
        MAX_RESULTS,
        start=start,
        end=end,
        synced=True,
        live=True,
        **{column: code},
    )
    return [
        {
            "update_id": str(row.id),
            "service_request_id": str(row.report_id),
            "status": status_of(row.to_status),
            "external_status_code": row.to_status or "",
            "updated_datetime": row.created_at,
            "description": (row.note or "") if row.public else "",
            "media_url": "",
        }
        for row in rows
    ]
