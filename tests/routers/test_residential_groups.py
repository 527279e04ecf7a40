"""Residential groups over HTTP: public reads, ward-scoped writes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from tests import factories
from tests.conftest import Cast
from tests.units_support import (
    GROUPS,
    NEIGHBOURHOODS,
    assert_problem,
    change,
    flatten,
    fresh,
    version,
    walk,
)


@pytest.mark.usefixtures("demo")
class TestListResidentialGroups:
    async def test_ward_filter_walks_ha_longs_233_groups(self, client: httpx.AsyncClient) -> None:
        pages = await walk(client, "/api/v1/residential-groups", ward_code=HA_LONG, limit=100)
        assert [len(page) for page in pages] == [100, 100, 33]
        items = flatten(pages)
        assert len({g["id"] for g in items}) == 233
        assert [g["code"] for g in items] == [f"T{i:03d}" for i in range(1, 234)]
        assert sum(g["population"] for g in items) == 53_000

    async def test_neighbourhood_filter_gives_its_groups_summing_to_its_population(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        kp02 = demo_id("neighbourhood", HA_LONG, "KP02")
        pages = await walk(client, "/api/v1/residential-groups", neighbourhood_id=kp02, limit=4)
        items = flatten(pages)
        assert [len(page) for page in pages] == [4, 4, 1]
        assert {g["neighbourhood_id"] for g in items} == {str(kp02)}
        neighbourhood = await session.get(Neighbourhood, kp02)
        assert neighbourhood is not None
        assert sum(g["population"] for g in items) == neighbourhood.population
        stored = (
            await session.exec(
                select(func.count())
                .select_from(ResidentialGroup)
                .where(col(ResidentialGroup.neighbourhood_id) == kp02)
            )
        ).one()
        assert len(items) == stored == 9

    async def test_neighbourhood_of_another_ward_and_ward_filter_give_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        bai_chay_kp01 = demo_id("neighbourhood", BAI_CHAY, "KP01")
        response = await client.get(
            "/api/v1/residential-groups",
            params={"neighbourhood_id": str(bai_chay_kp01), "ward_code": HA_LONG},
        )
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_malformed_neighbourhood_id_gets_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/api/v1/residential-groups", params={"neighbourhood_id": "KP01"}
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["query", "neighbourhood_id"]


@pytest.mark.usefixtures("demo")
class TestGetResidentialGroup:
    async def test_known_id_gets_it_with_etag_of_its_version(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        group_id = demo_id("residential-group", HA_LONG, "T010")
        group = await session.get(ResidentialGroup, group_id)
        assert group is not None
        response = await client.get(f"/api/v1/residential-groups/{group_id}")
        assert response.status_code == 200
        assert response.headers["etag"] == f'"{group.version}"'
        body = response.json()
        assert body["code"] == "T010"
        assert body["name"] == "Tổ 10"
        assert body["neighbourhood_id"] == str(group.neighbourhood_id)
        assert (body["households"], body["population"]) == (group.households, group.population)

    async def test_etag_follows_a_version_change(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        group_id = demo_id("residential-group", HA_LONG, "T001")
        await change(session, ResidentialGroup, group_id, version=2)
        response = await client.get(f"/api/v1/residential-groups/{group_id}")
        assert response.headers["etag"] == '"2"'
        assert response.json()["version"] == 2

    async def test_unknown_id_gets_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api/v1/residential-groups/{uuid.uuid4()}")
        body = assert_problem(response, 404, "not-found")
        assert "residential group" in body["detail"]

    async def test_malformed_uuid_gets_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/residential-groups/12345")
        assert_problem(response, 422, "validation-error")


# --- writes: ward officers in their ward, admins anywhere ---------------------


class TestCreateResidentialGroup:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        body = {"neighbourhood_id": str(cast.ha_long_kp.id), "code": "T900", "name": "Tổ 900"}
        factories.assert_unauthorized(await client.post(GROUPS, json=body))

    async def test_resident_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.post(
            GROUPS,
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "code": "T900", "name": "Tổ 900"},
            headers=cast.headers(cast.resident),
        )
        assert "units:write" in factories.assert_forbidden(response)

    async def test_under_another_wards_neighbourhood_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            GROUPS,
            json={"neighbourhood_id": str(cast.bai_chay_kp.id), "code": "T900", "name": "Tổ 900"},
            headers=cast.headers(cast.ward_officer),
        )
        factories.assert_not_found(response)
        stored = await session.exec(
            select(ResidentialGroup).where(col(ResidentialGroup.code) == "T900")
        )
        assert stored.first() is None

    async def test_under_an_unknown_neighbourhood_gets_404(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            GROUPS,
            json={"neighbourhood_id": str(uuid.uuid4()), "code": "T900", "name": "Tổ 900"},
            headers=cast.headers(cast.admin),
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize("role", ["ward_officer", "admin"])
    async def test_right_role_creates_it_in_the_neighbourhoods_ward(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.post(
            GROUPS,
            json={
                "neighbourhood_id": str(cast.ha_long_kp.id),
                "code": "T900",
                "name": "Tổ 900",
                "households": 52,
            },
            headers=cast.headers(getattr(cast, role)),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{GROUPS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert (body["province_code"], body["ward_code"], body["neighbourhood_id"]) == (
            "22",
            HA_LONG,
            str(cast.ha_long_kp.id),
        )
        assert (body["households"], body["population"]) == (52, 0)
        assert (await client.get(response.headers["location"])).json() == body

    async def test_taken_code_in_the_neighbourhood_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        group = await factories.make_group(session, cast.ha_long_kp)
        await session.commit()
        response = await client.post(
            GROUPS,
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "code": group.code, "name": "T"},
            headers=cast.headers(cast.ward_officer),
        )
        factories.assert_problem(response, 409, "conflict")

    @pytest.mark.parametrize("extra", [{"ward_code": BAI_CHAY}, {"province_code": "01"}])
    async def test_unknown_field_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, extra: dict[str, Any]
    ) -> None:
        response = await client.post(
            GROUPS,
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "code": "T9", "name": "T", **extra},
            headers=cast.headers(cast.ward_officer),
        )
        factories.assert_problem(response, 422, "validation-error")


class TestUpdateResidentialGroup:
    @pytest.fixture
    async def group(self, session: AsyncSession, cast: Cast) -> ResidentialGroup:
        group = await factories.make_group(session, cast.ha_long_kp)
        await session.commit()
        return group

    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, group: ResidentialGroup
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}", json={"name": "X"}, headers=version(1)
        )
        factories.assert_unauthorized(response)

    async def test_head_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}",
            json={"name": "X"},
            headers={**cast.headers(cast.head), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}",
            json={"name": "X"},
            headers={**cast.headers(cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)

    async def test_ward_officer_changes_it_and_gets_the_new_etag(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        group: ResidentialGroup,
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}",
            json={"households": 61},
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert (await fresh(session, ResidentialGroup, group.id)).households == 61

    @pytest.mark.parametrize(
        ("field", "value"),
        [("neighbourhood_id", str(uuid.uuid4())), ("ward_code", BAI_CHAY), ("version", 3)],
    )
    async def test_mass_assigned_field_gets_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        group: ResidentialGroup,
        field: str,
        value: Any,
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}",
            json={field: value},
            headers={**cast.headers(cast.ward_officer), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")
        record = await fresh(session, ResidentialGroup, group.id)
        assert (record.neighbourhood_id, record.version) == (cast.ha_long_kp.id, 1)

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}", json={"name": "X"}, headers=cast.headers(cast.admin)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.patch(
            f"{GROUPS}/{group.id}",
            json={"name": "X"},
            headers={**cast.headers(cast.admin), **version(4)},
        )
        factories.assert_problem(response, 412, "precondition-failed")


class TestDeleteResidentialGroup:
    @pytest.fixture
    async def group(self, session: AsyncSession, cast: Cast) -> ResidentialGroup:
        group = await factories.make_group(session, cast.bai_chay_kp)
        await session.commit()
        return group

    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, group: ResidentialGroup
    ) -> None:
        factories.assert_unauthorized(
            await client.delete(f"{GROUPS}/{group.id}", headers=version(1))
        )

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.delete(
            f"{GROUPS}/{group.id}", headers={**cast.headers(cast.other_resident), **version(1)}
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.delete(
            f"{GROUPS}/{group.id}", headers={**cast.headers(cast.ward_officer), **version(1)}
        )
        factories.assert_not_found(response)

    async def test_ward_officer_deletes_it_and_then_its_neighbourhood(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        group: ResidentialGroup,
    ) -> None:
        headers = cast.headers(cast.other_ward_officer)
        response = await client.delete(f"{GROUPS}/{group.id}", headers={**headers, **version(1)})
        assert response.status_code == 204
        factories.assert_not_found(await client.get(f"{GROUPS}/{group.id}"))
        assert (await fresh(session, ResidentialGroup, group.id)).deleted_at is not None
        emptied = await client.delete(
            f"{NEIGHBOURHOODS}/{cast.bai_chay_kp.id}", headers={**headers, **version(1)}
        )
        assert emptied.status_code == 204

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.delete(f"{GROUPS}/{group.id}", headers=cast.headers(cast.admin))
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, cast: Cast, group: ResidentialGroup
    ) -> None:
        response = await client.delete(
            f"{GROUPS}/{group.id}", headers={**cast.headers(cast.admin), **version(2)}
        )
        factories.assert_problem(response, 412, "precondition-failed")
