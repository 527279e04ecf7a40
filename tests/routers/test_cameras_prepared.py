"""Camera reads through a real app: on PostgreSQL they run as prepared statements straight
on asyncpg (app.data.prepared.Prepared), and must answer what SQLAlchemy's path answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, delete

from app.demo.places import HA_LONG
from app.models.cameras import Camera
from app.security import Role
from tests.conftest import Committed
from tests.factories import headers_for, make_camera, make_user

CAMERAS = "/api/v1/cameras"


@pytest.fixture
async def placed(committed: Committed) -> AsyncIterator[dict[str, Any]]:
    """Three committed cameras of Hạ Long (one public), a ward officer and a resident."""
    async with committed.sessionmaker() as session:
        officer = await make_user(
            session, Role.WARD_OFFICER, HA_LONG, username=f"{committed.prefix}officer"
        )
        resident = await make_user(
            session, Role.RESIDENT, HA_LONG, username=f"{committed.prefix}resident"
        )
        cameras = [
            await make_camera(
                session,
                HA_LONG,
                label=f"{committed.prefix}cam{i}",
                owner_kind="public" if i == 0 else "business",
                last_verified_on=date(2026, 11, 2),
                lat=20.9526 + i * 1e-4,
            )
            for i in range(3)
        ]
        ids = [camera.id for camera in cameras]
        await session.commit()
    try:
        yield {
            "officer": headers_for(committed.app, officer),
            "resident": headers_for(committed.app, resident),
            "ids": [str(camera_id) for camera_id in ids],
        }
    finally:
        async with committed.sessionmaker() as session:
            await session.exec(delete(Camera).where(col(Camera.id).in_(ids)))
            await session.commit()


async def test_camera_by_id_answers_every_field(
    committed: Committed, placed: dict[str, Any]
) -> None:
    read = await committed.client.get(f"{CAMERAS}/{placed['ids'][1]}", headers=placed["officer"])
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["id"] == placed["ids"][1]
    assert body["owner_phone"] == "0912000111"  # the ward's officer sees the owner
    assert body["last_verified_on"] == "2026-11-02"
    assert body["distance_m"] is None
    assert body["created_at"].endswith("Z")
    assert read.headers["etag"] == '"1"'


async def test_resident_sees_only_the_public_camera_and_no_owner(
    committed: Committed, placed: dict[str, Any]
) -> None:
    hidden = await committed.client.get(f"{CAMERAS}/{placed['ids'][1]}", headers=placed["resident"])
    assert hidden.status_code == 404
    public = await committed.client.get(f"{CAMERAS}/{placed['ids'][0]}", headers=placed["resident"])
    assert public.status_code == 200, public.text
    assert public.json()["owner_phone"] is None


async def test_list_pages_through_the_ward_by_cursor(
    committed: Committed, placed: dict[str, Any]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 50, "owner_kind": "business"}
        if cursor:
            query["cursor"] = cursor
        page = await committed.client.get(CAMERAS, params=query, headers=placed["officer"])
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        assert all(item["owner_kind"] == "business" for item in page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [i for i in seen if i in placed["ids"]] == placed["ids"][1:]
    assert len(seen) == len(set(seen))


async def test_near_lists_nearest_first_with_distances_and_pages(
    committed: Committed, placed: dict[str, Any]
) -> None:
    # The cameras stand 0, 11.1 and 22.2 m north of the point, on one meridian.
    query: dict[str, Any] = {"near": "20.9526,107.0812", "radius_m": 30, "limit": 1}
    seen: list[tuple[str, float]] = []
    while True:
        page = await committed.client.get(CAMERAS, params=query, headers=placed["officer"])
        assert page.status_code == 200, page.text
        seen += [(item["id"], item["distance_m"]) for item in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        query["cursor"] = page.json()["next_cursor"]
    mine = [(camera_id, d) for camera_id, d in seen if camera_id in placed["ids"]]
    assert [camera_id for camera_id, _ in mine] == placed["ids"]
    assert [d for _, d in mine] == [0.0, 11.1, 22.2]
