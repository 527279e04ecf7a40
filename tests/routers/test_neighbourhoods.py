"""Neighbourhoods over HTTP: public reads, ward-scoped writes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.models.neighbourhoods import Neighbourhood
from tests import factories
from tests.conftest import Cast
from tests.units_support import (
    NEIGHBOURHOODS,
    assert_problem,
    change,
    flatten,
    fresh,
    version,
    walk,
)


@pytest.mark.usefixtures("demo")
class TestListNeighbourhoods:
    async def test_pages_of_10_walk_ha_longs_27_in_code_order(
        self, client: httpx.AsyncClient
    ) -> None:
        pages = await walk(client, "/api/v1/neighbourhoods", ward_code=HA_LONG, limit=10)
        assert [len(page) for page in pages] == [10, 10, 7]
        items = flatten(pages)
        assert [n["code"] for n in items] == [f"KP{i:02d}" for i in range(1, 28)]
        assert len({n["id"] for n in items}) == 27
        assert {(n["ward_code"], n["province_code"]) for n in items} == {(HA_LONG, "22")}

    async def test_ha_long_population_totals_53000(self, client: httpx.AsyncClient) -> None:
        body = (
            await client.get("/api/v1/neighbourhoods", params={"ward_code": HA_LONG, "limit": 200})
        ).json()
        assert sum(n["population"] for n in body["items"]) == 53_000
        assert all(n["households"] > 0 for n in body["items"])

    async def test_items_carry_record_fields(self, client: httpx.AsyncClient) -> None:
        body = (
            await client.get("/api/v1/neighbourhoods", params={"ward_code": HA_LONG, "limit": 1})
        ).json()
        first = body["items"][0]
        assert first["id"] == str(demo_id("neighbourhood", HA_LONG, "KP01"))
        assert first["name"] == "Khu phố 1"
        assert first["version"] == 1
        assert first["created_at"].endswith(("+00:00", "Z"))
        assert set(first) >= {"id", "created_at", "updated_at", "version", "households"}

    async def test_without_filter_lists_both_demo_wards(self, client: httpx.AsyncClient) -> None:
        items = flatten(await walk(client, "/api/v1/neighbourhoods", limit=7))
        wards = [n["ward_code"] for n in items]
        assert wards.count(HA_LONG) == 27
        assert wards.count(BAI_CHAY) == 5
        assert len({n["id"] for n in items}) == 32

    async def test_ward_without_neighbourhoods_gets_an_empty_page(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/neighbourhoods", params={"ward_code": "07093"})
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_soft_deleted_neighbourhood_is_not_listed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        kp05 = demo_id("neighbourhood", HA_LONG, "KP05")
        await change(session, Neighbourhood, kp05, deleted_at=utcnow())
        items = flatten(await walk(client, "/api/v1/neighbourhoods", ward_code=HA_LONG))
        assert len(items) == 26
        assert "KP05" not in {n["code"] for n in items}


@pytest.mark.usefixtures("demo")
class TestGetNeighbourhood:
    async def test_known_id_gets_it_with_etag_of_its_version(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        kp03 = demo_id("neighbourhood", HA_LONG, "KP03")
        await change(session, Neighbourhood, kp03, version=4)
        response = await client.get(f"/api/v1/neighbourhoods/{kp03}")
        assert response.status_code == 200
        assert response.headers["etag"] == '"4"'
        body = response.json()
        assert (body["id"], body["code"], body["ward_code"]) == (str(kp03), "KP03", HA_LONG)
        assert body["version"] == 4

    async def test_fresh_record_has_etag_1(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            f"/api/v1/neighbourhoods/{demo_id('neighbourhood', BAI_CHAY, 'KP01')}"
        )
        assert response.headers["etag"] == '"1"'

    async def test_unknown_id_gets_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api/v1/neighbourhoods/{uuid.uuid4()}")
        assert_problem(response, 404, "not-found")
        assert "etag" not in response.headers

    async def test_soft_deleted_id_gets_404_problem(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        kp01 = demo_id("neighbourhood", HA_LONG, "KP01")
        await change(session, Neighbourhood, kp01, deleted_at=utcnow())
        assert_problem(await client.get(f"/api/v1/neighbourhoods/{kp01}"), 404, "not-found")

    async def test_malformed_uuid_gets_422(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(
            await client.get("/api/v1/neighbourhoods/not-a-uuid"), 422, "validation-error"
        )
        assert body["errors"][0]["loc"] == ["path", "neighbourhood_id"]


class TestCreateNeighbourhood:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        body = {"ward_code": HA_LONG, "code": "KP90", "name": "Khu phố 90"}
        factories.assert_unauthorized(await client.post(NEIGHBOURHOODS, json=body))

    @pytest.mark.parametrize("role", ["head", "resident", "province_officer"])
    async def test_role_without_units_write_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": HA_LONG, "code": "KP90", "name": "Khu phố 90"},
            headers=cast.headers(getattr(cast, role)),
        )
        assert "units:write" in factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_403_with_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        # The ward is public, so "not found" would be a lie: the answer says why.
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": HA_LONG, "code": "KP90", "name": "Khu phố 90"},
            headers=cast.headers(cast.other_ward_officer),
        )
        assert "own ward" in factories.assert_forbidden(response)
        stored = await session.exec(select(Neighbourhood).where(col(Neighbourhood.code) == "KP90"))
        assert stored.first() is None

    async def test_ward_officer_creates_in_their_ward_and_anyone_reads_it(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            NEIGHBOURHOODS,
            json={
                "ward_code": HA_LONG,
                "code": "KP90",
                "name": "Khu phố 90",
                "households": 410,
                "population": 1560,
            },
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{NEIGHBOURHOODS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert (body["province_code"], body["ward_code"], body["code"], body["version"]) == (
            "22",
            HA_LONG,
            "KP90",
            1,
        )
        assert (body["households"], body["population"]) == (410, 1560)
        public = await client.get(response.headers["location"])
        assert public.status_code == 200
        assert public.json() == body
        listed = await client.get(NEIGHBOURHOODS, params={"ward_code": HA_LONG})
        assert body["id"] in {item["id"] for item in listed.json()["items"]}

    async def test_admin_creates_in_any_province(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": factories.HOAN_KIEM, "code": "KP01", "name": "Khu phố 1"},
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 201, response.text
        assert (response.json()["province_code"], response.json()["ward_code"]) == (
            "01",
            factories.HOAN_KIEM,
        )

    async def test_taken_code_in_the_ward_gets_409_but_another_ward_may_use_it(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        taken = cast.ha_long_kp.code
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": HA_LONG, "code": taken, "name": "Trùng mã"},
            headers=cast.headers(cast.ward_officer),
        )
        factories.assert_problem(response, 409, "conflict")
        elsewhere = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": BAI_CHAY, "code": taken, "name": "Trùng mã"},
            headers=cast.headers(cast.other_ward_officer),
        )
        assert elsewhere.status_code == 201, elsewhere.text

    async def test_unknown_ward_gets_422(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": "99999", "code": "KP01", "name": "Khu phố 1"},
            headers=cast.headers(cast.admin),
        )
        factories.assert_problem(response, 422, "validation-error")

    @pytest.mark.parametrize(
        "extra",
        [
            {"province_code": "01"},
            {"id": "0190c3f4-0000-7000-8000-000000000000"},
            {"version": 5},
            {"deleted_at": None},
        ],
    )
    async def test_unknown_field_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, extra: dict[str, Any]
    ) -> None:
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": HA_LONG, "code": "KP91", "name": "Khu phố 91", **extra},
            headers=cast.headers(cast.admin),
        )
        body = factories.assert_problem(response, 422, "validation-error")
        assert [error["loc"] for error in body["errors"]] == [["body", next(iter(extra))]]

    async def test_ward_system_without_units_write_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        machine, _ = await factories.make_client(session, HA_LONG)
        await session.commit()
        response = await client.post(
            NEIGHBOURHOODS,
            json={"ward_code": HA_LONG, "code": "KP92", "name": "Khu phố 92"},
            headers=cast.headers(machine),
        )
        factories.assert_forbidden(response)


class TestUpdateNeighbourhood:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}", json={"name": "X"}, headers=version(1)
        )
        factories.assert_unauthorized(response)

    async def test_head_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"name": "X"},
            headers={**cast.headers(cast.head), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"name": "Chiếm"},
            headers={**cast.headers(cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)
        assert (await fresh(session, Neighbourhood, cast.ha_long_kp.id)).version == 1

    @pytest.mark.parametrize("role", ["ward_officer", "admin"])
    async def test_right_role_changes_it_and_gets_the_new_etag(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, role: str
    ) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"name": "Khu phố Mới", "population": 1234},
            headers={**cast.headers(getattr(cast, role)), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        body = response.json()
        assert (body["name"], body["population"], body["version"]) == ("Khu phố Mới", 1234, 2)
        assert body["households"] == cast.ha_long_kp.households
        record = await fresh(session, Neighbourhood, cast.ha_long_kp.id)
        assert (record.name, record.population, record.version) == ("Khu phố Mới", 1234, 2)
        read = await client.get(f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}")
        assert read.headers["etag"] == '"2"'

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("role", "admin"),
            ("unit_code", BAI_CHAY),
            ("version", 1),
            ("ward_code", BAI_CHAY),
            ("province_code", "01"),
            ("id", "0190c3f4-0000-7000-8000-000000000000"),
        ],
    )
    async def test_mass_assigned_field_gets_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        field: str,
        value: Any,
    ) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={field: value, "name": "Đổi tên"},
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        body = factories.assert_problem(response, 422, "validation-error")
        assert [error["loc"] for error in body["errors"]] == [["body", field]]
        record = await fresh(session, Neighbourhood, cast.ha_long_kp.id)
        assert (record.ward_code, record.province_code, record.name, record.version) == (
            HA_LONG,
            "22",
            cast.ha_long_kp.name,
            1,
        )

    @pytest.mark.parametrize("change", [{"name": None}, {"households": -1}, {"code": "bad code"}])
    async def test_invalid_value_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, change: dict[str, Any]
    ) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json=change,
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")

    async def test_code_taken_in_the_ward_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        other = await factories.make_neighbourhood(session, HA_LONG, "KP-TAKEN")
        await session.commit()
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"code": other.code},
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        factories.assert_problem(response, 409, "conflict")

    async def test_without_if_match_gets_428(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"name": "X"},
            headers=cast.headers(cast.ward_officer),
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412_and_keeps_the_first_change(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        url = f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}"
        first = await client.patch(url, json={"name": "Một"}, headers={**headers, **version(1)})
        assert first.status_code == 200
        second = await client.patch(url, json={"name": "Hai"}, headers={**headers, **version(1)})
        factories.assert_problem(second, 412, "precondition-failed")
        record = await fresh(session, Neighbourhood, cast.ha_long_kp.id)
        assert (record.name, record.version) == ("Một", 2)

    async def test_etag_with_surrounding_spaces_matches(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"name": "Khớp"},
            headers={**cast.headers(cast.ward_officer), "If-Match": ' "1" '},
        )
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize("header", ["1", '"one"', '"-1"', 'W/"1"', '"1", "2"', "*"])
    async def test_if_match_naming_no_version_gets_412(
        self, client: httpx.AsyncClient, cast: Cast, header: str
    ) -> None:
        response = await client.patch(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            json={"name": "X"},
            headers={**cast.headers(cast.ward_officer), "If-Match": header},
        )
        factories.assert_problem(response, 412, "precondition-failed")


class TestDeleteNeighbourhood:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.delete(f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}", headers=version(1))
        factories.assert_unauthorized(response)

    async def test_resident_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.delete(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            headers={**cast.headers(cast.resident), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.delete(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            headers={**cast.headers(cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)
        assert (await fresh(session, Neighbourhood, cast.ha_long_kp.id)).deleted_at is None

    @pytest.mark.parametrize("role", ["ward_officer", "admin"])
    async def test_right_role_deletes_an_empty_one_which_is_then_gone(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, role: str
    ) -> None:
        url = f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}"
        response = await client.delete(
            url, headers={**cast.headers(getattr(cast, role)), **version(1)}
        )
        assert response.status_code == 204
        factories.assert_not_found(await client.get(url))
        assert (await fresh(session, Neighbourhood, cast.ha_long_kp.id)).deleted_at is not None

    async def test_one_with_residential_groups_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        await factories.make_group(session, cast.ha_long_kp)
        await session.commit()
        response = await client.delete(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        body = factories.assert_problem(response, 409, "conflict")
        assert "1 residential groups" in body["detail"]

    async def test_without_if_match_gets_428(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.delete(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}", headers=cast.headers(cast.ward_officer)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.delete(
            f"{NEIGHBOURHOODS}/{cast.ha_long_kp.id}",
            headers={**cast.headers(cast.ward_officer), **version(2)},
        )
        factories.assert_problem(response, 412, "precondition-failed")
        assert (await fresh(session, Neighbourhood, cast.ha_long_kp.id)).deleted_at is None
