"""The OAuth2 token endpoint (RFC 6749), login throttling, and revocation (RFC 7009)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.testing import CliRunner

from app import demo as demo_data
from app.cli import cli
from app.config import Settings, get_settings
from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.demo.users import DEMO_LOGINS, DEMO_PASSWORD
from app.models.auth import RefreshToken
from app.models.clients import Client
from app.models.users import User
from app.security import ROLE_SCOPES, Role
from tests.conftest import Cast, Committed
from tests.factories import (
    PASSWORD,
    bearer,
    jwt_parts,
    make_client,
    make_user,
    token_request,
    unique,
)


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """An RFC 6749 5.2 error: JSON with ``error``, never cached."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


async def password_grant(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **form: str
) -> httpx.Response:
    return await token_request(
        client, grant_type="password", username=username, password=password, **form
    )


async def refresh_grant(
    client: httpx.AsyncClient, refresh_token: str, **form: str
) -> httpx.Response:
    return await token_request(
        client, grant_type="refresh_token", refresh_token=refresh_token, **form
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
async def officer(session: AsyncSession) -> User:
    """A Hạ Long ward officer whose password is PASSWORD."""
    user = await make_user(session, Role.WARD_OFFICER, HA_LONG)
    await session.commit()
    return user


class TestPasswordGrant:
    async def test_right_password_gets_bearer_pair_marked_no_store(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        response = await password_grant(client, officer.username)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert body["refresh_token"].startswith("wsr_")
        assert body["scope"].split() == sorted(ROLE_SCOPES[Role.WARD_OFFICER])
        me = await client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["username"] == officer.username

    async def test_access_token_names_the_user_and_expires_after_expires_in(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        body = (await password_grant(client, officer.username)).json()
        header, claims, _ = jwt_parts(body["access_token"])
        assert header == {"alg": "HS256", "typ": "at+jwt"}
        assert claims["sub"] == str(officer.id)
        assert (claims["role"], claims["ward_code"]) == ("ward_officer", HA_LONG)
        assert claims["exp"] - claims["iat"] == body["expires_in"]

    async def test_wrong_password_gets_400_invalid_grant(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        response = await password_grant(client, officer.username, "not-the-password")
        assert_oauth_error(response, 400, "invalid_grant")

    async def test_unknown_user_gets_the_same_400_invalid_grant_as_a_wrong_password(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        unknown = assert_oauth_error(
            await password_grant(client, unique("nobody-")), 400, "invalid_grant"
        )
        wrong = assert_oauth_error(
            await password_grant(client, officer.username, "not-the-password"),
            400,
            "invalid_grant",
        )
        assert unknown == wrong

    async def test_deactivated_user_cannot_sign_in(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, Role.RESIDENT, HA_LONG, is_active=False)
        await session.commit()
        assert_oauth_error(await password_grant(client, user.username), 400, "invalid_grant")

    async def test_deleted_user_cannot_sign_in(
        self, client: httpx.AsyncClient, session: AsyncSession, officer: User
    ) -> None:
        officer.deleted_at = utcnow()
        session.add(officer)
        await session.commit()
        assert_oauth_error(await password_grant(client, officer.username), 400, "invalid_grant")

    @pytest.mark.parametrize("missing", ["username", "password"])
    async def test_missing_credential_gets_400_invalid_request(
        self, client: httpx.AsyncClient, missing: str
    ) -> None:
        form = {"grant_type": "password", "username": "someone", "password": PASSWORD}
        del form[missing]
        response = await token_request(client, **form)
        assert_oauth_error(response, 400, "invalid_request")


class TestGrantType:
    async def test_missing_grant_type_gets_400_invalid_request(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        response = await token_request(client, username=officer.username, password=PASSWORD)
        body = assert_oauth_error(response, 400, "invalid_request")
        assert "grant_type" in body["error_description"]

    @pytest.mark.parametrize("grant_type", ["authorization_code", "implicit", "PASSWORD"])
    async def test_unsupported_grant_gets_400_unsupported_grant_type(
        self, client: httpx.AsyncClient, officer: User, grant_type: str
    ) -> None:
        response = await token_request(
            client, grant_type=grant_type, username=officer.username, password=PASSWORD
        )
        assert_oauth_error(response, 400, "unsupported_grant_type")


class TestScope:
    async def test_requested_subset_gives_a_token_with_only_that_scope(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        response = await password_grant(client, officer.username, scope="units:write")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["scope"] == "units:write"
        _, claims, _ = jwt_parts(body["access_token"])
        assert claims["scopes"] == ["units:write"]
        headers = bearer(body["access_token"])
        me = await client.get("/api/v1/users/me", headers=headers)
        assert me.json()["scopes"] == ["units:write"]
        # users:read belongs to the role but not to this token.
        users = await client.get("/api/v1/users", headers=headers)
        assert users.status_code == 403

    async def test_scope_the_role_does_not_hold_gets_400_invalid_scope(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        resident = await make_user(session, Role.RESIDENT, HA_LONG)
        await session.commit()
        response = await password_grant(
            client, resident.username, scope="reports:create units:write"
        )
        body = assert_oauth_error(response, 400, "invalid_scope")
        assert "units:write" in body["error_description"]

    async def test_refresh_keeps_the_narrowed_scope_and_cannot_widen_it(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        first = (await password_grant(client, officer.username, scope="units:write")).json()
        wider = await refresh_grant(client, first["refresh_token"], scope="units:write users:write")
        assert_oauth_error(wider, 400, "invalid_scope")
        again = (await password_grant(client, officer.username, scope="units:write")).json()
        refreshed = await refresh_grant(client, again["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["scope"] == "units:write"


class TestRefreshGrant:
    async def test_refresh_token_gets_a_new_pair_once(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        first = (await password_grant(client, officer.username)).json()
        response = await refresh_grant(client, first["refresh_token"])
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        me = await client.get("/api/v1/users/me", headers=bearer(second["access_token"]))
        assert me.json()["id"] == str(officer.id)

    async def test_refresh_tokens_are_stored_only_hashed(
        self, client: httpx.AsyncClient, session: AsyncSession, officer: User
    ) -> None:
        refresh_token = (await password_grant(client, officer.username)).json()["refresh_token"]
        rows = (
            await session.exec(select(RefreshToken).where(col(RefreshToken.user_id) == officer.id))
        ).all()
        assert len(rows) == 1
        assert refresh_token not in str(rows[0].model_dump())

    async def test_missing_refresh_token_gets_400_invalid_request(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await token_request(client, grant_type="refresh_token")
        assert_oauth_error(response, 400, "invalid_request")

    async def test_unknown_refresh_token_gets_400_invalid_grant(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await refresh_grant(client, "wsr_" + uuid.uuid4().hex)
        assert_oauth_error(response, 400, "invalid_grant")

    async def test_expired_refresh_token_gets_400_invalid_grant(
        self, client: httpx.AsyncClient, session: AsyncSession, officer: User
    ) -> None:
        refresh_token = (await password_grant(client, officer.username)).json()["refresh_token"]
        stored = (
            await session.exec(select(RefreshToken).where(col(RefreshToken.user_id) == officer.id))
        ).one()
        stored.expires_at = utcnow() - timedelta(seconds=1)
        session.add(stored)
        await session.commit()
        assert_oauth_error(await refresh_grant(client, refresh_token), 400, "invalid_grant")

    async def test_deactivating_a_user_stops_their_refresh_tokens(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        refresh_token = (await password_grant(client, cast.resident.username)).json()[
            "refresh_token"
        ]
        resident_url = f"/api/v1/users/{cast.resident.id}"
        deactivated = await client.patch(
            resident_url,
            json={"is_active": False},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert deactivated.status_code == 200, deactivated.text
        assert_oauth_error(await refresh_grant(client, refresh_token), 400, "invalid_grant")
        assert_oauth_error(
            await password_grant(client, cast.resident.username), 400, "invalid_grant"
        )

    async def test_refresh_token_of_an_account_deactivated_behind_the_api_stops_working(
        self, client: httpx.AsyncClient, session: AsyncSession, officer: User
    ) -> None:
        refresh_token = (await password_grant(client, officer.username)).json()["refresh_token"]
        officer.is_active = False
        session.add(officer)
        await session.commit()
        assert_oauth_error(await refresh_grant(client, refresh_token), 400, "invalid_grant")


@pytest.fixture
async def ward_system(session: AsyncSession) -> tuple[Client, str]:
    """A Hạ Long ward system allowed to write units, and its secret."""
    found = await make_client(session, HA_LONG, frozenset({"units:write", "sync:read"}))
    await session.commit()
    return found


class TestClientCredentialsGrant:
    async def test_form_credentials_get_an_access_token_without_refresh_token(
        self, client: httpx.AsyncClient, ward_system: tuple[Client, str]
    ) -> None:
        machine, secret = ward_system
        response = await token_request(
            client,
            grant_type="client_credentials",
            client_id=machine.client_id,
            client_secret=secret,
        )
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert "refresh_token" not in body
        assert body["scope"] == "sync:read units:write"
        _, claims, _ = jwt_parts(body["access_token"])
        assert (claims["kind"], claims["role"], claims["sub"]) == (
            "client",
            "ward_system",
            str(machine.id),
        )

    async def test_basic_credentials_get_a_token_that_writes_in_its_ward(
        self, client: httpx.AsyncClient, ward_system: tuple[Client, str]
    ) -> None:
        machine, secret = ward_system
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(machine.client_id, secret),
        )
        assert response.status_code == 200, response.text
        assert "refresh_token" not in response.json()
        created = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HA_LONG, "code": "KP-SYNC", "name": "Khu phố đồng bộ"},
            headers=bearer(response.json()["access_token"]),
        )
        assert created.status_code == 201, created.text

    async def test_wrong_secret_over_basic_gets_401_invalid_client_with_challenge(
        self, client: httpx.AsyncClient, ward_system: tuple[Client, str]
    ) -> None:
        machine, _ = ward_system
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(machine.client_id, "wss_wrong"),
        )
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")

    async def test_wrong_secret_in_the_form_gets_401_invalid_client(
        self, client: httpx.AsyncClient, ward_system: tuple[Client, str]
    ) -> None:
        machine, _ = ward_system
        response = await token_request(
            client,
            grant_type="client_credentials",
            client_id=machine.client_id,
            client_secret="wss_wrong",
        )
        assert_oauth_error(response, 401, "invalid_client")

    async def test_unknown_client_gets_401_invalid_client(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic("wsc_nobody", "wss_nothing"),
        )
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")

    async def test_malformed_basic_header_gets_401_invalid_client(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic not*base64"},
        )
        assert_oauth_error(response, 401, "invalid_client")

    async def test_missing_credentials_get_401_invalid_client(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await token_request(client, grant_type="client_credentials")
        assert_oauth_error(response, 401, "invalid_client")

    async def test_deleted_client_cannot_get_tokens(
        self, client: httpx.AsyncClient, cast: Cast, ward_system: tuple[Client, str]
    ) -> None:
        machine, secret = ward_system
        deleted = await client.delete(
            f"/api/v1/clients/{machine.id}",
            headers={**cast.headers(cast.admin), "If-Match": '"1"'},
        )
        assert deleted.status_code == 204, deleted.text
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(machine.client_id, secret),
        )
        assert_oauth_error(response, 401, "invalid_client")

    async def test_deactivated_client_cannot_get_tokens(
        self, client: httpx.AsyncClient, session: AsyncSession, ward_system: tuple[Client, str]
    ) -> None:
        machine, secret = ward_system
        machine.is_active = False
        session.add(machine)
        await session.commit()
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(machine.client_id, secret),
        )
        assert_oauth_error(response, 401, "invalid_client")

    async def test_scope_outside_the_clients_gets_400_invalid_scope(
        self, client: httpx.AsyncClient, ward_system: tuple[Client, str]
    ) -> None:
        machine, secret = ward_system
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials", "scope": "users:write"},
            headers=basic(machine.client_id, secret),
        )
        assert_oauth_error(response, 400, "invalid_scope")


class TestRevoke:
    async def test_revoked_refresh_token_no_longer_works(
        self, client: httpx.AsyncClient, session: AsyncSession, officer: User
    ) -> None:
        refresh_token = (await password_grant(client, officer.username)).json()["refresh_token"]
        response = await client.post(
            "/api/v1/auth/revoke",
            data={"token": refresh_token, "token_type_hint": "refresh_token"},
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert_oauth_error(await refresh_grant(client, refresh_token), 400, "invalid_grant")
        stored = (
            await session.exec(select(RefreshToken).where(col(RefreshToken.user_id) == officer.id))
        ).one()
        assert stored.revoked_at is not None

    async def test_revoking_one_token_revokes_its_rotated_successor(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        first = (await password_grant(client, officer.username)).json()["refresh_token"]
        second = (await refresh_grant(client, first)).json()["refresh_token"]
        assert (await client.post("/api/v1/auth/revoke", data={"token": first})).status_code == 200
        assert_oauth_error(await refresh_grant(client, second), 400, "invalid_grant")

    async def test_unknown_token_gets_200(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/revoke", data={"token": "wsr_unknown"})
        assert response.status_code == 200

    async def test_missing_token_gets_400_invalid_request(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/revoke", data={})
        assert_oauth_error(response, 400, "invalid_request")


class TestSeededAccountsSignIn:
    async def test_every_demo_login_signs_in_with_the_demo_password(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        roles: set[Role] = set()
        for login in DEMO_LOGINS:
            response = await password_grant(client, login.username, DEMO_PASSWORD)
            assert response.status_code == 200, (login.username, response.text)
            me = await client.get(
                "/api/v1/users/me", headers=bearer(response.json()["access_token"])
            )
            assert (me.json()["username"], me.json()["role"]) == (login.username, login.role)
            assert me.json()["ward_code"] == login.ward_code
            roles.add(login.role)
        assert roles == {role for role in Role if role is not Role.WARD_SYSTEM}
        wards = {login.ward_code for login in DEMO_LOGINS if login.ward_code}
        assert wards == {HA_LONG, BAI_CHAY}

    async def test_demo_ward_officer_manages_their_ward_only(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        signed_in = await password_grant(client, "officer.halong", DEMO_PASSWORD)
        headers = {**bearer(signed_in.json()["access_token"]), "If-Match": '"1"'}
        own = demo_id("neighbourhood", HA_LONG, "KP01")
        other = demo_id("neighbourhood", BAI_CHAY, "KP01")
        changed = await client.patch(
            f"/api/v1/neighbourhoods/{own}", json={"households": 1}, headers=headers
        )
        assert changed.status_code == 200, changed.text
        refused = await client.patch(
            f"/api/v1/neighbourhoods/{other}", json={"households": 1}, headers=headers
        )
        assert refused.status_code == 404

    async def test_admin_made_by_the_cli_signs_in(
        self,
        committed: Committed,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("WARDSAFE_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("WARDSAFE_ENV", "development")
        get_settings.cache_clear()
        username = f"{committed.prefix}root"
        try:
            # The CLI runs its own event loop: give it a thread.
            result = await asyncio.to_thread(
                CliRunner().invoke,
                cli,
                ["create-admin", "--username", username, "--password", "cli-admin-pass"],
            )
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        signed_in = await password_grant(committed.client, username, "cli-admin-pass")
        assert signed_in.status_code == 200, signed_in.text
        me = await committed.client.get(
            "/api/v1/users/me", headers=bearer(signed_in.json()["access_token"])
        )
        assert (me.json()["username"], me.json()["role"], me.json()["unit_code"]) == (
            username,
            "admin",
            None,
        )
        assert me.json()["scopes"] == sorted(ROLE_SCOPES[Role.ADMIN])
