"""Dates and datetimes out of range: refused with a 422 naming the field (Open311: its 400),
the same on SQLite and PostgreSQL, and nothing stored (issue 16, item 13)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import HA_LONG
from app.models.broadcasts import Broadcast
from tests.conftest import Cast
from tests.routers.test_input_text import REPORTS, count, refused
from tests.routers.test_open311 import BASE as OPEN311
from tests.routers.test_open311 import errors

TOO_LATE = "9999-12-31T23:59:59-14:00"
TOO_EARLY = "0001-01-01T00:00:00+14:00"


class TestDatesOutOfRange:
    @pytest.mark.parametrize(
        ("path", "account", "params"),
        [
            (REPORTS, "ward_officer", {}),
            (f"{REPORTS}/statistics", "ward_officer", {"unit_code": HA_LONG}),
            ("/api/v1/audit-events", "admin", {}),
        ],
    )
    @pytest.mark.parametrize(("name", "value"), [("to", TOO_LATE), ("from", TOO_EARLY)])
    async def test_period_out_of_range_gets_422_naming_it(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        path: str,
        account: str,
        params: dict[str, str],
        name: str,
        value: str,
    ) -> None:
        response = await client.get(
            path,
            params={**params, name: value},
            headers=cast.headers(getattr(cast, account)),
        )
        error = refused(response, ["query", name], "datetime_out_of_range")
        assert "1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z" in error["msg"]

    @pytest.mark.parametrize(
        ("name", "value"), [("from", "1900-01-01T00:00:00Z"), ("to", "2999-12-31T23:59:59Z")]
    )
    async def test_period_at_the_bounds_is_answered(
        self, client: httpx.AsyncClient, cast: Cast, name: str, value: str
    ) -> None:
        for path, params in ((REPORTS, {}), (f"{REPORTS}/statistics", {"unit_code": HA_LONG})):
            response = await client.get(
                path,
                params={**params, name: value},
                headers=cast.headers(cast.ward_officer),
            )
            assert response.status_code == 200, response.text

    @pytest.mark.parametrize("publish_at", [TOO_LATE, TOO_EARLY, "3000-01-01T00:00:00Z"])
    async def test_broadcast_published_out_of_range_gets_422_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, publish_at: str
    ) -> None:
        response = await client.post(
            "/api/v1/broadcasts",
            json={
                "title": "Cảnh báo ngoài phạm vi",
                "body": "Nội dung.",
                "kind": "warning",
                "target_unit_codes": [HA_LONG],
                "publish_at": publish_at,
            },
            headers=cast.headers(cast.ward_officer),
        )
        refused(response, ["body", "publish_at"], "datetime_out_of_range")
        stored = select(func.count()).select_from(Broadcast)
        assert (
            await count(session, stored.where(col(Broadcast.title) == "Cảnh báo ngoài phạm vi"))
            == 0
        )

    @pytest.mark.parametrize(("name", "value"), [("from", "0001-01-01"), ("to", "9999-12-31")])
    async def test_day_out_of_range_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, name: str, value: str
    ) -> None:
        response = await client.get(
            "/api/v1/drills", params={name: value}, headers=cast.headers(cast.ward_officer)
        )
        error = refused(response, ["query", name], "date_out_of_range")
        assert "1900-01-01 and 2999-12-31" in error["msg"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
class TestOpen311DatesOutOfRange:
    @pytest.mark.parametrize(("name", "value"), [("start_date", TOO_EARLY), ("end_date", TOO_LATE)])
    @pytest.mark.parametrize("listing", ["requests", "servicerequestupdates"])
    async def test_window_out_of_range_gets_400_naming_it(
        self, client: httpx.AsyncClient, fmt: str, listing: str, name: str, value: str
    ) -> None:
        response = await client.get(
            f"{OPEN311}/{listing}.{fmt}", params={"jurisdiction_id": HA_LONG, name: value}
        )
        [description] = errors(response, fmt, 400)
        assert description == (
            f"{name} must lie between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z."
        )

    async def test_window_at_the_first_instant_is_answered(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        response = await client.get(
            f"{OPEN311}/requests.{fmt}",
            params={"jurisdiction_id": HA_LONG, "start_date": "1900-01-01T00:00:00Z"},
        )
        assert response.status_code == 200, response.text
