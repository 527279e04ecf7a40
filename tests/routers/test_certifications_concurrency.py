"""Concurrent certification requests that commit: one decision, distinct numbers, one record."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, func
from sqlmodel import col, select

from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import CertificateCounter, Certification, CertificationEvent
from app.models.neighbourhoods import Neighbourhood
from tests.conftest import Committed
from tests.factories import make_certification, make_criteria_set, make_neighbourhood

CERTIFICATIONS = "/api/v1/certifications"
# A year no other test uses, so that the ward's certificate counter starts at 0.
YEAR = 2097


@dataclass
class Stage:
    """What a test committed, removed again afterwards (before ``committed`` cleans its part)."""

    committed: Committed
    criteria_set_id: uuid.UUID | None = None
    neighbourhood_ids: list[uuid.UUID] = field(default_factory=list)

    async def neighbourhood(self, n: int) -> list[uuid.UUID]:
        async with self.committed.sessionmaker() as session:
            made = [
                await make_neighbourhood(session, HA_LONG, f"{self.committed.prefix}kp{i}")
                for i in range(n)
            ]
            criteria_set = await make_criteria_set(session, YEAR)
            await session.commit()
        self.criteria_set_id = criteria_set.id
        self.neighbourhood_ids += [kp.id for kp in made]
        return [kp.id for kp in made]

    async def under_review(self, n: int) -> list[uuid.UUID]:
        """``n`` certifications in one ward, reviewed and passing, committed."""
        ids = await self.neighbourhood(n)
        async with self.committed.sessionmaker() as session:
            criteria_set = await session.get(CriteriaSet, self.criteria_set_id)
            rows = []
            for neighbourhood_id in ids:
                kp = await session.get(Neighbourhood, neighbourhood_id)
                rows.append(await make_certification(session, kp, criteria_set, "under_review"))
            await session.commit()
        return [row.id for row in rows]

    async def remove(self) -> None:
        async with self.committed.sessionmaker() as session:
            certifications = select(col(Certification.id)).where(
                col(Certification.neighbourhood_id).in_(self.neighbourhood_ids)
            )
            await session.exec(
                delete(CertificationEvent).where(
                    col(CertificationEvent.certification_id).in_(certifications)
                )
            )
            await session.exec(
                delete(AuditEvent).where(
                    col(AuditEvent.record_id).in_(
                        [str(i) for i in (await session.exec(certifications)).all()]
                    )
                )
            )
            await session.exec(
                delete(Certification).where(
                    col(Certification.neighbourhood_id).in_(self.neighbourhood_ids)
                )
            )
            await session.exec(
                delete(CertificateCounter).where(col(CertificateCounter.year) == YEAR)
            )
            await session.exec(delete(CriteriaSet).where(col(CriteriaSet.year) == YEAR))
            await session.commit()


@pytest.fixture
async def stage(committed: Committed) -> AsyncIterator[Stage]:
    state = Stage(committed)
    try:
        yield state
    finally:
        await state.remove()


class TestConcurrentDecide:
    async def test_10_decisions_on_one_certification_make_exactly_one(
        self, committed: Committed, stage: Stage
    ) -> None:
        [certification_id] = await stage.under_review(1)
        url = f"{CERTIFICATIONS}/{certification_id}/decide"
        responses = await asyncio.gather(
            *(
                committed.client.post(
                    url,
                    json={"outcome": "certified", "note": f"quyết định {i}"},
                    headers=committed.headers,
                )
                for i in range(10)
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 409: 9}, [r.text for r in responses if r.status_code != 409]
        [winner] = [r for r in responses if r.status_code == 200]
        assert winner.json()["decision"]["certificate_no"] == f"ANTT-{YEAR}-{HA_LONG}-0001"
        for loser in (r for r in responses if r.status_code == 409):
            body = loser.json()
            assert body["type"].endswith("/invalid-transition")
            assert (body["current_status"], body["allowed"]) == ("certified", ["revoke"])
        async with committed.sessionmaker() as session:
            row = await session.get(Certification, certification_id)
            assert row is not None
            assert (row.status, row.version) == ("certified", 2)
            decided = (
                await session.exec(
                    select(CertificationEvent).where(
                        col(CertificationEvent.certification_id) == certification_id
                    )
                )
            ).all()
            assert [e.action for e in decided] == ["decide"]
            assert (decided[0].note or "").startswith("quyết định ")
            counter = (
                await session.exec(
                    select(CertificateCounter.last_no).where(
                        col(CertificateCounter.ward_code) == HA_LONG,
                        col(CertificateCounter.year) == YEAR,
                    )
                )
            ).one()
            assert counter == 1
            audit = (
                await session.exec(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        col(AuditEvent.record_id) == str(certification_id),
                        col(AuditEvent.action) == "decide",
                    )
                )
            ).one()
            assert audit == 1

    async def test_decisions_on_6_certifications_of_a_ward_get_6_distinct_numbers(
        self, committed: Committed, stage: Stage
    ) -> None:
        ids = await stage.under_review(6)
        responses = await asyncio.gather(
            *(
                committed.client.post(
                    f"{CERTIFICATIONS}/{certification_id}/decide",
                    json={"outcome": "certified"},
                    headers=committed.headers,
                )
                for certification_id in ids
            )
        )
        assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
        numbers = sorted(r.json()["decision"]["certificate_no"] for r in responses)
        assert numbers == [f"ANTT-{YEAR}-{HA_LONG}-{n:04d}" for n in range(1, 7)]


class TestConcurrentRegistration:
    async def test_10_registrations_of_one_neighbourhood_and_year_make_one(
        self, committed: Committed, stage: Stage
    ) -> None:
        [neighbourhood_id] = await stage.neighbourhood(1)
        body = {"neighbourhood_id": str(neighbourhood_id), "year": YEAR}
        responses = await asyncio.gather(
            *(
                committed.client.post(CERTIFICATIONS, json=body, headers=committed.headers)
                for _ in range(10)
            )
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {201: 1, 409: 9}, [r.text for r in responses if r.status_code >= 500]
        async with committed.sessionmaker() as session:
            count = (
                await session.exec(
                    select(func.count())
                    .select_from(Certification)
                    .where(col(Certification.neighbourhood_id) == neighbourhood_id)
                )
            ).one()
            assert count == 1
            criteria_set = await session.get(CriteriaSet, stage.criteria_set_id)
            assert criteria_set is not None
            assert (criteria_set.in_use, criteria_set.version) == (True, 2)
