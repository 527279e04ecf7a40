"""A ward system syncing while records are created, changed, moved and deleted at random
ends with a copy equal to a full export of its ward, record for record."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.changelog import record_existing
from app.demo.places import BAI_CHAY, HA_LONG
from app.services.auth import user_principal
from app.services.neighbourhoods import MANAGED_NEIGHBOURHOODS
from tests.conftest import Cast

CHANGES = "/api/v1/changes"


class Copy:
    """What a ward system keeps: records by (type, id), and its cursor."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.cursor: str | None = None

    async def pull(self, client: httpx.AsyncClient, headers: dict[str, str], limit: int) -> None:
        """One page, applied."""
        params: dict[str, Any] = {"limit": limit, "types": "camera,neighbourhood"}
        if self.cursor:
            params["since"] = self.cursor
        response = await client.get(CHANGES, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        for item in body["items"]:
            key = (item["type"], item["id"])
            if item["op"] == "upsert":
                self.records[key] = item["data"]
            else:
                self.records.pop(key, None)
        self.cursor = body["next_cursor"]

    async def catch_up(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        for _ in range(200):
            before = self.cursor
            await self.pull(client, headers, 50)
            if self.cursor == before:
                return
        raise AssertionError("never caught up")


async def export(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[Any, Any]:
    """Every camera and neighbourhood of Hạ Long, as its GET answers."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, path in (("camera", "/api/v1/cameras"), ("neighbourhood", "/api/v1/neighbourhoods")):
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200, "ward_code": HA_LONG}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get(path, params=params, headers=headers)).json()
            for item in body["items"]:
                one = await client.get(f"{path}/{item['id']}", headers=headers)
                found[(kind, item["id"])] = one.json()
            cursor = body["next_cursor"]
            if cursor is None:
                break
    return found


def camera(rng: random.Random) -> dict[str, Any]:
    return {
        "ward_code": HA_LONG,
        "owner_kind": rng.choice(["business", "household", "public"]),
        "owner_name": "Chủ camera",
        "owner_phone": "0912345678",
        "label": f"Cổng {rng.randrange(1000)}",
        "address": "112 Lê Thánh Tông",
        "lat": 20.95 + rng.random() / 100,
        "lon": 107.08 + rng.random() / 100,
        "retention_days": rng.choice([7, 30]),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_copy_equals_the_export_after_random_writes(
    client: httpx.AsyncClient, cast: Cast, session: AsyncSession, seed: int
) -> None:
    rng = random.Random(seed)
    # The fixture's records were written past the unit of write, as the demo's are.
    await record_existing(session)
    await session.commit()
    officer = cast.headers(cast.ward_officer)
    admin = user_principal(cast.admin)
    copy = Copy()
    await copy.pull(client, officer, rng.choice([5, 50]))  # starts from zero, mid-way
    cameras: dict[str, int] = {}  # id: version
    places: dict[str, int] = {}
    for step in range(40):
        action = rng.choice(["create", "create", "update", "delete", "move", "pull"])
        if action == "create":
            if rng.random() < 0.7:
                made = await client.post("/api/v1/cameras", json=camera(rng), headers=officer)
                assert made.status_code == 201, made.text
                cameras[made.json()["id"]] = 1
            else:
                made = await client.post(
                    "/api/v1/neighbourhoods",
                    json={"ward_code": HA_LONG, "code": f"S{seed}K{step}", "name": "Khu thử"},
                    headers=officer,
                )
                assert made.status_code == 201, made.text
                places[made.json()["id"]] = 1
        elif action == "update" and cameras:
            camera_id = rng.choice(sorted(cameras))
            changed = await client.patch(
                f"/api/v1/cameras/{camera_id}",
                json={"label": f"Đổi {step}"},
                headers={**officer, "If-Match": f'"{cameras[camera_id]}"'},
            )
            assert changed.status_code == 200, changed.text
            cameras[camera_id] += 1
        elif action == "delete" and cameras:
            camera_id = rng.choice(sorted(cameras))
            gone = await client.delete(
                f"/api/v1/cameras/{camera_id}",
                headers={**officer, "If-Match": f'"{cameras.pop(camera_id)}"'},
            )
            assert gone.status_code == 204, gone.text
        elif action == "move" and places:
            place_id = rng.choice(sorted(places))
            record = await MANAGED_NEIGHBOURHOODS.get_for_update(
                session, admin, uuid.UUID(place_id)
            )
            await MANAGED_NEIGHBOURHOODS.update(
                session,
                admin,
                record,
                places.pop(place_id),
                {"ward_code": BAI_CHAY},
                fields=["ward_code"],
            )
            await session.commit()
        else:
            await copy.pull(client, officer, rng.choice([1, 3, 50]))
    await copy.catch_up(client, officer)
    assert copy.records == await export(client, officer)
