"""Administrative units over HTTP: provinces, wards, neighbourhoods, residential groups."""

from __future__ import annotations

import httpx


class TestListProvinces:
    async def test_lists_all_34_provinces(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/provinces", params={"limit": 200})
        assert response.status_code == 200
        body = response.json()
        assert len(body["items"]) == 34
        assert body["next_cursor"] is None
        quang_ninh = next(p for p in body["items"] if p["code"] == "22")
        assert quang_ninh["ward_count"] == 54
