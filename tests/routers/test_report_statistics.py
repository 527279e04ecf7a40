"""Report figures over HTTP: the cache of computed figures and what it tells clients.

The suite runs with the cache off (tests/conftest.py); these tests turn it on
and move its clock by hand. The figures themselves and the role matrix are
tested in tests/services/test_reports.py and tests/routers/test_reports.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from tests.conftest import AppClientFactory, Cast
from tests.factories import QUANG_NINH, assert_forbidden, make_report

STATISTICS = "/api/v1/reports/statistics"
START = datetime(2025, 3, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


async def cached_app(
    app_client: AppClientFactory, seconds: int = 60
) -> tuple[Clock, httpx.AsyncClient]:
    """A client of an app whose statistics cache keeps figures ``seconds``, on a hand clock."""
    app, client = await app_client(statistics_cache_seconds=seconds)
    clock = Clock()
    app.state.statistics_cache.clock = clock
    return clock, client


async def total(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> int:
    response = await client.get(
        STATISTICS, params={"unit_code": HA_LONG, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    value: int = response.json()["total"]
    return value


class TestStatisticsCache:
    async def test_the_setting_sizes_the_cache(self, app_client: AppClientFactory) -> None:
        app, _ = await app_client(statistics_cache_seconds=45)
        assert app.state.statistics_cache.seconds == 45

    async def test_within_the_ttl_a_new_report_is_not_counted_and_after_it_is(
        self, app_client: AppClientFactory, session: AsyncSession, cast: Cast
    ) -> None:
        clock, client = await cached_app(app_client)
        headers = cast.headers(cast.ward_officer)
        await make_report(session, HA_LONG, created_at=START)
        await session.commit()
        assert await total(client, headers) == 1
        await make_report(session, HA_LONG, created_at=START)
        await session.commit()
        clock.now += 59
        assert await total(client, headers) == 1  # served from the cache: no query
        clock.now += 1
        assert await total(client, headers) == 2

    async def test_cache_control_says_how_long_the_figures_may_be_kept(
        self, app_client: AppClientFactory, cast: Cast
    ) -> None:
        clock, client = await cached_app(app_client)
        headers = cast.headers(cast.ward_officer)
        first = await client.get(STATISTICS, params={"unit_code": HA_LONG}, headers=headers)
        clock.now += 20.5
        second = await client.get(STATISTICS, params={"unit_code": HA_LONG}, headers=headers)
        assert first.headers["Cache-Control"] == "private, max-age=60"
        assert second.headers["Cache-Control"] == "private, max-age=39"

    async def test_ttl_0_counts_every_new_report(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        for expected in (1, 2):
            await make_report(session, HA_LONG, created_at=START)
            await session.commit()
            response = await client.get(STATISTICS, params={"unit_code": HA_LONG}, headers=headers)
            assert response.json()["total"] == expected
            assert response.headers["Cache-Control"] == "private, max-age=0"

    async def test_cached_figures_still_need_the_right_to_see_them(
        self, app_client: AppClientFactory, cast: Cast
    ) -> None:
        _, client = await cached_app(app_client)
        params = {"unit_code": HA_LONG}
        warm = await client.get(STATISTICS, params=params, headers=cast.headers(cast.admin))
        assert warm.status_code == 200
        for outsider in (cast.other_ward_officer, cast.other_province_officer, cast.resident):
            assert_forbidden(
                await client.get(STATISTICS, params=params, headers=cast.headers(outsider))
            )

    async def test_each_unit_and_period_has_its_own_figures(
        self, app_client: AppClientFactory, session: AsyncSession, cast: Cast
    ) -> None:
        _, client = await cached_app(app_client)
        headers = cast.headers(cast.province_officer)
        await make_report(session, HA_LONG, created_at=START)
        await make_report(session, BAI_CHAY, created_at=START + timedelta(days=1))
        await session.commit()
        since = (START + timedelta(hours=12)).isoformat()
        assert await total(client, headers) == 1
        assert await total(client, headers, **{"from": since}) == 0
        province = await client.get(STATISTICS, params={"unit_code": QUANG_NINH}, headers=headers)
        assert province.json()["total"] == 2

    async def test_the_same_instant_in_another_offset_is_a_hit_echoed_as_asked(
        self, app_client: AppClientFactory, session: AsyncSession, cast: Cast
    ) -> None:
        _, client = await cached_app(app_client)
        headers = cast.headers(cast.ward_officer)
        utc = START.isoformat()
        hanoi = START.astimezone(timezone(timedelta(hours=7))).isoformat()
        assert await total(client, headers, **{"from": utc}) == 0
        await make_report(session, HA_LONG, created_at=START)
        await session.commit()
        response = await client.get(
            STATISTICS, params={"unit_code": HA_LONG, "from": hanoi}, headers=headers
        )
        assert response.json()["total"] == 0
        assert response.json()["from"] == "2025-03-01T07:00:00+07:00"


def test_the_suite_runs_with_the_cache_off(app: FastAPI) -> None:
    assert app.state.statistics_cache.seconds == 0
