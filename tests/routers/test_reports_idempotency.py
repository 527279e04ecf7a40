"""Idempotency-Key on filing reports: other bodies, expiry, sealed answers, duplicates at once.

The plain replays are in test_reports.py (TestCreateReportIdempotency).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import httpx
import orjson
from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.idempotency import IdempotencyKey
from app.models.reports import Report
from app.security import Role
from app.services.reports.filing import sealed_key
from tests.conftest import TEST_SECRET, Cast, Committed
from tests.factories import assert_problem, headers_for, make_neighbourhood, make_user
from tests.routers.test_reports import REPORTS, audit_events, new_report


async def report_count(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Report))).one()


async def stored_key(session: AsyncSession, key: str) -> IdempotencyKey:
    session.expunge_all()
    return (await session.exec(select(IdempotencyKey).where(col(IdempotencyKey.key) == key))).one()


class TestSignedReportKeys:
    async def test_same_key_with_another_body_gets_422_and_files_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.resident), "Idempotency-Key": "report-other"}
        first = await client.post(REPORTS, json=new_report(), headers=headers)
        assert first.status_code == 201, first.text
        other = await client.post(REPORTS, json=new_report(category="theft"), headers=headers)
        body = assert_problem(other, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        assert await report_count(session) == 1

    async def test_expired_key_files_a_new_report(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.resident), "Idempotency-Key": "report-expired"}
        first = await client.post(REPORTS, json=new_report(), headers=headers)
        row = await stored_key(session, "report-expired")
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        await session.commit()

        later = await client.post(REPORTS, json=new_report(category="theft"), headers=headers)
        assert later.status_code == 201, later.text
        assert "idempotency-replayed" not in later.headers
        assert later.json()["id"] != first.json()["id"]
        assert await report_count(session) == 2
        taken_over = await stored_key(session, "report-expired")
        assert taken_over.expires_at > utcnow() + timedelta(hours=23)
        again = await client.post(REPORTS, json=new_report(category="theft"), headers=headers)
        assert (again.status_code, again.content) == (201, later.content)

    async def test_the_stored_answer_is_encrypted(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.resident), "Idempotency-Key": "report-sealed"}
        first = await client.post(REPORTS, json=new_report(), headers=headers)
        row = await stored_key(session, "report-sealed")
        assert row.response_body is not None
        for clear in (first.json()["id"], "Karaoke", str(cast.resident.id)):
            assert clear.encode() not in row.response_body
        assert cast.app.state.response_cipher.decrypt(row.response_body) == first.content
        assert row.response_headers == {
            "Location": first.headers["location"],
            "ETag": first.headers["etag"],
        }

    async def test_a_retrys_second_report_is_undone_and_it_gets_the_first_answer(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
    ) -> None:
        headers = {**cast.headers(cast.resident), "Idempotency-Key": "report-retried"}
        first = await client.post(REPORTS, json=new_report(), headers=headers)
        duplicate = await client.post(REPORTS, json=new_report(), headers=headers)
        assert (duplicate.status_code, duplicate.content) == (201, first.content)
        assert duplicate.headers["location"] == first.headers["location"]
        assert duplicate.headers["idempotency-replayed"] == "true"
        assert await report_count(session) == 1
        events = await audit_events(session, first.json()["id"])
        assert [event.action for event in events] == ["create"]

    async def test_a_retry_with_another_body_gets_422_and_files_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
    ) -> None:
        headers = {**cast.headers(cast.resident), "Idempotency-Key": "report-retried"}
        assert (await client.post(REPORTS, json=new_report(), headers=headers)).status_code == 201
        other = await client.post(REPORTS, json=new_report(category="theft"), headers=headers)
        assert_problem(other, 422, "validation-error")
        assert await report_count(session) == 1


class TestAnonymousReportKeys:
    async def test_a_retry_gets_the_same_tracking_code_and_one_report(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
    ) -> None:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post(REPORTS, json=new_report(), headers=headers)
        assert first.status_code == 201, first.text
        duplicate = await client.post(REPORTS, json=new_report(), headers=headers)
        assert (duplicate.status_code, duplicate.content) == (201, first.content)
        assert duplicate.headers["cache-control"] == "no-store"
        assert duplicate.headers["idempotency-replayed"] == "true"
        assert await report_count(session) == 1


async def committed_resident(committed: Committed) -> dict[str, str]:
    async with committed.sessionmaker() as session:
        resident = await make_user(
            session, Role.RESIDENT, HA_LONG, username=f"{committed.prefix}resident"
        )
        await session.commit()
    return headers_for(committed.app, resident)


async def committed_reports(committed: Committed, ids: set[str]) -> int:
    async with committed.sessionmaker() as session:
        statement = select(func.count()).select_from(Report)
        return (
            await session.exec(statement.where(col(Report.id).in_([uuid.UUID(i) for i in ids])))
        ).one()


class TestDuplicatesAtOnce:
    async def test_10_signed_posts_with_one_key_file_one_report_and_answer_alike(
        self, committed: Committed
    ) -> None:
        headers = {**await committed_resident(committed), "Idempotency-Key": "at-once"}
        responses = await asyncio.gather(
            *(committed.client.post(REPORTS, json=new_report(), headers=headers) for _ in range(10))
        )
        assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
        assert len({r.content for r in responses}) == 1
        assert len({(r.headers["location"], r.headers["etag"]) for r in responses}) == 1
        assert [r.headers.get("idempotency-replayed") for r in responses].count("true") == 9
        report_id = responses[0].json()["id"]
        async with committed.sessionmaker() as session:
            reports = await session.exec(
                select(func.count())
                .select_from(Report)
                .where(col(Report.reporter_id) == uuid.UUID(responses[0].json()["reporter_id"]))
            )
            assert reports.one() == 1
            events = await audit_events(session, report_id)
            assert [event.action for event in events] == ["create"]

    async def test_one_key_with_two_bodies_at_once_files_one_report_and_a_422(
        self, committed: Committed
    ) -> None:
        headers = {**await committed_resident(committed), "Idempotency-Key": "two-bodies"}
        responses = await asyncio.gather(
            committed.client.post(REPORTS, json=new_report(), headers=headers),
            committed.client.post(REPORTS, json=new_report(category="theft"), headers=headers),
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {201: 1, 422: 1}, [r.text for r in responses]
        [created] = [r for r in responses if r.status_code == 201]
        assert await committed_reports(committed, {created.json()["id"]}) == 1

    async def test_10_anonymous_posts_with_one_key_give_one_report_and_one_tracking_code(
        self, committed: Committed
    ) -> None:
        key = str(uuid.uuid4())
        headers = {**await committed_resident(committed), "Idempotency-Key": key}
        body = new_report(anonymous=True)
        responses = await asyncio.gather(
            *(committed.client.post(REPORTS, json=body, headers=headers) for _ in range(10))
        )
        ids = {r.json().get("id", "") for r in responses if r.status_code == 201}
        name, _cipher = sealed_key(TEST_SECRET, key)
        try:
            assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
            assert len({r.content for r in responses}) == 1
            assert len({orjson.loads(r.content)["tracking_code"] for r in responses}) == 1
            assert await committed_reports(committed, ids) == 1
        finally:
            async with committed.sessionmaker() as session:
                await session.exec(delete(AuditEvent).where(col(AuditEvent.record_id).in_(ids)))
                await session.exec(
                    delete(Report).where(col(Report.id).in_([uuid.UUID(i) for i in ids]))
                )
                await session.exec(
                    delete(IdempotencyKey).where(
                        col(IdempotencyKey.actor_key) == "anonymous-report",
                        col(IdempotencyKey.key) == name,
                    )
                )
                await session.commit()


class TestCommittedKeys:
    """Through the app's own sessions, as production runs: a new report and its audit event
    are written with the key (on PostgreSQL in one statement; with the session's transaction
    when the work read through it first)."""

    @staticmethod
    async def filed(committed: Committed, report_id: str) -> tuple[int, list[str], int]:
        async with committed.sessionmaker() as session:
            reports = await committed_reports(committed, {report_id})
            events = [event.action for event in await audit_events(session, report_id)]
            keys = await session.exec(
                select(func.count())
                .select_from(IdempotencyKey)
                .where(col(IdempotencyKey.key) == "committed-once")
            )
            return reports, events, keys.one()

    async def test_a_report_and_its_retry_file_one_report_one_event_one_key(
        self, committed: Committed
    ) -> None:
        headers = {**await committed_resident(committed), "Idempotency-Key": "committed-once"}
        first = await committed.client.post(REPORTS, json=new_report(), headers=headers)
        assert first.status_code == 201, first.text
        again = await committed.client.post(REPORTS, json=new_report(), headers=headers)
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers["idempotency-replayed"] == "true"
        assert await self.filed(committed, first.json()["id"]) == (1, ["create"], 1)

    async def test_a_report_whose_work_read_first_is_kept_with_its_key(
        self, committed: Committed
    ) -> None:
        async with committed.sessionmaker() as session:
            neighbourhood = await make_neighbourhood(session, HA_LONG, code=f"{committed.prefix}kp")
            await session.commit()
        headers = {**await committed_resident(committed), "Idempotency-Key": "committed-once"}
        body = {**new_report(), "neighbourhood_id": str(neighbourhood.id)}
        body.pop("ward_code", None)
        first = await committed.client.post(REPORTS, json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert first.json()["neighbourhood_id"] == str(neighbourhood.id)
        again = await committed.client.post(REPORTS, json=body, headers=headers)
        assert (again.status_code, again.content) == (201, first.content)
        assert await self.filed(committed, first.json()["id"]) == (1, ["create"], 1)
