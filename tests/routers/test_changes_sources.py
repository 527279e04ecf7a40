"""The change feed's record types over HTTP: each record made through the API comes in the
feed as its own GET answers to each reader (the same visibility, the same masking), to no
reader its GET refuses, and as a delete once deleted."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import HA_LONG
from app.models.clients import Client
from app.models.competitions import Competition
from app.models.users import User
from app.security import Role
from tests import factories
from tests.conftest import Cast
from tests.fire_factories import houses, make_competition, make_team
from tests.routers.test_changes import of, sync

PHONE = "0912345678"
LEADER_PHONE = "0987654321"
YEAR = 2030


@dataclass
class Made:
    """A record made through the API: its GET (its DELETE too), and who may delete it."""

    url: str
    id: str
    deleter: str | None = None  # a role of the cast, or None: the domain has no DELETE


@dataclass
class Readers:
    """The cast, and a ward system of Hạ Long (the feed's fourth kind of reader)."""

    cast: Cast
    ward_system: Client

    def headers(self, role: str) -> dict[str, str]:
        account: User | Client = (
            self.ward_system if role == "ward_system" else getattr(self.cast, role)
        )
        return self.cast.headers(account)


@pytest.fixture
async def readers(session: AsyncSession, cast: Cast) -> Readers:
    system, _ = await factories.make_client(session, HA_LONG)
    await session.commit()
    return Readers(cast, system)


async def post(
    client: httpx.AsyncClient, cast: Cast, role: str, url: str, body: Any = None
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=cast.headers(getattr(cast, role)))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


Maker = Callable[[httpx.AsyncClient, Cast, AsyncSession], Awaitable[Made]]


# --- each type's record, made as its domain's router tests make it -------------------


async def group_member(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    group = await factories.make_self_managed_group(session, cast.ha_long_kp)
    await session.commit()
    url = f"/api/v1/groups/{group.id}/members"
    body = {
        "full_name": "Trần Văn Bình",
        "phone": PHONE,
        "birth_year": 1980,
        "position": "member",
        "joined_on": "2025-03-01",
        "resident_since": "2010-06-01",
    }
    member = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{member['id']}", member["id"], "ward_officer")


async def exemplary_model(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    group = await factories.make_self_managed_group(session, cast.ha_long_kp)
    await session.commit()
    url = "/api/v1/exemplary-models"
    body = {"group_id": str(group.id), "year": 2025, "decision_no": "312/QĐ-UBND"}
    designation = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{designation['id']}", designation["id"], "ward_officer")


async def criteria_set(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    url = "/api/v1/certification-criteria-sets"
    body = {
        "year": 2031,
        "name": "Tiêu chuẩn khu dân cư an toàn về ANTT năm 2031",
        "legal_basis": "Thông tư 124/2021/TT-BCA",
        "criteria": factories.sample_criteria(),
        "pass_rule": {"min_total": 60},
    }
    published = await post(client, cast, "admin", url, body)
    return Made(f"{url}/{published['id']}", published["id"], "admin")


async def certification(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    await factories.make_criteria_set(session, YEAR)
    await session.commit()
    url = "/api/v1/certifications"
    body = {
        "neighbourhood_id": str(cast.ha_long_kp.id),
        "year": YEAR,
        "self_assessment": [{"code": "C1", "value": True, "evidence": "Biên bản"}],
    }
    registered = await post(client, cast, "head", url, body)
    return Made(f"{url}/{registered['id']}", registered["id"], "head")


async def footage_request(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    owner = await factories.make_user(session, Role.CAMERA_OWNER, HA_LONG)
    camera = await factories.make_camera(session, HA_LONG, owner=owner)
    await session.commit()
    start = utcnow() - timedelta(hours=6)
    body = {
        "case_code": "HL-2026-0142",
        "reason": "Trộm xe máy trước số 112 Lê Thánh Tông",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
        "camera_ids": [str(camera.id)],
        "respond_by": (utcnow() + timedelta(days=2)).isoformat(),
    }
    url = "/api/v1/footage-requests"
    asked = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{asked['id']}", asked["id"])


async def fire_team(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    url = "/api/v1/fire-teams"
    body = {
        "neighbourhood_id": str(cast.ha_long_kp.id),
        "name": "Tổ liên gia ngõ 45",
        "leader_member": {"name": "Trần Văn Tổ", "phone": LEADER_PHONE},
        "households": houses(8),
        "public_fire_points": [
            {
                "label": "Điểm CC ngõ 45",
                "location": "Đầu ngõ 45",
                "lat": 20.95,
                "lon": 107.08,
                "equipment": ["2 bình bột 8 kg", "1 xà beng"],
            }
        ],
    }
    team = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{team['id']}", team["id"], "ward_officer")


async def fire_equipment(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    team = await make_team(session, cast.ha_long_kp)
    await session.commit()
    url = f"/api/v1/fire-teams/{team.id}/equipment"
    body = {
        "kind": "extinguisher",
        "household": "Nhà số 1",
        "description": "Bình bột ABC 4 kg",
        "quantity": 2,
        "last_inspected_on": "2025-08-31",
        "inspection_interval_months": 6,
        "expires_on": "2029-12-31",
    }
    item = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{item['id']}", item["id"], "ward_officer")


async def drill(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    team = await make_team(session, cast.ha_long_kp)
    await session.commit()
    url = "/api/v1/drills"
    body = {
        "team_id": str(team.id),
        "scenario": "Cháy bếp gas tại nhà số 3; cứu người kẹt tầng 2",
        "planned_for": "2026-12-20",
    }
    planned = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{planned['id']}", planned["id"], "ward_officer")


async def competition(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    url = "/api/v1/competitions"
    body = {
        "year": 2026,
        "level": "ward",
        "unit_code": HA_LONG,
        "name": "Hội thi PCCC phường Hạ Long",
        "held_on": "2026-10-04",
    }
    round_ = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{round_['id']}", round_["id"], "ward_officer")


async def competition_entry(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    round_ = await make_competition(session, "ward", HA_LONG)
    team = await make_team(session, cast.ha_long_kp)
    await session.commit()
    url = f"/api/v1/competitions/{round_.id}/entries"
    body = {"team_id": str(team.id), "theory_score": 80, "practical_score": 90}
    entry = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{entry['id']}", entry["id"], "ward_officer")


def report_update(public: bool) -> Maker:
    async def make(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
        report = await factories.make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        url = f"/api/v1/reports/{report.id}/updates"
        body = {"note": "Đã làm việc với chủ quán karaoke.", "public": public}
        note = await post(client, cast, "ward_officer", url, body)
        return Made(f"{url}/{note['id']}", note["id"])

    return make


async def broadcast(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    url = "/api/v1/broadcasts"
    body = {
        "title": "Cảnh báo lừa đảo qua điện thoại",
        "body": "Đối tượng giả danh công an gọi điện yêu cầu chuyển tiền. Không chuyển tiền.",
        "kind": "warning",
        "target_unit_codes": [HA_LONG],
    }
    sent = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{sent['id']}", sent["id"], "ward_officer")


async def broadcast_acknowledgement(
    client: httpx.AsyncClient, cast: Cast, session: AsyncSession
) -> Made:
    sent = await factories.make_broadcast(session, [HA_LONG])
    await session.commit()
    url = f"/api/v1/broadcasts/{sent.id}/acknowledgements"
    acknowledged = await post(client, cast, "resident", url)
    return Made(f"{url}/{acknowledged['id']}", acknowledged["id"])


async def user(client: httpx.AsyncClient, cast: Cast, session: AsyncSession) -> Made:
    url = "/api/v1/users"
    body = {
        "username": factories.unique("new-"),
        "password": "a-long-enough-password",
        "full_name": "Trần Văn Mới",
        "phone": PHONE,
        "role": "resident",
        "unit_code": HA_LONG,
    }
    account = await post(client, cast, "ward_officer", url, body)
    return Made(f"{url}/{account['id']}", account["id"], "ward_officer")


READERS = ("ward_officer", "province_officer", "admin", "ward_system")

# Each type, how its record is made, and the readers whose GET refuses it (403 or 404),
# to whom the feed must not carry it.
CASES = [
    pytest.param("group_member", group_member, (), id="group_member"),
    pytest.param("exemplary_model", exemplary_model, (), id="exemplary_model"),
    pytest.param("certification_criteria_set", criteria_set, (), id="criteria_set"),
    pytest.param("certification", certification, (), id="certification"),
    pytest.param(
        "footage_request",
        footage_request,
        ("province_officer", "ward_system"),
        id="footage_request",
    ),
    pytest.param("fire_team", fire_team, (), id="fire_team"),
    pytest.param("fire_equipment", fire_equipment, (), id="fire_equipment"),
    pytest.param("drill", drill, (), id="drill"),
    pytest.param("competition", competition, (), id="competition"),
    pytest.param("competition_entry", competition_entry, (), id="competition_entry"),
    pytest.param("report_update", report_update(False), ("ward_system",), id="internal_note"),
    pytest.param("report_update", report_update(True), (), id="public_note"),
    pytest.param("broadcast", broadcast, (), id="broadcast"),
    pytest.param("broadcast_acknowledgement", broadcast_acknowledgement, (), id="acknowledgement"),
    pytest.param("user", user, ("ward_system",), id="user"),
]


@pytest.mark.parametrize(("record_type", "make", "refused"), CASES)
async def test_a_record_comes_as_its_get_answers_each_reader_then_as_a_delete(
    client: httpx.AsyncClient,
    session: AsyncSession,
    readers: Readers,
    record_type: str,
    make: Maker,
    refused: tuple[str, ...],
) -> None:
    made = await make(client, readers.cast, session)
    cursors: dict[str, str] = {}
    versions: dict[str, int] = {}
    for role in READERS:
        headers = readers.headers(role)
        items, cursors[role] = await sync(client, headers, types=record_type)
        got = await client.get(made.url, headers=headers)
        if role in refused:
            assert got.status_code in (403, 404), (role, got.text)
            assert of(items, made.id) == [], role
            continue
        assert got.status_code == 200, (role, got.text)
        [item] = of(items, made.id)
        assert item["data"] == got.json(), role
        assert (item["op"], item["type"]) == ("upsert", record_type)
        assert item["version"] == got.json()["version"] == int(got.headers["etag"].strip('"'))
        versions[role] = item["version"]
    if made.deleter is None:
        return
    deleter = readers.headers(made.deleter)
    response = await client.delete(
        made.url, headers={**deleter, "If-Match": f'"{versions["ward_officer"]}"'}
    )
    assert response.status_code == 204, response.text
    headers = readers.headers("ward_officer")
    items, _ = await sync(client, headers, cursors["ward_officer"], types=record_type)
    [item] = of(items, made.id)
    assert (item["op"], item["type"], item["data"]) == ("delete", record_type, None)
    assert (await client.get(made.url, headers=headers)).status_code == 404


async def data_of(
    client: httpx.AsyncClient, readers: Readers, role: str, record_type: str, made: Made
) -> dict[str, Any]:
    items, _ = await sync(client, readers.headers(role), types=record_type)
    [item] = of(items, made.id)
    data: dict[str, Any] = item["data"]
    return data


class TestMasking:
    """Personal data is masked in the feed as the GET masks it, by the reader's role."""

    async def test_a_members_phone_in_full_to_the_ward_masked_to_the_province(
        self, client: httpx.AsyncClient, session: AsyncSession, readers: Readers
    ) -> None:
        made = await group_member(client, readers.cast, session)
        ward = await data_of(client, readers, "ward_officer", "group_member", made)
        province = await data_of(client, readers, "province_officer", "group_member", made)
        assert (ward["phone"], ward["phone_masked"]) == (PHONE, False)
        assert (province["phone"], province["phone_masked"]) == ("09******78", True)

    async def test_a_team_leaders_phone_in_full_to_the_ward_masked_to_the_province(
        self, client: httpx.AsyncClient, session: AsyncSession, readers: Readers
    ) -> None:
        made = await fire_team(client, readers.cast, session)
        ward = await data_of(client, readers, "ward_officer", "fire_team", made)
        province = await data_of(client, readers, "province_officer", "fire_team", made)
        assert ward["leader_member"]["phone"] == LEADER_PHONE
        assert province["leader_member"]["phone"] == "09******21"

    async def test_a_broadcast_says_whether_the_reader_acknowledged_it(
        self, client: httpx.AsyncClient, session: AsyncSession, readers: Readers
    ) -> None:
        made = await broadcast(client, readers.cast, session)
        data = await data_of(client, readers, "ward_officer", "broadcast", made)
        assert (data["state"], data["acknowledged"]) == ("live", False)


class TestParents:
    """A record read under its parent leaves the feed with it."""

    async def test_an_entry_of_a_deleted_competition_is_a_delete(
        self, client: httpx.AsyncClient, session: AsyncSession, readers: Readers
    ) -> None:
        made = await competition_entry(client, readers.cast, session)
        headers = readers.headers("ward_officer")
        _, cursor = await sync(client, headers, types="competition_entry")
        # A later write of the entry, then its round deleted behind the API's back (the
        # API deletes no round that still has entries).
        entry = (await client.get(made.url, headers=headers)).json()
        response = await client.patch(
            made.url,
            json={"theory_score": 70},
            headers={**headers, "If-Match": f'"{entry["version"]}"'},
        )
        assert response.status_code == 200, response.text
        round_ = await session.get(Competition, uuid.UUID(entry["competition_id"]))
        assert round_ is not None
        round_.deleted_at = utcnow()
        session.add(round_)
        await session.commit()
        items, _ = await sync(client, headers, cursor, types="competition_entry")
        [item] = of(items, made.id)
        assert (item["op"], item["data"]) == ("delete", None)
