"""Demo safe-zone certifications: the 2025 criteria set and Hạ Long's 27 areas in every status.

Deterministic (``random.Random`` with a fixed seed, ids from ``demo_id``, fixed
dates) and idempotent: a rerun adds only what is missing. KP01, whose head signs
in as ``head.halong``, is a complete draft ready to submit; other areas' heads
have no demo account, so their steps carry a stable placeholder id."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.criteria import CIRCULAR, CRITERIA, CRITERIA_SET_ID, PASS_RULE, YEAR
from app.demo.places import HA_LONG, SeedSummary, demo_id
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import (
    CertificateCounter,
    Certification,
    CertificationEvent,
    CertificationStatus,
)
from app.models.neighbourhoods import Neighbourhood
from app.security import Role
from app.services.certifications import criteria as criteria_service
from app.services.certifications.workflow import format_certificate_no

OFFICER = demo_id("user", "officer.halong")
OFFICER_ROLE = Role.WARD_OFFICER
PROVINCE_OFFICER = demo_id("user", "province.officer")
HEAD_OF_KP01 = demo_id("user", "head.halong")


@dataclass(frozen=True)
class _Area:
    code: str
    status: CertificationStatus
    # "pass", "low_score" or "incident": how the review (if any) comes out.
    review: str = "pass"


def _areas() -> list[_Area]:
    draft, submitted = CertificationStatus.DRAFT, CertificationStatus.SUBMITTED
    under_review, certified = CertificationStatus.UNDER_REVIEW, CertificationStatus.CERTIFIED
    rejected, revoked = CertificationStatus.REJECTED, CertificationStatus.REVOKED
    plan = [
        _Area("KP01", draft),  # complete: head.halong can submit it
        _Area("KP02", draft),  # households short of 100%
        _Area("KP03", draft),  # self-assessment unfinished
        *(_Area(f"KP{n:02d}", submitted) for n in range(4, 8)),
        _Area("KP08", under_review),
        _Area("KP09", under_review),
        _Area("KP10", under_review, "low_score"),
        _Area("KP11", under_review, "incident"),
        *(_Area(f"KP{n:02d}", certified) for n in range(12, 23)),
        _Area("KP23", rejected, "low_score"),
        _Area("KP24", rejected, "incident"),
        _Area("KP25", rejected),  # passed the review, rejected on an override
        _Area("KP26", revoked),
        _Area("KP27", revoked),
    ]
    assert len(plan) == 27
    return plan


class _Step(NamedTuple):
    """One row of a demo certification's history."""

    action: str
    from_status: str | None
    to_status: str
    actor: uuid.UUID
    role: Role
    at: datetime
    note: str | None = None


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def seed_demo(session: AsyncSession, summary: SeedSummary) -> None:
    """The 2025 criteria set and one certification per Hạ Long neighbourhood, with history."""
    if await session.get(CriteriaSet, CRITERIA_SET_ID) is None:
        session.add(
            CriteriaSet(
                id=CRITERIA_SET_ID,
                created_at=_at(date(2025, 1, 2), 2),
                updated_at=_at(date(2025, 1, 2), 2),
                year=YEAR,
                set_version=1,
                name="Tiêu chuẩn khu dân cư an toàn về ANTT năm 2025",
                legal_basis=CIRCULAR,
                criteria=CRITERIA,
                pass_rule=PASS_RULE,
                in_use=True,
            )
        )
        await session.flush()
        summary.count("certification_criteria_sets")
    criteria_set = await session.get(CriteriaSet, CRITERIA_SET_ID)
    assert criteria_set is not None
    neighbourhoods = {
        n.code: n
        for n in (
            await session.exec(
                select(Neighbourhood).where(
                    col(Neighbourhood.ward_code) == HA_LONG, col(Neighbourhood.deleted_at).is_(None)
                )
            )
        ).all()
    }
    registered = set(
        (
            await session.exec(
                select(Certification.neighbourhood_id).where(
                    col(Certification.ward_code) == HA_LONG,
                    col(Certification.year) == YEAR,
                    col(Certification.deleted_at).is_(None),
                )
            )
        ).all()
    )
    taken = set(
        (
            await session.exec(
                select(Certification.certificate_no).where(
                    col(Certification.certificate_no).is_not(None)
                )
            )
        ).all()
    )
    rng = random.Random(f"wardsafe-demo-certifications-{HA_LONG}-{YEAR}")  # noqa: S311
    number = 0
    for index, area in enumerate(_areas()):
        # Draw for every area, stored or not, so each area's scores never depend on a rerun.
        scores = _Scores.draw(rng, area)
        has_number = area.status in (CertificationStatus.CERTIFIED, CertificationStatus.REVOKED)
        certificate_no = None
        if has_number:
            number += 1
            certificate_no = format_certificate_no(YEAR, HA_LONG, number)
        neighbourhood = neighbourhoods.get(area.code)
        if neighbourhood is None or neighbourhood.id in registered:
            continue
        if certificate_no in taken:
            continue  # a number the API issued before the demo was loaded
        certification, events = _build(neighbourhood, area, index, scores, criteria_set)
        certification.certificate_no = certificate_no
        session.add(certification)
        await session.flush()
        session.add_all(events)
        summary.count("certifications")
        summary.count("certification_events", len(events))
    await session.flush()
    await _advance_counter(session, number, summary)


