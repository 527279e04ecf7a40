"""Demo reports and broadcasts: realistic, deterministic and idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo import reports as reports_demo
from app.demo.places import HA_LONG, SeedSummary, demo_id
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.security import hash_secret
from app.services import units as unit_service
from app.services.reports import statistics as report_statistics
from app.services.reports.triage import TRANSITIONS


async def count(session: AsyncSession, model: type, *where: object) -> int:
    statement = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
    return int((await session.exec(statement)).one())


@pytest.fixture(autouse=True)
def only_this_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Units and logins, then reports and broadcasts only: the other domains seed themselves."""
    monkeypatch.setattr(demo_data, "_domain_seeders", lambda: (reports_demo.seed_demo,))


class TestReportsDemo:
    async def test_hạ_long_gets_a_years_reports_across_statuses_and_categories(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        assert summary.added["reports"] == 170
        assert summary.added["broadcasts"] == 4
        reports = (await session.exec(select(Report).where(col(Report.ward_code) == HA_LONG))).all()
        assert len(reports) == 140
        assert {r.status for r in reports} == set(TRANSITIONS)
        assert len({r.category for r in reports}) == 9
        assert {r.created_at.year for r in reports} == {2025}
        anonymous = [r for r in reports if r.anonymous]
        signed = [r for r in reports if not r.anonymous]
        assert anonymous
        assert signed
        assert all(r.reporter_id is None and r.tracking_code_hash for r in anonymous)
        assert {r.reporter_id for r in signed} == {demo_id("user", "resident.halong")}
        for report in reports:
            if report.status == "received":
                assert report.acknowledged_at is None
                assert report.updated_at == report.created_at
            else:
                assert report.acknowledged_at is not None
                assert report.acknowledged_at > report.created_at
            assert (report.resolved_at is not None) is (report.status == "resolved")
            if report.status == "duplicate":
                assert report.duplicate_of is not None
        for report in reports:
            history = (
                await session.exec(
                    select(ReportUpdate)
                    .where(col(ReportUpdate.report_id) == report.id)
                    .order_by(col(ReportUpdate.created_at))
                )
            ).all()
            assert len(history) == report.version - 1
            if history:
                assert history[0].from_status == "received"
                assert history[-1].to_status == report.status
                assert history[0].created_at == report.acknowledged_at
                assert history[-1].created_at == report.updated_at

    async def test_demo_tracking_code_follows_a_report(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        anonymous = (
            await session.exec(
                select(Report)
                .where(col(Report.ward_code) == HA_LONG, col(Report.anonymous).is_(True))
                .order_by(col(Report.created_at))
            )
        ).first()
        assert anonymous is not None
        number = next(n for n in range(140) if demo_id("report", HA_LONG, str(n)) == anonymous.id)
        code = reports_demo.tracking_code(HA_LONG, number)
        assert anonymous.tracking_code_hash == hash_secret(code)

    async def test_rerun_adds_nothing(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        reports, updates = await count(session, Report), await count(session, ReportUpdate)
        again = SeedSummary()
        await reports_demo.seed_demo(session, again)
        assert again.added == {}
        assert (await count(session, Report), await count(session, ReportUpdate)) == (
            reports,
            updates,
        )

    async def test_a_deleted_report_comes_back_the_same(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        report_id = demo_id("report", HA_LONG, "77")
        original = await session.get(Report, report_id)
        assert original is not None
        snapshot = original.model_dump()
        for update in (
            await session.exec(select(ReportUpdate).where(col(ReportUpdate.report_id) == report_id))
        ).all():
            await session.delete(update)
        await session.flush()
        duplicates = (
            await session.exec(select(Report).where(col(Report.duplicate_of) == report_id))
        ).all()
        for duplicate in duplicates:
            duplicate.duplicate_of = None
            session.add(duplicate)
        await session.delete(original)
        await session.flush()
        session.expunge_all()
        summary = SeedSummary()
        await reports_demo.seed_reports(session, summary)
        assert summary.added == {"reports": 1}
        restored = await session.get(Report, report_id)
        assert restored is not None
        assert restored.model_dump() == snapshot

    async def test_broadcasts_are_acknowledged_by_demo_residents(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        law = demo_id("broadcast", "residence-law")
        assert await session.get(Broadcast, law) is not None
        acknowledged = await count(
            session, BroadcastAcknowledgement, col(BroadcastAcknowledgement.broadcast_id) == law
        )
        assert acknowledged == 4

    async def test_figures_of_the_demo_year_are_plausible(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        anchor = await unit_service.resolve_unit(session, HA_LONG)
        assert anchor is not None
        figures = await report_statistics.report_statistics(session, anchor)
        assert figures.total == 140
        assert figures.median_seconds_to_acknowledge is not None
        assert 10 * 60 < figures.median_seconds_to_acknowledge < 60 * 60
        assert figures.p90_seconds_to_acknowledge is not None
        assert figures.p90_seconds_to_acknowledge > figures.median_seconds_to_acknowledge
