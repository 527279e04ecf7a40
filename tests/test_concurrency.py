"""Concurrent requests that really commit: compare-and-set and idempotency hold under a race."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func
from sqlmodel import col, select

from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.idempotency import IdempotencyKey
from app.models.neighbourhoods import Neighbourhood
from app.security import Role
from tests.conftest import Committed
from tests.factories import PASSWORD, make_neighbourhood, make_user

NEIGHBOURHOODS = "/api/v1/neighbourhoods"


async def committed_neighbourhood(committed: Committed) -> Neighbourhood:
    async with committed.sessionmaker() as session:
        neighbourhood = await make_neighbourhood(
            session, HA_LONG, f"{committed.prefix}kp", households=100
        )
        await session.commit()
        return neighbourhood


async def audit_actions(committed: Committed, record_id: object) -> list[str]:
    async with committed.sessionmaker() as session:
        rows = await session.exec(
            select(AuditEvent.action).where(col(AuditEvent.record_id) == str(record_id))
        )
        return list(rows.all())


class TestConcurrentPatch:
    async def test_50_patches_with_one_etag_give_one_200_and_49_412_losing_nothing(
        self, committed: Committed
    ) -> None:
        neighbourhood = await committed_neighbourhood(committed)
        url = f"{NEIGHBOURHOODS}/{neighbourhood.id}"
        headers = {**committed.headers, "If-Match": '"1"'}
        responses = await asyncio.gather(
            *(
                committed.client.patch(url, json={"households": 1000 + i}, headers=headers)
                for i in range(50)
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 412: 49}, [r.text for r in responses if r.status_code >= 500]
        [winner] = [response for response in responses if response.status_code == 200]
        assert winner.headers["etag"] == '"2"'
        async with committed.sessionmaker() as session:
            stored = await session.get(Neighbourhood, neighbourhood.id)
        assert stored is not None
        assert stored.version == 2
        assert stored.households == winner.json()["households"]
        assert await audit_actions(committed, neighbourhood.id) == ["update"]

    async def test_sequential_patches_each_with_the_latest_etag_all_apply(
        self, committed: Committed
    ) -> None:
        neighbourhood = await committed_neighbourhood(committed)
        url = f"{NEIGHBOURHOODS}/{neighbourhood.id}"
        etag = '"1"'
        for households in range(1, 6):
            response = await committed.client.patch(
                url,
                json={"households": households},
                headers={**committed.headers, "If-Match": etag},
            )
            assert response.status_code == 200, response.text
            etag = response.headers["etag"]
        read = await committed.client.get(url)
        assert (read.json()["households"], read.headers["etag"]) == (5, '"6"')


class TestConcurrentDelete:
    async def test_10_deletes_with_one_etag_delete_once(self, committed: Committed) -> None:
        neighbourhood = await committed_neighbourhood(committed)
        url = f"{NEIGHBOURHOODS}/{neighbourhood.id}"
        headers = {**committed.headers, "If-Match": '"1"'}
        responses = await asyncio.gather(
            *(committed.client.delete(url, headers=headers) for _ in range(10))
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses[204] == 1
        # Losers either lost the compare-and-set (412) or already saw it gone (404).
        assert set(statuses) <= {204, 404, 412}
        assert await audit_actions(committed, neighbourhood.id) == ["delete"]


class TestConcurrentCreate:
    async def test_20_posts_with_one_idempotency_key_create_one_record_and_answer_alike(
        self, committed: Committed
    ) -> None:
        code = f"{committed.prefix}idem"
        body = {"ward_code": HA_LONG, "code": code, "name": "Khu phố đồng thời"}
        headers = {**committed.headers, "Idempotency-Key": f"{committed.prefix}key"}
        responses = await asyncio.gather(
            *(committed.client.post(NEIGHBOURHOODS, json=body, headers=headers) for _ in range(20))
        )
        assert [response.status_code for response in responses] == [201] * 20, [
            (r.status_code, r.text) for r in responses if r.status_code != 201
        ]
        assert len({response.content for response in responses}) == 1
        assert len({response.headers["location"] for response in responses}) == 1
        replayed = [r.headers.get("idempotency-replayed") for r in responses]
        assert replayed.count("true") == 19
        async with committed.sessionmaker() as session:
            count = (
                await session.exec(
                    select(func.count())
                    .select_from(Neighbourhood)
                    .where(col(Neighbourhood.code) == code)
                )
            ).one()
            keys = (
                await session.exec(
                    select(IdempotencyKey).where(
                        col(IdempotencyKey.actor_key) == committed.admin.actor_key
                    )
                )
            ).all()
        assert count == 1
        assert len(keys) == 1
        assert keys[0].status_code == 201
        assert await audit_actions(committed, responses[0].json()["id"]) == ["create"]

    async def test_20_posts_of_one_code_without_a_key_create_one_and_409_the_rest(
        self, committed: Committed
    ) -> None:
        code = f"{committed.prefix}race"
        body = {"ward_code": HA_LONG, "code": code, "name": "Khu phố tranh chấp"}
        responses = await asyncio.gather(
            *(
                committed.client.post(NEIGHBOURHOODS, json=body, headers=committed.headers)
                for _ in range(20)
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {201: 1, 409: 19}, [r.text for r in responses if r.status_code >= 500]
        async with committed.sessionmaker() as session:
            count = (
                await session.exec(
                    select(func.count())
                    .select_from(Neighbourhood)
                    .where(col(Neighbourhood.code) == code)
                )
            ).one()
        assert count == 1


class TestConcurrentRefresh:
    async def test_one_refresh_token_presented_10_times_at_once_wins_once_then_revokes_all(
        self, committed: Committed
    ) -> None:
        async with committed.sessionmaker() as session:
            user = await make_user(
                session, Role.RESIDENT, HA_LONG, username=f"{committed.prefix}resident"
            )
            await session.commit()
        signed_in = await committed.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": user.username, "password": PASSWORD},
        )
        refresh_token = signed_in.json()["refresh_token"]
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        responses = await asyncio.gather(
            *(committed.client.post("/api/v1/auth/token", data=form) for _ in range(10))
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 400: 9}
        assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
        [winner] = [response for response in responses if response.status_code == 200]
        # The others were reuse: the whole sign-in, the winner's new token included, is revoked.
        after = await committed.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": winner.json()["refresh_token"]},
        )
        assert after.status_code == 400
        assert after.json()["error"] == "invalid_grant"