@dataclass(frozen=True)
class _Scores:
    tc4: int
    tc5: int
    incident: bool

    @classmethod
    def draw(cls, rng: random.Random, area: _Area) -> _Scores:
        if area.review == "low_score":
            return cls(rng.randint(12, 19), rng.randint(31, 45), False)
        return cls(rng.randint(26, 38), rng.randint(44, 58), area.review == "incident")


def _build(
    neighbourhood: Neighbourhood,
    area: _Area,
    index: int,
    scores: _Scores,
    criteria_set: CriteriaSet,
) -> tuple[Certification, list[CertificationEvent]]:
    status = area.status
    registered_on = date(2025, 1, 6) + timedelta(days=index % 20)
    households = neighbourhood.households
    committed = households - 37 if area.code == "KP02" else households
    head = HEAD_OF_KP01 if area.code == "KP01" else demo_id("user", "head", HA_LONG, area.code)
    self_assessment: list[dict[str, Any]] = [
        {
            "code": "TC1",
            "value": True,
            "evidence": f"Nghị quyết 01/NQ-{area.code}; {committed}/{households} hộ ký cam kết.",
        },
        {"code": "TC2", "value": True, "evidence": "Biên bản sinh hoạt khu dân cư hằng quý."},
        {
            "code": "TC3",
            "value": not scores.incident,
            "evidence": "Đối chiếu số liệu Công an phường.",
        },
        {"code": "TC4", "score": min(40, scores.tc4 + 2), "evidence": "Giảm số vụ so với 2024."},
        {"code": "TC5", "score": min(60, scores.tc5 + 2), "evidence": "Tổ tự quản họp hằng tháng."},
    ]
    if area.code == "KP03":
        self_assessment = self_assessment[:3]
    certification = Certification(
        id=demo_id("certification", HA_LONG, area.code, str(YEAR)),
        created_at=_at(registered_on, 2),
        updated_at=_at(registered_on, 2),
        province_code=neighbourhood.province_code,
        ward_code=HA_LONG,
        neighbourhood_id=neighbourhood.id,
        year=YEAR,
        criteria_set_id=criteria_set.id,
        status=status.value,
        registered_on=registered_on,
        resolution_no=f"01/NQ-{area.code}",
        households_committed=committed,
        households_total=households,
        self_assessment=self_assessment,
    )
    head_role = Role.NEIGHBOURHOOD_HEAD
    steps = [_Step("register", None, "draft", head, head_role, certification.created_at)]
    reached = status is not CertificationStatus.DRAFT
    submitted_at = _at(date(2025, 10, 1) + timedelta(days=index % 10), 3)
    if reached:
        certification.submitted_at = submitted_at
        note = "Đề nghị phường xét công nhận."
        steps.append(_Step("submit", "draft", "submitted", head, head_role, submitted_at, note))
    if status not in (CertificationStatus.DRAFT, CertificationStatus.SUBMITTED):
        reviewed_at = submitted_at + timedelta(days=20, hours=5)
        findings = [
            {"code": "TC1", "value": True},
            {"code": "TC2", "value": True},
            {
                "code": "TC3",
                "value": not scores.incident,
                **(
                    {"note": "Xảy ra 01 vụ cố ý gây thương tích nghiêm trọng."}
                    if scores.incident
                    else {}
                ),
            },
            {"code": "TC4", "score": scores.tc4},
            {"code": "TC5", "score": scores.tc5},
        ]
        verdict = criteria_service.evaluate(criteria_set, findings)
        certification.review_criteria = findings
        certification.review_total_score = verdict.total_score
        certification.review_passed = verdict.passed
        certification.review_unmet = verdict.unmet
        certification.reviewed_by = OFFICER
        certification.reviewed_at = reviewed_at
        note = f"Đã thẩm định: {verdict.explain()}."
        steps.append(
            _Step("review", "submitted", "under_review", OFFICER, OFFICER_ROLE, reviewed_at, note)
        )
        if status in (
            CertificationStatus.CERTIFIED,
            CertificationStatus.REJECTED,
            CertificationStatus.REVOKED,
        ):
            _decide(certification, area, verdict.passed, reviewed_at, steps)
    certification.updated_at = steps[-1].at
    certification.version = len(steps)
    events = [
        CertificationEvent(
            id=demo_id("certification-event", HA_LONG, area.code, str(YEAR), step.action),
            created_at=step.at,
            updated_at=step.at,
            certification_id=certification.id,
            province_code=certification.province_code,
            ward_code=HA_LONG,
            action=step.action,
            from_status=step.from_status,
            to_status=step.to_status,
            actor_id=step.actor,
            actor_kind="user",
            actor_role=step.role.value,
            note=step.note,
        )
        for step in steps
    ]
    return certification, events


