"""Machine clients for ward systems: administrators only; the secret is shown once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.models.clients import Client
from app.security import DEFAULT_CLIENT_SCOPES, hash_secret
from tests.conftest import Cast
from tests.factories import (
    QUANG_NINH,
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_client,
)

CLIENTS = "/api/v1/clients"


def new_client(**values: Any) -> dict[str, Any]:
    return {"name": "Hạ Long registry sync", "unit_code": HA_LONG, **values}


async def stored_client(session: AsyncSession, client_pk: str | uuid.UUID) -> Client:
    session.expunge_all()
    found = await session.get(Client, uuid.UUID(str(client_pk)))
    assert found is not None
    return found


class TestCreateClient:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.post(CLIENTS, json=new_client()))

    @pytest.mark.parametrize("role", ["ward_officer", "province_officer", "resident"])
    async def test_non_admin_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.post(
            CLIENTS, json=new_client(), headers=cast.headers(getattr(cast, role))
        )
        assert "clients:write" in assert_forbidden(response)

    async def test_admin_gets_id_and_secret_once_and_the_secret_works(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(CLIENTS, json=new_client(), headers=cast.headers(cast.admin))
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{CLIENTS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert body["client_id"].startswith("wsc_")
        assert body["client_secret"].startswith("wss_")
        assert len(body["client_secret"]) >= 40
        assert (body["role"], body["unit_code"], body["ward_code"], body["province_code"]) == (
            "ward_system",
            HA_LONG,
            HA_LONG,
            QUANG_NINH,
        )
        assert body["scopes"] == sorted(DEFAULT_CLIENT_SCOPES)
        token = await client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": body["client_id"],
                "client_secret": body["client_secret"],
            },
        )
        assert token.status_code == 200, token.text

    async def test_only_a_hash_of_the_secret_is_stored(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(CLIENTS, json=new_client(), headers=cast.headers(cast.admin))
        secret = response.json()["client_secret"]
        row = await stored_client(session, response.json()["id"])
        assert row.secret_hash == hash_secret(secret)
        assert secret not in str(row.model_dump())
        assert secret[4:] not in str(row.model_dump())

    async def test_province_system_is_anchored_to_the_province(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            CLIENTS, json=new_client(unit_code=QUANG_NINH), headers=cast.headers(cast.admin)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["province_code"], body["ward_code"]) == (QUANG_NINH, None)

    async def test_narrower_scopes_are_kept(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.post(
            CLIENTS,
            json=new_client(scopes=["sync:read", "units:write"]),
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 201, response.text
        assert response.json()["scopes"] == ["sync:read", "units:write"]

    @pytest.mark.parametrize(
        "scopes", [["users:write"], ["sync:read", "clients:write"], ["audit:read"], ["made:up"]]
    )
    async def test_scope_outside_ward_systems_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scopes: list[str]
    ) -> None:
        response = await client.post(
            CLIENTS,
            json=new_client(name="Rogue", scopes=scopes),
            headers=cast.headers(cast.admin),
        )
        assert_field_problem(response, ["body", "scopes"], "value_error")
        found = await session.exec(select(Client).where(col(Client.name) == "Rogue"))
        assert found.first() is None

    @pytest.mark.parametrize("unit_code", ["99999", "99", "KP01", "0668", "neighbourhood"])
    async def test_unit_code_that_is_not_a_ward_or_province_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, unit_code: str
    ) -> None:
        if unit_code == "neighbourhood":
            unit_code = str(cast.ha_long_kp.id)
        response = await client.post(
            CLIENTS, json=new_client(unit_code=unit_code), headers=cast.headers(cast.admin)
        )
        # A code of the wrong shape is refused by the schema, one of no unit by the service.
        kind = "not_found" if unit_code in ("99999", "99") else "string_pattern_mismatch"
        assert_field_problem(response, ["body", "unit_code"], kind)

    @pytest.mark.parametrize(
        "extra",
        [{"client_secret": "wss_mine"}, {"role": "admin"}, {"secret_hash": "0" * 64}],
    )
    async def test_unknown_field_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, extra: dict[str, str]
    ) -> None:
        response = await client.post(
            CLIENTS, json=new_client(**extra), headers=cast.headers(cast.admin)
        )
        body = assert_problem(response, 422, "validation-error")
        assert [error["loc"] for error in body["errors"]] == [["body", next(iter(extra))]]


class TestListClients:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(CLIENTS))

    async def test_ward_officer_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_forbidden(await client.get(CLIENTS, headers=cast.headers(cast.ward_officer)))

    async def test_admin_lists_clients_without_any_secret(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = cast.headers(cast.admin)
        created = (await client.post(CLIENTS, json=new_client(), headers=headers)).json()
        response = await client.get(CLIENTS, params={"limit": 200}, headers=headers)
        assert response.status_code == 200
        listed = next(item for item in response.json()["items"] if item["id"] == created["id"])
        assert listed["client_id"] == created["client_id"]
        assert not {"client_secret", "secret_hash"} & set(listed)
        assert created["client_secret"] not in response.text
        assert hash_secret(created["client_secret"]) not in response.text

    async def test_pages_of_2_walk_every_client_oldest_first(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        made = [(await make_client(session, HA_LONG))[0] for _ in range(5)]
        await session.commit()
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(100):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await client.get(CLIENTS, params=params, headers=cast.headers(cast.admin))
            assert response.status_code == 200, response.text
            seen.extend(item["id"] for item in response.json()["items"])
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        mine = [item for item in seen if item in {str(c.id) for c in made}]
        assert mine == [str(c.id) for c in sorted(made, key=lambda c: (c.created_at, c.id))]


class TestDeleteClient:
    @pytest.fixture
    async def machine(self, session: AsyncSession) -> Client:
        found, _ = await make_client(session, BAI_CHAY)
        await session.commit()
        return found

    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, machine: Client) -> None:
        response = await client.delete(f"{CLIENTS}/{machine.id}", headers={"If-Match": '"1"'})
        assert_unauthorized(response)

    async def test_ward_officer_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, machine: Client
    ) -> None:
        response = await client.delete(
            f"{CLIENTS}/{machine.id}",
            headers={**cast.headers(cast.other_ward_officer), "If-Match": '"1"'},
        )
        assert_forbidden(response)

    async def test_admin_deletes_and_it_is_no_longer_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, machine: Client
    ) -> None:
        headers = cast.headers(cast.admin)
        response = await client.delete(
            f"{CLIENTS}/{machine.id}", headers={**headers, "If-Match": '"1"'}
        )
        assert response.status_code == 204
        listed = await client.get(CLIENTS, params={"limit": 200}, headers=headers)
        assert str(machine.id) not in {item["id"] for item in listed.json()["items"]}
        row = await stored_client(session, machine.id)
        assert row.deleted_at is not None
        assert row.is_active is False

    async def test_unknown_or_deleted_id_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, machine: Client
    ) -> None:
        headers = {**cast.headers(cast.admin), "If-Match": '"1"'}
        assert_not_found(await client.delete(f"{CLIENTS}/{uuid.uuid4()}", headers=headers))
        assert (await client.delete(f"{CLIENTS}/{machine.id}", headers=headers)).status_code == 204
        assert_not_found(await client.delete(f"{CLIENTS}/{machine.id}", headers=headers))

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, cast: Cast, machine: Client
    ) -> None:
        response = await client.delete(f"{CLIENTS}/{machine.id}", headers=cast.headers(cast.admin))
        assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, machine: Client
    ) -> None:
        response = await client.delete(
            f"{CLIENTS}/{machine.id}", headers={**cast.headers(cast.admin), "If-Match": '"2"'}
        )
        assert_problem(response, 412, "precondition-failed")
        assert (await stored_client(session, machine.id)).deleted_at is None
