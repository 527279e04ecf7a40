"""`updated_since` on the lists a ward system pages most: only the records changed at or
after the time given, and a cursor tied to it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.demo.places import HA_LONG
from tests.conftest import Cast

_n = itertools.count(1)

# Each list, and a new record's body for it (``cast`` gives the parent it needs).
BODIES: dict[str, Callable[[Cast], dict[str, Any]]] = {
    "/api/v1/neighbourhoods": lambda cast: {
        "ward_code": HA_LONG,
        "code": f"KPU{next(_n)}",
        "name": "Khu phố mới",
    },
    "/api/v1/residential-groups": lambda cast: {
        "neighbourhood_id": str(cast.ha_long_kp.id),
        "code": f"TU{next(_n)}",
        "name": "Tổ mới",
    },
    "/api/v1/groups": lambda cast: {
        "kind": "security_self_management",
        "name": f"Tổ tự quản {next(_n)}",
        "neighbourhood_id": str(cast.ha_long_kp.id),
    },
    "/api/v1/cameras": lambda cast: {
        "ward_code": HA_LONG,
        "owner_kind": "business",
        "owner_name": "Cửa hàng Minh Phát",
        "owner_phone": "0912345678",
        "label": f"Cổng {next(_n)}",
        "address": "112 Lê Thánh Tông",
        "lat": 20.9526,
        "lon": 107.0812,
        "retention_days": 30,
    },
    "/api/v1/reports": lambda cast: {
        "category": "noise",
        "description": "Karaoke rất to sau 23 giờ ở ngõ 12.",
        "address": "Ngõ 12 Lê Thánh Tông",
        "ward_code": HA_LONG,
    },
}


async def ids(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[str]:
    response = await client.get(path, params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("path", list(BODIES))
async def test_only_records_changed_since_the_time_are_listed(
    client: httpx.AsyncClient, cast: Cast, path: str
) -> None:
    headers = cast.headers(cast.ward_officer)
    # Officers do not file reports: residents do, and officers list them.
    writer = cast.headers(cast.resident if path == "/api/v1/reports" else cast.ward_officer)
    first = await client.post(path, json=BODIES[path](cast), headers=writer)
    assert first.status_code == 201, first.text
    mark = datetime.now(UTC)
    second = await client.post(path, json=BODIES[path](cast), headers=writer)
    assert second.status_code == 201, second.text
    listed = await ids(client, path, headers, updated_since=mark.isoformat())
    assert second.json()["id"] in listed
    assert first.json()["id"] not in listed
    both = await ids(client, path, headers)
    assert {first.json()["id"], second.json()["id"]} <= set(both)


@pytest.mark.parametrize("path", list(BODIES))
async def test_a_time_without_offset_is_a_422_naming_the_field(
    client: httpx.AsyncClient, cast: Cast, path: str
) -> None:
    response = await client.get(
        path,
        params={"updated_since": "2026-12-01T00:00:00"},
        headers=cast.headers(cast.ward_officer),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "updated_since"]


async def test_a_cursor_from_another_updated_since_is_refused(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    headers = cast.headers(cast.ward_officer)
    for _ in range(2):
        made = await client.post(
            "/api/v1/cameras", json=BODIES["/api/v1/cameras"](cast), headers=headers
        )
        assert made.status_code == 201
    first = await client.get(
        "/api/v1/cameras",
        params={"limit": 1, "updated_since": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    other = await client.get(
        "/api/v1/cameras",
        params={"limit": 1, "updated_since": "2021-01-01T00:00:00Z", "cursor": cursor},
        headers=headers,
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("/problems/invalid-cursor")
