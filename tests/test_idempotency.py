"""Idempotency-Key on creating POSTs: a retry gets the first answer, never a second record."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data import idempotency as idempotency_service
from app.db import utcnow
from app.demo.places import HA_LONG
from app.models.idempotency import IdempotencyKey
from app.models.neighbourhoods import Neighbourhood
from app.models.users import User
from tests import factories
from tests.conftest import TEST_SECRET, Cast
from tests.factories import assert_problem

NEIGHBOURHOODS = "/api/v1/neighbourhoods"
BODY = {"ward_code": HA_LONG, "code": "KP-IDEM", "name": "Khu phố thử lại"}


async def neighbourhoods_with_code(session: AsyncSession, code: str) -> int:
    statement = (
        select(func.count())
        .select_from(Neighbourhood)
        .where(col(Neighbourhood.code) == code, col(Neighbourhood.deleted_at).is_(None))
    )
    return (await session.exec(statement)).one()


def keyed(cast: Cast, key: str = "retry-1") -> dict[str, str]:
    return {**cast.headers(cast.ward_officer), "Idempotency-Key": key}


class TestReplay:
    async def test_same_key_and_body_gets_the_first_answer_and_one_record(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        second = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert first.status_code == second.status_code == 201, second.text
        assert second.content == first.content
        assert second.headers["location"] == first.headers["location"]
        assert second.headers["etag"] == first.headers["etag"]
        assert second.headers["idempotency-replayed"] == "true"
        assert "idempotency-replayed" not in first.headers
        assert await neighbourhoods_with_code(session, "KP-IDEM") == 1

    async def test_replay_comes_even_after_the_record_changed(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        changed = await client.patch(
            first.headers["location"],
            json={"name": "Đã đổi"},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert changed.status_code == 200
        again = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert (again.status_code, again.content) == (201, first.content)

    async def test_same_key_with_another_body_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert first.status_code == 201
        other = {**BODY, "code": "KP-OTHER"}
        response = await client.post(NEIGHBOURHOODS, json=other, headers=keyed(cast))
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        factories.assert_field_problem(response, ["header", "Idempotency-Key"], "reused")
        assert await neighbourhoods_with_code(session, "KP-OTHER") == 0

    async def test_same_key_on_another_route_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        assert (
            await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        ).status_code == 201
        response = await client.post(
            "/api/v1/residential-groups",
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "code": "T1", "name": "Tổ 1"},
            headers=keyed(cast),
        )
        assert_problem(response, 422, "validation-error")

    async def test_same_key_and_body_under_another_parent_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first_group = await factories.make_self_managed_group(session, cast.ha_long_kp)
        second_group = await factories.make_self_managed_group(session, cast.ha_long_kp)
        await session.commit()
        member = {
            "full_name": "Trần Văn Khoa",
            "birth_year": 1980,
            "position": "member",
            "joined_on": "2025-03-01",
            "resident_since": "2010-01-01",
        }
        created = await client.post(
            f"/api/v1/groups/{first_group.id}/members", json=member, headers=keyed(cast, "m-1")
        )
        assert created.status_code == 201, created.text
        elsewhere = await client.post(
            f"/api/v1/groups/{second_group.id}/members", json=member, headers=keyed(cast, "m-1")
        )
        assert_problem(elsewhere, 422, "validation-error")

    async def test_same_body_with_fields_reordered_or_defaults_spelled_out_replays(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        spelled_out = {"households": 0, "population": 0, **dict(reversed(BODY.items()))}
        again = await client.post(NEIGHBOURHOODS, json=spelled_out, headers=keyed(cast))
        assert (again.status_code, again.content) == (201, first.content)
        assert await neighbourhoods_with_code(session, "KP-IDEM") == 1

    async def test_keys_belong_to_their_caller(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        mine = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        theirs = await client.post(
            NEIGHBOURHOODS,
            json={**BODY, "code": "KP-ADMIN"},
            headers={**cast.headers(cast.admin), "Idempotency-Key": "retry-1"},
        )
        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]
        assert await neighbourhoods_with_code(session, "KP-ADMIN") == 1

    async def test_user_create_replays_without_a_second_account(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        body: dict[str, Any] = {
            "username": "retried.resident",
            "password": "long-enough-password",
            "full_name": "Thử Lại",
            "role": "resident",
            "unit_code": HA_LONG,
        }
        first = await client.post("/api/v1/users", json=body, headers=keyed(cast, "user-1"))
        again = await client.post("/api/v1/users", json=body, headers=keyed(cast, "user-1"))
        assert first.status_code == again.status_code == 201, again.text
        assert again.content == first.content
        assert again.headers["idempotency-replayed"] == "true"
        count = await session.exec(
            select(func.count()).select_from(User).where(col(User.username) == body["username"])
        )
        assert count.one() == 1

    async def test_without_a_key_a_retry_is_a_new_request(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        assert (await client.post(NEIGHBOURHOODS, json=BODY, headers=headers)).status_code == 201
        response = await client.post(NEIGHBOURHOODS, json=BODY, headers=headers)
        assert_problem(response, 409, "conflict")


class TestKeyLifetime:
    async def test_stored_key_expires_after_the_configured_hours(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        before = utcnow()
        await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        stored = (
            await session.exec(select(IdempotencyKey).where(col(IdempotencyKey.key) == "retry-1"))
        ).one()
        assert stored.actor_key == f"user:{cast.ward_officer.id}"
        assert stored.status_code == 201
        assert before + timedelta(hours=23) < stored.expires_at <= utcnow() + timedelta(hours=24)

    async def test_expired_key_is_free_again(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert first.status_code == 201
        stored = (
            await session.exec(select(IdempotencyKey).where(col(IdempotencyKey.key) == "retry-1"))
        ).one()
        stored.expires_at = utcnow() - timedelta(seconds=1)
        session.add(stored)
        await session.commit()

        other = {**BODY, "code": "KP-LATER"}
        response = await client.post(NEIGHBOURHOODS, json=other, headers=keyed(cast))
        assert response.status_code == 201, response.text
        assert "idempotency-replayed" not in response.headers
        assert response.json()["id"] != first.json()["id"]
        session.expunge_all()
        keys = (
            await session.exec(select(IdempotencyKey).where(col(IdempotencyKey.key) == "retry-1"))
        ).all()
        assert len(keys) == 1
        assert keys[0].expires_at > utcnow()

    async def test_failed_create_does_not_use_up_the_key(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        taken = {**BODY, "code": cast.ha_long_kp.code}
        failed = await client.post(NEIGHBOURHOODS, json=taken, headers=keyed(cast))
        assert_problem(failed, 409, "conflict")
        response = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert response.status_code == 201, response.text
        assert "idempotency-replayed" not in response.headers


class TestKeyFormat:
    @pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\tkey"])
    async def test_malformed_key_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, key: str
    ) -> None:
        response = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast, key))
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]


class TestStoredAnswers:
    async def test_a_new_clients_secret_is_not_stored_in_the_clear(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.admin), "Idempotency-Key": "client-once"}
        body = {"name": "Hạ Long sync", "unit_code": HA_LONG}
        first = await client.post("/api/v1/clients", json=body, headers=headers)
        assert first.status_code == 201, first.text
        secret = first.json()["client_secret"]
        stored = (
            await session.exec(
                select(IdempotencyKey).where(col(IdempotencyKey.key) == "client-once")
            )
        ).one()
        assert stored.response_body is not None
        assert secret.encode() not in stored.response_body
        assert b"client_secret" not in stored.response_body
        replay = await client.post("/api/v1/clients", json=body, headers=headers)
        assert replay.status_code == 201
        assert replay.json()["client_secret"] == secret

    async def test_an_answer_sealed_under_a_rotated_key_is_a_409_not_a_second_record(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast, "rotated"))
        assert first.status_code == 201, first.text
        stored = (
            await session.exec(select(IdempotencyKey).where(col(IdempotencyKey.key) == "rotated"))
        ).one()
        stored.response_body = b"gAAAAA-sealed-under-another-key"
        session.add(stored)
        await session.commit()
        again = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast, "rotated"))
        assert_problem(again, 409, "conflict")
        assert await neighbourhoods_with_code(session, "KP-IDEM") == 1


class TestWorkBeforeTheKey:
    """The work runs before the key is looked at: a retry (or a duplicate in flight)
    does it again, then gets the first answer, and its own work is undone."""

    async def test_one_that_trips_over_the_first_ones_record_gets_its_answer(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
    ) -> None:
        first = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert first.status_code == 201, first.text
        # The retry's own create fails: the first one took the code.
        duplicate = await client.post(NEIGHBOURHOODS, json=BODY, headers=keyed(cast))
        assert (duplicate.status_code, duplicate.content) == (201, first.content)
        assert duplicate.headers["idempotency-replayed"] == "true"
        assert await neighbourhoods_with_code(session, "KP-IDEM") == 1

    async def test_one_that_fails_with_no_answer_stored_keeps_its_own_error(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
    ) -> None:
        taken = {**BODY, "code": cast.ha_long_kp.code}
        response = await client.post(NEIGHBOURHOODS, json=taken, headers=keyed(cast))
        assert_problem(response, 409, "conflict")


def keyed_request(key: str, request_hash: str = "a" * 64) -> idempotency_service.KeyedRequest:
    return idempotency_service.KeyedRequest(
        actor_key="user:stored-answers",
        key=key,
        request_hash=request_hash,
        ttl=timedelta(hours=24),
        cipher=idempotency_service.response_cipher(TEST_SECRET),
    )


class TestStoreAnswer:
    ANSWER = idempotency_service.Answer(201, b'{"id": "1"}', {"Location": "/x/1"})

    async def test_a_free_key_gets_its_row_with_the_answer_sealed(
        self, session: AsyncSession
    ) -> None:
        keyed = keyed_request("free")
        assert await idempotency_service.store_answer(session, keyed, self.ANSWER) is True
        row = (await session.exec(select(IdempotencyKey))).one()
        assert row.response_body is not None
        assert b'"id"' not in row.response_body
        assert await idempotency_service.stored_answer(session, keyed) == self.ANSWER

    async def test_a_live_key_is_left_alone(self, session: AsyncSession) -> None:
        keyed = keyed_request("live")
        assert await idempotency_service.store_answer(session, keyed, self.ANSWER)
        other = keyed_request("live", request_hash="b" * 64)
        later = idempotency_service.Answer(201, b'{"id": "2"}', {})
        assert await idempotency_service.store_answer(session, other, later) is False
        assert await idempotency_service.stored_answer(session, keyed) == self.ANSWER

    async def test_an_expired_key_is_taken_over(self, session: AsyncSession) -> None:
        expired = replace(keyed_request("expired"), ttl=timedelta(seconds=-1))
        assert await idempotency_service.store_answer(session, expired, self.ANSWER)
        assert await idempotency_service.stored_answer(session, expired) is None
        fresh = keyed_request("expired", request_hash="b" * 64)
        later = idempotency_service.Answer(201, b'{"id": "2"}', {})
        assert await idempotency_service.store_answer(session, fresh, later) is True
        assert await idempotency_service.stored_answer(session, fresh) == later
        session.expunge_all()
        [row] = (await session.exec(select(IdempotencyKey))).all()
        assert row.request_hash == "b" * 64
        assert row.expires_at > utcnow() + timedelta(hours=23)
