"""Reads of routes that only read, through a real app: on PostgreSQL they run as prepared
statements straight on asyncpg (app.data.prepared.Prepared); the answers must be the same bytes as
the ones SQLAlchemy gives (the create answer, serialized by pydantic)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.data.prepared import Prepared
from app.demo.places import HA_LONG
from app.security import Role
from app.services.reports.records import REPORT_COLUMNS
from tests.conftest import Committed
from tests.factories import headers_for, make_user
from tests.test_db import read_session, request_for

REPORTS = "/api/v1/reports"


async def resident_and_officer(committed: Committed) -> tuple[dict[str, str], dict[str, str]]:
    async with committed.sessionmaker() as session:
        resident = await make_user(
            session, Role.RESIDENT, HA_LONG, username=f"{committed.prefix}resident"
        )
        officer = await make_user(
            session, Role.WARD_OFFICER, HA_LONG, username=f"{committed.prefix}officer"
        )
        await session.commit()
    return headers_for(committed.app, resident), headers_for(committed.app, officer)


def filed(**values: Any) -> dict[str, Any]:
    return {
        "category": "theft",
        "description": "Mất xe máy trước cổng chợ Hạ Long lúc 21 giờ.",
        "address": "Chợ Hạ Long 1",
        "lat": 20.9526,
        "lon": 107.0812,
        "media_refs": ["https://media.example.vn/abc.jpg"],
        "attributes": {"stolen_item": "motorbike", "in_progress": "no"},
        "ward_code": HA_LONG,
        **values,
    }


async def file_reports(committed: Committed, headers: dict[str, str], count: int) -> list[str]:
    """The ids of ``count`` reports filed with ``headers``, oldest first."""
    ids = []
    for _ in range(count):
        created = await committed.client.post(REPORTS, json=filed(), headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


class TestPreparedReads:
    async def test_report_by_id_reads_as_it_was_created(self, committed: Committed) -> None:
        resident, officer = await resident_and_officer(committed)
        created = await committed.client.post(REPORTS, json=filed(), headers=resident)
        assert created.status_code == 201, created.text
        answer = created.json()
        answer.pop("tracking_code")

        read = await committed.client.get(f"{REPORTS}/{answer['id']}", headers=officer)

        assert read.status_code == 200, read.text
        assert read.json() == answer
        assert read.headers["etag"] == '"1"'
        # Same text, not only the same values: "…Z" datetimes, UUIDs as strings.
        assert read.json()["created_at"].endswith("Z")
        assert read.json()["attributes"] == {"stolen_item": "motorbike", "in_progress": "no"}

    async def test_list_pages_by_cursor_in_order_with_filters(self, committed: Committed) -> None:
        resident, officer = await resident_and_officer(committed)
        ids = await file_reports(committed, resident, 3)

        seen: list[str] = []
        cursor = None
        while True:
            query: dict[str, Any] = {"limit": 1, "category": "theft", "status": "received"}
            if cursor:
                query["cursor"] = cursor
            page = await committed.client.get(REPORTS, params=query, headers=resident)
            assert page.status_code == 200, page.text
            seen += [item["id"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break

        # The resident sees their own, newest first; the officer sees them too.
        assert seen == ids[::-1]
        listed = await committed.client.get(REPORTS, params={"limit": 200}, headers=officer)
        assert set(ids) <= {item["id"] for item in listed.json()["items"]}

    async def test_other_wards_report_is_404_through_the_prepared_read(
        self, committed: Committed
    ) -> None:
        resident, _ = await resident_and_officer(committed)
        created = await committed.client.post(REPORTS, json=filed(), headers=resident)
        async with committed.sessionmaker() as session:
            elsewhere = await make_user(
                session, Role.WARD_OFFICER, "06673", username=f"{committed.prefix}other"
            )
            await session.commit()
        read = await committed.client.get(
            f"{REPORTS}/{created.json()['id']}", headers=headers_for(committed.app, elsewhere)
        )
        assert read.status_code == 404


async def test_prepared_read_goes_to_the_driver_on_postgresql(committed: Committed) -> None:
    engine = committed.app.state.engine
    request = request_for(engine)
    try:
        async with read_session(request) as session:
            rows = await Prepared(select(*REPORT_COLUMNS).limit(1)).rows(session, {})
            # Not through the session: it took no connection of the engine's pool.
            assert session.in_transaction() is (engine.dialect.name != "postgresql")
    finally:
        if request.app.state.reads is not None:
            await request.app.state.reads.driver.close()
    kind = type(rows[0]).__name__ if rows else None
    if engine.dialect.name == "postgresql":
        assert kind in (None, "Record")  # asyncpg's own rows
    else:
        assert kind in (None, "Row")  # SQLAlchemy's
