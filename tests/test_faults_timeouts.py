"""Every wait on the database is bounded: a statement (server and client side), a free
connection, a new connection. A request that runs into a bound gets the 503 of a
database fault; /readyz answers within 2 s whatever the database does; once the
database answers again the next request succeeds (issue 16, item 16).

A frozen server is a TCP proxy between the app and PostgreSQL that stops forwarding
(tests/faults_support.py); each test's bounds are half a second."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app import faults
from app.config import BASE_DIR, Settings
from app.data.driver import AsyncpgQuery
from app.data.prepared import Prepared
from app.db import create_engine
from app.demo.places import HA_LONG
from app.timeouts import CLIENT_MARGIN_SECONDS, Timeouts
from tests.conftest import Committed
from tests.faults_support import committed_app
from tests.tcp_proxy import Proxy, proxy_to
from tests.test_db import request_for, write_session
from tests.test_faults_restart import (
    NEIGHBOURHOODS,
    REPORTS,
    SUCCESS,
    on_each_pool,
    report,
    resident,
)

BOUND = 0.5  # each of the test's timeouts, in seconds
# How late an answer may come after its bound on a busy machine.
SLACK = 1.0
BOUNDS = {
    "db_statement_timeout_seconds": BOUND,
    "db_acquire_timeout_seconds": BOUND,
    "db_connect_timeout_seconds": BOUND,
}
# A statement no server answers ends on the client's bound.
CLIENT_BOUND = BOUND + CLIENT_MARGIN_SECONDS
# Where a test stops waiting for an answer that should have come long before.
GIVE_UP = 5.0


@pytest.fixture
def fault_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A fresh fault log (no kind logged yet), its lines captured."""
    monkeypatch.setattr(faults, "fault_log", faults.FaultLog())
    with caplog.at_level(logging.WARNING, logger="wardsafe.faults"):
        yield


def kinds(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.__dict__["kind"] for record in caplog.records if record.name == "wardsafe.faults"
    ]


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The answer and how long it took; a failure, not a hung test, past ``GIVE_UP``."""
    start = time.perf_counter()
    try:
        response = await asyncio.wait_for(call, GIVE_UP)
    except TimeoutError:
        pytest.fail(f"no answer within {GIVE_UP} s")
    return response, time.perf_counter() - start


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(faults.RETRY_AFTER_SECONDS)
    assert response.json()["type"] in (
        "/problems/database-unavailable",
        "/problems/service-unavailable",
    )


@pytest.fixture
def postgresql_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite is a file: no server to freeze, no connections of a second pool")


@asynccontextmanager
async def through_a_proxy(
    settings: Settings, **overrides: Any
) -> AsyncIterator[tuple[Proxy, Committed]]:
    """An app whose PostgreSQL is behind a proxy, with the test's bounds."""
    async with proxy_to(settings.database_url) as proxy:
        bounded = settings.model_copy(
            update={"database_url": proxy.url(settings.database_url), **BOUNDS, **overrides}
        )
        async with committed_app(bounded) as committed:
            try:
                yield proxy, committed
            finally:
                proxy.resume()  # the cleanup needs the database


