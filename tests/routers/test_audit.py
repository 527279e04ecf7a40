"""The audit trail: one event per successful write, never with personal values; who may read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import event_fields
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.security import Principal
from app.services import auth as auth_service
from tests.conftest import Cast
from tests.factories import (
    HOAN_KIEM,
    QUANG_NINH,
    assert_forbidden,
    assert_problem,
    assert_unauthorized,
    make_client,
)

AUDIT = "/api/v1/audit-events"


async def events_for(session: AsyncSession, record_id: uuid.UUID | str) -> list[AuditEvent]:
    session.expunge_all()
    found = await session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.record_id) == str(record_id))
        .order_by(col(AuditEvent.created_at))
    )
    return list(found.all())


async def count_events(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(AuditEvent))).one()


# Generated ids and times: random digits in them could match a searched value by chance.
_GENERATED = {"id", "created_at", "updated_at", "actor_id", "record_id", "request_id"}


def row_text(event: AuditEvent) -> str:
    """Every other stored value of an event, as one string to search."""
    return " ".join(
        str(value) for name, value in event.model_dump().items() if name not in _GENERATED
    )


class TestWritesAppendEvents:
    async def test_create_appends_who_what_and_the_request_id(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HA_LONG, "code": "KP-AUDIT", "name": "Khu phố kiểm tra"},
            headers={**cast.headers(cast.ward_officer), "X-Request-ID": "audit-create-1"},
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-request-id"] == "audit-create-1"
        [event] = await events_for(session, response.json()["id"])
        assert (event.actor_id, event.actor_kind, event.actor_role) == (
            cast.ward_officer.id,
            "user",
            "ward_officer",
        )
        assert (event.action, event.record_type) == ("create", "neighbourhood")
        assert (event.province_code, event.ward_code) == (QUANG_NINH, HA_LONG)
        assert event.request_id == "audit-create-1"
        assert event.changed_fields == ["code", "name", "ward_code"]

    async def test_generated_request_id_is_the_one_in_the_response_header(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            "/api/v1/residential-groups",
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "code": "T-AUD", "name": "Tổ"},
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 201, response.text
        [event] = await events_for(session, response.json()["id"])
        assert event.request_id == response.headers["x-request-id"]
        assert (event.action, event.record_type, event.actor_role) == (
            "create",
            "residential_group",
            "admin",
        )

    async def test_update_names_exactly_the_fields_sent(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"/api/v1/neighbourhoods/{cast.ha_long_kp.id}",
            json={"population": 999, "households": 250},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        [event] = await events_for(session, cast.ha_long_kp.id)
        assert (event.action, event.changed_fields) == ("update", ["households", "population"])
        assert event.request_id == response.headers["x-request-id"]
        assert "999" not in row_text(event)

    async def test_delete_appends_a_delete_event(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.delete(
            f"/api/v1/neighbourhoods/{cast.bai_chay_kp.id}",
            headers={**cast.headers(cast.other_ward_officer), "If-Match": '"1"'},
        )
        assert response.status_code == 204
        [event] = await events_for(session, cast.bai_chay_kp.id)
        assert (event.action, event.actor_id, event.ward_code) == (
            "delete",
            cast.other_ward_officer.id,
            BAI_CHAY,
        )
        assert event.changed_fields == []

    async def test_user_create_records_field_names_never_personal_values(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        body = {
            "username": "nguyen.van.test",
            "password": "mật-khẩu-bí-mật-123",
            "full_name": "Nguyễn Văn Test",
            "phone": "0912345678",
            "role": "resident",
            "unit_code": HA_LONG,
        }
        response = await client.post(
            "/api/v1/users", json=body, headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 201, response.text
        [event] = await events_for(session, response.json()["id"])
        assert (event.action, event.record_type) == ("create", "user")
        assert set(event.changed_fields) >= {"full_name", "phone", "password", "username"}
        text = row_text(event)
        for value in ("0912345678", "Nguyễn Văn Test", "Nguyen Van Test", body["password"]):
            assert value not in text
        assert "$argon2" not in text

    async def test_password_change_records_the_name_password_only(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"/api/v1/users/{cast.resident.id}",
            json={"password": "a-new-long-password"},
            headers={**cast.headers(cast.admin), "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        [event] = await events_for(session, cast.resident.id)
        assert event.changed_fields == ["password"]
        assert "a-new-long-password" not in row_text(event)
        assert "$argon2" not in row_text(event)

    async def test_client_create_never_records_the_secret(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            "/api/v1/clients",
            json={"name": "Sync", "unit_code": HA_LONG},
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 201, response.text
        [event] = await events_for(session, response.json()["id"])
        assert event.record_type == "client"
        assert "client_secret" in event.changed_fields
        assert response.json()["client_secret"] not in row_text(event)

    async def test_machine_client_is_the_actor_of_its_writes(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        machine, _ = await make_client(session, HA_LONG, frozenset({"units:write"}))
        await session.commit()
        response = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HA_LONG, "code": "KP-M2M", "name": "Khu phố máy"},
            headers=cast.headers(machine),
        )
        assert response.status_code == 201, response.text
        [event] = await events_for(session, response.json()["id"])
        assert (event.actor_id, event.actor_kind, event.actor_role) == (
            machine.id,
            "client",
            "ward_system",
        )


class TestFailedWritesAppendNothing:
    @pytest.mark.parametrize(
        ("change", "status"),
        [
            ({"name": None}, 422),
            ({"households": -1}, 422),
            ({"ward_code": BAI_CHAY}, 422),
        ],
    )
    async def test_rejected_update_appends_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        change: dict[str, Any],
        status: int,
    ) -> None:
        before = await count_events(session)
        response = await client.patch(
            f"/api/v1/neighbourhoods/{cast.ha_long_kp.id}",
            json=change,
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert response.status_code == status, response.text
        assert await count_events(session) == before

    async def test_stale_update_appends_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        before = await count_events(session)
        response = await client.patch(
            f"/api/v1/neighbourhoods/{cast.ha_long_kp.id}",
            json={"name": "Khu phố mới"},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"7"'},
        )
        assert_problem(response, 412, "precondition-failed")
        assert await count_events(session) == before

    async def test_invalid_user_create_appends_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        before = await count_events(session)
        response = await client.post(
            "/api/v1/users",
            json={
                "username": "someone.new",
                "password": "long-enough-password",
                "full_name": "Ai Đó",
                "role": "ward_officer",
                "unit_code": QUANG_NINH,
            },
            headers=cast.headers(cast.admin),
        )
        assert_problem(response, 422, "validation-error")
        assert await count_events(session) == before

    async def test_forbidden_and_conflicting_creates_append_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        before = await count_events(session)
        forbidden = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": BAI_CHAY, "code": "KP-X", "name": "X"},
            headers=cast.headers(cast.ward_officer),
        )
        assert forbidden.status_code == 403
        taken = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HA_LONG, "code": cast.ha_long_kp.code, "name": "X"},
            headers=cast.headers(cast.ward_officer),
        )
        assert taken.status_code == 409
        assert await count_events(session) == before


def at(hours: int) -> datetime:
    """A fixed instant long ago, plus ``hours``."""
    return datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=hours)


@pytest.fixture
def record_type() -> str:
    """A record type only this test's events have."""
    return f"test-{uuid.uuid4().hex[:8]}"


