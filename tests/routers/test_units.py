"""Official administrative units over HTTP: provinces and wards."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.units import Ward
from tests.units_support import (
    assert_problem,
    flatten,
    walk,
)


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