@pytest.mark.usefixtures("postgresql_only", "fault_log")
class TestFrozenServer:
    async def test_each_pool_answers_503_within_its_bound_and_after_it_the_next_succeeds(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with through_a_proxy(settings) as (proxy, committed):
            client, admin = committed.client, committed.headers
            headers = await resident(committed)
            assert await on_each_pool(committed, headers) == SUCCESS  # connections open
            filed = (await client.post(REPORTS, json=report(), headers=headers)).json()["id"]
            keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            body = {"ward_code": HA_LONG, "code": f"{committed.prefix}kp", "name": "Khu 1"}
            proxy.pause()
            answers = await asyncio.gather(
                timed(client.post(NEIGHBOURHOODS, json=body, headers=admin)),
                timed(client.get(NEIGHBOURHOODS, headers=admin)),
                timed(client.get(f"{REPORTS}/{filed}", headers=headers)),
                timed(client.post(REPORTS, json=report(), headers=keyed)),
                # A new report without a key: its rows go straight to the driver
                # connection under the session's own (app.data.prepared.Prepared).
                timed(client.post(REPORTS, json=report(), headers=headers)),
                timed(client.get("/readyz")),
            )
            *requests, (ready, ready_took) = answers
            for response, took in requests:
                assert_unavailable(response)
                assert took < CLIENT_BOUND + SLACK
            assert ready.status_code == 503
            assert ready_took < 2 + SLACK
            # A timeout (a write whose rollback then found its connection closed logs
            # the closed connection): the same fault, seen from the rollback.
            assert set(kinds(caplog)) <= {faults.TIMEOUT, faults.CONNECTION_LOST}
            proxy.resume()
            assert await on_each_pool(committed, headers) == SUCCESS

    async def test_a_statement_sent_to_the_driver_under_a_session_leaves_no_wait_behind(
        self, settings: Settings
    ) -> None:
        """A write session's prepared statement goes past SQLAlchemy to asyncpg; when it
        times out, the session's rollback must not wait on the frozen server too."""
        async with proxy_to(settings.database_url) as proxy:
            engine = create_engine(
                settings.model_copy(
                    update={"database_url": proxy.url(settings.database_url), **BOUNDS}
                )
            )
            request = request_for(engine)
            prepared = Prepared(select(literal_column("1").label("one")))

            async def write() -> None:
                async with write_session(request) as session:
                    await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                    proxy.pause()
                    await prepared.rows(session, {})

            start = time.perf_counter()
            try:
                with pytest.raises((TimeoutError, DBAPIError)) as raised:
                    await asyncio.wait_for(write(), GIVE_UP)
                took = time.perf_counter() - start
            finally:
                proxy.resume()
                await request.app.state.reads.driver.close()
                await engine.dispose()
            assert faults.classify(raised.value) is not None, raised.value
            assert took < CLIENT_BOUND + SLACK

    async def test_a_new_connection_the_server_never_answers_gets_503_after_the_connect_timeout(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with through_a_proxy(settings) as (proxy, committed):
            proxy.pause()  # before the app opened any connection
            response, took = await timed(
                committed.client.get(NEIGHBOURHOODS, headers=committed.headers)
            )
            assert_unavailable(response)
            assert BOUND <= took < BOUND + SLACK
            assert kinds(caplog) == [faults.TIMEOUT]
            ready, ready_took = await timed(committed.client.get("/readyz"))
            assert ready.status_code == 503
            assert ready_took < 2 + SLACK
            proxy.resume()
            assert (
                await committed.client.get(NEIGHBOURHOODS, headers=committed.headers)
            ).status_code == 200

    async def test_readyz_answers_within_2_s_when_the_databases_own_bounds_are_longer(
        self, settings: Settings
    ) -> None:
        bounds = {"db_statement_timeout_seconds": 5, "db_connect_timeout_seconds": 5}
        async with through_a_proxy(settings, **bounds) as (proxy, committed):
            assert (await committed.client.get("/readyz")).status_code == 200
            proxy.pause()
            ready, took = await timed(committed.client.get("/readyz"))
            assert ready.status_code == 503
            assert ready.json()["detail"] == "The database did not answer within 2 seconds."
            assert 2 <= took < 2 + SLACK
            proxy.resume()
            assert (await committed.client.get("/readyz")).status_code == 200

    async def test_a_request_that_waits_for_a_connection_gets_503_after_the_acquire_timeout(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        # One connection for the prepared reads, two for the engine.
        async with through_a_proxy(settings, db_pool_size=1) as (proxy, committed):
            client, admin = committed.client, committed.headers
            headers = await resident(committed)
            filed = (await client.post(REPORTS, json=report(), headers=headers)).json()["id"]
            # Every GET reads through the driver pool: open its connection before the
            # freeze, so that the first request holds it, waiting on the server.
            assert (await client.get(f"{REPORTS}/{filed}", headers=headers)).status_code == 200
            proxy.pause()
            holding = [
                asyncio.create_task(timed(client.get(path, headers=admin)))
                for path in (NEIGHBOURHOODS, NEIGHBOURHOODS, f"{REPORTS}/{filed}")
            ]
            await asyncio.sleep(0.1)  # they hold every connection, waiting on the server
            waiting = await asyncio.gather(
                timed(client.get(NEIGHBOURHOODS, headers=admin)),
                timed(client.get(f"{REPORTS}/{filed}", headers=headers)),
            )
            for response, took in waiting:
                assert_unavailable(response)
                assert BOUND <= took < BOUND + SLACK
                assert not all(task.done() for task in holding)
            assert faults.ACQUIRE_TIMEOUT in kinds(caplog)
            for response, _ in await asyncio.gather(*holding):
                assert_unavailable(response)
            proxy.resume()
            assert (await client.get(f"{REPORTS}/{filed}", headers=headers)).status_code == 200


@pytest.mark.usefixtures("postgresql_only")
class TestOneSetOfConnectionSettings:
    async def test_both_pools_connect_with_the_configured_statement_timeout(
        self, settings: Settings
    ) -> None:
        """The DriverPool opens its own connections: they get the engine's bounds too."""
        async with committed_app(settings.model_copy(update=BOUNDS)) as committed:
            engine: AsyncEngine = committed.app.state.engine
            async with engine.connect() as connection:
                on_the_engine = (await connection.execute(text("SHOW statement_timeout"))).scalar()
            show = AsyncpgQuery.compile(text("SHOW statement_timeout"), engine.dialect)
            [row] = await committed.app.state.reads.driver.fetch(show, {})
            assert on_the_engine == row[0] == "500ms"
            idle = text("SHOW idle_in_transaction_session_timeout")
            async with engine.connect() as connection:
                engine_idle = (await connection.execute(idle)).scalar()
            [row] = await committed.app.state.reads.driver.fetch(
                AsyncpgQuery.compile(idle, engine.dialect), {}
            )
            assert engine_idle == row[0] == "10s"


@asynccontextmanager
async def holding_the_lock(engine: AsyncEngine, neighbourhood_id: str) -> AsyncIterator[None]:
    """Another writer holding what a change of the neighbourhood needs: its row on
    PostgreSQL, the database's write lock on SQLite."""
    if engine.dialect.name == "postgresql":
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        other = await asyncpg.connect(url)
        try:
            async with other.transaction():
                await other.execute(
                    "SELECT 1 FROM neighbourhoods WHERE id = $1 FOR UPDATE",
                    uuid.UUID(neighbourhood_id),
                )
                yield
        finally:
            await other.close()
        return
    holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@pytest.mark.usefixtures("fault_log")
class TestLockWait:
    async def test_a_write_waiting_on_another_past_the_statement_timeout_gets_503(
        self, settings: Settings, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
    ) -> None:
        """PostgreSQL's statement_timeout ends the wait for a row lock; SQLite's busy
        timeout the wait for its write lock: both a 503, and the next change succeeds."""
        async with committed_app(settings.model_copy(update=BOUNDS)) as committed:
            client, admin = committed.client, committed.headers
            body = {"ward_code": HA_LONG, "code": f"{committed.prefix}kp", "name": "Khu 1"}
            created = await client.post(NEIGHBOURHOODS, json=body, headers=admin)
            assert created.status_code == 201, created.text
            url = f"{NEIGHBOURHOODS}/{created.json()['id']}"
            change = {"json": {"households": 120}, "headers": {**admin, "If-Match": '"1"'}}
            async with holding_the_lock(engine, created.json()["id"]):
                response, took = await timed(client.patch(url, **change))
            assert_unavailable(response)
            assert BOUND <= took < BOUND + SLACK
            expected = (
                faults.STATEMENT_TIMEOUT if engine.dialect.name == "postgresql" else faults.LOCKED
            )
            assert kinds(caplog) == [expected]
            again = await client.patch(url, **change)
            assert again.status_code == 200, again.text
            assert again.json()["households"] == 120


# Each timeout's variable and its field in Settings.
TIMEOUT_VARIABLES = {
    "WARDSAFE_DB_STATEMENT_TIMEOUT_SECONDS": "db_statement_timeout_seconds",
    "WARDSAFE_DB_ACQUIRE_TIMEOUT_SECONDS": "db_acquire_timeout_seconds",
    "WARDSAFE_DB_CONNECT_TIMEOUT_SECONDS": "db_connect_timeout_seconds",
    "WARDSAFE_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "db_idle_in_transaction_timeout_seconds",
}


class TestTimeoutSettings:
    def test_the_readmes_defaults_are_the_settings_own(self) -> None:
        readme = (BASE_DIR / "README.md").read_text()
        for variable, field in TIMEOUT_VARIABLES.items():
            [row] = [line for line in readme.splitlines() if line.startswith(f"| `{variable}` |")]
            default = row.split("|")[2].strip().strip("`")
            assert float(default) == Settings.model_fields[field].default, variable

    def test_the_variables_set_the_connections_bounds(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for variable, value in zip(TIMEOUT_VARIABLES, ("2.5", "4", "1.5", "7"), strict=True):
            monkeypatch.setenv(variable, value)
        timeouts = Timeouts.of(Settings(env="development"))
        assert timeouts.asyncpg_args() == {
            "timeout": 1.5,
            "command_timeout": 2.5 + CLIENT_MARGIN_SECONDS,
            "server_settings": {
                "statement_timeout": "2500",
                "idle_in_transaction_session_timeout": "7000",
            },
        }
        assert (timeouts.acquire, timeouts.sqlite_busy_seconds) == (4, 2.5)
        unbounded = Timeouts.of(Settings(env="development"), bound_statements=False)  # migrations
        assert unbounded.asyncpg_args() == {"timeout": 1.5}

    @pytest.mark.parametrize("value", ["0", "-1"])
    def test_no_bound_is_refused(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        for variable in TIMEOUT_VARIABLES:
            monkeypatch.setenv(variable, value)
            with pytest.raises(ValueError, match=TIMEOUT_VARIABLES[variable]):
                Settings(env="development")
            monkeypatch.delenv(variable)
