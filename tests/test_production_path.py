"""The suite's requests take the path production takes: on PostgreSQL a GET's prepared
reads go through the driver pool, and a write's through the session's own connection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.driver import DriverPool
from tests.conftest import Cast
from tests.factories import headers_for
from tests.fire_factories import make_team


@pytest.fixture
def driver_reads(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement the app's driver pool runs during the test."""
    seen: list[str] = []
    reads = cast.app.state.reads
    if reads is None:
        return seen
    fetch = reads.driver.fetch

    async def spy(query: Any, values: Any) -> Any:
        seen.append(query.sql)
        return await fetch(query, values)

    monkeypatch.setattr(reads.driver, "fetch", spy)
    return seen


async def test_a_get_reads_through_the_driver_pool_on_postgresql(
    client: httpx.AsyncClient, session: AsyncSession, cast: Cast, driver_reads: list[str]
) -> None:
    team = await make_team(session, cast.ha_long_kp)
    response = await client.get(
        f"/api/v1/fire-teams/{team.id}", headers=headers_for(cast.app, cast.ward_officer)
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(team.id)
    reads = cast.app.state.reads
    if session.get_bind().dialect.name != "postgresql":
        assert reads is None  # SQLite: every statement through SQLAlchemy, as in production
        return
    assert isinstance(reads.driver, DriverPool)
    assert any("FROM fire_teams" in sql for sql in driver_reads)


async def test_a_write_does_not_use_the_driver_pool_for_its_reads(
    client: httpx.AsyncClient, session: AsyncSession, cast: Cast, driver_reads: list[str]
) -> None:
    team = await make_team(session, cast.ha_long_kp)
    response = await client.patch(
        f"/api/v1/fire-teams/{team.id}",
        headers={**headers_for(cast.app, cast.ward_officer), "If-Match": f'"{team.version}"'},
        json={"name": "Tổ liên gia đổi tên"},
    )
    assert response.status_code == 200, response.text
    assert driver_reads == []  # its reads ran in its own transaction
