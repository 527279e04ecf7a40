"""Community reports over HTTP: filing (signed in and anonymous), reading, tracking, triage."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.idempotency import IdempotencyKey
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.security import Role, hash_secret
from tests.conftest import Cast
from tests.factories import (
    HOAN_KIEM,
    QUANG_NINH,
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_client,
    make_neighbourhood,
    make_report,
    make_user,
)

REPORTS = "/api/v1/reports"


def new_report(**values: Any) -> dict[str, Any]:
    return {
        "category": "noise",
        "description": "Karaoke rất to sau 23 giờ ở ngõ 12.",
        "address": "Ngõ 12 Lê Thánh Tông",
        "ward_code": HA_LONG,
        **values,
    }


async def stored(session: AsyncSession, report_id: str | uuid.UUID) -> Report:
    session.expunge_all()
    found = await session.get(Report, uuid.UUID(str(report_id)))
    assert found is not None
    return found


async def audit_events(session: AsyncSession, record_id: str) -> list[AuditEvent]:
    session.expunge_all()
    statement = select_model(AuditEvent).where(col(AuditEvent.record_id) == record_id)
    return list((await session.exec(statement)).all())


class TestCreateReport:
    async def test_resident_files_a_signed_report(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(lat=20.9526, lon=107.081), headers=cast.headers(cast.resident)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{REPORTS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert body["reporter_id"] == str(cast.resident.id)
        assert (body["anonymous"], body["status"], body["priority"]) == (
            False,
            "received",
            "normal",
        )
        assert (body["province_code"], body["ward_code"]) == (QUANG_NINH, HA_LONG)
        assert body["tracking_code"] is None
        assert body["acknowledged_at"] is None
        report = await stored(session, body["id"])
        assert report.reporter_id == cast.resident.id
        assert report.tracking_code_hash is None
        [event] = await audit_events(session, body["id"])
        assert (event.actor_id, event.action) == (cast.resident.id, "create")
        assert (event.province_code, event.ward_code) == (QUANG_NINH, HA_LONG)
        assert event.request_id == response.headers["x-request-id"]
        assert "description" in event.changed_fields
        assert "Karaoke" not in str(event.changed_fields)

    async def test_place_defaults_to_the_callers_neighbourhood(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_report()
        del body["ward_code"]
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.head))
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["neighbourhood_id"] == str(cast.ha_long_kp.id)
        assert created["ward_code"] == HA_LONG

    async def test_place_defaults_to_the_callers_ward(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_report()
        del body["ward_code"]
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.other_resident))
        assert response.status_code == 201, response.text
        assert (response.json()["ward_code"], response.json()["neighbourhood_id"]) == (
            BAI_CHAY,
            None,
        )

    async def test_neighbourhood_gives_the_ward(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_report(neighbourhood_id=str(cast.bai_chay_kp.id))
        del body["ward_code"]
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.resident))
        assert response.status_code == 201, response.text
        assert response.json()["ward_code"] == BAI_CHAY

    async def test_without_a_token_the_report_is_anonymous_with_a_tracking_code(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.post(REPORTS, json=new_report(anonymous=False))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["anonymous"] is True
        assert body["reporter_id"] is None
        assert body["tracking_code"].startswith("wtc_")
        assert len(body["tracking_code"]) >= 4 + 22  # 128 random bits, url-safe
        assert response.headers["cache-control"] == "no-store"
        report = await stored(session, body["id"])
        assert report.tracking_code_hash == hash_secret(body["tracking_code"])
        assert body["tracking_code"] not in str(report.model_dump())

    async def test_without_a_token_ward_code_is_required(self, client: httpx.AsyncClient) -> None:
        body = new_report()
        del body["ward_code"]
        problem = assert_problem(await client.post(REPORTS, json=body), 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["body", "ward_code"]

    async def test_signed_in_anonymous_report_keeps_no_account(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = cast.headers(cast.resident)
        response = await client.post(REPORTS, json=new_report(anonymous=True), headers=headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["anonymous"], body["reporter_id"]) == (True, None)
        assert body["tracking_code"]
        report = await stored(session, body["id"])
        assert report.reporter_id is None
        [event] = await audit_events(session, body["id"])
        assert (event.actor_id, event.actor_kind, event.actor_role) == (None, "anonymous", None)
        assert event.request_id is None
        # Not even its sender can find it by account: only the tracking code.
        assert_not_found(await client.get(f"{REPORTS}/{body['id']}", headers=headers))
        mine = await client.get(REPORTS, headers=headers)
        assert mine.json()["items"] == []

    async def test_officer_token_without_reports_create_gets_403(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(), headers=cast.headers(cast.ward_officer)
        )
        assert "reports:create" in assert_forbidden(response)

    async def test_bad_token_gets_401_not_an_anonymous_report(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(), headers={"Authorization": "Bearer not-a-token"}
        )
        assert_unauthorized(response)
        count = (await session.exec(select_model(Report))).all()
        assert count == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"lat": 20.95}, "body"),
            ({"address": None}, "body"),
            ({"description": ""}, "description"),
            ({"description": "x" * 4001}, "description"),
            ({"category": "murder"}, "category"),
            ({"lat": 91, "lon": 107}, "lat"),
            ({"media_refs": ["file:///etc/passwd"]}, "media_refs"),
            ({"status": "resolved"}, "status"),
            ({"reporter_id": str(uuid.uuid4())}, "reporter_id"),
            ({"tracking_code": "wtc_mine"}, "tracking_code"),
        ],
    )
    async def test_bad_input_gets_422_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        change: dict[str, Any],
        field: str,
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(**change), headers=cast.headers(cast.resident)
        )
        problem = assert_problem(response, 422, "validation-error")
        assert field in str(problem["errors"])
        assert (await session.exec(select_model(Report))).all() == []

    async def test_description_of_4000_characters_is_accepted(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(description="x" * 4000), headers=cast.headers(cast.resident)
        )
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"ward_code": "99999"}, "ward_code"),
            ({"neighbourhood_id": str(uuid.uuid4())}, "neighbourhood_id"),
        ],
    )
    async def test_unknown_place_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, change: dict[str, Any], field: str
    ) -> None:
        response = await client.post(
            REPORTS, json=new_report(**change), headers=cast.headers(cast.resident)
        )
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", field]
        assert_field_problem(response, ["body", field], "not_found")

    async def test_neighbourhood_outside_the_given_ward_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = new_report(neighbourhood_id=str(cast.bai_chay_kp.id))
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.resident))
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "ward_code"]
        assert_field_problem(response, ["body", "ward_code"], "value_error")

    async def test_answers_to_the_categorys_questions_are_kept(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        body = new_report(
            category="fighting",
            attributes={"weapons": "knives", "people_involved": 6},
            media_refs=["https://media.example.vn/r/1.jpg"],
        )
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.resident))
        assert response.status_code == 201, response.text
        report = await stored(session, response.json()["id"])
        assert report.attributes == {"weapons": "knives", "people_involved": 6}
        assert report.media_refs == ["https://media.example.vn/r/1.jpg"]

    @pytest.mark.parametrize(
        "attributes",
        [{"weapons": "bazooka"}, {"colour": "red"}, {"people_involved": "many"}],
    )
    async def test_answers_that_do_not_fit_get_422(
        self, client: httpx.AsyncClient, cast: Cast, attributes: dict[str, Any]
    ) -> None:
        body = new_report(category="fighting", attributes=attributes)
        response = await client.post(REPORTS, json=body, headers=cast.headers(cast.resident))
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["loc"][:2] == ["body", "attributes"]


class TestCreateReportIdempotency:
    async def test_signed_report_is_replayed_for_the_same_key(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.resident), "Idempotency-Key": "report-1"}
        first = await client.post(REPORTS, json=new_report(), headers=headers)
        again = await client.post(REPORTS, json=new_report(), headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        assert len((await session.exec(select_model(Report))).all()) == 1

    async def test_anonymous_replay_gives_the_same_tracking_code_which_is_stored_sealed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        key = str(uuid.uuid4())
        first = await client.post(REPORTS, json=new_report(), headers={"Idempotency-Key": key})
        again = await client.post(REPORTS, json=new_report(), headers={"Idempotency-Key": key})
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json()["tracking_code"] == first.json()["tracking_code"]
        assert again.headers["idempotency-replayed"] == "true"
        assert again.headers["cache-control"] == "no-store"
        assert len((await session.exec(select_model(Report))).all()) == 1
        [row] = (await session.exec(select_model(IdempotencyKey))).all()
        # Neither the key, a caller nor the tracking code rests in the clear.
        assert row.key != key
        assert key not in row.key
        assert row.actor_key == "anonymous-report"
        assert row.response_body is not None
        assert first.json()["tracking_code"].encode() not in row.response_body

    async def test_anonymous_key_with_another_body_gets_422(
        self, client: httpx.AsyncClient
    ) -> None:
        headers = {"Idempotency-Key": "anonymous-reuse"}
        assert (await client.post(REPORTS, json=new_report(), headers=headers)).status_code == 201
        other = await client.post(REPORTS, json=new_report(category="theft"), headers=headers)
        assert_problem(other, 422, "validation-error")


class TestListReports:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(REPORTS))

    async def test_reporters_see_only_their_own_signed_reports(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        mine = await make_report(session, HA_LONG, reporter=cast.resident)
        await make_report(session, HA_LONG, reporter=cast.head)
        await make_report(session, HA_LONG)  # anonymous
        await session.commit()
        response = await client.get(REPORTS, headers=cast.headers(cast.resident))
        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == [str(mine.id)]
        assert response.json()["items"][0]["reporter_id"] == str(cast.resident.id)

    async def test_ward_officer_sees_their_wards_reports_only(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        signed = await make_report(session, HA_LONG, reporter=cast.resident)
        anonymous = await make_report(session, cast.ha_long_kp)
        await make_report(session, BAI_CHAY, reporter=cast.other_resident)
        await session.commit()
        response = await client.get(REPORTS, headers=cast.headers(cast.ward_officer))
        items = response.json()["items"]
        assert {item["id"] for item in items} == {str(signed.id), str(anonymous.id)}
        # Newest first.
        assert [item["id"] for item in items] == [str(anonymous.id), str(signed.id)]
        assert {item["reporter_id"] for item in items} == {str(cast.resident.id), None}

    async def test_province_officer_sees_the_province_without_reporters(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        await make_report(session, HA_LONG, reporter=cast.resident)
        await make_report(session, BAI_CHAY, reporter=cast.other_resident)
        await make_report(session, HOAN_KIEM)
        await session.commit()
        response = await client.get(REPORTS, headers=cast.headers(cast.province_officer))
        items = response.json()["items"]
        assert sorted(item["ward_code"] for item in items) == [BAI_CHAY, HA_LONG]
        assert {item["reporter_id"] for item in items} == {None}
        other = await client.get(REPORTS, headers=cast.headers(cast.other_province_officer))
        assert [item["ward_code"] for item in other.json()["items"]] == [HOAN_KIEM]

    async def test_ward_system_reads_its_wards_reports(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        machine, _ = await make_client(session, HA_LONG)
        await make_report(session, HA_LONG, reporter=cast.resident)
        await make_report(session, BAI_CHAY)
        await session.commit()
        response = await client.get(REPORTS, headers=cast.headers(machine))
        items = response.json()["items"]
        assert [(item["ward_code"], item["reporter_id"]) for item in items] == [(HA_LONG, None)]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"status": "in_progress"}, ["b"]),
            ({"category": "theft"}, ["a"]),
            ({"neighbourhood_id": "kp"}, ["b"]),
            ({"assigned_to": "officer"}, ["b"]),
            ({"ward_code": BAI_CHAY}, []),
            ({"from": "recent"}, ["b", "a"]),
            ({"to": "recent"}, ["c"]),
        ],
    )
    async def test_filters(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        params: dict[str, str],
        expected: list[str],
    ) -> None:
        now = utcnow()
        made = {
            "a": await make_report(session, HA_LONG, category="theft"),
            "b": await make_report(
                session, cast.ha_long_kp, status="in_progress", assigned_to=cast.ward_officer.id
            ),
            "c": await make_report(session, HA_LONG, created_at=now - timedelta(days=40)),
        }
        await session.commit()
        values = {
            "kp": str(cast.ha_long_kp.id),
            "officer": str(cast.ward_officer.id),
            "recent": (now - timedelta(days=1)).isoformat(),
        }
        query = {name: values.get(value, value) for name, value in params.items()}
        response = await client.get(REPORTS, params=query, headers=cast.headers(cast.ward_officer))
        assert response.status_code == 200, response.text
        ids = [item["id"] for item in response.json()["items"]]
        assert ids == [str(made[name].id) for name in expected]

    async def test_pages_walk_every_report_once(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        made = [await make_report(session, HA_LONG) for _ in range(5)]
        await session.commit()
        headers = cast.headers(cast.ward_officer)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = (await client.get(REPORTS, params=params, headers=headers)).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(report.id) for report in reversed(made)]

    async def test_time_without_offset_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(
            REPORTS, params={"from": "2025-01-01T00:00:00"}, headers=cast.headers(cast.ward_officer)
        )
        assert_problem(response, 422, "validation-error")


class TestGetReport:
    async def test_ward_officer_reads_a_report_with_its_etag(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        response = await client.get(
            f"{REPORTS}/{report.id}", headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        assert response.json()["reporter_id"] == str(cast.resident.id)

    @pytest.mark.parametrize("who", ["other_ward_officer", "other_resident", "head"])
    async def test_others_get_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, who: str
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        response = await client.get(
            f"{REPORTS}/{report.id}", headers=cast.headers(getattr(cast, who))
        )
        assert_not_found(response)

    async def test_role_with_neither_scope_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        headers = cast.headers(cast.resident, frozenset({"broadcasts:read"}))
        assert "reports:" in assert_forbidden(
            await client.get(f"{REPORTS}/{report.id}", headers=headers)
        )


async def track(client: httpx.AsyncClient, tracking_code: str) -> httpx.Response:
    """Follow an anonymous report: its code in the body, never in the URL."""
    return await client.post(f"{REPORTS}/track", json={"tracking_code": tracking_code})


class TestTrackReport:
    async def test_tracking_code_shows_status_and_public_notes_only(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        created = (await client.post(REPORTS, json=new_report())).json()
        officer = cast.headers(cast.ward_officer)
        moved = await client.post(
            f"{REPORTS}/{created['id']}/transitions",
            json={"to": "acknowledged", "note": "Đã cử tổ tuần tra.", "public": True},
            headers=officer,
        )
        assert moved.status_code == 200, moved.text
        await client.post(
            f"{REPORTS}/{created['id']}/updates",
            json={"note": "Nghi vấn quán số 14, xác minh chủ hộ.", "public": False},
            headers=officer,
        )
        response = await track(client, created["tracking_code"])
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["status"] == "acknowledged"
        assert [update["note"] for update in body["updates"]] == ["Đã cử tổ tuần tra."]
        assert "Nghi vấn" not in response.text
        assert "description" not in body
        assert "id" not in body
        assert "Karaoke" not in response.text

    async def test_unknown_code_gets_404(self, client: httpx.AsyncClient) -> None:
        assert_not_found(await track(client, f"wtc_{'A' * 22}"))

    @pytest.mark.parametrize("code", ["short", "wtc_has spaces_and/slashes", "x" * 65])
    async def test_malformed_code_gets_422(self, client: httpx.AsyncClient, code: str) -> None:
        problem = assert_problem(await track(client, code), 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["body", "tracking_code"]

    async def test_the_code_is_no_longer_taken_in_the_path(self, client: httpx.AsyncClient) -> None:
        # A code in a URL rests in every proxy's access log beside the address.
        created = (await client.post(REPORTS, json=new_report())).json()
        response = await client.get(f"{REPORTS}/track/{created['tracking_code']}")
        assert_problem(response, 404, "not-found")


class TestTriageReport:
    async def test_ward_officer_assigns_and_sets_priority(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.patch(
            f"{REPORTS}/{report.id}",
            json={"assigned_to": str(cast.peer_ward_officer.id), "priority": "urgent"},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.json()["assigned_to"] == str(cast.peer_ward_officer.id)
        assert response.json()["priority"] == "urgent"
        stored_report = await stored(session, report.id)
        assert (stored_report.assigned_to, stored_report.priority) == (
            cast.peer_ward_officer.id,
            "urgent",
        )
        [entry] = (await session.exec(select_model(ReportUpdate))).all()
        assert (entry.kind, entry.public, entry.priority) == ("triage", False, "urgent")

    @pytest.mark.parametrize("who", ["other_ward_officer", "resident"])
    async def test_assignee_must_be_an_officer_of_the_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, who: str
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.patch(
            f"{REPORTS}/{report.id}",
            json={"assigned_to": str(getattr(cast, who).id)},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "assigned_to"]

    async def test_inactive_officer_cannot_be_assigned(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        retired = await make_user(session, Role.WARD_OFFICER, HA_LONG, is_active=False)
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.patch(
            f"{REPORTS}/{report.id}",
            json={"assigned_to": str(retired.id)},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert_problem(response, 422)

    async def test_role_matrix(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        path, body = f"{REPORTS}/{report.id}", {"priority": "high"}
        if_match = {"If-Match": '"1"'}
        assert_unauthorized(await client.patch(path, json=body, headers=if_match))
        for who in ("resident", "province_officer"):
            response = await client.patch(
                path, json=body, headers={**cast.headers(getattr(cast, who)), **if_match}
            )
            assert "reports:triage" in assert_forbidden(response)
        other = await client.patch(
            path, json=body, headers={**cast.headers(cast.other_ward_officer), **if_match}
        )
        assert_not_found(other)
        admin = await client.patch(
            path, json=body, headers={**cast.headers(cast.admin), **if_match}
        )
        assert admin.status_code == 200

    async def test_if_match_is_required_and_checked(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        path, headers = f"{REPORTS}/{report.id}", cast.headers(cast.ward_officer)
        body = {"priority": "low"}
        assert_problem(
            await client.patch(path, json=body, headers=headers), 428, "precondition-required"
        )
        stale = await client.patch(path, json=body, headers={**headers, "If-Match": '"7"'})
        assert_problem(stale, 412, "precondition-failed")

    async def test_closed_report_gets_409(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, status="resolved")
        await session.commit()
        response = await client.patch(
            f"{REPORTS}/{report.id}",
            json={"priority": "high"},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert_problem(response, 409, "conflict")

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, [(["body", "assigned_to"], "missing"), (["body", "priority"], "missing")]),
            ({"priority": None}, [(["body", "priority"], "null_not_allowed")]),
            ({"status": "resolved"}, [(["body", "status"], "extra_forbidden")]),
        ],
    )
    async def test_bad_changes_get_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        body: dict[str, Any],
        errors: list[tuple[list[str], str]],
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        response = await client.patch(
            f"{REPORTS}/{report.id}",
            json=body,
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        problem = assert_problem(response, 422, "validation-error")
        assert [(error["loc"], error["type"]) for error in problem["errors"]] == errors
        assert all(error["msg"] for error in problem["errors"])


class TestReportStatistics:
    async def test_ward_officer_gets_the_figures_of_their_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        now = utcnow()
        for minutes, category in ((10, "noise"), (20, "noise"), (90, "theft")):
            await make_report(
                session,
                HA_LONG,
                category=category,
                status="acknowledged",
                created_at=now - timedelta(hours=3),
                acknowledged_at=now - timedelta(hours=3) + timedelta(minutes=minutes),
            )
        await make_report(session, HA_LONG)
        await make_report(session, BAI_CHAY)
        await session.commit()
        response = await client.get(
            f"{REPORTS}/statistics",
            params={"unit_code": HA_LONG},
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 4
        assert body["by_status"] == {"acknowledged": 3, "received": 1}
        assert body["by_category"] == {"noise": 3, "theft": 1}
        assert body["acknowledged"] == 3
        assert body["median_seconds_to_acknowledge"] == 20 * 60
        assert body["p90_seconds_to_acknowledge"] == 90 * 60

    @pytest.mark.parametrize(
        ("who", "unit", "status"),
        [
            ("ward_officer", BAI_CHAY, 403),
            ("ward_officer", QUANG_NINH, 403),
            ("province_officer", QUANG_NINH, 200),
            ("province_officer", BAI_CHAY, 200),
            ("other_province_officer", HA_LONG, 403),
            ("resident", HA_LONG, 403),
            ("admin", HOAN_KIEM, 200),
        ],
    )
    async def test_units_outside_your_scope_get_403(
        self, client: httpx.AsyncClient, cast: Cast, who: str, unit: str, status: int
    ) -> None:
        response = await client.get(
            f"{REPORTS}/statistics",
            params={"unit_code": unit},
            headers=cast.headers(getattr(cast, who)),
        )
        assert response.status_code == status, response.text

    async def test_unknown_unit_gets_422(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.get(
            f"{REPORTS}/statistics", params={"unit_code": "99999"}, headers=cast.headers(cast.admin)
        )
        body = assert_field_problem(response, ["query", "unit_code"], "not_found")
        assert "99999" in body["errors"][0]["msg"]


async def test_neighbourhood_factory_in_another_ward_is_not_visible_to_the_officer(
    client: httpx.AsyncClient, session: AsyncSession, cast: Cast
) -> None:
    elsewhere = await make_neighbourhood(session, BAI_CHAY)
    report = await make_report(session, elsewhere)
    await session.commit()
    assert_not_found(
        await client.get(f"{REPORTS}/{report.id}", headers=cast.headers(cast.ward_officer))
    )
