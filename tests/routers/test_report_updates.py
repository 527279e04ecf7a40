"""A report's history over HTTP: the triage state machine, notes, and who reads what."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.services.reports.triage import TRANSITIONS
from tests.conftest import Cast, Committed
from tests.factories import (
    QUANG_NINH,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_client,
    make_report,
)

REPORTS = "/api/v1/reports"
STATUSES = list(TRANSITIONS)


def move(to: str, **values: Any) -> dict[str, Any]:
    return {"to": to, "note": f"Chuyển sang {to}.", **values}


async def stored(session: AsyncSession, report_id: uuid.UUID) -> Report:
    session.expunge_all()
    found = await session.get(Report, report_id)
    assert found is not None
    return found


class TestTransitions:
    async def test_the_whole_way_from_received_to_resolved(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        path, headers = f"{REPORTS}/{report.id}/transitions", cast.headers(cast.ward_officer)
        versions = []
        for to in ("acknowledged", "in_progress", "resolved"):
            response = await client.post(path, json=move(to, public=True), headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == to
            versions.append(response.headers["etag"])
        assert versions == ['"2"', '"3"', '"4"']
        final = await stored(session, report.id)
        assert final.status == "resolved"
        assert final.acknowledged_at is not None
        assert final.resolved_at is not None
        assert final.acknowledged_at <= final.resolved_at
        history = (
            await session.exec(
                select_model(ReportUpdate)
                .where(col(ReportUpdate.report_id) == report.id)
                .order_by(col(ReportUpdate.created_at))
            )
        ).all()
        assert [(h.from_status, h.to_status) for h in history] == [
            ("received", "acknowledged"),
            ("acknowledged", "in_progress"),
            ("in_progress", "resolved"),
        ]
        assert {h.author_id for h in history} == {cast.ward_officer.id}
        events = (
            await session.exec(
                select_model(AuditEvent).where(col(AuditEvent.record_id) == str(report.id))
            )
        ).all()
        assert [e.action for e in events] == ["transition"] * 3

    @pytest.mark.parametrize(
        ("current", "wanted"),
        [(c, w) for c in STATUSES for w in STATUSES if w not in TRANSITIONS[c]],
    )
    async def test_every_move_outside_the_machine_gets_409_naming_the_allowed_ones(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        current: str,
        wanted: str,
    ) -> None:
        original = await make_report(session, HA_LONG)
        report = await make_report(session, HA_LONG, status=current)
        await session.commit()
        extra = {"duplicate_of": str(original.id)} if wanted == "duplicate" else {}
        response = await client.post(
            f"{REPORTS}/{report.id}/transitions",
            json=move(wanted, **extra),
            headers=cast.headers(cast.ward_officer),
        )
        problem = assert_problem(response, 409, "invalid-transition")
        assert problem["current_status"] == current
        assert problem["allowed_transitions"] == list(TRANSITIONS[current])
        assert current in problem["detail"]
        assert (await stored(session, report.id)).status == current

    @pytest.mark.parametrize(
        ("current", "wanted"),
        [(c, w) for c in STATUSES for w in TRANSITIONS[c]],
    )
    async def test_every_move_inside_the_machine_succeeds(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        current: str,
        wanted: str,
    ) -> None:
        original = await make_report(session, HA_LONG)
        report = await make_report(session, HA_LONG, status=current)
        await session.commit()
        extra = {"duplicate_of": str(original.id)} if wanted == "duplicate" else {}
        response = await client.post(
            f"{REPORTS}/{report.id}/transitions",
            json=move(wanted, **extra),
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200, response.text
        after = await stored(session, report.id)
        assert after.status == wanted
        assert (after.duplicate_of == original.id) is (wanted == "duplicate")
        assert (after.resolved_at is not None) is (wanted == "resolved")

    async def test_first_answer_sets_acknowledged_at_even_a_rejection(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.post(
            f"{REPORTS}/{report.id}/transitions",
            json=move("rejected"),
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200
        assert response.json()["acknowledged_at"] is not None
        assert response.json()["resolved_at"] is None

    async def test_acknowledged_at_keeps_the_first_answer(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        path, headers = f"{REPORTS}/{report.id}/transitions", cast.headers(cast.ward_officer)
        first = (await client.post(path, json=move("acknowledged"), headers=headers)).json()
        later = (await client.post(path, json=move("in_progress"), headers=headers)).json()
        assert later["acknowledged_at"] == first["acknowledged_at"]

    async def test_transition_can_assign_and_set_priority(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.post(
            f"{REPORTS}/{report.id}/transitions",
            json=move("acknowledged", assigned_to=str(cast.ward_officer.id), priority="high"),
            headers=cast.headers(cast.peer_ward_officer),
        )
        assert response.status_code == 200, response.text
        assert response.json()["assigned_to"] == str(cast.ward_officer.id)
        assert response.json()["priority"] == "high"

    @pytest.mark.parametrize(
        "case",
        ["missing", "itself", "other_ward", "a_duplicate", "unknown", "not_duplicate"],
    )
    async def test_duplicate_of_must_name_an_original_in_the_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, case: str
    ) -> None:
        report = await make_report(session, HA_LONG)
        elsewhere = await make_report(session, BAI_CHAY)
        original = await make_report(session, HA_LONG)
        copy = await make_report(session, HA_LONG, status="duplicate", duplicate_of=original.id)
        await session.commit()
        to, target = {
            "missing": ("duplicate", None),
            "itself": ("duplicate", report.id),
            "other_ward": ("duplicate", elsewhere.id),
            "a_duplicate": ("duplicate", copy.id),
            "unknown": ("duplicate", uuid.uuid4()),
            "not_duplicate": ("rejected", original.id),
        }[case]
        body = move(to, **({"duplicate_of": str(target)} if target else {}))
        response = await client.post(
            f"{REPORTS}/{report.id}/transitions", json=body, headers=cast.headers(cast.admin)
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["body", "duplicate_of"]

    @pytest.mark.parametrize("body", [{"to": "acknowledged"}, move("acknowledged", note="")])
    async def test_note_is_required(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, body: dict[str, Any]
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.post(
            f"{REPORTS}/{report.id}/transitions", json=body, headers=cast.headers(cast.ward_officer)
        )
        assert_problem(response, 422, "validation-error")

    async def test_role_matrix(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        machine, _ = await make_client(session, HA_LONG)
        await session.commit()
        path, body = f"{REPORTS}/{report.id}/transitions", move("acknowledged")
        assert_unauthorized(await client.post(path, json=body))
        for account in (cast.resident, cast.province_officer, cast.head, machine):
            response = await client.post(path, json=body, headers=cast.headers(account))
            assert "reports:triage" in assert_forbidden(response)
        other = await client.post(path, json=body, headers=cast.headers(cast.other_ward_officer))
        assert_not_found(other)
        peer = await client.post(path, json=body, headers=cast.headers(cast.peer_ward_officer))
        assert peer.status_code == 200

    async def test_if_match_when_sent_must_be_current(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        path, headers = f"{REPORTS}/{report.id}/transitions", cast.headers(cast.ward_officer)
        stale = await client.post(
            path, json=move("acknowledged"), headers={**headers, "If-Match": '"5"'}
        )
        assert_problem(stale, 412, "precondition-failed")
        current = await client.post(
            path, json=move("acknowledged"), headers={**headers, "If-Match": '"1"'}
        )
        assert current.status_code == 200

    async def test_idempotency_key_replays_the_move(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        path = f"{REPORTS}/{report.id}/transitions"
        headers = {**cast.headers(cast.ward_officer), "Idempotency-Key": "ack-1"}
        first = await client.post(path, json=move("acknowledged"), headers=headers)
        again = await client.post(path, json=move("acknowledged"), headers=headers)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        rows = (
            await session.exec(
                select_model(ReportUpdate).where(col(ReportUpdate.report_id) == report.id)
            )
        ).all()
        assert len(rows) == 1

    async def test_same_key_on_another_report_is_another_request(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        first_report = await make_report(session, HA_LONG)
        second_report = await make_report(session, HA_LONG)
        await session.commit()
        headers = {**cast.headers(cast.ward_officer), "Idempotency-Key": "ack-x"}
        ok = await client.post(
            f"{REPORTS}/{first_report.id}/transitions", json=move("acknowledged"), headers=headers
        )
        assert ok.status_code == 200
        reused = await client.post(
            f"{REPORTS}/{second_report.id}/transitions", json=move("acknowledged"), headers=headers
        )
        assert_problem(reused, 422, "validation-error")
        assert (await stored(session, second_report.id)).status == "received"


class TestConcurrentTriage:
    async def test_officers_acknowledging_at_once_one_wins_the_others_get_409(
        self, committed: Committed
    ) -> None:
        async with committed.sessionmaker() as session:
            report = await make_report(session, HA_LONG)
            await session.commit()
        try:
            path = f"{REPORTS}/{report.id}/transitions"
            answers = await asyncio.gather(
                *(
                    committed.client.post(
                        path, json=move("acknowledged"), headers=committed.headers
                    )
                    for _ in range(4)
                )
            )
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200, 409, 409, 409], [a.text for a in answers]
            for loser in (answer for answer in answers if answer.status_code == 409):
                assert loser.json()["current_status"] == "acknowledged"
            async with committed.sessionmaker() as session:
                rows = (
                    await session.exec(
                        select_model(ReportUpdate).where(col(ReportUpdate.report_id) == report.id)
                    )
                ).all()
                assert len(rows) == 1
                final = await session.get(Report, report.id)
                assert final is not None
                assert final.version == 2
        finally:
            async with committed.sessionmaker() as session:
                await session.exec(
                    delete(ReportUpdate).where(col(ReportUpdate.report_id) == report.id)
                )
                await session.exec(delete(Report).where(col(Report.id) == report.id))
                await session.commit()


class TestReportUpdates:
    async def _history(self, session: AsyncSession, cast: Cast) -> Report:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        for index, public in enumerate((True, False)):
            session.add(
                ReportUpdate(
                    report_id=report.id,
                    province_code=QUANG_NINH,
                    ward_code=HA_LONG,
                    kind="note",
                    to_status="received",
                    note=f"note {index}",
                    public=public,
                    author_id=cast.ward_officer.id,
                )
            )
        await session.commit()
        return report

    async def test_officers_read_public_and_internal_entries(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await self._history(session, cast)
        for who in ("ward_officer", "province_officer", "admin"):
            response = await client.get(
                f"{REPORTS}/{report.id}/updates", headers=cast.headers(getattr(cast, who))
            )
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            assert [(i["note"], i["public"]) for i in items] == [
                ("note 0", True),
                ("note 1", False),
            ]

    async def test_the_reporter_reads_public_entries_only(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await self._history(session, cast)
        response = await client.get(
            f"{REPORTS}/{report.id}/updates", headers=cast.headers(cast.resident)
        )
        assert [i["note"] for i in response.json()["items"]] == ["note 0"]
        assert "note 1" not in response.text

    async def test_ward_system_reads_public_entries_only(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await self._history(session, cast)
        machine, _ = await make_client(session, HA_LONG)
        await session.commit()
        response = await client.get(f"{REPORTS}/{report.id}/updates", headers=cast.headers(machine))
        assert [i["note"] for i in response.json()["items"]] == ["note 0"]

    async def test_others_get_401_or_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await self._history(session, cast)
        path = f"{REPORTS}/{report.id}/updates"
        assert_unauthorized(await client.get(path))
        for who in ("other_ward_officer", "other_resident", "head"):
            assert_not_found(await client.get(path, headers=cast.headers(getattr(cast, who))))


class TestNotes:
    async def test_officer_adds_an_internal_note_the_reporter_never_sees(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        response = await client.post(
            f"{REPORTS}/{report.id}/updates",
            json={"note": "Đối tượng quen, đã từng vi phạm."},
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{REPORTS}/{report.id}/updates/{body['id']}"
        assert (body["kind"], body["public"], body["to_status"]) == ("note", False, "received")
        officer = await client.get(
            response.headers["location"], headers=cast.headers(cast.ward_officer)
        )
        assert officer.status_code == 200
        assert officer.headers["etag"] == '"1"'
        assert_not_found(
            await client.get(response.headers["location"], headers=cast.headers(cast.resident))
        )
        assert (await stored(session, report.id)).status == "received"

    async def test_public_note_reaches_the_reporter(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        created = await client.post(
            f"{REPORTS}/{report.id}/updates",
            json={"note": "Đã làm việc với chủ quán.", "public": True},
            headers={**cast.headers(cast.ward_officer), "Idempotency-Key": "note-1"},
        )
        assert created.status_code == 201
        mine = await client.get(created.headers["location"], headers=cast.headers(cast.resident))
        assert mine.json()["note"] == "Đã làm việc với chủ quán."

    async def test_residents_and_other_wards_cannot_add_notes(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        path, body = f"{REPORTS}/{report.id}/updates", {"note": "x"}
        assert_unauthorized(await client.post(path, json=body))
        assert "reports:triage" in assert_forbidden(
            await client.post(path, json=body, headers=cast.headers(cast.resident))
        )
        assert_not_found(
            await client.post(path, json=body, headers=cast.headers(cast.other_ward_officer))
        )
