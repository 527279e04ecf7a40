"""Access tokens stop within seconds, on every process, once their account is deactivated,
deleted, or given another role, unit or password (token epochs, app/revocations.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import revocations as revocations_module
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.cameras import Camera
from app.models.clients import Client
from app.models.users import User
from app.revocations import Revocations
from app.security import Role
from tests.conftest import AppClientFactory, Cast
from tests.factories import assert_unauthorized, login, make_client, make_user
from tests.routers.test_cameras import new_camera

ME = "/api/v1/users/me"
INTERVAL = 2.0


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Install = Callable[[FastAPI], Clock]


@pytest.fixture
def revocations_of(client: httpx.AsyncClient) -> Iterator[Install]:
    """Gives an app revocations read every INTERVAL seconds of a clock the test moves."""
    saved: list[tuple[FastAPI, Any]] = []

    def install(app: FastAPI) -> Clock:
        clock = Clock()
        saved.append((app, app.state.revocations))
        ttl = app.state.settings.access_token_ttl_seconds
        app.state.revocations = Revocations(ttl, INTERVAL, clock=clock)
        return clock

    yield install
    for app, revocations in saved:
        app.state.revocations = revocations


async def patch_user(
    client: httpx.AsyncClient, cast: Cast, user: User, body: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/api/v1/users/{user.id}",
        json=body,
        headers={**cast.headers(cast.admin), "If-Match": f'"{user.version}"'},
    )
    assert response.status_code == 200, response.text


class TestAccountChanges:
    async def test_a_deleted_camera_owners_token_stops_registering_cameras(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
    ) -> None:
        clock = revocations_of(cast.app)
        owner = await make_user(session, Role.CAMERA_OWNER, HA_LONG)
        await session.commit()
        token = cast.headers(owner)
        assert (await client.post("/api/v1/cameras", json=new_camera(), headers=token)).is_success
        deleted = await client.delete(
            f"/api/v1/users/{owner.id}",
            headers={**cast.headers(cast.admin), "If-Match": '"1"'},
        )
        assert deleted.status_code == 204, deleted.text
        clock.now += INTERVAL
        response = await client.post("/api/v1/cameras", json=new_camera(), headers=token)
        assert_unauthorized(response)
        assert "sign in again" in response.json()["detail"]
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        session.expunge_all()
        cameras = await session.exec(select(Camera).where(col(Camera.owner_user_id) == owner.id))
        assert len(cameras.all()) == 1

    @pytest.mark.parametrize(
        "change",
        [
            {"is_active": False},
            {"role": "resident"},
            {"unit_code": BAI_CHAY},
            {"password": "a-new-password-1234"},
        ],
        ids=["deactivated", "role", "unit", "password"],
    )
    async def test_a_change_that_signs_out_stops_the_old_token(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
        change: dict[str, Any],
    ) -> None:
        clock = revocations_of(cast.app)
        user = await make_user(session, Role.CAMERA_OWNER, HA_LONG)
        await session.commit()
        token = cast.headers(user)
        assert (await client.get(ME, headers=token)).status_code == 200
        await patch_user(client, cast, user, change)
        clock.now += INTERVAL
        assert_unauthorized(await client.get(ME, headers=token))

    async def test_a_change_of_name_keeps_the_token(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
    ) -> None:
        clock = revocations_of(cast.app)
        user = await make_user(session, Role.RESIDENT, HA_LONG)
        await session.commit()
        token = cast.headers(user)
        await patch_user(client, cast, user, {"full_name": "Tên mới"})
        clock.now += INTERVAL
        assert (await client.get(ME, headers=token)).status_code == 200

    async def test_a_token_issued_after_the_change_works(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
    ) -> None:
        clock = revocations_of(cast.app)
        user = await make_user(session, Role.CAMERA_OWNER, HA_LONG)
        await session.commit()
        old = cast.headers(user)
        await patch_user(client, cast, user, {"role": "resident"})
        clock.now += INTERVAL
        fresh = await login(client, user.username)
        me = await client.get(ME, headers=fresh)
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "resident"
        assert_unauthorized(await client.get(ME, headers=old))

    async def test_a_deleted_clients_token_stops(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
    ) -> None:
        clock = revocations_of(cast.app)
        machine, _ = await make_client(session, HA_LONG, frozenset({"reports:read"}))
        await session.commit()
        token = cast.headers(machine)
        assert (await client.get("/api/v1/reports", headers=token)).status_code == 200
        deleted = await client.delete(
            f"/api/v1/clients/{machine.id}",
            headers={**cast.headers(cast.admin), "If-Match": '"1"'},
        )
        assert deleted.status_code == 204, deleted.text
        clock.now += INTERVAL
        assert_unauthorized(await client.get("/api/v1/reports", headers=token))
        stored = await session.get(Client, machine.id)
        assert stored is not None
        await session.refresh(stored)
        assert stored.token_epoch == 1


class TestEveryProcess:
    async def test_another_process_refuses_the_token_within_its_interval(
        self,
        client: httpx.AsyncClient,
        app_client: AppClientFactory,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
    ) -> None:
        other_app, other = await app_client()
        clock = revocations_of(other_app)
        user = await make_user(session, Role.RESIDENT, HA_LONG)
        await session.commit()
        token = cast.headers(user)
        assert (await other.get(ME, headers=token)).status_code == 200
        # Deactivated through this process; the other one reads it at its next refresh.
        await patch_user(client, cast, user, {"is_active": False})
        clock.now += INTERVAL / 2
        assert (await other.get(ME, headers=token)).status_code == 200
        clock.now += INTERVAL / 2
        assert_unauthorized(await other.get(ME, headers=token))

    async def test_epochs_that_cannot_be_read_leave_requests_served_with_one_warning(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        revocations_of: Install,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        clock = revocations_of(cast.app)
        user = await make_user(session, Role.RESIDENT, HA_LONG)
        await session.commit()

        async def unreachable(*args: Any, **kwargs: Any) -> Any:
            raise OperationalError("SELECT", None, ConnectionRefusedError())

        monkeypatch.setattr(revocations_module, "fetch_rows", unreachable)
        with caplog.at_level(logging.WARNING, logger="wardsafe.revocations"):
            for _ in range(3):
                assert (await client.get(ME, headers=cast.headers(user))).status_code == 200
                clock.now += INTERVAL
        warnings = [r for r in caplog.records if r.name == "wardsafe.revocations"]
        assert len(warnings) == 1
