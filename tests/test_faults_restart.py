"""After PostgreSQL restarts, the next request succeeds on every pool: the engine's
(writes, general reads) and the DriverPool (prepared reads, a keyed new report); a
connection the server ended is never handed out again (issue 16, item 15).

A restart is simulated without touching the shared server: every backend of the test's
own database is terminated (``pg_terminate_backend``), as a restart ends them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app import faults
from app.data.driver import AsyncpgQuery, DriverPool
from app.demo.places import HA_LONG
from app.security import Role
from app.sessions import Reads
from tests.conftest import Committed
from tests.factories import headers_for, make_user

REPORTS = "/api/v1/reports"
NEIGHBOURHOODS = "/api/v1/neighbourhoods"


@pytest.fixture(autouse=True)
def postgresql_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite is a file: there is no server to restart and no connection it ends")


async def end_every_session(engine: AsyncEngine) -> int:
    """Terminate every backend of the test database but the one asking (on a connection
    of its own), and wait until the app's side has seen its connections close."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        ended: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for _ in range(100):  # until the server has let them all go
            left = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if left == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # asyncpg sees each socket close on a turn of the loop
    return ended


def report(**values: Any) -> dict[str, Any]:
    return {
        "category": "noise",
        "description": "Karaoke rất to sau 23 giờ ở ngõ 12.",
        "address": "Ngõ 12 Lê Thánh Tông",
        "ward_code": HA_LONG,
        **values,
    }


async def resident(committed: Committed) -> dict[str, str]:
    async with committed.sessionmaker() as session:
        user = await make_user(session, Role.RESIDENT, HA_LONG, username=f"{committed.prefix}r")
        await session.commit()
    return headers_for(committed.app, user)


async def on_each_pool(committed: Committed, headers: dict[str, str]) -> dict[str, int]:
    """One request on each path to the database, and what each answered."""
    client, admin = committed.client, committed.headers
    code = f"{committed.prefix}{uuid.uuid4().hex[:6]}"
    neighbourhood = {"ward_code": HA_LONG, "code": code, "name": "Khu 1"}
    filed = await client.post(REPORTS, json=report(), headers=headers)
    keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    return {
        # The engine's pool, in a transaction.
        "write": (await client.post(NEIGHBOURHOODS, json=neighbourhood, headers=admin)).status_code,
        "read": (await client.get(NEIGHBOURHOODS, headers=admin)).status_code,
        "report": filed.status_code,
        # The DriverPool: a prepared read, and a keyed report as one statement by itself.
        "prepared read": (
            await client.get(f"{REPORTS}/{filed.json().get('id')}", headers=headers)
        ).status_code,
        "keyed report": (await client.post(REPORTS, json=report(), headers=keyed)).status_code,
        "readyz": (await client.get("/readyz")).status_code,
    }


SUCCESS = {
    "write": 201,
    "read": 200,
    "report": 201,
    "prepared read": 200,
    "keyed report": 201,
    "readyz": 200,
}


class TestAfterARestart:
    async def test_the_next_request_on_every_pool_succeeds(self, committed: Committed) -> None:
        headers = await resident(committed)
        assert await on_each_pool(committed, headers) == SUCCESS  # every pool holds connections
        assert await end_every_session(committed.app.state.engine) >= 2
        assert await on_each_pool(committed, headers) == SUCCESS

    async def test_twice_in_a_row_the_next_requests_succeed(self, committed: Committed) -> None:
        headers = await resident(committed)
        for _ in range(2):
            assert await on_each_pool(committed, headers) == SUCCESS
            await end_every_session(committed.app.state.engine)
        assert await on_each_pool(committed, headers) == SUCCESS


@pytest.fixture
async def driver_pool(engine: AsyncEngine) -> AsyncIterator[DriverPool]:
    reads = Reads.of(engine, pool_size=2)
    assert reads is not None
    try:
        yield reads.driver
    finally:
        await reads.driver.close()


class TestDriverPoolAfterTheServerEndsASession:
    async def test_a_connection_ended_mid_statement_is_not_put_back(
        self, engine: AsyncEngine, driver_pool: DriverPool
    ) -> None:
        """The server's "terminating connection due to administrator command" ends the
        session (asyncpg raises it as AdminShutdownError or ConnectionDoesNotExistError,
        both errors of PostgreSQL's): the connection is dropped, not returned to the
        idle list for the next read to trip over."""
        pool = driver_pool
        query = AsyncpgQuery.compile(text("SELECT pg_backend_pid() AS pid"), engine.dialect)
        [row] = await pool.fetch(query, {})
        sleep = AsyncpgQuery.compile(text("SELECT pg_sleep(3)"), engine.dialect)
        read = asyncio.create_task(pool.fetch(sleep, {}))
        await asyncio.sleep(0.2)
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row["pid"]})
        with pytest.raises(DBAPIError) as ended:
            await read
        assert isinstance(
            ended.value.__cause__, asyncpg.AdminShutdownError | asyncpg.ConnectionDoesNotExistError
        )
        assert faults.classify(ended.value) is not None  # a 503, as through SQLAlchemy
        assert pool._idle == []
        assert pool._open == set()
        assert pool._turns.free == 2  # its turn given back
        [again] = await pool.fetch(query, {})
        assert again["pid"] != row["pid"]
