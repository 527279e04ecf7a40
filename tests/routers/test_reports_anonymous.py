"""Anonymous reports: nothing ties them to their sender (rows, times, logs), and the limits
on filing them (per address, per account, after a replay, only what was filed)."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import metadata
from app.models.reports import Report
from app.services.reports import filing as filing_service
from tests.conftest import AppClientFactory, Cast, ClientAtFactory, RedisSpace
from tests.factories import assert_problem
from tests.routers.test_reports import REPORTS, audit_events, new_report, stored


def to_the_minute(text: str) -> bool:
    moment = datetime.fromisoformat(text)
    return (moment.second, moment.microsecond) == (0, 0)


class TestAnonymity:
    @staticmethod
    async def snapshot(session: AsyncSession) -> set[str]:
        """Every row of every table (but the official units), as text."""
        session.expunge_all()
        rows: set[str] = set()
        for table in metadata.sorted_tables:
            if table.name in ("provinces", "wards"):
                continue
            for row in (await session.exec(select(table))).all():  # type: ignore[call-overload]
                rows.add(f"{table.name}: " + " | ".join(_text(value) for value in row))
        return rows

    async def test_nothing_stored_or_logged_ties_an_anonymous_report_to_its_sender(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        resident = cast.resident
        before = await self.snapshot(session)
        with caplog.at_level(logging.DEBUG):
            response = await client.post(
                REPORTS,
                json=new_report(anonymous=True),
                headers={**cast.headers(resident), "Idempotency-Key": "my-anonymous-report"},
            )
        assert response.status_code == 201, response.text
        tracking_code = response.json()["tracking_code"]
        added = await self.snapshot(session) - before
        assert any(line.startswith("reports:") for line in added)
        needles = {
            str(resident.id),
            resident.id.hex,
            resident.username,
            "127.0.0.1",  # the test client's address
            tracking_code,
            "my-anonymous-report",
            response.headers["x-request-id"],
        }
        for line in added:
            for needle in needles:
                assert needle not in line, f"{needle!r} found in {line!r}"
        server_logs = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
        for record in server_logs:
            text = str(record.__dict__) + record.getMessage()
            for needle in needles - {response.headers["x-request-id"]}:
                assert needle not in text

    async def test_anonymous_report_without_token_stores_no_address(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        before = await self.snapshot(session)
        response = await client.post(REPORTS, json=new_report())
        assert response.status_code == 201
        added = await self.snapshot(session) - before
        assert added
        assert not any("127.0.0.1" in line for line in added)
        assert not any(response.json()["tracking_code"] in line for line in added)

    async def test_an_anonymous_report_and_its_event_say_only_the_minute_they_were_made(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.post(REPORTS, json=new_report())
        assert response.status_code == 201, response.text
        body = response.json()
        assert to_the_minute(body["created_at"])
        assert body["updated_at"] == body["created_at"]
        # A time-ordered id (UUIDv7) would carry the millisecond.
        assert uuid.UUID(body["id"]).version == 4
        report = await stored(session, body["id"])
        assert (report.created_at.second, report.created_at.microsecond) == (0, 0)
        assert report.updated_at == report.created_at
        [event] = await audit_events(session, body["id"])
        assert (event.created_at.second, event.created_at.microsecond) == (0, 0)
        assert event.id.version == 4

    async def test_a_signed_report_keeps_its_exact_time(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(), headers=cast.headers(cast.resident)
        )
        assert response.status_code == 201, response.text
        assert uuid.UUID(response.json()["id"]).version == 7

    async def test_signed_in_anonymous_report_without_a_place_gets_422_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        # The head's account belongs to a neighbourhood, which a signed report
        # would default to; an anonymous one keeps nothing of the account.
        body = new_report(anonymous=True)
        del body["ward_code"]
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.head))
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["body", "ward_code"]
        assert (await session.exec(select_model(Report))).all() == []

    async def test_signed_in_anonymous_report_keeps_the_place_it_names_only(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(anonymous=True), headers=cast.headers(cast.head)
        )
        assert response.status_code == 201, response.text
        report = await stored(session, response.json()["id"])
        assert (report.ward_code, report.neighbourhood_id) == (report.ward_code, None)


def _text(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return f"{value} {value.hex}"
    return str(value)


class TestRateLimit:
    async def test_reports_without_a_token_are_limited_per_address(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        # 30 an hour by default: many residents share an address behind
        # carrier-grade NAT.
        for _ in range(30):
            assert (await client.post(REPORTS, json=new_report())).status_code == 201
        limited = await client.post(REPORTS, json=new_report())
        problem = assert_problem(limited, 429, "rate-limited")
        assert int(limited.headers["retry-after"]) > 0
        assert "127.0.0.1" not in problem["detail"]
        assert len((await session.exec(select_model(Report))).all()) == 30

    async def test_signed_in_reporters_are_not_limited_by_address(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        for _ in range(30):
            assert (await client.post(REPORTS, json=new_report())).status_code == 201
        assert_problem(await client.post(REPORTS, json=new_report()), 429, "rate-limited")
        signed = await client.post(REPORTS, json=new_report(), headers=cast.headers(cast.resident))
        assert signed.status_code == 201

    async def test_the_limit_is_a_setting(self, app_client: AppClientFactory) -> None:
        _, other = await app_client(anonymous_reports_per_address="2 per minute")
        for _ in range(2):
            assert (await other.post(REPORTS, json=new_report())).status_code == 201
        assert_problem(await other.post(REPORTS, json=new_report()), 429, "rate-limited")

    async def test_a_signed_in_anonymous_sender_is_counted_by_account(
        self, client: httpx.AsyncClient, client_at: ClientAtFactory, cast: Cast
    ) -> None:
        headers = cast.headers(cast.resident)
        for _ in range(10):
            filed = await client.post(REPORTS, json=new_report(anonymous=True), headers=headers)
            assert filed.status_code == 201, filed.text
        elsewhere = await client_at("203.0.113.20")
        limited = await elsewhere.post(REPORTS, json=new_report(anonymous=True), headers=headers)
        problem = assert_problem(limited, 429, "rate-limited")
        assert "account" in problem["detail"]
        assert int(limited.headers["retry-after"]) > 0
        # Signed reports are not anonymous ones: not counted, not refused.
        signed = await client.post(REPORTS, json=new_report(), headers=headers)
        assert signed.status_code == 201
        # Nor does the account's count use up the address's.
        assert (await client.post(REPORTS, json=new_report())).status_code == 201

    async def test_rotating_ipv6_addresses_of_one_64_share_one_budget(
        self, app_client: AppClientFactory
    ) -> None:
        app, _ = await app_client(anonymous_reports_per_address="3 per hour")
        for number in range(3):
            async with at(app, f"2001:db8:42:1::{number + 1}") as phone:
                assert (await phone.post(REPORTS, json=new_report())).status_code == 201
        async with at(app, "2001:db8:42:1:dead:beef:0:1") as phone:
            assert_problem(await phone.post(REPORTS, json=new_report()), 429, "rate-limited")
        async with at(app, "2001:db8:42:2::1") as neighbour:
            assert (await neighbour.post(REPORTS, json=new_report())).status_code == 201

    async def test_a_replay_at_the_limit_gets_its_answer_not_429(
        self, app_client: AppClientFactory, session: AsyncSession
    ) -> None:
        _, other = await app_client(anonymous_reports_per_address="2 per hour")
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await other.post(REPORTS, json=new_report(), headers=key)
        assert first.status_code == 201
        assert (await other.post(REPORTS, json=new_report())).status_code == 201
        assert_problem(await other.post(REPORTS, json=new_report()), 429, "rate-limited")
        replay = await other.post(REPORTS, json=new_report(), headers=key)
        assert replay.status_code == 201, replay.text
        assert replay.headers["idempotency-replayed"] == "true"
        assert replay.json()["tracking_code"] == first.json()["tracking_code"]
        assert len((await session.exec(select_model(Report))).all()) == 2

    async def test_replays_under_the_limit_do_not_use_it_up(
        self, app_client: AppClientFactory, session: AsyncSession
    ) -> None:
        _, other = await app_client(anonymous_reports_per_address="2 per hour")
        key = {"Idempotency-Key": str(uuid.uuid4())}
        for _ in range(5):
            assert (await other.post(REPORTS, json=new_report(), headers=key)).status_code == 201
        assert (await other.post(REPORTS, json=new_report())).status_code == 201
        assert len((await session.exec(select_model(Report))).all()) == 2

    async def test_refused_and_failed_attempts_do_not_use_up_the_limit(
        self,
        app_client: AppClientFactory,
        session: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        _, other = await app_client(anonymous_reports_per_address="2 per hour")
        # Bad input, refused before anything is filed.
        for _ in range(3):
            bad = await other.post(REPORTS, json=new_report(ward_code="99999"))
            assert_problem(bad, 422, "validation-error")
        # A server error while filing.
        real = filing_service.create_report

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the database fell over")

        monkeypatch.setattr(filing_service, "create_report", broken)
        for _ in range(3):
            assert (await other.post(REPORTS, json=new_report())).status_code == 500
        monkeypatch.setattr(filing_service, "create_report", real)
        statuses = Counter(
            [(await other.post(REPORTS, json=new_report())).status_code for _ in range(3)]
        )
        assert statuses == {201: 2, 429: 1}
        assert len((await session.exec(select_model(Report))).all()) == 2

    async def test_a_report_whose_commit_fails_is_not_counted(
        self,
        app_client: AppClientFactory,
        session: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        _, other = await app_client(anonymous_reports_per_address="1 per hour")
        real = AsyncSession.commit
        failures = [1]

        async def failing_commit(self: AsyncSession) -> None:
            if failures:
                failures.pop()
                raise RuntimeError("the commit was lost")
            await real(self)

        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        assert (await other.post(REPORTS, json=new_report())).status_code == 500
        monkeypatch.setattr(AsyncSession, "commit", real)
        assert (await other.post(REPORTS, json=new_report())).status_code == 201
        assert_problem(await other.post(REPORTS, json=new_report()), 429, "rate-limited")


def at(app: object, host: str) -> httpx.AsyncClient:
    """A client of ``app`` whose requests come from ``host``."""
    transport = httpx.ASGITransport(app=app, client=(host, 43210))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class TestRateLimitInRedis:
    async def test_two_app_instances_share_the_count_and_redis_holds_no_address(
        self, app_client: AppClientFactory, redis_space: RedisSpace
    ) -> None:
        settings = {**redis_space.settings, "anonymous_reports_per_address": "3 per hour"}
        _, first = await app_client(**settings)
        _, second = await app_client(**settings)
        for _ in range(3):
            assert (await first.post(REPORTS, json=new_report())).status_code == 201
        limited = await second.post(REPORTS, json=new_report())
        assert_problem(limited, 429, "rate-limited")
        keys = await redis_space.keys()
        assert keys
        assert not any("127.0.0.1" in key for key in keys)


class TestRedisAway:
    async def test_anonymous_reports_are_still_filed_and_limited_in_the_process(
        self, app_client: AppClientFactory
    ) -> None:
        _, other = await app_client(
            redis_url="redis://127.0.0.1:1/0", anonymous_reports_per_address="2 per hour"
        )
        for _ in range(2):
            assert (await other.post(REPORTS, json=new_report())).status_code == 201
        assert_problem(await other.post(REPORTS, json=new_report()), 429, "rate-limited")
