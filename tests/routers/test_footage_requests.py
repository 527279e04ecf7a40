"""Footage requests over HTTP: who asks and answers, each camera's states, the custody chain."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.cameras import Camera
from app.models.footage_requests import (
    CUSTODY_GUARD_SQL,
    CUSTODY_UNGUARD_SQL,
    CustodyEvent,
    FootageRequest,
    FootageRequestItem,
)
from app.models.users import User
from app.security import Role
from tests import factories
from tests.conftest import Cast, Committed

REQUESTS = "/api/v1/footage-requests"
SHA = hashlib.sha256(b"footage").hexdigest()


def iso(moment: datetime) -> str:
    return moment.isoformat()


def request_body(cameras: list[Camera], *, hours_ago: float = 6, **extra: Any) -> dict[str, Any]:
    start = utcnow() - timedelta(hours=hours_ago)
    body: dict[str, Any] = {
        "case_code": "HL-2026-0142",
        "reason": "Trộm xe máy trước số 112 Lê Thánh Tông",
        "window_start": iso(start),
        "window_end": iso(start + timedelta(hours=2)),
        "camera_ids": [str(camera.id) for camera in cameras],
        "respond_by": iso(utcnow() + timedelta(days=2)),
    }
    return {**body, **extra}


def handover(camera: Camera, **extra: Any) -> dict[str, Any]:
    body = {
        "camera_id": str(camera.id),
        "sha256": SHA,
        "media_ref": "evidence://HL-2026-0142/cong-truoc.mp4",
        "size_bytes": 734_003_200,
    }
    return {**body, **extra}


@dataclass
class Scene:
    """Hạ Long cameras of two owners, one without an account, one not shared, one in Bãi Cháy."""

    owner: User
    other_owner: User
    own_a: Camera
    own_b: Camera
    others: Camera
    unowned: Camera
    unshared: Camera
    bai_chay: Camera


@pytest.fixture
async def scene(session: AsyncSession, cast: Cast) -> Scene:
    owner = await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG)
    other_owner = await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG)
    make = factories.make_camera
    built = Scene(
        owner=owner,
        other_owner=other_owner,
        own_a=await make(session, HA_LONG, owner=owner, label="A cổng trước"),
        own_b=await make(session, HA_LONG, owner=owner, label="B sân sau"),
        others=await make(session, HA_LONG, owner=other_owner, label="C cửa hàng"),
        unowned=await make(session, HA_LONG, label="D nhà dân"),
        unshared=await make(session, HA_LONG, label="E riêng", sharing="none"),
        bai_chay=await make(session, BAI_CHAY, label="F Bãi Cháy"),
    )
    await session.commit()
    return built


async def create(
    client: httpx.AsyncClient, cast: Cast, cameras: list[Camera], **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        REQUESTS, json=request_body(cameras, **extra), headers=cast.headers(cast.ward_officer)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {item["camera_id"]: item["status"] for item in body["items"]}


async def custody(
    client: httpx.AsyncClient, headers: dict[str, str], request_id: str, verify: bool = True
) -> dict[str, Any]:
    response = await client.get(
        f"{REQUESTS}/{request_id}/custody", params={"verify": verify}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def unguard(session: AsyncSession) -> None:
    """Drop the append-only triggers inside the test's transaction, as a tamperer with DDL
    rights would; the rollback after the test brings them back."""
    dialect = (await session.connection()).dialect.name
    for statement in CUSTODY_UNGUARD_SQL[dialect]:
        await session.exec(text(statement))  # type: ignore[call-overload]


class TestCreateFootageRequest:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, scene: Scene) -> None:
        factories.assert_unauthorized(await client.post(REQUESTS, json=request_body([scene.own_a])))

    @pytest.mark.parametrize("who", ["resident", "head", "province_officer", "owner"])
    async def test_role_without_footage_request_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene, who: str
    ) -> None:
        account = getattr(scene, who, None) or getattr(cast, who)
        response = await client.post(
            REQUESTS, json=request_body([scene.own_a]), headers=cast.headers(account)
        )
        assert "footage:request" in factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_422_naming_no_camera_of_theirs(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        response = await client.post(
            REQUESTS,
            json=request_body([scene.own_a]),
            headers=cast.headers(cast.other_ward_officer),
        )
        body = factories.assert_problem(response, 422, "validation-error")
        assert str(scene.own_a.id) in body["detail"]

    async def test_ward_officer_creates_one_pending_item_per_camera(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        cameras = [scene.own_a, scene.others, scene.unowned]
        response = await client.post(
            REQUESTS, json=request_body(cameras), headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{REQUESTS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert (body["province_code"], body["ward_code"], body["status"]) == ("22", HA_LONG, "open")
        assert body["requested_by"] == str(cast.ward_officer.id)
        assert statuses(body) == {str(c.id): "pending" for c in cameras}
        assert [item["camera_label"] for item in body["items"]] == [
            "A cổng trước",
            "C cửa hàng",
            "D nhà dân",
        ]
        chain = await custody(client, cast.headers(cast.ward_officer), body["id"])
        assert [(e["sequence"], e["action"]) for e in chain["events"]] == [
            (1, "requested"),
            (2, "requested"),
            (3, "requested"),
        ]
        assert {e["actor_id"] for e in chain["events"]} == {str(cast.ward_officer.id)}
        assert chain["verification"]["holds"] is True
        audit = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).all()
        assert [(a.action, a.record_type) for a in audit] == [("create", "footage_request")]

    async def test_window_older_than_a_cameras_retention_gets_422_naming_it(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        short = await factories.make_camera(session, HA_LONG, label="Giữ 2 ngày", retention_days=2)
        await session.commit()
        body = request_body([scene.own_a, short], hours_ago=3 * 24)
        response = await client.post(REQUESTS, json=body, headers=cast.headers(cast.ward_officer))
        problem = factories.assert_problem(response, 422, "validation-error")
        assert "Giữ 2 ngày" in problem["detail"]
        assert str(short.id) in problem["detail"]
        assert problem["camera_ids"] == [str(short.id)]
        assert str(scene.own_a.id) not in problem["detail"]
        assert (await session.exec(select(FootageRequestItem))).first() is None

    async def test_respond_by_after_the_footage_expires_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        short = await factories.make_camera(session, HA_LONG, label="Giữ 2 ngày", retention_days=2)
        await session.commit()
        body = request_body([short], respond_by=iso(utcnow() + timedelta(days=3)))
        response = await client.post(REQUESTS, json=body, headers=cast.headers(cast.ward_officer))
        problem = factories.assert_field_problem(
            response, ["body", "respond_by"], "less_than_equal"
        )
        assert "Giữ 2 ngày" in problem["detail"]
        assert problem["camera_ids"] == [str(short.id)]

    async def test_camera_not_sharing_gets_422_naming_it(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        body = request_body([scene.own_a, scene.unshared])
        response = await client.post(REQUESTS, json=body, headers=cast.headers(cast.ward_officer))
        problem = factories.assert_problem(response, 422, "validation-error")
        assert "E riêng" in problem["detail"]

    async def test_decommissioned_camera_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        retired = await factories.make_camera(session, HA_LONG, status="decommissioned")
        await session.commit()
        response = await client.post(
            REQUESTS, json=request_body([retired]), headers=cast.headers(cast.ward_officer)
        )
        assert "decommissioned" in factories.assert_problem(response, 422)["detail"]

    async def test_admin_asking_cameras_of_two_wards_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        response = await client.post(
            REQUESTS,
            json=request_body([scene.own_a, scene.bai_chay]),
            headers=cast.headers(cast.admin),
        )
        assert "one ward" in factories.assert_problem(response, 422)["detail"]

    @pytest.mark.parametrize(
        ("field", "moment", "kind"),
        [
            ("window_end", lambda start, now: start - timedelta(minutes=1), "greater_than"),
            ("window_end", lambda start, now: start, "greater_than"),
            ("window_end", lambda start, now: now + timedelta(minutes=30), "datetime_past"),
            ("respond_by", lambda start, now: now - timedelta(minutes=1), "datetime_future"),
        ],
        ids=["end-before-start", "empty-window", "end-in-future", "deadline-passed"],
    )
    async def test_bad_window_or_deadline_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        scene: Scene,
        field: str,
        moment: Any,
        kind: str,
    ) -> None:
        now = utcnow()
        start = now - timedelta(hours=6)
        body = request_body([scene.own_a], window_start=iso(start))
        body[field] = iso(moment(start, now))
        response = await client.post(REQUESTS, json=body, headers=cast.headers(cast.ward_officer))
        factories.assert_field_problem(response, ["body", field], kind)

    async def test_window_longer_than_24_hours_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        end = utcnow() - timedelta(hours=1)
        body = request_body(
            [scene.own_a],
            window_start=iso(end - timedelta(hours=24, seconds=1)),
            window_end=iso(end),
        )
        response = await client.post(REQUESTS, json=body, headers=cast.headers(cast.ward_officer))
        assert "24 hours" in factories.assert_problem(response, 422)["detail"]

    @pytest.mark.parametrize(
        "change",
        [
            {"camera_ids": []},
            {"window_start": "2026-11-28T13:00:00"},
            {"case_code": "has spaces"},
            {"status": "closed"},
            {"ward_code": HA_LONG},
        ],
    )
    async def test_malformed_body_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene, change: dict[str, Any]
    ) -> None:
        body = {**request_body([scene.own_a]), **change}
        response = await client.post(REQUESTS, json=body, headers=cast.headers(cast.ward_officer))
        factories.assert_problem(response, 422, "validation-error")

    async def test_a_camera_listed_twice_or_unknown_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        twice = await client.post(
            REQUESTS, json=request_body([scene.own_a, scene.own_a]), headers=headers
        )
        factories.assert_problem(twice, 422)
        body = request_body([scene.own_a])
        body["camera_ids"].append(str(uuid.uuid4()))
        factories.assert_problem(await client.post(REQUESTS, json=body, headers=headers), 422)

    async def test_idempotency_key_replays_the_first_answer(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        headers = {**cast.headers(cast.ward_officer), "Idempotency-Key": "req-1"}
        body = request_body([scene.own_a])
        first = await client.post(REQUESTS, json=body, headers=headers)
        again = await client.post(REQUESTS, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        items = (await session.exec(select(FootageRequestItem))).all()
        assert len(items) == 1


class TestReadFootageRequests:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        factories.assert_unauthorized(await client.get(REQUESTS))

    @pytest.mark.parametrize("role", ["resident", "head", "province_officer"])
    async def test_role_without_footage_scopes_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.get(REQUESTS, headers=cast.headers(getattr(cast, role)))
        detail = factories.assert_forbidden(response)
        assert "footage:request" in detail
        assert "footage:respond" in detail

    async def test_officers_see_their_wards_requests_only(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a, scene.others])
        mine = await client.get(REQUESTS, headers=cast.headers(cast.peer_ward_officer))
        assert [r["id"] for r in mine.json()["items"]] == [created["id"]]
        theirs = await client.get(REQUESTS, headers=cast.headers(cast.other_ward_officer))
        assert theirs.json()["items"] == []
        factories.assert_not_found(
            await client.get(
                f"{REQUESTS}/{created['id']}", headers=cast.headers(cast.other_ward_officer)
            )
        )

    async def test_owner_sees_only_their_cameras_part(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a, scene.others, scene.unowned])
        headers = cast.headers(scene.owner)
        listed = (await client.get(REQUESTS, headers=headers)).json()["items"]
        assert [r["id"] for r in listed] == [created["id"]]
        assert [item["camera_id"] for item in listed[0]["items"]] == [str(scene.own_a.id)]
        one = await client.get(f"{REQUESTS}/{created['id']}", headers=headers)
        assert one.headers["etag"] == '"1"'
        assert one.json() == listed[0]
        assert str(scene.others.id) not in one.text

    async def test_owner_not_asked_gets_404_and_an_empty_list(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        stranger = await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG)
        await session.commit()
        headers = cast.headers(stranger)
        assert (await client.get(REQUESTS, headers=headers)).json()["items"] == []
        factories.assert_not_found(await client.get(f"{REQUESTS}/{created['id']}", headers=headers))
        factories.assert_not_found(
            await client.get(f"{REQUESTS}/{created['id']}/custody", headers=headers)
        )

    async def test_filters_by_case_camera_and_status(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        first = await create(client, cast, [scene.own_a], case_code="HL-1")
        second = await create(client, cast, [scene.others], case_code="HL-2")
        headers = cast.headers(cast.ward_officer)

        async def ids(**params: Any) -> list[str]:
            response = await client.get(REQUESTS, params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [r["id"] for r in response.json()["items"]]

        assert await ids() == [second["id"], first["id"]]  # newest first
        assert await ids(case_code="HL-1") == [first["id"]]
        assert await ids(camera_id=str(scene.others.id)) == [second["id"]]
        assert await ids(status="pending") == [second["id"], first["id"]]
        assert await ids(status="accepted") == []
        # An owner cannot find out which other cameras a request asks.
        owner = cast.headers(scene.other_owner)
        response = await client.get(
            REQUESTS, params={"camera_id": str(scene.own_a.id)}, headers=owner
        )
        assert response.json()["items"] == []

    async def test_an_owners_filters_look_at_their_own_cameras_only(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        shared = await create(client, cast, [scene.own_a, scene.others])
        answered = await client.post(
            f"{REQUESTS}/{shared['id']}/respond",
            json={"decision": "accept"},
            headers=cast.headers(scene.owner),
        )
        assert answered.status_code == 200, answered.text

        async def ids(headers: dict[str, str], **params: Any) -> list[str]:
            response = await client.get(REQUESTS, params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [r["id"] for r in response.json()["items"]]

        owner, officer = cast.headers(scene.owner), cast.headers(cast.ward_officer)
        # The other owner's camera is still pending: the officer finds the request by it,
        # the owner, whose camera is accepted, does not.
        assert await ids(officer, status="pending") == [shared["id"]]
        assert await ids(owner, status="pending") == []
        assert await ids(owner, status="accepted") == [shared["id"]]
        assert await ids(owner, camera_id=str(scene.own_a.id)) == [shared["id"]]
        assert await ids(owner, camera_id=str(scene.others.id)) == []
        assert await ids(cast.headers(scene.other_owner), status="pending") == [shared["id"]]

    async def test_pages_newest_first_without_repeats(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        made = [(await create(client, cast, [scene.own_a]))["id"] for _ in range(5)]
        headers = cast.headers(cast.ward_officer)
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            body = (await client.get(REQUESTS, params=params, headers=headers)).json()
            seen += [r["id"] for r in body["items"]]
            if not body["next_cursor"]:
                break
            params["cursor"] = body["next_cursor"]
        assert seen == list(reversed(made))


class TestRespond:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            f"{REQUESTS}/{uuid.uuid4()}/respond", json={"decision": "accept"}
        )
        factories.assert_unauthorized(response)

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "accept"},
            headers=cast.headers(cast.resident),
        )
        factories.assert_forbidden(response)

    async def test_owner_accepts_all_their_pending_cameras_and_nothing_else(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a, scene.own_b, scene.others])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "accept", "note": "Đến lấy sau 17h"},
            headers=cast.headers(scene.owner),
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert statuses(response.json()) == {
            str(scene.own_a.id): "accepted",
            str(scene.own_b.id): "accepted",
        }
        officer = await client.get(
            f"{REQUESTS}/{created['id']}", headers=cast.headers(cast.ward_officer)
        )
        assert statuses(officer.json())[str(scene.others.id)] == "pending"
        accepted = next(i for i in officer.json()["items"] if i["camera_id"] == str(scene.own_a.id))
        assert accepted["response_note"] == "Đến lấy sau 17h"
        assert accepted["responded_at"] is not None

    async def test_a_decline_shows_the_officer_the_status_and_nothing_more(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        note = "Hôm đó camera của tôi quay cả nhà hàng xóm"
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "decline", "note": note},
            headers=cast.headers(scene.owner),
        )
        assert response.status_code == 200, response.text
        [own_view] = response.json()["items"]
        assert (own_view["status"], own_view["response_note"]) == ("declined", note)
        for account in (cast.ward_officer, cast.admin):
            read = await client.get(f"{REQUESTS}/{created['id']}", headers=cast.headers(account))
            [item] = read.json()["items"]
            assert item["status"] == "declined"
            assert (item["response_note"], item["responded_at"]) == (None, None)
            assert note not in read.text
            assert read.json()["status"] == "closed"
        # The audit trail says "respond" for either answer.
        audit = (
            await session.exec(
                select(AuditEvent.action).where(col(AuditEvent.record_id) == created["id"])
            )
        ).all()
        assert sorted(audit) == ["create", "respond"]

    async def test_owner_naming_a_camera_not_theirs_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a, scene.others])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "accept", "camera_ids": [str(scene.others.id)]},
            headers=cast.headers(scene.owner),
        )
        factories.assert_problem(response, 422, "validation-error")

    async def test_officer_answers_for_a_camera_without_an_owner_account_only(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a, scene.unowned])
        url = f"{REQUESTS}/{created['id']}/respond"
        headers = cast.headers(cast.ward_officer)
        refused = await client.post(
            url,
            json={"decision": "accept", "camera_ids": [str(scene.own_a.id)]},
            headers=headers,
        )
        assert "owner answers" in factories.assert_forbidden(refused)
        recorded = await client.post(url, json={"decision": "accept"}, headers=headers)
        assert recorded.status_code == 200, recorded.text
        assert statuses(recorded.json()) == {
            str(scene.own_a.id): "pending",
            str(scene.unowned.id): "accepted",
        }

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.unowned])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "accept"},
            headers=cast.headers(cast.other_ward_officer),
        )
        factories.assert_not_found(response)

    async def test_answering_twice_gets_409_naming_the_status_and_the_way_on(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        url = f"{REQUESTS}/{created['id']}/respond"
        headers = cast.headers(scene.owner)
        body = {"decision": "decline", "camera_ids": [str(scene.own_a.id)]}
        assert (
            await client.post(url, json={"decision": "accept"}, headers=headers)
        ).status_code == 200
        problem = factories.assert_problem(
            await client.post(url, json=body, headers=headers), 409, "invalid-transition"
        )
        assert "is accepted" in problem["detail"]
        assert "handed_over" in problem["detail"]
        assert problem["conflicts"] == [
            {
                "camera_id": str(scene.own_a.id),
                "current_status": "accepted",
                "allowed": ["handed_over"],
            }
        ]
        nothing_pending = await client.post(url, json={"decision": "accept"}, headers=headers)
        factories.assert_problem(nothing_pending, 409, "invalid-transition")

    async def test_unknown_decision_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "maybe"},
            headers=cast.headers(scene.owner),
        )
        factories.assert_problem(response, 422, "validation-error")


class TestHandover:
    @pytest.fixture
    async def accepted(self, client: httpx.AsyncClient, cast: Cast, scene: Scene) -> str:
        created = await create(client, cast, [scene.own_a, scene.own_b])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/respond",
            json={"decision": "accept", "camera_ids": [str(scene.own_a.id)]},
            headers=cast.headers(scene.owner),
        )
        assert response.status_code == 200
        return str(created["id"])

    @pytest.mark.parametrize("who", ["owner", "ward_officer"])
    async def test_owner_or_officer_records_the_file(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        scene: Scene,
        accepted: str,
        who: str,
    ) -> None:
        account = getattr(scene, who, None) or getattr(cast, who)
        response = await client.post(
            f"{REQUESTS}/{accepted}/handover",
            json=handover(scene.own_a, sha256=SHA.upper()),
            headers=cast.headers(account),
        )
        assert response.status_code == 200, response.text
        item = next(i for i in response.json()["items"] if i["camera_id"] == str(scene.own_a.id))
        assert (item["status"], item["sha256"], item["size_bytes"]) == (
            "handed_over",
            SHA,
            734_003_200,
        )
        stored = (
            await session.exec(
                select(FootageRequestItem).where(
                    col(FootageRequestItem.camera_id) == scene.own_a.id
                )
            )
        ).one()
        assert (stored.sha256, stored.media_ref, stored.handed_over_by) == (
            SHA,
            "evidence://HL-2026-0142/cong-truoc.mp4",
            account.id,
        )

    async def test_from_pending_gets_409(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene, accepted: str
    ) -> None:
        response = await client.post(
            f"{REQUESTS}/{accepted}/handover",
            json=handover(scene.own_b),
            headers=cast.headers(cast.ward_officer),
        )
        problem = factories.assert_problem(response, 409, "invalid-transition")
        assert problem["conflicts"][0]["current_status"] == "pending"
        assert problem["conflicts"][0]["allowed"] == ["accepted", "declined"]

    async def test_another_owner_gets_404(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene, accepted: str
    ) -> None:
        response = await client.post(
            f"{REQUESTS}/{accepted}/handover",
            json=handover(scene.own_a),
            headers=cast.headers(scene.other_owner),
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize(
        "change",
        [
            {"sha256": "abc"},
            {"sha256": "g" * 64},
            {"size_bytes": 0},
            {"media_ref": ""},
            {"note": "x"},
        ],
    )
    async def test_malformed_handover_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        scene: Scene,
        accepted: str,
        change: dict[str, Any],
    ) -> None:
        response = await client.post(
            f"{REQUESTS}/{accepted}/handover",
            json=handover(scene.own_a, **change),
            headers=cast.headers(scene.owner),
        )
        factories.assert_problem(response, 422, "validation-error")


class TestClose:
    async def test_owner_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/close", headers=cast.headers(scene.owner)
        )
        assert "footage:request" in factories.assert_forbidden(response)

    async def test_nothing_handed_over_gets_409(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/close", headers=cast.headers(cast.ward_officer)
        )
        factories.assert_problem(response, 409, "invalid-transition")
        named = await client.post(
            f"{REQUESTS}/{created['id']}/close",
            json={"camera_ids": [str(scene.own_a.id)]},
            headers=cast.headers(cast.ward_officer),
        )
        assert factories.assert_problem(named, 409)["conflicts"][0]["allowed"] == [
            "accepted",
            "declined",
        ]


class TestCustodyChain:
    async def walk(self, client: httpx.AsyncClient, cast: Cast, scene: Scene) -> str:
        """A request through every step: A accepted, handed over and closed; B declined."""
        created = await create(client, cast, [scene.own_a, scene.own_b])
        url = f"{REQUESTS}/{created['id']}"
        owner, officer = cast.headers(scene.owner), cast.headers(cast.ward_officer)
        steps = [
            (f"{url}/respond", {"decision": "accept", "camera_ids": [str(scene.own_a.id)]}, owner),
            (f"{url}/respond", {"decision": "decline", "note": "Không"}, owner),
            (f"{url}/handover", handover(scene.own_a), owner),
            (f"{url}/close", {}, officer),
        ]
        for path, body, headers in steps:
            response = await client.post(path, json=body, headers=headers)
            assert response.status_code == 200, response.text
        final = await client.get(url, headers=officer)
        assert final.headers["etag"] == '"5"'
        assert statuses(final.json()) == {
            str(scene.own_a.id): "closed",
            str(scene.own_b.id): "declined",
        }
        assert final.json()["status"] == "closed"
        return str(created["id"])

    async def test_every_step_is_an_event_with_actor_role_time_and_hash(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        request_id = await self.walk(client, cast, scene)
        chain = await custody(client, cast.headers(cast.ward_officer), request_id)
        events = chain["events"]
        a, b = str(scene.own_a.id), str(scene.own_b.id)
        assert [(e["sequence"], e["action"], e["camera_id"]) for e in events] == [
            (1, "requested", a),
            (2, "requested", b),
            (3, "accepted", a),
            (4, "declined", b),
            (5, "handed_over", a),
            (6, "closed", a),
        ]
        assert [e["actor_role"] for e in events] == [
            "ward_officer",
            "ward_officer",
            "camera_owner",
            "camera_owner",
            "camera_owner",
            "ward_officer",
        ]
        assert events[2]["actor_id"] == str(scene.owner.id)
        assert [e["sha256"] for e in events] == [None, None, None, None, SHA, None]
        assert events[4]["media_ref"] == "evidence://HL-2026-0142/cong-truoc.mp4"
        assert events[0]["prev_hash"] == "0" * 64
        for before, after in itertools.pairwise(events):
            assert after["prev_hash"] == before["hash"]
            assert after["at"] >= before["at"]
        assert chain["head_hash"] == events[-1]["hash"]
        assert chain["verification"] == {
            "holds": True,
            "events_checked": 6,
            "broken_at_sequence": None,
            "detail": "All 6 events verify and end at the recorded head.",
        }
        assert "Không" not in str(chain)

    async def test_without_verify_there_is_no_verification(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        chain = await custody(client, cast.headers(cast.ward_officer), created["id"], verify=False)
        assert chain["verification"] is None
        assert len(chain["events"]) == 1

    async def test_owner_sees_their_cameras_events_and_the_verdict_on_the_whole_chain(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene
    ) -> None:
        created = await create(client, cast, [scene.own_a, scene.others])
        chain = await custody(client, cast.headers(scene.owner), created["id"])
        assert [e["camera_id"] for e in chain["events"]] == [str(scene.own_a.id)]
        assert chain["verification"]["events_checked"] == 2
        assert chain["verification"]["holds"] is True

    async def test_an_event_edited_in_the_database_breaks_the_chain_there(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        request_id = await self.walk(client, cast, scene)
        await unguard(session)
        forged = hashlib.sha256(b"other footage").hexdigest()
        await session.exec(
            update(CustodyEvent)
            .where(
                col(CustodyEvent.footage_request_id) == uuid.UUID(request_id),
                col(CustodyEvent.sequence) == 5,
            )
            .values(sha256=forged)
        )
        await session.commit()
        chain = await custody(client, cast.headers(cast.ward_officer), request_id)
        assert chain["events"][4]["sha256"] == forged
        verdict = chain["verification"]
        assert (verdict["holds"], verdict["broken_at_sequence"]) == (False, 5)
        assert "changed" in verdict["detail"]

    async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        from app.services.cameras import custody as footage_custody

        request_id = await self.walk(client, cast, scene)
        await unguard(session)
        event = (
            await session.exec(
                select(CustodyEvent).where(
                    col(CustodyEvent.footage_request_id) == uuid.UUID(request_id),
                    col(CustodyEvent.sequence) == 4,
                )
            )
        ).one()
        event.action = "accepted"  # the tamperer turns the decline into an acceptance
        event.hash = footage_custody.chain_hash(
            event.prev_hash, footage_custody.canonical(event.model_dump())
        )
        session.add(event)
        await session.commit()
        verdict = (await custody(client, cast.headers(cast.ward_officer), request_id))[
            "verification"
        ]
        assert (verdict["holds"], verdict["broken_at_sequence"]) == (False, 5)

    async def test_a_deleted_last_event_breaks_the_chain(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, scene: Scene
    ) -> None:
        request_id = await self.walk(client, cast, scene)
        await unguard(session)
        await session.exec(
            delete(CustodyEvent).where(
                col(CustodyEvent.footage_request_id) == uuid.UUID(request_id),
                col(CustodyEvent.sequence) == 6,
            )
        )
        await session.commit()
        verdict = (await custody(client, cast.headers(cast.ward_officer), request_id))[
            "verification"
        ]
        assert (verdict["holds"], verdict["broken_at_sequence"]) == (False, 6)

    @pytest.mark.parametrize("change", ["update", "delete"])
    async def test_the_database_refuses_to_change_or_delete_events(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        scene: Scene,
        change: str,
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        ours = col(CustodyEvent.footage_request_id) == uuid.UUID(created["id"])
        statement = (
            update(CustodyEvent).where(ours).values(action="closed")
            if change == "update"
            else delete(CustodyEvent).where(ours)
        )
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin_nested():
                await session.exec(statement)
        chain = await custody(client, cast.headers(cast.ward_officer), created["id"])
        assert chain["verification"]["holds"] is True

    @pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
    async def test_custody_cannot_be_changed_through_the_api(
        self, client: httpx.AsyncClient, cast: Cast, scene: Scene, method: str
    ) -> None:
        created = await create(client, cast, [scene.own_a])
        response = await client.request(
            method, f"{REQUESTS}/{created['id']}/custody", headers=cast.headers(cast.admin)
        )
        factories.assert_problem(response, 405, "method-not-allowed")


# --- races, with real commits ---------------------------------------------------


@dataclass
class Race:
    """Committed records for a race: two owners' cameras and a request asking all three."""

    committed: Committed
    owner: User
    other_owner: User
    own: Camera
    others: Camera
    unowned: Camera
    request_id: str


