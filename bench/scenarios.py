"""The scenarios: one wardsafe request each, and the anchor request running the same SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from bench.load import CENTRE_LAT, CENTRE_LON, NOW, Fixture


@dataclass(frozen=True)
class Scenario:
    """One request shape, driven by wrk against wardsafe and against its anchor."""

    name: str
    kind: str  # "read" or "write"
    path: str
    token: str | None  # "officer", "province", "resident" or None (anonymous)
    anchor_path: str
    method: str = "GET"
    body: str = ""
    idempotent_key: bool = False  # a fresh Idempotency-Key per request


@dataclass(frozen=True)
class Position:
    """Where the deep page starts: wardsafe's cursor and the same key for the anchor."""

    depth: int
    cursor: str
    created_at: str
    report_id: str
    # The change feed's deep page: wardsafe's cursor, and the same position for the anchor.
    changes_cursor: str = ""
    changes_after: tuple[int, int] = (-1, -1)


def build(fixture: Fixture, deep: Position) -> list[Scenario]:
    """Every scenario of the issue, in the order the table prints them."""
    ward = fixture.ward_code
    report_body = json.dumps(
        {
            "category": "noise",
            "description": "Karaoke rất to sau 23 giờ ở ngõ 12, nhiều đêm liền.",
            "address": "Ngõ 12 Lê Thánh Tông",
            "ward_code": ward,
        },
        ensure_ascii=False,
    )
    # The last 90 days of the loaded set, named, so the answer does not move with the calendar.
    window = urlencode(
        {
            "start_date": (NOW - timedelta(days=90)).isoformat(),
            "end_date": NOW.isoformat(),
            "jurisdiction_id": ward,
        }
    )
    near = {"lat": CENTRE_LAT, "lon": CENTRE_LON, "radius_m": 500}
    return [
        Scenario(
            "cameras page 1",
            "read",
            "/api/v1/cameras?limit=50",
            "officer",
            f"/cameras?ward_code={ward}",
        ),
        Scenario(
            "reports page 1",
            "read",
            "/api/v1/reports?limit=50",
            "officer",
            f"/reports?ward_code={ward}",
        ),
        Scenario(
            f"reports deep page ({deep.depth:,} rows in)",
            "read",
            "/api/v1/reports?" + urlencode({"limit": 50, "cursor": deep.cursor}),
            "officer",
            "/reports?"
            + urlencode(
                {
                    "ward_code": ward,
                    "after_created_at": deep.created_at,
                    "after_id": deep.report_id,
                }
            ),
        ),
        Scenario(
            "reports by status+category",
            "read",
            "/api/v1/reports?limit=50&status=resolved&category=theft",
            "officer",
            f"/reports?ward_code={ward}&status=resolved&category=theft",
        ),
        Scenario(
            "report by id",
            "read",
            f"/api/v1/reports/{fixture.report_id}",
            "officer",
            f"/reports/one?id={fixture.report_id}&ward_code={ward}",
        ),
        Scenario(
            "cameras near 500 m",
            "read",
            "/api/v1/cameras?"
            + urlencode({"near": f"{CENTRE_LAT},{CENTRE_LON}", "radius_m": 500, "limit": 50}),
            "officer",
            "/cameras/near?" + urlencode({**near, "ward_code": ward}),
        ),
        Scenario(
            "groups page 1",
            "read",
            "/api/v1/groups?limit=50",
            "officer",
            f"/groups?ward_code={ward}",
        ),
        Scenario(
            "open311 requests (anonymous)",
            "read",
            f"/open311/v2/requests.json?{window}",
            None,
            f"/open311?{window}",
        ),
        Scenario(
            "statistics ward",
            "read",
            f"/api/v1/reports/statistics?unit_code={ward}",
            "officer",
            f"/statistics?unit_code={ward}",
        ),
        Scenario(
            "statistics province",
            "read",
            f"/api/v1/reports/statistics?unit_code={fixture.province_code}",
            "province",
            f"/statistics?unit_code={fixture.province_code}&level=province",
        ),
        Scenario(
            "changes first page (sync from zero)",
            "read",
            "/api/v1/changes?limit=100",
            "officer",
            f"/changes?ward_code={ward}&province_code={fixture.province_code}&limit=100",
        ),
        Scenario(
            "changes deep page",
            "read",
            "/api/v1/changes?" + urlencode({"limit": 100, "since": deep.changes_cursor}),
            "officer",
            f"/changes?ward_code={ward}&province_code={fixture.province_code}&limit=100"
            f"&after_txid={deep.changes_after[0]}&after_id={deep.changes_after[1]}",
        ),
        Scenario(
            "create report + Idempotency-Key",
            "write",
            "/api/v1/reports",
            "resident",
            f"/reports/create?reporter_id={fixture.resident_id}",
            method="POST",
            body=report_body,
            idempotent_key=True,
        ),
        # The same request against an anchor that sends wardsafe's own statements
        # (report, audit event, the key's upsert) and nothing else: how far the
        # write is from the cost of its design. The target is judged on the row
        # above (a plain INSERT).
        Scenario(
            "create report, anchor sending the same statements",
            "write",
            "/api/v1/reports",
            "resident",
            f"/reports/create-keyed?reporter_id={fixture.resident_id}",
            method="POST",
            body=report_body,
            idempotent_key=True,
        ),
        # And against the same statement without the change row the sync feed reads
        # (issue 18): wardsafe's write with it, against the design's write without it.
        Scenario(
            "create report, anchor without the change row",
            "write",
            "/api/v1/reports",
            "resident",
            f"/reports/create-keyed-without-change?reporter_id={fixture.resident_id}",
            method="POST",
            body=report_body,
            idempotent_key=True,
        ),
    ]
