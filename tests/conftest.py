"""Test fixtures: one migrated database per run, each test in a rolled-back transaction.

SQLite by default; set WARDSAFE_TEST_DATABASE_URL (postgresql+asyncpg://...) for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as redis_asyncio
from fastapi import FastAPI
from sqlalchemy import delete, event, or_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import logs, migrations
from app.config import Settings
from app.context import current_request_id
from app.data import prepared
from app.data.driver import DriverPool, driver_in_transaction
from app.data.writes import is_writing
from app.db import create_engine
from app.demo.places import BAI_CHAY, HA_LONG
from app.main import create_app
from app.models.audit import AuditEvent
from app.models.auth import RefreshToken
from app.models.clients import Client
from app.models.idempotency import IdempotencyKey
from app.models.neighbourhoods import Neighbourhood
from app.models.reports import Report
from app.models.residential_groups import ResidentialGroup
from app.models.users import User
from app.ratelimit import RateLimiter
from app.security import ROLE_SCOPES, Principal, Role
from app.services import units as unit_service
from app.services.auth import TokenService
from app.sessions import Reads
from tests import factories

Headers = dict[str, str]

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("WARDSAFE_TEST_DATABASE_URL")
    if url:
        return url
    path: Path = tmp_path_factory.mktemp("db") / "wardsafe-test.db"
    return f"sqlite+aiosqlite:///{path}"


# Each test reads the figures of the reports it just made: the statistics
# cache is off unless a test turns it on (tests/routers/test_reports.py).
TEST_SETTINGS: dict[str, Any] = {
    "env": "development",
    "secret_key": TEST_SECRET,
    "statistics_cache_seconds": 0,
}


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, **TEST_SETTINGS)


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> None:
    """Migrate once per run and import the official units (reference data, committed)."""
    migrations.upgrade(settings.database_url)

    async def import_units() -> None:
        engine = create_engine(settings)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                await unit_service.import_official_units(session)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(import_units())


# Writes a request made to any table that did not pass through the data layer's units
# of write (app/data/writes.py); each test fails on any (``writes_through_the_unit``).
WRITES_OUTSIDE_THE_UNIT: list[str] = []


def check_write(statement: Any) -> None:
    """Note ``statement`` if it writes a table, in a request, outside the unit of write.
    (Records a test arranges, outside any request, are the test's business.)"""
    if not is_writing() and current_request_id() is not None:
        table = getattr(getattr(statement, "table", None), "name", None)
        WRITES_OUTSIDE_THE_UNIT.append(f"{type(statement).__name__} on {table}")


def watch_writes(engine: AsyncEngine) -> None:
    """Check every statement ``engine`` runs, and every writing ``Prepared`` (which passes
    the engine's events on PostgreSQL)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(_c: Any, _cu: Any, _s: Any, _p: Any, context: Any, _many: Any) -> None:
        compiled = getattr(context, "compiled", None)
        if compiled is not None and getattr(compiled.statement, "is_dml", False):
            check_write(compiled.statement)

    prepared.observe_writes = check_write


@pytest.fixture(autouse=True)
def writes_through_the_unit() -> Iterator[None]:
    """Fail the test if a request wrote a guarded table outside its unit of write."""
    WRITES_OUTSIDE_THE_UNIT.clear()
    yield
    assert WRITES_OUTSIDE_THE_UNIT == [], "written outside the unit of write (app/data/writes.py)"


@pytest.fixture(scope="session")
async def engine(settings: Settings, migrated: None) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    watch_writes(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Each commit the app makes becomes a savepoint release inside the test's
    # transaction, so the app's own commit/rollback logic runs unchanged.
    return async_sessionmaker(
        bind=connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging records and checking what the API stored."""
    async with sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    return create_app(settings, engine=engine)


def fresh_rate_limiter(app: FastAPI) -> None:
    """Give ``app`` an empty in-memory rate limiter (and a token service that uses it)."""
    limiter = RateLimiter(secret=app.state.settings.secret_key)
    app.state.rate_limiter = limiter
    app.state.token_service = TokenService(app.state.settings, app.state.token_signer, limiter)


def reads_over(engine: AsyncEngine, connection: AsyncConnection) -> Reads | None:
    """The app's ``Reads`` on PostgreSQL as production has them, over the test's connection:
    read sessions bound to it, and a driver pool whose one connection is the asyncpg
    connection under it, its transaction begun (so what it runs is rolled back with the
    test). The suite then takes the production path: prepared reads through the driver
    pool, and a gate that runs by itself. None on SQLite, which has no such path."""
    if engine.dialect.name != "postgresql":
        return None

    async def lend() -> asyncpg.Connection:
        driver = await driver_in_transaction(connection)
        assert driver is not None
        return driver

    bound: Any = connection
    return Reads(engine=bound, autocommit=bound, driver=DriverPool(engine, 1, connect=lend))


@pytest.fixture
async def client(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    connection: AsyncConnection,
) -> AsyncIterator[httpx.AsyncClient]:
    app.state.sessionmaker = sessionmaker
    # The app lives for the whole run: failed sign-ins counted in one test
    # must not throttle the next.
    saved = app.state.rate_limiter, app.state.token_service, app.state.reads
    fresh_rate_limiter(app)
    app.state.reads = reads_over(engine, connection)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        app.state.rate_limiter, app.state.token_service, app.state.reads = saved


AppClientFactory = Callable[..., Awaitable[tuple[FastAPI, httpx.AsyncClient]]]
ClientAtFactory = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_at(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[ClientAtFactory]:
    """Clients of ``client``'s app (its test sessionmaker and fresh limiter) whose
    requests come from another address: ``await client_at("2001:db8::1")``."""
    async with AsyncExitStack() as stack:

        async def build(host: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(host, 43210))
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )

        yield build


@pytest.fixture
async def app_client(
    database_url: str, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AppClientFactory]:
    """Builds another app from settings overrides (JWT key, Redis), on the test's transaction."""
    async with AsyncExitStack() as stack:

        async def build(**overrides: Any) -> tuple[FastAPI, httpx.AsyncClient]:
            settings = Settings(database_url=database_url, **{**TEST_SETTINGS, **overrides})
            other = create_app(settings, engine=engine)
            other.state.sessionmaker = sessionmaker
            transport = httpx.ASGITransport(app=other)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            return other, client

        yield build


@dataclass
class Cast:
    """Two neighbourhoods and one account per part the role matrix needs."""

    app: FastAPI
    ha_long_kp: Neighbourhood
    bai_chay_kp: Neighbourhood
    admin: User
    province_officer: User  # Quảng Ninh
    other_province_officer: User  # Hà Nội
    ward_officer: User  # Hạ Long
    peer_ward_officer: User  # Hạ Long too
    other_ward_officer: User  # Bãi Cháy
    head: User  # a neighbourhood of Hạ Long
    resident: User  # Hạ Long
    other_resident: User  # Bãi Cháy

    def headers(self, account: User | Client, scopes: frozenset[str] | None = None) -> Headers:
        return factories.headers_for(self.app, account, scopes)


@pytest.fixture
async def cast(app: FastAPI, session: AsyncSession) -> Cast:
    ha_long_kp = await factories.make_neighbourhood(session, HA_LONG)
    bai_chay_kp = await factories.make_neighbourhood(session, BAI_CHAY)
    make = factories.make_user
    built = Cast(
        app=app,
        ha_long_kp=ha_long_kp,
        bai_chay_kp=bai_chay_kp,
        admin=await make(session, Role.ADMIN),
        province_officer=await make(session, Role.PROVINCE_OFFICER, factories.QUANG_NINH),
        other_province_officer=await make(session, Role.PROVINCE_OFFICER, factories.HA_NOI),
        ward_officer=await make(session, Role.WARD_OFFICER, HA_LONG),
        peer_ward_officer=await make(session, Role.WARD_OFFICER, HA_LONG),
        other_ward_officer=await make(session, Role.WARD_OFFICER, BAI_CHAY),
        head=await make(session, Role.NEIGHBOURHOOD_HEAD, str(ha_long_kp.id)),
        resident=await make(session, Role.RESIDENT, HA_LONG),
        other_resident=await make(session, Role.RESIDENT, BAI_CHAY),
    )
    await session.commit()
    return built


# --- logs ----------------------------------------------------------------------


@contextlib.contextmanager
def json_log(monkeypatch: pytest.MonkeyPatch, level: str = "INFO") -> Iterator[io.StringIO]:
    """Logging as ``configure_logging`` sets it up, on a stream the test reads; restored
    after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logs._HANDLER[:])
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logs.configure_logging(level)
    try:
        yield stream
    finally:
        root.handlers[:], logs._HANDLER[:] = saved[0], saved[2]
        root.setLevel(saved[1])


# --- Redis ---------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass
class RedisSpace:
    """The machine's Redis, and a key prefix of this test's own (other runs share the
    server): pass both to ``app_client`` as ``redis_url`` and ``redis_key_prefix``."""

    url: str
    prefix: str
    connection: redis_asyncio.Redis

    @property
    def settings(self) -> dict[str, str]:
        return {"redis_url": self.url, "redis_key_prefix": self.prefix}

    async def keys(self) -> list[str]:
        return [key.decode() for key in await self.connection.keys(f"{self.prefix}:*")]


@pytest.fixture
async def redis_space() -> AsyncIterator[RedisSpace]:
    """Redis at 127.0.0.1:6379, this test's keys deleted afterwards; skipped when it is
    not running."""
    connection = redis_asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await connection.ping()
    except (redis_asyncio.ConnectionError, OSError):
        await connection.aclose()
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    space = RedisSpace(REDIS_URL, f"wardsafe-test-{uuid.uuid4().hex[:12]}", connection)
    try:
        yield space
    finally:
        keys = await connection.keys(f"{space.prefix}:*")
        if keys:
            await connection.delete(*keys)
        await connection.aclose()


# --- real commits -------------------------------------------------------------


@dataclass
class Committed:
    """An app that commits for real, and what it needs to clean up after itself.

    Records a test makes carry ``prefix`` in their code or username (reports:
    their reporter's username; anonymous ones the test removes itself); the admin
    token's subject is not a stored user, so its audit events and idempotency
    keys are found by actor."""

    app: FastAPI
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    prefix: str
    admin: Principal
    headers: Headers


async def _remove_committed(committed: Committed) -> None:
    like = f"{committed.prefix}%"
    async with committed.sessionmaker() as session:
        user_ids = select(col(User.id)).where(col(User.username).like(like))
        neighbourhood_ids = select(col(Neighbourhood.id)).where(col(Neighbourhood.code).like(like))
        group_ids = select(col(ResidentialGroup.id)).where(col(ResidentialGroup.code).like(like))
        report_ids = select(col(Report.id)).where(col(Report.reporter_id).in_(user_ids))
        record_ids = [
            str(record_id)
            for statement in (user_ids, neighbourhood_ids, group_ids, report_ids)
            for record_id in (await session.exec(statement)).all()
        ]
        actor_keys = [f"user:{user_id}" for user_id in (await session.exec(user_ids)).all()]
        await session.exec(
            delete(AuditEvent).where(
                or_(
                    col(AuditEvent.actor_id) == committed.admin.subject,
                    col(AuditEvent.record_id).in_(record_ids),
                )
            )
        )
        await session.exec(
            delete(IdempotencyKey).where(
                col(IdempotencyKey.actor_key).in_([committed.admin.actor_key, *actor_keys])
            )
        )
        await session.exec(delete(Report).where(col(Report.id).in_(report_ids)))
        await session.exec(delete(RefreshToken).where(col(RefreshToken.user_id).in_(user_ids)))
        await session.exec(delete(ResidentialGroup).where(col(ResidentialGroup.code).like(like)))
        await session.exec(delete(User).where(col(User.username).like(like)))
        await session.exec(delete(Neighbourhood).where(col(Neighbourhood.code).like(like)))
        await session.commit()


def unstored_admin() -> Principal:
    """An administrator's principal with no account behind it (its records are found by
    its subject)."""
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=Role.ADMIN,
        unit_code=None,
        province_code=None,
        ward_code=None,
        neighbourhood_id=None,
        scopes=ROLE_SCOPES[Role.ADMIN],
    )


@pytest.fixture
async def committed(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Committed]:
    """A client of an app with the real sessionmaker: every request commits.

    Not for use with ``client`` or ``session`` in the same test: their open
    transaction would hold SQLite's write lock."""
    app = create_app(settings, engine=engine)
    admin = unstored_admin()
    token, _ = app.state.token_signer.issue(admin)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        state = Committed(
            app=app,
            client=client,
            sessionmaker=app.state.sessionmaker,
            prefix=f"zc{uuid.uuid4().hex[:8]}-",
            admin=admin,
            headers=factories.bearer(token),
        )
        try:
            yield state
        finally:
            await _remove_committed(state)
            if app.state.reads is not None:
                await app.state.reads.driver.close()  # what the lifespan does


@pytest.fixture
def committed_client(committed: Committed) -> httpx.AsyncClient:
    """The HTTP client of ``committed``: its requests commit."""
    return committed.client