async def _remove(
    committed: Committed, request_ids: list[str], camera_ids: list[uuid.UUID]
) -> None:
    async with committed.sessionmaker() as session:
        dialect = (await session.connection()).dialect.name
        ids = [uuid.UUID(i) for i in request_ids]
        for statement in CUSTODY_UNGUARD_SQL[dialect]:
            await session.exec(text(statement))  # type: ignore[call-overload]
        await session.exec(
            delete(CustodyEvent).where(col(CustodyEvent.footage_request_id).in_(ids))
        )
        for statement in CUSTODY_GUARD_SQL[dialect]:
            await session.exec(text(statement))  # type: ignore[call-overload]
        await session.exec(
            delete(FootageRequestItem).where(col(FootageRequestItem.footage_request_id).in_(ids))
        )
        await session.exec(delete(FootageRequest).where(col(FootageRequest.id).in_(ids)))
        records = [*request_ids, *(str(i) for i in camera_ids)]
        await session.exec(delete(AuditEvent).where(col(AuditEvent.record_id).in_(records)))
        await session.exec(delete(Camera).where(col(Camera.id).in_(camera_ids)))
        await session.commit()


@pytest.fixture
async def race(committed: Committed) -> AsyncIterator[Race]:
    async with committed.sessionmaker() as session:
        owner = await factories.make_user(
            session, Role.CAMERA_OWNER, HA_LONG, username=f"{committed.prefix}owner"
        )
        other_owner = await factories.make_user(
            session, Role.CAMERA_OWNER, HA_LONG, username=f"{committed.prefix}other"
        )
        own = await factories.make_camera(session, HA_LONG, owner=owner)
        others = await factories.make_camera(session, HA_LONG, owner=other_owner)
        unowned = await factories.make_camera(session, HA_LONG)
        await session.commit()
    response = await committed.client.post(
        REQUESTS, json=request_body([own, others, unowned]), headers=committed.headers
    )
    assert response.status_code == 201, response.text
    state = Race(committed, owner, other_owner, own, others, unowned, response.json()["id"])
    try:
        yield state
    finally:
        await _remove(committed, [state.request_id], [own.id, others.id, unowned.id])


