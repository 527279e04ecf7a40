"""Administrative units over HTTP: provinces, wards, neighbourhoods, residential groups."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.models.units import Neighbourhood, ResidentialGroup, Ward
from app.services import demo as demo_service
from app.services.demo import BAI_CHAY, HA_LONG, demo_id
from tests import factories
from tests.conftest import Cast

PROBLEM = "application/problem+json"


async def walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``next_cursor`` to the end."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = dict(params, cursor=cursor) if cursor else dict(params)
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ran out"


def flatten(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/problems/{slug}")
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


async def change(
    session: AsyncSession,
    model: type[Neighbourhood | ResidentialGroup],
    id_: uuid.UUID,
    **values: Any,
) -> None:
    """Change a stored record behind the API's back, as another writer would."""
    record = await session.get(model, id_)
    assert record is not None
    for key, value in values.items():
        setattr(record, key, value)
    session.add(record)
    await session.commit()


@pytest.fixture
async def demo(session: AsyncSession) -> None:
    """The demo neighbourhoods and groups of Hạ Long and Bãi Cháy (rolled back after the test)."""
    await demo_service.seed_demo(session)
    await session.commit()


class TestListProvinces:
    async def test_lists_all_34_provinces(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/provinces", params={"limit": 200})
        assert response.status_code == 200
        body = response.json()
        assert len(body["items"]) == 34
        assert body["next_cursor"] is None
        quang_ninh = next(p for p in body["items"] if p["code"] == "22")
        assert quang_ninh["ward_count"] == 54

    async def test_items_come_in_code_order_with_ward_counts_summing_to_3321(
        self, client: httpx.AsyncClient
    ) -> None:
        items = (await client.get("/api/v1/provinces", params={"limit": 200})).json()["items"]
        codes = [p["code"] for p in items]
        assert codes == sorted(codes)
        assert sum(p["ward_count"] for p in items) == 3321
        assert set(items[0]) >= {"code", "name", "division_type", "ward_count"}

    async def test_pages_of_10_walk_all_34_without_duplicates(
        self, client: httpx.AsyncClient
    ) -> None:
        pages = await walk(client, "/api/v1/provinces", limit=10)
        assert [len(page) for page in pages] == [10, 10, 10, 4]
        codes = [p["code"] for p in flatten(pages)]
        assert len(set(codes)) == 34
        assert codes == sorted(codes)

    async def test_page_that_ends_exactly_at_the_last_item_has_no_next_cursor(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/provinces", params={"limit": 34})
        assert len(response.json()["items"]) == 34
        assert response.json()["next_cursor"] is None

    async def test_q_matches_province_name_without_diacritics(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/provinces", params={"q": "quang ninh"})
        assert response.status_code == 200
        assert [p["code"] for p in response.json()["items"]] == ["22"]


class TestGetProvince:
    async def test_known_code_gets_quang_ninh(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/provinces/22")
        assert response.status_code == 200
        quang_ninh = {"code": "22", "name": "Quảng Ninh", "division_type": "tỉnh", "ward_count": 54}
        # Extra fields may come; these are the contract.
        assert quang_ninh.items() <= response.json().items()

    async def test_unknown_code_gets_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/provinces/99")
        body = assert_problem(response, 404, "not-found")
        assert "99" in body["detail"]

    @pytest.mark.parametrize("code", ["2", "222", "ab"])
    async def test_malformed_code_gets_422(self, client: httpx.AsyncClient, code: str) -> None:
        response = await client.get(f"/api/v1/provinces/{code}")
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["path", "code"]


class TestListWards:
    async def test_province_filter_gives_quang_ninhs_54_wards(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.get("/api/v1/wards", params={"province_code": "22", "limit": 200})
        assert response.status_code == 200
        body = response.json()
        assert body["next_cursor"] is None
        assert len(body["items"]) == 54
        assert {w["province_code"] for w in body["items"]} == {"22"}
        stored = (
            await session.exec(select(Ward.code).where(col(Ward.province_code) == "22"))
        ).all()
        assert sorted(w["code"] for w in body["items"]) == sorted(stored)

    async def test_pages_of_20_walk_all_54_wards_without_duplicates(
        self, client: httpx.AsyncClient
    ) -> None:
        pages = await walk(client, "/api/v1/wards", province_code="22", limit=20)
        assert [len(page) for page in pages] == [20, 20, 14]
        codes = [w["code"] for w in flatten(pages)]
        assert len(set(codes)) == 54
        assert codes == sorted(codes)

    async def test_default_page_has_50_wards_and_a_cursor(self, client: httpx.AsyncClient) -> None:
        body = (await client.get("/api/v1/wards")).json()
        assert len(body["items"]) == 50
        assert body["next_cursor"]

    async def test_q_ha_long_finds_phuong_ha_long_but_not_xa_pha_long(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/wards", params={"q": "ha long"})
        assert response.status_code == 200
        items = response.json()["items"]
        ha_long = {
            "code": "06688",
            "name": "Phường Hạ Long",
            "division_type": "phường",
            "province_code": "22",
        }
        assert any(ha_long.items() <= w.items() for w in items)
        assert "02752" not in {w["code"] for w in items}  # Xã Pha Long
        assert all("Pha Long" not in w["name"] for w in items)

    @pytest.mark.parametrize("q", ["HẠ LONG", "Hạ Long", "ha long", "HA LONG", "  ha   LONG "])
    async def test_q_ignores_case_diacritics_and_spacing(
        self, client: httpx.AsyncClient, q: str
    ) -> None:
        response = await client.get("/api/v1/wards", params={"q": q, "province_code": "22"})
        assert [w["code"] for w in response.json()["items"]] == ["06688"]

    async def test_q_bai_chay_finds_phuong_bai_chay(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/wards", params={"q": "bai chay"})
        assert [(w["code"], w["name"]) for w in response.json()["items"]] == [
            ("06673", "Phường Bãi Cháy")
        ]

    async def test_q_with_and_without_diacritics_find_the_same_wards(
        self, client: httpx.AsyncClient
    ) -> None:
        answers = []
        for q in ["Đông Triều", "dong trieu", "ĐÔNG TRIỀU"]:
            response = await client.get("/api/v1/wards", params={"q": q})
            answers.append(response.json()["items"])
        assert answers[0] == answers[1] == answers[2]
        assert "07093" in {w["code"] for w in answers[0]}  # Phường Đông Triều

    async def test_q_matches_the_start_of_a_word_only(self, client: httpx.AsyncClient) -> None:
        found = (await client.get("/api/v1/wards", params={"q": "trieu"})).json()["items"]
        inside_word = (await client.get("/api/v1/wards", params={"q": "rieu"})).json()["items"]
        assert {"07093", "05482"} <= {w["code"] for w in found}
        assert not {"07093", "05482"} & {w["code"] for w in inside_word}

    @pytest.mark.parametrize("q", ["%", "_", "%long", "h_ long", "\\"])
    async def test_like_wildcards_in_q_match_literally(
        self, client: httpx.AsyncClient, q: str
    ) -> None:
        response = await client.get("/api/v1/wards", params={"q": q})
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_q_combines_with_province_filter(self, client: httpx.AsyncClient) -> None:
        everywhere = (await client.get("/api/v1/wards", params={"q": "long", "limit": 200})).json()
        in_22 = (
            await client.get("/api/v1/wards", params={"q": "long", "province_code": "22"})
        ).json()
        assert {w["province_code"] for w in in_22["items"]} == {"22"}
        assert {w["code"] for w in in_22["items"]} < {w["code"] for w in everywhere["items"]}

    async def test_typographic_apostrophe_in_a_name_matches_a_typed_one(
        self, client: httpx.AsyncClient
    ) -> None:
        # The official name is "Xã Cư M’gar" (U+2019); phones type U+0027.
        response = await client.get("/api/v1/wards", params={"q": "cu m'gar"})
        assert [w["name"] for w in response.json()["items"]] == ["Xã Cư M’gar"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [({"province_code": "2"}, "province_code"), ({"q": ""}, "q"), ({"q": "x" * 101}, "q")],
    )
    async def test_malformed_filter_gets_422(
        self, client: httpx.AsyncClient, params: dict[str, str], field: str
    ) -> None:
        response = await client.get("/api/v1/wards", params=params)
        body = assert_problem(response, 422, "validation-error")
        assert [e["loc"] for e in body["errors"]] == [["query", field]]


class TestGetWard:
    async def test_known_code_gets_phuong_ha_long(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/wards/06688")
        assert response.status_code == 200
        ha_long = {
            "code": "06688",
            "name": "Phường Hạ Long",
            "division_type": "phường",
            "province_code": "22",
        }
        assert ha_long.items() <= response.json().items()

    async def test_unknown_code_gets_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/wards/99999")
        body = assert_problem(response, 404, "not-found")
        assert body["title"] == "Not found"
        assert "99999" in body["detail"]

    @pytest.mark.parametrize("code", ["abc", "6688", "066880", "0668a"])
    async def test_malformed_code_gets_422(self, client: httpx.AsyncClient, code: str) -> None:
        response = await client.get(f"/api/v1/wards/{code}")
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["path", "code"]


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

NEIGHBOURHOODS = "/api/v1/neighbourhoods"
GROUPS = "/api/v1/residential-groups"


def version(value: int) -> dict[str, str]:
    return {"If-Match": f'"{value}"'}


async def fresh(
    session: AsyncSession, model: type[Neighbourhood | ResidentialGroup], id_: uuid.UUID | str
) -> Neighbourhood | ResidentialGroup:
    """The stored record, read again."""
    session.expunge_all()
    record = await session.get(model, uuid.UUID(str(id_)))
    assert record is not None
    return record


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
