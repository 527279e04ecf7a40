"""Throttled sign-in: failures per account and address, per address, an account's ceiling,
known addresses, machine clients, Redis shared and Redis away."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import HA_LONG
from app.models.clients import Client
from app.models.users import User
from app.security import Role
from tests.conftest import AppClientFactory, ClientAtFactory, RedisSpace
from tests.factories import make_client, make_user, token_request, unique
from tests.routers.test_auth import assert_oauth_error, basic, password_grant

WRONG = "not-the-password"


@pytest.fixture
async def officer(session: AsyncSession) -> User:
    """A Hạ Long ward officer whose password is PASSWORD (a predictable username)."""
    user = await make_user(session, Role.WARD_OFFICER, HA_LONG)
    await session.commit()
    return user


@pytest.fixture
async def machine(session: AsyncSession) -> tuple[Client, str]:
    """A Hạ Long ward system and its secret."""
    found = await make_client(session, HA_LONG, frozenset({"sync:read"}))
    await session.commit()
    return found


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    """``times`` wrong passwords for ``username``, each refused as a wrong password."""
    for _ in range(times):
        assert_oauth_error(await password_grant(client, username, WRONG), 400, "invalid_grant")


class TestLoginThrottling:
    async def test_after_5_failures_even_the_right_password_gets_429_with_retry_after(
        self, client: httpx.AsyncClient, officer: User, session: AsyncSession
    ) -> None:
        await fail(client, officer.username, 4)
        # Four failures are under the limit: the right password still works.
        assert (await password_grant(client, officer.username)).status_code == 200
        await fail(client, officer.username, 1)

        throttled = await password_grant(client, officer.username)
        assert_oauth_error(throttled, 429, "too_many_requests")
        assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
        # The count is per username: someone else from this address still signs in.
        other = await make_user(session, Role.RESIDENT, HA_LONG)
        await session.commit()
        assert (await password_grant(client, other.username)).status_code == 200

    async def test_username_count_ignores_case(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        for attempt in range(5):
            name = officer.username.upper() if attempt % 2 else officer.username
            await password_grant(client, name, WRONG)
        throttled = await password_grant(client, officer.username)
        assert_oauth_error(throttled, 429, "too_many_requests")

    async def test_failures_from_one_address_throttle_every_username_at_its_limit(
        self, app_client: AppClientFactory, officer: User
    ) -> None:
        _, other = await app_client(login_failures_per_address="20 per 15 minutes")
        for _ in range(20):
            failed = await password_grant(other, unique("guess-"), WRONG)
            assert_oauth_error(failed, 400, "invalid_grant")
        throttled = await password_grant(other, officer.username)
        assert_oauth_error(throttled, 429, "too_many_requests")
        assert int(throttled.headers["retry-after"]) > 0

    async def test_an_address_is_allowed_100_failures_by_default_for_shared_addresses(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        # Carrier-grade NAT puts many residents behind one address: 20 strangers
        # mistyping their passwords there must not lock out the 21st.
        for _ in range(20):
            await fail(client, unique("typo-"), 1)
        assert (await password_grant(client, officer.username)).status_code == 200

    async def test_failures_at_one_address_do_not_lock_the_owner_out_at_another(
        self, client: httpx.AsyncClient, client_at: ClientAtFactory, officer: User
    ) -> None:
        attacker = await client_at("203.0.113.7")
        await fail(attacker, officer.username, 5)
        for _ in range(20):
            throttled = await password_grant(attacker, officer.username, WRONG)
            assert_oauth_error(throttled, 429, "too_many_requests")
        # The owner, at their own address, is not locked out by it.
        assert (await password_grant(client, officer.username)).status_code == 200

    async def test_an_ipv6_attacker_counts_by_its_64(
        self, client_at: ClientAtFactory, officer: User
    ) -> None:
        for host in ("2001:db8:7:1::1", "2001:db8:7:1::2", "2001:db8:7:1:ffff::9"):
            attacker = await client_at(host)
            await password_grant(attacker, officer.username, WRONG)
            await password_grant(attacker, officer.username, WRONG)
        rotated = await client_at("2001:db8:7:1:abcd::77")
        throttled = await password_grant(rotated, officer.username)
        assert_oauth_error(throttled, 429, "too_many_requests")
        elsewhere = await client_at("2001:db8:7:2::1")
        assert (await password_grant(elsewhere, officer.username)).status_code == 200

    async def test_the_accounts_ceiling_stops_guesses_spread_over_many_addresses(
        self, app_client: AppClientFactory, officer: User
    ) -> None:
        app, _ = await app_client(login_failures_per_username="10 per hour")
        for number in range(5):
            async with at(app, f"198.51.100.{number}") as guesser:
                await fail(guesser, officer.username, 2)
        async with at(app, "198.51.100.99") as guesser:
            throttled = await password_grant(guesser, officer.username, WRONG)
        assert_oauth_error(throttled, 429, "too_many_requests")
        assert int(throttled.headers["retry-after"]) > 0

    async def test_at_the_ceiling_an_address_the_owner_signed_in_from_still_signs_in(
        self, app_client: AppClientFactory, officer: User
    ) -> None:
        app, _ = await app_client(login_failures_per_username="10 per hour")
        async with at(app, "192.0.2.10") as home:
            assert (await password_grant(home, officer.username)).status_code == 200
        for number in range(5):
            async with at(app, f"198.51.100.{number}") as guesser:
                await fail(guesser, officer.username, 2)
        async with at(app, "198.51.100.99") as guesser:
            throttled = await password_grant(guesser, officer.username)
            assert_oauth_error(throttled, 429, "too_many_requests")
        async with at(app, "192.0.2.10") as home:
            assert (await password_grant(home, officer.username)).status_code == 200

    async def test_a_successful_sign_in_is_not_counted_as_a_failure(
        self, client: httpx.AsyncClient, officer: User
    ) -> None:
        for _ in range(8):
            assert (await password_grant(client, officer.username)).status_code == 200
        await fail(client, officer.username, 4)
        assert (await password_grant(client, officer.username)).status_code == 200


class TestClientThrottling:
    async def test_after_5_failures_the_client_gets_429_at_that_address(
        self, client: httpx.AsyncClient, machine: tuple[Client, str]
    ) -> None:
        found, secret = machine
        for _ in range(5):
            failed = await client.post(
                "/api/v1/auth/token",
                data={"grant_type": "client_credentials"},
                headers=basic(found.client_id, "wrong-secret"),
            )
            assert_oauth_error(failed, 401, "invalid_client")
        throttled = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(found.client_id, secret),
        )
        assert_oauth_error(throttled, 429, "too_many_requests")

    async def test_failures_at_one_address_do_not_lock_the_client_out_at_another(
        self, client: httpx.AsyncClient, client_at: ClientAtFactory, machine: tuple[Client, str]
    ) -> None:
        found, secret = machine
        attacker = await client_at("203.0.113.9")
        for _ in range(10):
            await token_request(
                attacker,
                grant_type="client_credentials",
                client_id=found.client_id,
                client_secret="wrong-secret",
            )
        response = await token_request(
            client, grant_type="client_credentials", client_id=found.client_id, client_secret=secret
        )
        assert response.status_code == 200, response.text


class TestLoginThrottlingInRedis:
    async def test_two_app_instances_share_the_failure_count(
        self, app_client: AppClientFactory, officer: User, redis_space: RedisSpace
    ) -> None:
        _, first = await app_client(**redis_space.settings)
        _, second = await app_client(**redis_space.settings)
        await fail(first, officer.username, 5)
        throttled = await password_grant(second, officer.username)
        assert_oauth_error(throttled, 429, "too_many_requests")
        assert int(throttled.headers["retry-after"]) > 0
        # Redis holds keyed digests: neither the username nor the address is there.
        keys = await redis_space.keys()
        assert keys
        assert not any(officer.username in key or "127.0.0.1" in key for key in keys)


class TestRedisAway:
    async def test_sign_in_works_and_is_throttled_per_process_with_one_warning(
        self, app_client: AppClientFactory, officer: User, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Nothing listens on port 1 of the loopback: Redis is down.
        _, away = await app_client(redis_url="redis://127.0.0.1:1/0")
        with caplog.at_level(logging.WARNING, logger="wardsafe.ratelimit"):
            assert (await password_grant(away, officer.username)).status_code == 200
            await fail(away, officer.username, 5)
            throttled = await password_grant(away, officer.username)
        assert_oauth_error(throttled, 429, "too_many_requests")
        warnings = [r for r in caplog.records if r.name == "wardsafe.ratelimit"]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "Redis" in warnings[0].getMessage()


def at(app: object, host: str) -> httpx.AsyncClient:
    """A client of ``app`` whose requests come from ``host``."""
    transport = httpx.ASGITransport(app=app, client=(host, 43210))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