def _decide(
    certification: Certification,
    area: _Area,
    passed: bool,
    reviewed_at: datetime,
    steps: list[_Step],
) -> None:
    decided_at = reviewed_at + timedelta(days=10)
    certified = area.status is not CertificationStatus.REJECTED
    certification.decision_outcome = "certified" if certified else "rejected"
    certification.decision_no = f"{2100 + int(area.code[2:])}/QĐ-UBND"
    certification.decided_on = decided_at.date()
    certification.decided_by = OFFICER
    certification.decided_at = decided_at
    if certified:
        certification.decision_reasons = []
        note = "Công nhận khu dân cư an toàn về ANTT năm 2025."
    elif passed:
        certification.decision_reasons = ["Hồ sơ tự đánh giá không trung thực về tiêu chí TC3."]
        certification.override_reason = (
            "Xác minh sau thẩm định phát hiện vụ việc chưa được báo cáo."
        )
        note = "Không công nhận (khác kết quả thẩm định, có lý do)."
    else:
        certification.decision_reasons = [
            f"Không đạt: {', '.join(certification.review_unmet or []) or 'tổng điểm dưới 70'}."
        ]
        note = "Không công nhận."
    outcome = certification.decision_outcome
    steps.append(_Step("decide", "under_review", outcome, OFFICER, OFFICER_ROLE, decided_at, note))
    if area.status is CertificationStatus.REVOKED:
        revoked_at = decided_at + timedelta(days=75)
        by_province = area.code == "KP27"
        revoker = PROVINCE_OFFICER if by_province else OFFICER
        certification.revocation_reason = (
            "Để xảy ra vụ việc nghiêm trọng về ANTT sau khi công nhận."
        )
        certification.revoked_on = revoked_at.date()
        certification.revoked_by = revoker
        certification.revoked_at = revoked_at
        role = Role.PROVINCE_OFFICER if by_province else OFFICER_ROLE
        reason = certification.revocation_reason
        steps.append(_Step("revoke", "certified", "revoked", revoker, role, revoked_at, reason))


async def _advance_counter(session: AsyncSession, issued: int, summary: SeedSummary) -> None:
    """Make the ward's counter continue after the demo's certificate numbers."""
    counter = (
        await session.exec(
            select(CertificateCounter).where(
                col(CertificateCounter.ward_code) == HA_LONG, col(CertificateCounter.year) == YEAR
            )
        )
    ).first()
    if counter is None:
        session.add(
            CertificateCounter(
                id=demo_id("certificate-counter", HA_LONG, str(YEAR)),
                ward_code=HA_LONG,
                year=YEAR,
                last_no=issued,
            )
        )
        summary.count("certificate_counters")
    elif counter.last_no < issued:
        counter.last_no = issued
        counter.version += 1
        session.add(counter)
    await session.flush()
