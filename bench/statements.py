"""The SQL one write request sends: every statement asyncpg carries, BEGIN and COMMIT included.

    python -m bench.statements [--dsn postgresql+asyncpg://...] [--width 150]

Migrates the database and imports the official units if it has none, signs a
resident of Phường Hạ Long in with the app's own token signer, warms up (one
request, so connection setup and statement preparation are not counted), then
sends the benchmark's write (``POST /api/v1/reports`` with a fresh
``Idempotency-Key``) and its replay through the app, printing what the driver
sent for each. Everything it wrote is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import delete, event, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app import migrations
from app.config import Settings
from app.db import create_engine
from app.demo.places import HA_LONG
from app.main import create_app
from app.models.audit import AuditEvent
from app.models.idempotency import IdempotencyKey
from app.models.reports import Report
from app.models.units import Ward
from app.models.users import User
from app.security import Role
from app.services import auth as auth_service
from app.services import units as unit_service

DEFAULT_DSN = "postgresql+asyncpg://postgres@127.0.0.1:5432/wardsafe_test_write"
SECRET = "statements-secret-key-that-is-long-enough-for-hs256-0123456789"  # noqa: S105 (local only)
BODY = {
    "category": "noise",
    "description": "Karaoke rất to sau 23 giờ ở ngõ 12, nhiều đêm liền.",
    "address": "Ngõ 12 Lê Thánh Tông",
    "ward_code": HA_LONG,
}


async def count(dsn: str, width: int) -> None:
    settings = Settings(database_url=dsn, env="development", secret_key=SECRET)
    engine = create_engine(settings)
    sent: list[str] = []
    pending: list[int] = []  # the index of a statement SQLAlchemy is executing

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        pending.append(len(sent))
        sent.append(" ".join(statement.split()))

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(*_args: Any) -> None:
        pending.clear()

    def log(query: Any) -> None:
        # What asyncpg sends itself (BEGIN, COMMIT, ROLLBACK, SAVEPOINT): a BEGIN
        # goes out just before the statement that opened the transaction.
        text = " ".join(query.query.split())
        if pending:
            sent.insert(pending[0], text)
            pending[0] += 1
        else:
            sent.append(text)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    async with AsyncSession(engine, expire_on_commit=False) as session:
        if not await session.scalar(select(func.count()).select_from(Ward)):
            await unit_service.import_official_units(session)
        resident = User(
            username=f"statements-{uuid.uuid4().hex[:8]}",
            password_hash="!",  # noqa: S106 (no password: it never signs in)
            full_name="Người Đếm",
            role=Role.RESIDENT.value,
            unit_code=HA_LONG,
            province_code="22",
            ward_code=HA_LONG,
        )
        session.add(resident)
        await session.commit()

    app = create_app(settings, engine=engine)
    reads = app.state.reads
    if reads is not None:
        # The driver's own connections (prepared reads, and a write that is one
        # statement by itself) are opened by the app, not the engine.
        take = reads.driver._connection

        async def logged() -> Any:
            connection = await take()
            connection.add_query_logger(log)  # a set: once per connection
            return connection

        reads.driver._connection = logged
    token, _ = app.state.token_signer.issue(auth_service.user_principal(resident))
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def post(key: str) -> list[str]:
                sent.clear()
                response = await client.post(
                    "/api/v1/reports", json=BODY, headers={**headers, "Idempotency-Key": key}
                )
                assert response.status_code == 201, response.text
                await asyncio.sleep(0)  # asyncpg calls its query loggers soon after
                return list(sent)

            await post(f"warm-{uuid.uuid4()}")
            key = f"count-{uuid.uuid4()}"
            for title, statements in (("new key", await post(key)), ("replay", await post(key))):
                print(f"{title}: {len(statements)} statements")
                for number, statement in enumerate(statements, 1):
                    print(f"  {number}. {statement[:width]}")
    finally:
        if reads is not None:
            await reads.driver.close()
        async with AsyncSession(engine) as session:
            reports = select(col(Report.id)).where(col(Report.reporter_id) == resident.id)
            await session.exec(delete(AuditEvent).where(col(AuditEvent.actor_id) == resident.id))
            await session.exec(delete(Report).where(col(Report.id).in_(reports)))
            await session.exec(
                delete(IdempotencyKey).where(col(IdempotencyKey.actor_key) == f"user:{resident.id}")
            )
            await session.exec(delete(User).where(col(User.id) == resident.id))
            await session.commit()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--width", type=int, default=150, help="characters of each statement")
    arguments = parser.parse_args()
    migrations.upgrade(arguments.dsn)
    asyncio.run(count(arguments.dsn, arguments.width))


if __name__ == "__main__":
    main()
