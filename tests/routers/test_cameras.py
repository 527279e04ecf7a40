"""The camera registry over HTTP: the role matrix, personal data per role, filters, `near`."""

from __future__ import annotations

import itertools
import math
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.cameras import Camera, unit_vector
from app.models.users import User
from app.security import Role
from tests import factories
from tests.conftest import Cast

CAMERAS = "/api/v1/cameras"
OWNER_FIELDS = ("owner_user_id", "owner_name", "owner_phone")
# Hòn Gai, Phường Hạ Long: near the market.
CENTRE = (20.9526, 107.0812)


def version(n: int) -> dict[str, str]:
    return {"If-Match": f'"{n}"'}


async def fresh(session: AsyncSession, camera_id: uuid.UUID | str) -> Camera:
    session.expunge_all()
    camera = await session.get(Camera, uuid.UUID(str(camera_id)))
    assert camera is not None
    return camera


def new_camera(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ward_code": HA_LONG,
        "owner_kind": "business",
        "owner_name": "Cửa hàng Minh Phát",
        "owner_phone": "0912345678",
        "label": "Cổng trước",
        "address": "112 Lê Thánh Tông",
        "lat": 20.9526,
        "lon": 107.0812,
        "bearing_deg": 135,
        "retention_days": 30,
    }
    return {**body, **extra}


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point about ``north_m`` and ``east_m`` metres from (lat, lon)."""
    return (
        lat + north_m / 111_195.0,
        lon + east_m / (111_195.0 * math.cos(math.radians(lat))),
    )


def brute_force_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by Vincenty's formula on the sphere: another formula than the
    service's chord formula, written independently of it."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.hypot(
        math.cos(phi2) * math.sin(dl),
        math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dl),
    )
    x = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(dl)
    return 6_371_008.8 * math.atan2(y, x)


@dataclass
class Registry:
    """Hạ Long's cameras as each role should see them, and one in Bãi Cháy."""

    owner: User
    other_owner: User
    own: Camera  # the owner's, private
    others: Camera  # another owner's, private
    public: Camera  # the ward police's
    unowned: Camera  # a household with no account
    bai_chay: Camera


