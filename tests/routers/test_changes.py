"""The change feed over HTTP: who reads it, what each caller's units carry, the record as
its GET answers, deletes, records that leave a unit, cursors (410, 422), and types."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.cameras import Camera
from app.services.auth import user_principal
from app.services.changes.cursors import Position, Units
from app.services.neighbourhoods import MANAGED_NEIGHBOURHOODS
from tests import factories
from tests.conftest import Cast
from tests.routers.test_cameras import new_camera

CHANGES = "/api/v1/changes"
CAMERAS = "/api/v1/cameras"


async def sync(
    client: httpx.AsyncClient, headers: dict[str, str], since: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every page from ``since`` until an empty one: the items and the cursor to keep."""
    items: list[dict[str, Any]] = []
    for _ in range(100):
        query = {**params, **({"since": since} if since else {})}
        response = await client.get(CHANGES, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert isinstance(body["next_cursor"], str)
        since = body["next_cursor"]
        if not body["items"]:
            return items, since
        items.extend(body["items"])
    raise AssertionError("the feed never ran dry")


async def register(client: httpx.AsyncClient, cast: Cast, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        CAMERAS, json=new_camera(**extra), headers=cast.headers(cast.ward_officer)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def of(items: list[dict[str, Any]], record_id: str) -> list[dict[str, Any]]:
    return [item for item in items if item["id"] == record_id]


class TestWhoReads:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(CHANGES)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")

    @pytest.mark.parametrize("role", ["resident", "head"])
    async def test_a_role_without_sync_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.get(CHANGES, headers=cast.headers(getattr(cast, role)))
        assert response.status_code == 403
        assert response.json()["type"].endswith("/problems/forbidden")

    @pytest.mark.parametrize(
        "role", ["ward_officer", "other_ward_officer", "province_officer", "admin"]
    )
    async def test_officers_and_admins_read_it(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.get(CHANGES, headers=cast.headers(getattr(cast, role)))
        assert response.status_code == 200
        assert set(response.json()) == {"items", "next_cursor"}

    async def test_a_ward_system_reads_its_wards_changes(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        camera = await register(client, cast)
        system, _ = await factories.make_client(session, HA_LONG)
        await session.commit()
        items, _ = await sync(client, cast.headers(system))
        assert [item["op"] for item in of(items, camera["id"])] == ["upsert"]


class TestWhatTheFeedCarries:
    async def test_a_new_camera_comes_as_its_get_answers_to_each_reader(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        camera = await register(client, cast)
        for reader in (cast.ward_officer, cast.province_officer, cast.admin):
            headers = cast.headers(reader)
            items, _ = await sync(client, headers)
            [item] = of(items, camera["id"])
            got = (await client.get(f"{CAMERAS}/{camera['id']}", headers=headers)).json()
            assert item["data"] == got
            assert item["type"] == "camera"
            assert item["op"] == "upsert"
            assert item["version"] == got["version"] == 1
            assert (item["province_code"], item["ward_code"]) == ("22", HA_LONG)
        # Masking follows the role: the province officer's copy has no owner's phone.
        province_items, _ = await sync(client, cast.headers(cast.province_officer))
        assert of(province_items, camera["id"])[0]["data"]["owner_phone"] is None
        ward_items, _ = await sync(client, cast.headers(cast.ward_officer))
        assert of(ward_items, camera["id"])[0]["data"]["owner_phone"] == "0912345678"

    async def test_another_wards_officer_never_sees_it(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        camera = await register(client, cast)
        items, _ = await sync(client, cast.headers(cast.other_ward_officer))
        assert of(items, camera["id"]) == []
        assert all(item["ward_code"] in (BAI_CHAY, None) for item in items)

    async def test_changes_after_the_cursor_come_once_at_the_latest_version(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        camera = await register(client, cast)
        _, cursor = await sync(client, headers)
        for n, label in ((1, "Cổng sau"), (2, "Cổng bên")):
            response = await client.patch(
                f"{CAMERAS}/{camera['id']}",
                json={"label": label},
                headers={**headers, "If-Match": f'"{n}"'},
            )
            assert response.status_code == 200, response.text
        items, cursor = await sync(client, headers, cursor)
        [item] = of(items, camera["id"])
        assert (item["op"], item["version"], item["data"]["label"]) == ("upsert", 3, "Cổng bên")
        # Nothing new: an empty page, and a cursor that still works.
        again, _ = await sync(client, headers, cursor)
        assert again == []

    async def test_a_deleted_camera_comes_as_a_delete_and_a_sync_from_zero_leaves_it_out(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        camera = await register(client, cast)
        _, cursor = await sync(client, headers)
        response = await client.delete(
            f"{CAMERAS}/{camera['id']}", headers={**headers, "If-Match": '"1"'}
        )
        assert response.status_code == 204
        items, _ = await sync(client, headers, cursor)
        [item] = of(items, camera["id"])
        assert (item["op"], item["data"], item["version"]) == ("delete", None, 2)
        from_zero, _ = await sync(client, headers)
        assert of(from_zero, camera["id"]) == []

    async def test_a_record_that_leaves_the_ward_is_a_delete_there_and_an_upsert_where_it_went(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        admin = user_principal(cast.admin)
        ha_long, bai_chay = cast.headers(cast.ward_officer), cast.headers(cast.other_ward_officer)
        created = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HA_LONG, "code": "KPX1", "name": "Khu phố thử"},
            headers=ha_long,
        )
        assert created.status_code == 201, created.text
        moving = created.json()["id"]
        _, ha_long_cursor = await sync(client, ha_long)
        _, bai_chay_cursor = await sync(client, bai_chay)
        record = await MANAGED_NEIGHBOURHOODS.get_for_update(session, admin, uuid.UUID(moving))
        await MANAGED_NEIGHBOURHOODS.update(
            session, admin, record, 1, {"ward_code": BAI_CHAY}, fields=["ward_code"]
        )
        await session.commit()
        left, _ = await sync(client, ha_long, ha_long_cursor)
        arrived, _ = await sync(client, bai_chay, bai_chay_cursor)
        assert [(i["op"], i["data"]) for i in of(left, moving)] == [("delete", None)]
        [item] = of(arrived, moving)
        assert (item["op"], item["ward_code"], item["data"]["ward_code"]) == (
            "upsert",
            BAI_CHAY,
            BAI_CHAY,
        )


class TestCursors:
    async def test_a_forged_cursor_is_a_422(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.get(
            CHANGES, params={"since": "bm90LWEtY3Vyc29y"}, headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 422
        assert response.json()["type"].endswith("/problems/invalid-cursor")

    async def test_another_units_cursor_is_a_410(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        _, cursor = await sync(client, cast.headers(cast.ward_officer))
        response = await client.get(
            CHANGES, params={"since": cursor}, headers=cast.headers(cast.other_ward_officer)
        )
        assert response.status_code == 410
        problem = response.json()
        assert problem["type"].endswith("/problems/cursor-expired")
        assert "sync again from zero" in problem["detail"]

    async def test_a_cursor_older_than_the_retention_window_is_a_410(
        self, client: httpx.AsyncClient, cast: Cast, app: Any
    ) -> None:
        days = app.state.settings.changes_retention_days
        units = Units(f"w:{HA_LONG}", "22", HA_LONG)
        old = Position(0, 0, None, utcnow() - timedelta(days=days, hours=1))
        response = await client.get(
            CHANGES,
            params={"since": old.encode(app.state.cursor_codec, units)},
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 410
        assert response.json()["type"].endswith("/problems/cursor-expired")
        recent = Position(0, 0, None, utcnow() - timedelta(days=days - 1))
        response = await client.get(
            CHANGES,
            params={"since": recent.encode(app.state.cursor_codec, units)},
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200


class TestTypes:
    async def test_types_narrow_the_feed(self, client: httpx.AsyncClient, cast: Cast) -> None:
        camera = await register(client, cast)
        headers = cast.headers(cast.ward_officer)
        only_reports, _ = await sync(client, headers, types="report")
        assert of(only_reports, camera["id"]) == []
        cameras, _ = await sync(client, headers, types="report,camera")
        assert len(of(cameras, camera["id"])) == 1

    async def test_an_unknown_type_is_a_422_naming_the_field(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(
            CHANGES, params={"types": "camera,spaceship"}, headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["errors"][0]["loc"] == ["query", "types"]
        assert "spaceship" in problem["detail"]

    async def test_limit_pages_the_feed(self, client: httpx.AsyncClient, cast: Cast) -> None:
        made = [(await register(client, cast, label=f"Cổng {n}"))["id"] for n in range(3)]
        headers = cast.headers(cast.ward_officer)
        seen: list[str] = []
        since = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": 1, "types": "camera"}
            if since:
                params["since"] = since
            body = (await client.get(CHANGES, params=params, headers=headers)).json()
            assert len(body["items"]) <= 1
            since = body["next_cursor"]
            if not body["items"]:
                break
            seen.append(body["items"][0]["id"])
        assert [i for i in seen if i in made] == made

    async def test_a_page_of_records_a_sync_from_zero_never_had_is_read_past(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        """Records whose last change is an upsert but which are gone (removed past the
        API): a sync from zero skips them, and its first page is not empty for them."""
        headers = cast.headers(cast.ward_officer)
        gone = [(await register(client, cast, label=f"Cũ {n}"))["id"] for n in range(3)]
        kept = (await register(client, cast, label="Còn"))["id"]
        await session.exec(delete(Camera).where(col(Camera.id).in_([uuid.UUID(i) for i in gone])))
        await session.commit()
        first = await client.get(CHANGES, params={"limit": 1, "types": "camera"}, headers=headers)
        assert [item["id"] for item in first.json()["items"]] == [kept]