async def add_event(
    session: AsyncSession,
    principal: Principal | None,
    record_type: str,
    *,
    created_at: datetime,
    province_code: str | None = QUANG_NINH,
    ward_code: str | None = HA_LONG,
    record_id: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        **event_fields(
            principal,
            "update",
            record_type,
            record_id or str(uuid.uuid4()),
            province_code,
            ward_code,
            ["name"],
            None,
        ),
        created_at=created_at,
    )
    session.add(event)
    await session.flush()
    return event


class TestListAuditEvents:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(AUDIT))

    @pytest.mark.parametrize("role", ["ward_officer", "resident", "head"])
    async def test_role_without_audit_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.get(AUDIT, headers=cast.headers(getattr(cast, role)))
        assert "audit:read" in assert_forbidden(response)

    async def test_province_officer_sees_own_province_only_and_admin_sees_all(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        admin = cast.headers(cast.admin)
        ha_noi = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HOAN_KIEM, "code": "KP-HN", "name": "Khu phố Hà Nội"},
            headers=admin,
        )
        quang_ninh = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": BAI_CHAY, "code": "KP-QN", "name": "Khu phố Quảng Ninh"},
            headers=admin,
        )
        assert ha_noi.status_code == quang_ninh.status_code == 201
        ha_noi_id, quang_ninh_id = ha_noi.json()["id"], quang_ninh.json()["id"]

        async def visible(headers: dict[str, str]) -> set[str]:
            response = await client.get(
                AUDIT, params={"record_type": "neighbourhood", "limit": 200}, headers=headers
            )
            assert response.status_code == 200, response.text
            return {item["record_id"] for item in response.json()["items"]}

        assert {ha_noi_id, quang_ninh_id} <= await visible(admin)
        officer = await visible(cast.headers(cast.province_officer))
        assert quang_ninh_id in officer
        assert ha_noi_id not in officer
        other = await visible(cast.headers(cast.other_province_officer))
        assert ha_noi_id in other
        assert quang_ninh_id not in other

    async def test_province_officer_filtering_by_another_provinces_record_gets_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        event = await add_event(
            session,
            None,
            record_type,
            created_at=at(0),
            province_code="01",
            ward_code=HOAN_KIEM,
        )
        await session.commit()
        response = await client.get(
            AUDIT,
            params={"record_id": event.record_id},
            headers=cast.headers(cast.province_officer),
        )
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_items_carry_who_what_when(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        principal = auth_service.user_principal(cast.ward_officer)
        event = await add_event(session, principal, record_type, created_at=at(5))
        await session.commit()
        response = await client.get(
            AUDIT, params={"record_type": record_type}, headers=cast.headers(cast.admin)
        )
        [item] = response.json()["items"]
        assert item == {
            "id": str(event.id),
            "created_at": "2020-01-01T05:00:00Z",
            "actor_id": str(cast.ward_officer.id),
            "actor_kind": "user",
            "actor_role": "ward_officer",
            "action": "update",
            "record_type": record_type,
            "record_id": event.record_id,
            "province_code": QUANG_NINH,
            "ward_code": HA_LONG,
            "request_id": None,
            "changed_fields": ["name"],
        }

    async def test_filters_by_record_and_actor(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        officer = auth_service.user_principal(cast.ward_officer)
        other = auth_service.user_principal(cast.other_ward_officer)
        record_id = str(uuid.uuid4())
        mine = await add_event(session, officer, record_type, created_at=at(1), record_id=record_id)
        await add_event(session, other, record_type, created_at=at(2), record_id=record_id)
        await add_event(session, officer, record_type, created_at=at(3))
        await add_event(session, officer, "neighbourhood", created_at=at(4), record_id=record_id)
        await session.commit()
        response = await client.get(
            AUDIT,
            params={
                "record_type": record_type,
                "record_id": record_id,
                "actor_id": str(cast.ward_officer.id),
            },
            headers=cast.headers(cast.admin),
        )
        assert [item["id"] for item in response.json()["items"]] == [str(mine.id)]

    async def test_an_empty_record_filter_filters_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        officer = auth_service.user_principal(cast.ward_officer)
        events = [
            await add_event(session, officer, record_type, created_at=at(h)) for h in range(2)
        ]
        await session.commit()
        response = await client.get(
            AUDIT,
            params={
                "record_type": "",
                "record_id": "",
                "actor_id": str(cast.ward_officer.id),
                "from": at(0).isoformat(),
                "to": at(2).isoformat(),
            },
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["items"]] == [
            str(events[1].id),
            str(events[0].id),
        ]

    async def test_from_is_inclusive_and_to_exclusive(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        events = [await add_event(session, None, record_type, created_at=at(h)) for h in range(5)]
        await session.commit()
        response = await client.get(
            AUDIT,
            params={
                "record_type": record_type,
                "from": at(1).isoformat(),
                "to": at(3).isoformat(),
            },
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["items"]] == [
            str(events[2].id),
            str(events[1].id),
        ]

    async def test_from_with_another_offset_means_the_same_instant(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        events = [await add_event(session, None, record_type, created_at=at(h)) for h in range(3)]
        await session.commit()
        # 08:00 in Hà Nội (UTC+7) is 01:00 UTC.
        response = await client.get(
            AUDIT,
            params={"record_type": record_type, "from": "2020-01-01T08:00:00+07:00"},
            headers=cast.headers(cast.admin),
        )
        assert [item["id"] for item in response.json()["items"]] == [
            str(events[2].id),
            str(events[1].id),
        ]

    async def test_pages_newest_first_without_gaps_or_repeats(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, record_type: str
    ) -> None:
        events = [await add_event(session, None, record_type, created_at=at(h)) for h in range(7)]
        # Two events at the same instant: the id breaks the tie.
        events.append(await add_event(session, None, record_type, created_at=at(3)))
        await session.commit()
        seen: list[dict[str, Any]] = []
        sizes: list[int] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"record_type": record_type, "limit": 3}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get(AUDIT, params=params, headers=cast.headers(cast.admin))).json()
            seen.extend(body["items"])
            sizes.append(len(body["items"]))
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sizes == [3, 3, 2]
        expected = sorted(events, key=lambda e: (e.created_at, e.id), reverse=True)
        assert [item["id"] for item in seen] == [str(e.id) for e in expected]

    async def test_malformed_filters_get_422(self, client: httpx.AsyncClient, cast: Cast) -> None:
        headers = cast.headers(cast.admin)
        malformed: list[dict[str, Any]] = [
            {"actor_id": "someone"},
            {"from": "yesterday"},
            {"limit": 201},
            # Without an offset a time names no instant.
            {"from": "2020-01-01T01:00:00"},
            {"to": "2020-01-01"},
        ]
        for params in malformed:
            response = await client.get(AUDIT, params=params, headers=headers)
            assert_problem(response, 422, "validation-error")
