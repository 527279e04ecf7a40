"""Helpers the database fault tests share: an app that commits, with settings of its own
(the proxy they put between it and PostgreSQL is tests/tcp_proxy.py)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx

from app.config import Settings
from app.db import create_engine
from app.main import create_app
from tests.conftest import Committed, _remove_committed, unstored_admin
from tests.factories import bearer


@contextlib.asynccontextmanager
async def committed_app(settings: Settings) -> AsyncIterator[Committed]:
    """What the ``committed`` fixture gives, for an app of its own engine made from
    ``settings`` (other timeouts, another address): every request commits; the records
    it made are removed after the block, and its pools closed."""
    engine = create_engine(settings)
    app = create_app(settings, engine=engine)
    admin = unstored_admin()
    token, _ = app.state.token_signer.issue(admin)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            state = Committed(
                app=app,
                client=client,
                sessionmaker=app.state.sessionmaker,
                prefix=f"zf{uuid.uuid4().hex[:8]}-",
                admin=admin,
                headers=bearer(token),
            )
            try:
                yield state
            finally:
                await _remove_committed(state)
    finally:
        if app.state.reads is not None:
            await app.state.reads.driver.close()
        await engine.dispose()
