"""Certification rules in the services: the pass rule, findings, certificate numbers, counts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import NotFound, ValidationFailed
from app.models.certification_criteria import CriteriaSet
from app.models.neighbourhoods import Neighbourhood
from app.services.certifications import counts as count_service
from app.services.certifications import criteria as criteria_service
from app.services.certifications.workflow import next_certificate_no
from tests.factories import (
    HOAN_KIEM,
    make_certification,
    make_criteria_set,
    make_neighbourhood,
    sample_criteria,
)

YEAR = 2030


def findings(c1: Any = True, c2: Any = True, c3: Any = 70, c4: Any = None) -> list[dict[str, Any]]:
    items = []
    for code, answer in (("C1", c1), ("C2", c2), ("C3", c3), ("C4", c4)):
        if answer is None:
            continue
        key = "score" if code == "C3" else "value"
        items.append({"code": code, key: answer})
    return items


def a_set(min_total: int = 60, criteria: list[dict[str, Any]] | None = None) -> CriteriaSet:
    return CriteriaSet(
        year=YEAR,
        set_version=1,
        name="t",
        criteria=criteria or sample_criteria(),
        pass_rule={"min_total": min_total},
    )


class TestPassRule:
    def test_all_required_met_and_total_reached_passes(self) -> None:
        verdict = criteria_service.evaluate(a_set(), findings())
        assert (verdict.passed, verdict.total_score, verdict.unmet) == (True, 70, [])
        assert "reaches 60" in verdict.explain()

    def test_total_exactly_at_min_total_passes_one_below_fails(self) -> None:
        assert criteria_service.evaluate(a_set(70), findings(c3=70)).passed
        below = criteria_service.evaluate(a_set(71), findings(c3=70))
        assert (below.passed, below.unmet) == (False, [])
        assert "total score 70 is below 71" in below.explain()

    def test_a_required_boolean_not_met_fails_whatever_the_total(self) -> None:
        verdict = criteria_service.evaluate(a_set(0), findings(c2=False, c3=100))
        assert (verdict.passed, verdict.unmet) == (False, ["C2"])

    def test_a_score_below_its_pass_score_is_not_met(self) -> None:
        verdict = criteria_service.evaluate(a_set(0), findings(c3=49))
        assert verdict.unmet == ["C3"]
        assert criteria_service.evaluate(a_set(0), findings(c3=50)).unmet == []

    def test_a_score_criterion_without_pass_score_is_met_by_any_score(self) -> None:
        criteria = sample_criteria()
        del criteria[2]["pass_score"]
        assert criteria_service.evaluate(a_set(0, criteria), findings(c3=0)).passed

    def test_a_missing_required_criterion_is_not_met(self) -> None:
        verdict = criteria_service.evaluate(a_set(), findings(c1=None))
        assert verdict.unmet == ["C1"]

    def test_an_optional_criterion_not_met_does_not_fail(self) -> None:
        assert criteria_service.evaluate(a_set(), findings(c4=False)).passed

    def test_unmet_criteria_come_in_the_sets_order(self) -> None:
        verdict = criteria_service.evaluate(a_set(), list(reversed(findings(False, False, 10))))
        assert verdict.unmet == ["C1", "C2", "C3"]
        assert "required criteria not met: C1, C2, C3" in verdict.explain()


class TestFindings:
    @pytest.mark.parametrize(
        ("items", "words"),
        [
            ([{"code": "C1", "value": True}, {"code": "C1", "value": False}], "given twice: C1"),
            ([{"code": "X1", "value": True}, {"code": "X2", "value": True}], "X1, X2"),
            ([{"code": "C1", "score": 1}], "C1 is met or not"),
            ([{"code": "C3", "value": True}], "C3 is scored"),
            ([{"code": "C3", "score": 101}], "C3 scores at most 100"),
        ],
    )
    def test_wrong_findings_are_named(self, items: list[dict[str, Any]], words: str) -> None:
        with pytest.raises(ValidationFailed, match=words):
            criteria_service.check_findings(a_set(), items, "criteria")

    def test_right_findings_pass(self) -> None:
        criteria_service.check_findings(a_set(), findings(c4=True), "criteria")

    def test_missing_required_lists_required_codes_only(self) -> None:
        assert criteria_service.missing_required(a_set(), [{"code": "C2", "value": True}]) == [
            "C1",
            "C3",
        ]


class TestCertificateNumbers:
    async def test_numbers_count_up_per_ward_and_year(self, session: AsyncSession) -> None:
        numbers = [await next_certificate_no(session, HA_LONG, 2096) for _ in range(3)]
        assert numbers == [f"ANTT-2096-{HA_LONG}-{n:04d}" for n in (1, 2, 3)]
        assert await next_certificate_no(session, BAI_CHAY, 2096) == f"ANTT-2096-{BAI_CHAY}-0001"
        assert await next_certificate_no(session, HA_LONG, 2095) == f"ANTT-2095-{HA_LONG}-0001"


class TestCertifiedAreas:
    @pytest.fixture
    async def areas(self, session: AsyncSession) -> dict[str, Neighbourhood]:
        """Hạ Long: 2 certified, 1 revoked, 1 under review; Bãi Cháy: 1 certified; Hà Nội: 1."""
        criteria_set = await make_criteria_set(session, YEAR)
        kps = {
            name: await make_neighbourhood(session, ward)
            for name, ward in (
                ("hl1", HA_LONG),
                ("hl2", HA_LONG),
                ("hl3", HA_LONG),
                ("hl4", HA_LONG),
                ("bc1", BAI_CHAY),
                ("hn1", HOAN_KIEM),
            )
        }
        decided = {"decided_on": date(YEAR, 12, 1)}
        await make_certification(session, kps["hl1"], criteria_set, "certified", **decided)
        await make_certification(session, kps["hl2"], criteria_set, "certified", **decided)
        await make_certification(
            session,
            kps["hl3"],
            criteria_set,
            "revoked",
            decided_on=date(YEAR, 12, 1),
            revoked_on=date(YEAR + 1, 3, 1),
        )
        await make_certification(session, kps["hl4"], criteria_set, "under_review")
        await make_certification(session, kps["bc1"], criteria_set, "certified", **decided)
        await make_certification(session, kps["hn1"], criteria_set, "certified", **decided)
        later = await make_criteria_set(session, YEAR + 1)
        await make_certification(session, kps["hl1"], later, "certified", **decided)
        await session.commit()
        return kps

    async def test_a_ward_counts_per_year(
        self, session: AsyncSession, areas: dict[str, Neighbourhood]
    ) -> None:
        rows = await count_service.certified_areas(session, HA_LONG)
        mine = [(r.unit_code, r.year, r.registered, r.certified) for r in rows if r.year >= YEAR]
        assert mine == [(HA_LONG, YEAR, 4, 2), (HA_LONG, YEAR + 1, 1, 1)]

    async def test_the_province_counts_its_wards_only(
        self, session: AsyncSession, areas: dict[str, Neighbourhood]
    ) -> None:
        [row] = await count_service.certified_areas(session, "22", year=YEAR)
        assert (row.unit_code, row.registered, row.certified) == ("22", 5, 3)

    async def test_breakdown_by_ward_and_by_neighbourhood(
        self, session: AsyncSession, areas: dict[str, Neighbourhood]
    ) -> None:
        by_ward = await count_service.certified_areas(session, "22", year=YEAR, breakdown=True)
        assert [(r.unit_code, r.certified) for r in by_ward] == [(BAI_CHAY, 1), (HA_LONG, 2)]
        by_kp = await count_service.certified_areas(session, HA_LONG, year=YEAR, breakdown=True)
        assert {r.unit_code: r.certified for r in by_kp} == {
            str(areas["hl1"].id): 1,
            str(areas["hl2"].id): 1,
            str(areas["hl3"].id): 0,
            str(areas["hl4"].id): 0,
        }

    async def test_a_neighbourhood_counts_itself(
        self, session: AsyncSession, areas: dict[str, Neighbourhood]
    ) -> None:
        rows = await count_service.certified_areas(session, str(areas["hl1"].id))
        assert [(r.year, r.certified) for r in rows] == [(YEAR, 1), (YEAR + 1, 1)]

    async def test_on_a_date_counts_certificates_standing_then(
        self, session: AsyncSession, areas: dict[str, Neighbourhood]
    ) -> None:
        async def certified_on(day: date) -> int:
            [row] = await count_service.certified_areas(session, HA_LONG, year=YEAR, on=day)
            return row.certified

        assert await certified_on(date(YEAR, 11, 30)) == 0  # nothing decided yet
        assert await certified_on(date(YEAR + 1, 2, 1)) == 3  # hl3 not yet revoked
        assert await certified_on(date(YEAR + 1, 3, 1)) == 2  # revoked that day

    async def test_deleted_registrations_do_not_count(
        self, session: AsyncSession, areas: dict[str, Neighbourhood]
    ) -> None:
        from app.db import utcnow

        criteria_set = await make_criteria_set(session, YEAR + 2)
        await make_certification(session, areas["hl2"], criteria_set, "draft", deleted_at=utcnow())
        await session.commit()
        assert await count_service.certified_areas(session, HA_LONG, year=YEAR + 2) == []

    async def test_unknown_unit_is_not_found(self, session: AsyncSession) -> None:
        with pytest.raises(NotFound):
            await count_service.certified_areas(session, "99999")
