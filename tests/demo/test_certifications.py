"""Demo certifications: Hạ Long's 27 neighbourhoods across every status of 2025, with history."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo.criteria import CRITERIA_SET_ID
from app.demo.places import HA_LONG, demo_id
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import (
    CertificateCounter,
    Certification,
    CertificationEvent,
)
from app.services.certifications import counts as count_service
from app.services.certifications import criteria as criteria_service
from app.services.certifications.workflow import next_certificate_no


async def demo_certifications(session: AsyncSession) -> list[Certification]:
    rows = await session.exec(
        select(Certification).where(
            col(Certification.ward_code) == HA_LONG, col(Certification.year) == 2025
        )
    )
    return list(rows.all())


class TestDemoCertifications:
    async def test_every_ha_long_neighbourhood_has_one_in_every_status(
        self, session: AsyncSession
    ) -> None:
        summary = await demo_data.seed_demo(session)
        rows = await demo_certifications(session)
        assert len(rows) == len({r.neighbourhood_id for r in rows}) == 27
        assert Counter(r.status for r in rows) == {
            "draft": 3,
            "submitted": 4,
            "under_review": 4,
            "certified": 11,
            "rejected": 3,
            "revoked": 2,
        }
        assert summary.added["certifications"] == 27
        assert summary.added["certification_criteria_sets"] == 1

    async def test_the_2025_set_has_the_circulars_five_criteria(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        criteria_set = await session.get(CriteriaSet, CRITERIA_SET_ID)
        assert criteria_set is not None
        assert (criteria_set.year, criteria_set.set_version, criteria_set.in_use) == (2025, 1, True)
        assert criteria_service.criterion_codes(criteria_set) == ["TC1", "TC2", "TC3", "TC4", "TC5"]
        assert "124/2021/TT-BCA" in (criteria_set.legal_basis or "")
        assert criteria_set.pass_rule == {"min_total": 70}

    async def test_records_agree_with_their_status_and_the_pass_rule(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        criteria_set = await session.get(CriteriaSet, CRITERIA_SET_ID)
        assert criteria_set is not None
        for row in await demo_certifications(session):
            reviewed = row.status not in ("draft", "submitted")
            assert (row.reviewed_at is not None) == reviewed, row.status
            assert (row.decision_outcome is not None) == (
                row.status in ("certified", "rejected", "revoked")
            )
            assert (row.certificate_no is not None) == (row.status in ("certified", "revoked"))
            assert (row.revoked_at is not None) == (row.status == "revoked")
            if reviewed:
                verdict = criteria_service.evaluate(criteria_set, row.review_criteria or [])
                assert verdict.passed == row.review_passed
                assert verdict.total_score == row.review_total_score
            if row.decision_outcome:
                follows_rule = (row.decision_outcome == "certified") == row.review_passed
                assert follows_rule or row.override_reason, row.neighbourhood_id
            if row.status != "draft":
                missing = criteria_service.missing_required(criteria_set, row.self_assessment)
                assert missing == []
                assert row.households_committed == row.households_total

    async def test_history_has_one_event_per_step_taken(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        steps = {"draft": 1, "submitted": 2, "under_review": 3, "certified": 4, "rejected": 4}
        steps["revoked"] = 5
        for row in await demo_certifications(session):
            events = (
                await session.exec(
                    select(CertificationEvent)
                    .where(col(CertificationEvent.certification_id) == row.id)
                    .order_by(col(CertificationEvent.created_at))
                )
            ).all()
            assert len(events) == steps[row.status] == row.version
            assert events[0].action == "register"
            assert events[-1].to_status == row.status
            assert [e.from_status for e in events[1:]] == [e.to_status for e in events[:-1]]

    async def test_kp01_of_head_halong_is_a_complete_draft(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        kp01 = await session.get(Certification, demo_id("certification", HA_LONG, "KP01", "2025"))
        assert kp01 is not None
        assert kp01.status == "draft"
        assert kp01.neighbourhood_id == demo_id("neighbourhood", HA_LONG, "KP01")
        assert kp01.households_committed == kp01.households_total > 0
        assert len(kp01.self_assessment) == 5
        [event] = (
            await session.exec(
                select(CertificationEvent).where(
                    col(CertificationEvent.certification_id) == kp01.id
                )
            )
        ).all()
        assert event.actor_id == demo_id("user", "head.halong")

    async def test_certificate_numbers_are_unique_and_the_counter_continues(
        self, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        numbers = [r.certificate_no for r in await demo_certifications(session) if r.certificate_no]
        assert len(numbers) == len(set(numbers)) == 13
        assert max(numbers) == f"ANTT-2025-{HA_LONG}-0013"
        assert await next_certificate_no(session, HA_LONG, 2025) == f"ANTT-2025-{HA_LONG}-0014"

    async def test_a_rerun_adds_nothing_and_changes_nothing(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        before = {
            r.id: (r.status, r.version, r.certificate_no)
            for r in await demo_certifications(session)
        }
        again = await demo_data.seed_demo(session)
        await session.commit()
        assert not {k: v for k, v in again.added.items() if k.startswith("certif")}
        session.expunge_all()
        after = {
            r.id: (r.status, r.version, r.certificate_no)
            for r in await demo_certifications(session)
        }
        assert after == before
        events = (
            await session.exec(
                select(func.count())
                .select_from(CertificationEvent)
                .where(col(CertificationEvent.ward_code) == HA_LONG)
            )
        ).one()
        assert events == 3 * 1 + 4 * 2 + 4 * 3 + 11 * 4 + 3 * 4 + 2 * 5
        counter = (
            await session.exec(
                select(CertificateCounter.last_no).where(col(CertificateCounter.year) == 2025)
            )
        ).one()
        assert counter == 13

    async def test_statistics_count_the_11_certified_areas(self, session: AsyncSession) -> None:
        await demo_data.seed_demo(session)
        [row] = await count_service.certified_areas(session, HA_LONG, year=2025)
        assert (row.registered, row.certified) == (27, 11)
