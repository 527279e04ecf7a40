"""Keyset pages and their cursors: round trips, forgeries, cursors from other lists, limits."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Date, Integer, MetaData, Table, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import InvalidCursor
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from tests.conftest import TEST_SECRET

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def assert_invalid_cursor(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/problems/invalid-cursor")
    assert body["title"] == "Invalid cursor"
    assert body["status"] == 422


def flip(cursor: str, position: int) -> str:
    """``cursor`` with the character at ``position`` replaced by another of the alphabet."""
    replacement = "B" if cursor[position] == "A" else "A"
    return cursor[:position] + replacement + cursor[position + 1 :]


async def first_cursor(client: httpx.AsyncClient, path: str, **params: Any) -> str:
    response = await client.get(path, params={"limit": 2, **params})
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


class TestCursorCodec:
    codec = CursorCodec(TEST_SECRET)

    def test_round_trip_gives_back_the_values(self) -> None:
        row_id = uuid.uuid4()
        created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        cursor = self.codec.encode("wards:abc", ["06688", 7, row_id, created])
        assert self.codec.decode("wards:abc", cursor) == [
            "06688",
            7,
            str(row_id),
            created.isoformat(),
        ]

    def test_cursor_is_url_safe_without_padding(self) -> None:
        cursor = self.codec.encode("wards:abc", ["Phường Hạ Long", "a/b+c?"])
        assert set(cursor) <= set(ALPHABET)

    def test_other_scope_is_refused(self) -> None:
        cursor = self.codec.encode("provinces:abc", ["22"])
        with pytest.raises(InvalidCursor, match="another list"):
            self.codec.decode("wards:abc", cursor)

    def test_cursor_signed_with_another_secret_is_refused(self) -> None:
        forged = CursorCodec("some-other-secret").encode("wards:abc", ["06688"])
        with pytest.raises(InvalidCursor, match="not one this API issued"):
            self.codec.decode("wards:abc", forged)

    def test_unsigned_payload_is_refused(self) -> None:
        payload = b'{"s":"wards:abc","v":["06688"]}'
        unsigned = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        with pytest.raises(InvalidCursor):
            self.codec.decode("wards:abc", unsigned)

    @pytest.mark.parametrize("cursor", ["", "!!!!", "***%%%", "é", "A", "AAAA"])
    def test_garbage_is_refused(self, cursor: str) -> None:
        with pytest.raises(InvalidCursor):
            self.codec.decode("wards:abc", cursor)

    @given(
        values=st.lists(
            st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=40), st.uuids()),
            min_size=1,
            max_size=4,
        ),
        scope=st.text(min_size=1, max_size=30),
    )
    def test_any_values_round_trip(self, values: list[Any], scope: str) -> None:
        expected = [str(v) if isinstance(v, uuid.UUID) else v for v in values]
        assert self.codec.decode(scope, self.codec.encode(scope, values)) == expected

    @given(
        values=st.lists(st.text(max_size=12), min_size=1, max_size=3),
        data=st.data(),
    )
    def test_tampering_never_yields_other_values(self, values: list[str], data: Any) -> None:
        # Any one changed character is refused, or (in the spare low bits of
        # the last base64 character) decodes to exactly the same values.
        cursor = self.codec.encode("s", values)
        position = data.draw(st.integers(0, len(cursor) - 1))
        char = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != cursor[position]))
        tampered = cursor[:position] + char + cursor[position + 1 :]
        try:
            decoded = self.codec.decode("s", tampered)
        except InvalidCursor:
            return
        assert decoded == values


class TestCursorsOverHttp:
    async def test_following_cursors_gives_each_province_once(
        self, client: httpx.AsyncClient
    ) -> None:
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(4):
            params: dict[str, Any] = {"limit": 10}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get("/api/v1/provinces", params=params)).json()
            seen += [p["code"] for p in body["items"]]
            cursor = body["next_cursor"]
        assert cursor is None
        assert len(seen) == len(set(seen)) == 34

    async def test_same_cursor_twice_gives_the_same_page(self, client: httpx.AsyncClient) -> None:
        cursor = await first_cursor(client, "/api/v1/wards", province_code="22")
        params = {"limit": 2, "province_code": "22", "cursor": cursor}
        first = await client.get("/api/v1/wards", params=params)
        again = await client.get("/api/v1/wards", params=params)
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()

    async def test_flipped_character_gets_invalid_cursor(self, client: httpx.AsyncClient) -> None:
        cursor = await first_cursor(client, "/api/v1/provinces")
        for position in (0, len(cursor) // 2, len(cursor) - 2):
            response = await client.get(
                "/api/v1/provinces", params={"limit": 2, "cursor": flip(cursor, position)}
            )
            assert_invalid_cursor(response)

    @pytest.mark.parametrize("keep", [0.5, 0.2])
    async def test_truncated_cursor_gets_invalid_cursor(
        self, client: httpx.AsyncClient, keep: float
    ) -> None:
        cursor = await first_cursor(client, "/api/v1/provinces")
        truncated = cursor[: int(len(cursor) * keep)]
        response = await client.get("/api/v1/provinces", params={"cursor": truncated})
        assert_invalid_cursor(response)

    async def test_random_base64_gets_invalid_cursor(self, client: httpx.AsyncClient) -> None:
        random_cursor = base64.urlsafe_b64encode(os.urandom(48)).rstrip(b"=").decode()
        response = await client.get("/api/v1/wards", params={"cursor": random_cursor})
        assert_invalid_cursor(response)

    @pytest.mark.parametrize("garbage", ["not base64 at all!", "%%%", "Hạ Long", "{}", "=="])
    async def test_non_base64_garbage_gets_invalid_cursor(
        self, client: httpx.AsyncClient, garbage: str
    ) -> None:
        response = await client.get("/api/v1/wards", params={"cursor": garbage})
        assert_invalid_cursor(response)

    async def test_province_cursor_on_wards_gets_invalid_cursor(
        self, client: httpx.AsyncClient
    ) -> None:
        cursor = await first_cursor(client, "/api/v1/provinces")
        response = await client.get("/api/v1/wards", params={"cursor": cursor})
        assert_invalid_cursor(response)
        assert "another list" in response.json()["detail"]

    async def test_cursor_reused_with_another_province_gets_invalid_cursor(
        self, client: httpx.AsyncClient
    ) -> None:
        cursor = await first_cursor(client, "/api/v1/wards", province_code="22")
        other = await client.get("/api/v1/wards", params={"province_code": "01", "cursor": cursor})
        unfiltered = await client.get("/api/v1/wards", params={"cursor": cursor})
        assert_invalid_cursor(other)
        assert_invalid_cursor(unfiltered)

    async def test_cursor_reused_with_another_q_gets_invalid_cursor(
        self, client: httpx.AsyncClient
    ) -> None:
        cursor = await first_cursor(client, "/api/v1/wards", q="long")
        response = await client.get("/api/v1/wards", params={"q": "hai", "cursor": cursor})
        assert_invalid_cursor(response)

    async def test_cursor_survives_q_typed_with_diacritics_or_case(
        self, client: httpx.AsyncClient
    ) -> None:
        # The cursor is bound to the folded query, which is what the list filters on.
        cursor = await first_cursor(client, "/api/v1/wards", q="long")
        plain = await client.get("/api/v1/wards", params={"q": "long", "cursor": cursor})
        accented = await client.get("/api/v1/wards", params={"q": "LÕNG", "cursor": cursor})
        assert plain.status_code == accented.status_code == 200
        assert plain.json() == accented.json()

    async def test_neighbourhood_cursor_on_residential_groups_gets_invalid_cursor(
        self, client: httpx.AsyncClient
    ) -> None:
        cursor = await first_cursor(client, "/api/v1/wards")
        response = await client.get("/api/v1/neighbourhoods", params={"cursor": cursor})
        assert_invalid_cursor(response)

    async def test_cursor_over_1024_characters_gets_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/wards", params={"cursor": "A" * 1025})
        assert response.status_code == 422
        assert [e["loc"] for e in response.json()["errors"]] == [["query", "cursor"]]


class TestLimit:
    @pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5"])
    async def test_out_of_range_or_non_integer_limit_gets_422_naming_limit(
        self, client: httpx.AsyncClient, limit: str
    ) -> None:
        response = await client.get("/api/v1/wards", params={"limit": limit})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"].endswith("/problems/validation-error")
        assert [e["loc"] for e in body["errors"]] == [["query", "limit"]]
        assert all(e["msg"] and e["type"] for e in body["errors"])

    @pytest.mark.parametrize(("limit", "count"), [(1, 1), (200, 200)])
    async def test_limit_at_the_bounds_is_honoured(
        self, client: httpx.AsyncClient, limit: int, count: int
    ) -> None:
        response = await client.get("/api/v1/wards", params={"limit": limit})
        assert response.status_code == 200
        assert len(response.json()["items"]) == count
        assert response.json()["next_cursor"] is not None


class TestDateKeys:
    async def test_a_cursor_over_a_date_column_binds_a_date(self, session: AsyncSession) -> None:
        days = Table("cursor_test_days", MetaData(), Column("day", Date), Column("n", Integer))
        await session.run_sync(lambda sync: days.create(sync.connection()))
        await session.exec(  # type: ignore[call-overload]
            days.insert().values([{"day": date(2025, 1, d), "n": d} for d in (1, 2, 3)])
        )
        keyset = Keyset("days", (days.c.day, days.c.n))
        codec = CursorCodec(TEST_SECRET)
        statement = select(days.c.day, days.c.n)
        first, cursor = await fetch_page(session, statement, keyset, PageParams(2, None), codec)
        assert [row.day for row in first] == [date(2025, 1, 1), date(2025, 1, 2)]
        assert cursor is not None
        second, last = await fetch_page(session, statement, keyset, PageParams(2, cursor), codec)
        assert [row.day for row in second] == [date(2025, 1, 3)]
        assert last is None