@pytest.fixture
async def registry(session: AsyncSession, cast: Cast) -> Registry:
    owner = await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG)
    other_owner = await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG)
    built = Registry(
        owner=owner,
        other_owner=other_owner,
        own=await factories.make_camera(session, HA_LONG, owner=owner, label="Own"),
        others=await factories.make_camera(session, HA_LONG, owner=other_owner, label="Others"),
        public=await factories.make_camera(
            session,
            HA_LONG,
            owner_kind="public",
            owner_name="Công an phường Hạ Long",
            owner_phone="02033825111",
            label="Public",
            sharing="live",
        ),
        unowned=await factories.make_camera(session, HA_LONG, label="Unowned", sharing="none"),
        bai_chay=await factories.make_camera(
            session, BAI_CHAY, owner_kind="public", lat=20.958, lon=107.04, label="Bai Chay"
        ),
    )
    await session.commit()
    return built


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(CAMERAS, params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestListCameras:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        factories.assert_unauthorized(await client.get(CAMERAS))

    async def test_token_without_cameras_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer, frozenset({"groups:read"}))
        assert "cameras:read" in factories.assert_forbidden(
            await client.get(CAMERAS, headers=headers)
        )

    async def test_ward_officer_sees_every_camera_of_the_ward_with_owner_details(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        items = await listed(client, cast.headers(cast.ward_officer))
        by_label = {item["label"]: item for item in items}
        assert set(by_label) == {"Own", "Others", "Public", "Unowned"}
        assert by_label["Own"]["owner_user_id"] == str(registry.owner.id)
        assert by_label["Own"]["owner_name"] == "Hộ Nguyễn Văn Thử"
        assert by_label["Own"]["owner_phone"] == "0912000111"
        assert {(i["province_code"], i["ward_code"]) for i in items} == {("22", HA_LONG)}
        assert all(item["distance_m"] is None for item in items)

    async def test_other_ward_officer_sees_none_of_ha_longs(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        items = await listed(client, cast.headers(cast.other_ward_officer))
        assert [item["label"] for item in items] == ["Bai Chay"]

    async def test_province_officer_sees_the_province_without_owner_details(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        items = await listed(client, cast.headers(cast.province_officer))
        assert {"Own", "Others", "Public", "Unowned", "Bai Chay"} <= {i["label"] for i in items}
        for item in items:
            assert all(item[field] is None for field in OWNER_FIELDS)
        assert "0912000111" not in str(items)

    async def test_other_province_officer_sees_nothing_of_quang_ninh(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        assert await listed(client, cast.headers(cast.other_province_officer)) == []

    @pytest.mark.parametrize("role", ["resident", "head"])
    async def test_resident_and_head_see_only_public_cameras_without_owner_details(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry, role: str
    ) -> None:
        items = await listed(client, cast.headers(getattr(cast, role)))
        assert [item["label"] for item in items] == ["Public"]
        assert all(items[0][field] is None for field in OWNER_FIELDS)
        assert "Công an phường" not in str(items)

    async def test_owner_sees_own_with_details_and_public_without(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        items = await listed(client, cast.headers(registry.owner))
        by_label = {item["label"]: item for item in items}
        assert set(by_label) == {"Own", "Public"}
        assert by_label["Own"]["owner_phone"] == "0912000111"
        assert by_label["Public"]["owner_name"] is None

    async def test_machine_client_of_the_ward_sees_the_ward_without_owner_details(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        machine, _ = await factories.make_client(session, HA_LONG)
        await session.commit()
        items = await listed(client, cast.headers(machine))
        assert {i["label"] for i in items} == {"Own", "Others", "Public", "Unowned"}
        assert all(i["owner_name"] is None for i in items)

    @pytest.mark.parametrize(
        ("params", "labels"),
        [
            ({"owner_kind": "public"}, {"Public"}),
            ({"sharing": "none"}, {"Unowned"}),
            ({"sharing": "live", "owner_kind": "public"}, {"Public"}),
            ({"status": "offline"}, set()),
            ({"ward_code": BAI_CHAY}, set()),
        ],
    )
    async def test_filters_narrow_the_list(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        registry: Registry,
        params: dict[str, str],
        labels: set[str],
    ) -> None:
        items = await listed(client, cast.headers(cast.ward_officer), **params)
        assert {item["label"] for item in items} == labels

    async def test_neighbourhood_filter(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        camera = await factories.make_camera(
            session, HA_LONG, neighbourhood_id=cast.ha_long_kp.id, label="In KP"
        )
        await session.commit()
        items = await listed(
            client, cast.headers(cast.admin), neighbourhood_id=str(cast.ha_long_kp.id)
        )
        assert [item["id"] for item in items] == [str(camera.id)]

    async def test_pages_walk_every_camera_once_in_creation_order(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        made = [await factories.make_camera(session, HA_LONG) for _ in range(7)]
        await session.commit()
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, "ward_code": HA_LONG}
            if cursor:
                params["cursor"] = cursor
            body = (
                await client.get(CAMERAS, params=params, headers=cast.headers(cast.ward_officer))
            ).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(camera.id) for camera in made]

    async def test_cursor_with_other_filters_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        for _ in range(3):
            await factories.make_camera(session, HA_LONG)
        await session.commit()
        headers = cast.headers(cast.ward_officer)
        first = await client.get(CAMERAS, params={"limit": 1}, headers=headers)
        cursor = first.json()["next_cursor"]
        response = await client.get(
            CAMERAS, params={"limit": 1, "cursor": cursor, "sharing": "live"}, headers=headers
        )
        factories.assert_problem(response, 422, "invalid-cursor")

    @pytest.mark.parametrize(
        "params",
        [{"limit": 201}, {"owner_kind": "shop"}, {"sharing": "sometimes"}, {"ward_code": "6688"}],
    )
    async def test_bad_parameter_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, params: dict[str, Any]
    ) -> None:
        response = await client.get(CAMERAS, params=params, headers=cast.headers(cast.admin))
        factories.assert_problem(response, 422, "validation-error")


class TestNear:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"near": "20.95"}, "near"),
            ({"near": "20.95;107.08"}, "near"),
            ({"near": "abc,def"}, "near"),
            ({"near": "91,107"}, "near"),
            ({"near": "20.95,181"}, "near"),
            ({"near": "20.95,107.08", "radius_m": 5001}, "radius_m"),
            ({"near": "20.95,107.08", "radius_m": 0}, "radius_m"),
            ({"radius_m": 300}, "radius_m"),
        ],
    )
    async def test_malformed_near_or_radius_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, params: dict[str, Any], field: str
    ) -> None:
        response = await client.get(CAMERAS, params=params, headers=cast.headers(cast.admin))
        body = factories.assert_problem(response, 422, "validation-error")
        assert [error["loc"] for error in body["errors"]] == [["query", field]]

    async def test_nearest_first_with_distances_within_the_radius(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        placed = {}
        for name, north, east in [("a", 100, 0), ("b", 0, -250), ("c", 400, 300), ("d", 0, 600)]:
            lat, lon = offset(*CENTRE, north, east)
            placed[name] = await factories.make_camera(session, HA_LONG, lat=lat, lon=lon)
        await session.commit()
        items = await listed(
            client,
            cast.headers(cast.ward_officer),
            near=f"{CENTRE[0]},{CENTRE[1]}",
            radius_m=550,
        )
        assert [item["id"] for item in items] == [str(placed[name].id) for name in ("a", "b", "c")]
        assert [round(item["distance_m"]) for item in items] == [100, 250, 500]

    async def test_default_radius_is_500_metres(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        inside = await factories.make_camera(
            session, HA_LONG, **dict(zip(("lat", "lon"), offset(*CENTRE, 490, 0), strict=True))
        )
        await factories.make_camera(
            session, HA_LONG, **dict(zip(("lat", "lon"), offset(*CENTRE, 510, 0), strict=True))
        )
        await session.commit()
        items = await listed(client, cast.headers(cast.admin), near=f"{CENTRE[0]},{CENTRE[1]}")
        assert [item["id"] for item in items] == [str(inside.id)]

    async def test_equal_distances_are_ordered_by_id_and_page_by_cursor(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        same = [
            await factories.make_camera(session, HA_LONG, lat=CENTRE[0], lon=CENTRE[1])
            for _ in range(5)
        ]
        await session.commit()
        headers = cast.headers(cast.ward_officer)
        params: dict[str, Any] = {"near": f"{CENTRE[0]},{CENTRE[1]}", "radius_m": 50, "limit": 2}
        seen: list[str] = []
        pages = 0
        while True:
            body = (await client.get(CAMERAS, params=params, headers=headers)).json()
            pages += 1
            seen += [item["id"] for item in body["items"]]
            assert all(item["distance_m"] == 0 for item in body["items"])
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
        assert pages == 3
        assert seen == sorted(str(camera.id) for camera in same)

    async def test_near_cursor_is_bound_to_the_point(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        for _ in range(3):
            await factories.make_camera(session, HA_LONG, lat=CENTRE[0], lon=CENTRE[1])
        await session.commit()
        headers = cast.headers(cast.admin)
        params: dict[str, Any] = {"near": f"{CENTRE[0]},{CENTRE[1]}", "limit": 1}
        cursor = (await client.get(CAMERAS, params=params, headers=headers)).json()["next_cursor"]
        moved = {**params, "near": f"{CENTRE[0]},107.0813", "cursor": cursor}
        factories.assert_problem(
            await client.get(CAMERAS, params=moved, headers=headers), 422, "invalid-cursor"
        )
        plain = {"limit": 1, "cursor": cursor}
        factories.assert_problem(
            await client.get(CAMERAS, params=plain, headers=headers), 422, "invalid-cursor"
        )

    async def test_resident_near_sees_only_public_cameras(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        items = await listed(
            client, cast.headers(cast.resident), near=f"{CENTRE[0]},{CENTRE[1]}", radius_m=100
        )
        assert [(item["label"], item["owner_name"]) for item in items] == [("Public", None)]

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        points=st.lists(
            st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000)), min_size=1, max_size=25
        ),
        query=st.tuples(st.floats(-1500, 1500), st.floats(-1500, 1500)),
        radius_m=st.integers(1, 5000),
    )
    async def test_matches_a_brute_force_distance_check(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        points: list[tuple[float, float]],
        query: tuple[float, float],
        radius_m: int,
    ) -> None:
        cameras = []
        for north, east in points:
            lat, lon = offset(*CENTRE, north, east)
            cameras.append(await factories.make_camera(session, BAI_CHAY, lat=lat, lon=lon))
        await session.commit()
        try:
            qlat, qlon = offset(*CENTRE, *query)
            items = await listed(
                client,
                cast.headers(cast.other_ward_officer),
                near=f"{qlat!r},{qlon!r}",
                radius_m=radius_m,
            )
            mine = {str(camera.id) for camera in cameras}
            items = [item for item in items if item["id"] in mine]
            expected = {str(c.id): brute_force_m(qlat, qlon, c.lat, c.lon) for c in cameras}
            # Membership: everything clearly inside, nothing clearly outside.
            got = {item["id"] for item in items}
            assert {i for i, d in expected.items() if d <= radius_m - 1e-6} <= got
            assert got <= {i for i, d in expected.items() if d <= radius_m + 1e-6}
            # Distances agree; nearest first, and cameras at the same place
            # (the same chord in SQL, bit for bit) in id order. Two places at
            # distances equal in this check's arithmetic may differ by an ulp
            # in the database's, which then orders them by that ulp.
            place = {str(c.id): (c.lat, c.lon) for c in cameras}
            for item in items:
                assert item["distance_m"] == pytest.approx(expected[item["id"]], abs=0.051)
            for before, after in itertools.pairwise(items):
                gap = expected[after["id"]] - expected[before["id"]]
                assert gap > -1e-6
                if place[before["id"]] == place[after["id"]]:
                    assert before["id"] < after["id"]
        finally:
            for camera in cameras:
                await session.delete(camera)
            await session.commit()


class TestGetCamera:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, registry: Registry) -> None:
        factories.assert_unauthorized(await client.get(f"{CAMERAS}/{registry.own.id}"))

    async def test_token_without_cameras_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        headers = cast.headers(cast.admin, frozenset({"users:read"}))
        factories.assert_forbidden(
            await client.get(f"{CAMERAS}/{registry.own.id}", headers=headers)
        )

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.get(
            f"{CAMERAS}/{registry.own.id}", headers=cast.headers(cast.other_ward_officer)
        )
        factories.assert_not_found(response)

    async def test_resident_gets_404_for_a_private_camera(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.get(
            f"{CAMERAS}/{registry.own.id}", headers=cast.headers(cast.resident)
        )
        factories.assert_not_found(response)

    async def test_owner_gets_404_for_another_owners_camera(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.get(
            f"{CAMERAS}/{registry.others.id}", headers=cast.headers(registry.owner)
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize(
        ("who", "camera", "sees_owner"),
        [
            ("admin", "own", True),
            ("ward_officer", "own", True),
            ("peer_ward_officer", "unowned", True),
            ("owner", "own", True),
            ("owner", "public", False),
            ("other_owner", "public", False),
            ("province_officer", "own", False),
            ("resident", "public", False),
            ("head", "public", False),
        ],
    )
    async def test_owner_details_are_shown_only_to_owner_ward_officers_and_admins(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        registry: Registry,
        who: str,
        camera: str,
        sees_owner: bool,
    ) -> None:
        account = getattr(registry, who, None) or getattr(cast, who)
        target: Camera = getattr(registry, camera)
        response = await client.get(f"{CAMERAS}/{target.id}", headers=cast.headers(account))
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"1"'
        body = response.json()
        assert body["label"] == target.label
        if sees_owner:
            assert (body["owner_name"], body["owner_phone"]) == (
                target.owner_name,
                target.owner_phone,
            )
        else:
            assert all(body[field] is None for field in OWNER_FIELDS)
            assert target.owner_name not in response.text
            assert str(target.owner_phone) not in response.text


class TestCreateCamera:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        factories.assert_unauthorized(await client.post(CAMERAS, json=new_camera()))

    @pytest.mark.parametrize("role", ["resident", "head", "province_officer"])
    async def test_role_without_cameras_write_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.post(
            CAMERAS, json=new_camera(), headers=cast.headers(getattr(cast, role))
        )
        assert "cameras:write" in factories.assert_forbidden(response)

    async def test_ward_officer_in_another_ward_gets_403(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            CAMERAS, json=new_camera(), headers=cast.headers(cast.other_ward_officer)
        )
        assert "own ward" in factories.assert_forbidden(response)

    @pytest.mark.parametrize("role", ["ward_officer", "admin"])
    async def test_officer_registers_one_with_location_etag_row_and_audit(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, role: str
    ) -> None:
        body = new_camera(neighbourhood_id=str(cast.ha_long_kp.id), last_verified_on="2026-01-05")
        response = await client.post(CAMERAS, json=body, headers=cast.headers(getattr(cast, role)))
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"{CAMERAS}/{created['id']}"
        assert response.headers["etag"] == '"1"'
        assert (created["province_code"], created["ward_code"]) == ("22", HA_LONG)
        assert (created["sharing"], created["status"]) == ("on_request", "active")
        assert created["owner_phone"] == "0912345678"
        stored = await fresh(session, created["id"])
        assert (stored.lat, stored.lon, stored.bearing_deg) == (20.9526, 107.0812, 135)
        events = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == created["id"]))
        ).all()
        assert [(e.action, e.record_type) for e in events] == [("create", "camera")]
        assert "0912345678" not in str(events[0].changed_fields)

    async def test_owner_registers_their_own_in_their_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, registry: Registry, cast: Cast
    ) -> None:
        response = await client.post(
            CAMERAS, json=new_camera(), headers=cast.headers(registry.owner)
        )
        assert response.status_code == 201, response.text
        assert response.json()["owner_user_id"] == str(registry.owner.id)

    async def test_owner_registering_for_someone_else_gets_403(
        self, client: httpx.AsyncClient, registry: Registry, cast: Cast
    ) -> None:
        body = new_camera(owner_user_id=str(registry.other_owner.id))
        response = await client.post(CAMERAS, json=body, headers=cast.headers(registry.owner))
        factories.assert_forbidden(response)

    async def test_owner_recording_a_verification_gets_403(
        self, client: httpx.AsyncClient, registry: Registry, cast: Cast
    ) -> None:
        body = new_camera(last_verified_on="2026-01-05")
        response = await client.post(CAMERAS, json=body, headers=cast.headers(registry.owner))
        assert "verified" in factories.assert_forbidden(response)

    async def test_owner_registering_a_public_camera_gets_403_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, registry: Registry, cast: Cast
    ) -> None:
        body = new_camera(owner_kind="public", owner_name="Công an phường Hạ Long")
        response = await client.post(CAMERAS, json=body, headers=cast.headers(registry.owner))
        assert "public" in factories.assert_forbidden(response)
        stored = await session.exec(
            select(Camera).where(col(Camera.owner_user_id) == registry.owner.id)
        )
        assert [camera.label for camera in stored.all()] == ["Own"]

    async def test_officer_registers_a_public_camera(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_camera(owner_kind="public", owner_name="Công an phường Hạ Long")
        response = await client.post(CAMERAS, json=body, headers=cast.headers(cast.ward_officer))
        assert response.status_code == 201, response.text
        assert response.json()["owner_kind"] == "public"

    async def test_owner_in_another_ward_gets_403(
        self, client: httpx.AsyncClient, registry: Registry, cast: Cast
    ) -> None:
        body = new_camera(ward_code=BAI_CHAY)
        response = await client.post(CAMERAS, json=body, headers=cast.headers(registry.owner))
        factories.assert_forbidden(response)

    async def test_officer_names_the_owner_account(
        self, client: httpx.AsyncClient, registry: Registry, cast: Cast
    ) -> None:
        body = new_camera(owner_user_id=str(registry.owner.id))
        response = await client.post(CAMERAS, json=body, headers=cast.headers(cast.ward_officer))
        assert response.status_code == 201, response.text
        assert response.json()["owner_user_id"] == str(registry.owner.id)

    @pytest.mark.parametrize("who", ["resident", "other_ward_owner", "nobody"])
    async def test_owner_account_that_is_not_a_camera_owner_of_the_ward_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, who: str
    ) -> None:
        other = await factories.make_user(session, Role.CAMERA_OWNER, BAI_CHAY)
        await session.commit()
        user_id = {"resident": cast.resident.id, "other_ward_owner": other.id}.get(
            who, uuid.uuid4()
        )
        body = new_camera(owner_user_id=str(user_id))
        response = await client.post(CAMERAS, json=body, headers=cast.headers(cast.ward_officer))
        factories.assert_problem(response, 422, "validation-error")

    async def test_neighbourhood_of_another_ward_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_camera(neighbourhood_id=str(cast.bai_chay_kp.id))
        response = await client.post(CAMERAS, json=body, headers=cast.headers(cast.admin))
        factories.assert_problem(response, 422, "validation-error")

    @pytest.mark.parametrize(
        "extra",
        [
            {"lat": 90.5},
            {"lon": -180.01},
            {"bearing_deg": 360},
            {"retention_days": 0},
            {"retention_days": 366},
            {"owner_kind": "shop"},
            {"sharing": "always"},
            {"owner_phone": "call me"},
            {"province_code": "22"},
            {"version": 3},
            {"label": ""},
            {"last_verified_on": "2999-01-01"},
        ],
    )
    async def test_invalid_field_gets_422_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        extra: dict[str, Any],
    ) -> None:
        body = {**new_camera(label="Rejected camera"), **extra}
        response = await client.post(CAMERAS, json=body, headers=cast.headers(cast.ward_officer))
        factories.assert_problem(response, 422, "validation-error")
        stored = await session.exec(select(Camera).where(col(Camera.label) == "Rejected camera"))
        assert stored.first() is None

    async def test_idempotency_key_replays_the_first_answer(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.ward_officer), "Idempotency-Key": "cam-1"}
        first = await client.post(CAMERAS, json=new_camera(label="Once"), headers=headers)
        again = await client.post(CAMERAS, json=new_camera(label="Once"), headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        stored = await session.exec(select(Camera).where(col(Camera.label) == "Once"))
        assert len(stored.all()) == 1
        other = await client.post(CAMERAS, json=new_camera(label="Twice"), headers=headers)
        factories.assert_problem(other, 422)


class TestUpdateCamera:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, registry: Registry) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}", json={"label": "X"}, headers=version(1)
        )
        factories.assert_unauthorized(response)

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.public.id}",
            json={"label": "X"},
            headers={**cast.headers(cast.resident), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}",
            json={"label": "X"},
            headers={**cast.headers(cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)

    async def test_owner_changes_their_own(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}",
            json={"sharing": "live", "status": "offline", "owner_phone": "0987654321"},
            headers={**cast.headers(registry.owner), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        stored = await fresh(session, registry.own.id)
        assert (stored.sharing, stored.status, stored.owner_phone, stored.version) == (
            "live",
            "offline",
            "0987654321",
            2,
        )
        event = (
            await session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.record_id) == str(registry.own.id),
                    col(AuditEvent.action) == "update",
                )
            )
        ).one()
        assert event.changed_fields == ["owner_phone", "sharing", "status"]

    async def test_owner_changing_a_public_camera_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.public.id}",
            json={"label": "Mine now"},
            headers={**cast.headers(registry.owner), **version(1)},
        )
        assert "your own" in factories.assert_forbidden(response)

    async def test_owner_making_their_camera_public_gets_403_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}",
            json={"owner_kind": "public", "owner_name": "Công an phường Hạ Long"},
            headers={**cast.headers(registry.owner), **version(1)},
        )
        assert "public" in factories.assert_forbidden(response)
        stored = await fresh(session, registry.own.id)
        assert (stored.owner_kind, stored.version) == ("household", 1)

    async def test_owner_changing_another_owners_camera_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.others.id}",
            json={"label": "X"},
            headers={**cast.headers(registry.owner), **version(1)},
        )
        factories.assert_not_found(response)

    async def test_owner_giving_the_camera_away_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}",
            json={"owner_user_id": str(registry.other_owner.id)},
            headers={**cast.headers(registry.owner), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_ward_officer_records_a_verification_and_moves_it(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.others.id}",
            json={"last_verified_on": "2026-02-01", "lat": 20.96, "bearing_deg": None},
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        assert response.status_code == 200, response.text
        stored = await fresh(session, registry.others.id)
        assert (str(stored.last_verified_on), stored.lat, stored.bearing_deg) == (
            "2026-02-01",
            20.96,
            None,
        )
        # Its unit vector moved with it (the unit of write derives it on every path),
        # so `near` finds it at its new place.
        assert (stored.unit_x, stored.unit_y, stored.unit_z) == pytest.approx(
            unit_vector(20.96, stored.lon)
        )
        near = await listed(
            client, cast.headers(cast.ward_officer), near=f"20.96,{stored.lon}", radius_m=50
        )
        assert str(registry.others.id) in [item["id"] for item in near]

    async def test_a_new_camera_is_placed_where_it_is_registered(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            CAMERAS,
            json={
                "ward_code": HA_LONG,
                "owner_kind": "business",
                "owner_name": "Cửa hàng Thử",
                "label": "Camera cổng",
                "address": "3 Lê Thánh Tông",
                "lat": 20.9511,
                "lon": 107.0799,
                "retention_days": 15,
                "sharing": "on_request",
            },
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        stored = await fresh(session, uuid.UUID(response.json()["id"]))
        assert (stored.unit_x, stored.unit_y, stored.unit_z) == pytest.approx(
            unit_vector(20.9511, 107.0799)
        )

    @pytest.mark.parametrize(
        "body",
        [
            {"ward_code": BAI_CHAY},
            {"province_code": "01"},
            {"label": None},
            {"lat": None},
            {"id": "x"},
        ],
    )
    async def test_immovable_or_null_field_gets_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        registry: Registry,
        body: dict[str, Any],
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}",
            json=body,
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")
        assert (await fresh(session, registry.own.id)).version == 1

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.patch(
            f"{CAMERAS}/{registry.own.id}", json={"label": "X"}, headers=cast.headers(cast.admin)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        url = f"{CAMERAS}/{registry.own.id}"
        assert (
            await client.patch(url, json={"label": "A"}, headers={**headers, **version(1)})
        ).status_code == 200
        stale = await client.patch(url, json={"label": "B"}, headers={**headers, **version(1)})
        factories.assert_problem(stale, 412, "precondition-failed")
        assert (await client.get(url, headers=headers)).json()["label"] == "A"


class TestDeleteCamera:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, registry: Registry) -> None:
        factories.assert_unauthorized(
            await client.delete(f"{CAMERAS}/{registry.own.id}", headers=version(1))
        )

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.delete(
            f"{CAMERAS}/{registry.public.id}", headers={**cast.headers(cast.resident), **version(1)}
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.delete(
            f"{CAMERAS}/{registry.own.id}",
            headers={**cast.headers(cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize("who", ["owner", "ward_officer"])
    async def test_owner_or_officer_deletes_it_and_it_is_gone(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        registry: Registry,
        who: str,
    ) -> None:
        account = getattr(registry, who, None) or getattr(cast, who)
        url = f"{CAMERAS}/{registry.own.id}"
        response = await client.delete(url, headers={**cast.headers(account), **version(1)})
        assert response.status_code == 204
        factories.assert_not_found(await client.get(url, headers=cast.headers(cast.admin)))
        assert (await fresh(session, registry.own.id)).deleted_at is not None

    async def test_camera_in_an_open_footage_request_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        await factories.make_footage_request(session, cast.ward_officer, [registry.own])
        await session.commit()
        response = await client.delete(
            f"{CAMERAS}/{registry.own.id}",
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        assert (
            "open footage request" in factories.assert_problem(response, 409, "conflict")["detail"]
        )

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, cast: Cast, registry: Registry
    ) -> None:
        response = await client.delete(
            f"{CAMERAS}/{registry.own.id}", headers=cast.headers(cast.admin)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, registry: Registry
    ) -> None:
        response = await client.delete(
            f"{CAMERAS}/{registry.own.id}", headers={**cast.headers(cast.admin), **version(2)}
        )
        factories.assert_problem(response, 412, "precondition-failed")
        assert (await fresh(session, registry.own.id)).deleted_at is None