class TestRaces:
    async def test_ten_answers_racing_for_one_camera_exactly_one_wins(
        self, app: FastAPI, race: Race
    ) -> None:
        client = race.committed.client
        headers = factories.headers_for(app, race.owner)
        url = f"{REQUESTS}/{race.request_id}/respond"
        bodies = [
            {"decision": "accept" if i % 2 else "decline", "camera_ids": [str(race.own.id)]}
            for i in range(10)
        ]
        responses = await asyncio.gather(
            *(client.post(url, json=body, headers=headers) for body in bodies)
        )
        codes = Counter(response.status_code for response in responses)
        assert codes == {200: 1, 409: 9}, [r.text for r in responses if r.status_code >= 500]
        [winner] = [r for r in responses if r.status_code == 200]
        chain = await custody(client, race.committed.headers, race.request_id)
        answers = [e for e in chain["events"] if e["action"] in ("accepted", "declined")]
        assert len(answers) == 1
        assert answers[0]["action"] == statuses(winner.json())[str(race.own.id)]
        assert chain["verification"]["holds"] is True

    async def test_answers_for_different_cameras_all_land_in_one_unbroken_chain(
        self, app: FastAPI, race: Race
    ) -> None:
        client = race.committed.client
        url = f"{REQUESTS}/{race.request_id}/respond"
        calls = [
            client.post(
                url, json={"decision": "accept"}, headers=factories.headers_for(app, race.owner)
            ),
            client.post(
                url,
                json={"decision": "decline"},
                headers=factories.headers_for(app, race.other_owner),
            ),
            client.post(
                url,
                json={"decision": "accept", "camera_ids": [str(race.unowned.id)]},
                headers=race.committed.headers,
            ),
        ]
        responses = await asyncio.gather(*calls)
        assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
        chain = await custody(client, race.committed.headers, race.request_id)
        assert [e["sequence"] for e in chain["events"]] == [1, 2, 3, 4, 5, 6]
        assert chain["verification"]["holds"] is True
        final = await client.get(f"{REQUESTS}/{race.request_id}", headers=race.committed.headers)
        assert final.headers["etag"] == '"4"'
        assert sorted(statuses(final.json()).values()) == ["accepted", "accepted", "declined"]

    async def test_owner_and_officer_racing_to_hand_over_one_camera_record_one_file(
        self, app: FastAPI, race: Race
    ) -> None:
        client = race.committed.client
        owner = factories.headers_for(app, race.owner)
        accepted = await client.post(
            f"{REQUESTS}/{race.request_id}/respond", json={"decision": "accept"}, headers=owner
        )
        assert accepted.status_code == 200, accepted.text
        url = f"{REQUESTS}/{race.request_id}/handover"
        responses = await asyncio.gather(
            client.post(url, json=handover(race.own, media_ref="owner://a"), headers=owner),
            client.post(
                url,
                json=handover(race.own, media_ref="officer://a"),
                headers=race.committed.headers,
            ),
        )
        assert sorted(r.status_code for r in responses) == [200, 409]
        chain = await custody(client, race.committed.headers, race.request_id)
        handed = [e for e in chain["events"] if e["action"] == "handed_over"]
        assert len(handed) == 1
        [winner] = [r for r in responses if r.status_code == 200]
        item = next(i for i in winner.json()["items"] if i["camera_id"] == str(race.own.id))
        assert handed[0]["media_ref"] == item["media_ref"]
        assert chain["verification"]["holds"] is True
