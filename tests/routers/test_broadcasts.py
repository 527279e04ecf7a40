"""Broadcasts over HTTP: sending inside one's scope, targeting, acknowledgements and reach."""

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
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement, BroadcastTarget
from app.security import Role
from tests.conftest import Cast
from tests.factories import (
    HOAN_KIEM,
    QUANG_NINH,
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_broadcast,
    make_client,
    make_group,
    make_neighbourhood,
    make_user,
)

BROADCASTS = "/api/v1/broadcasts"


def new_broadcast(*targets: str, **values: Any) -> dict[str, Any]:
    return {
        "title": "Cảnh báo lừa đảo qua điện thoại",
        "body": "Đối tượng giả danh công an gọi điện yêu cầu chuyển tiền. Không chuyển tiền.",
        "kind": "warning",
        "target_unit_codes": list(targets) or [HA_LONG],
        **values,
    }


class TestCreateBroadcast:
    async def test_ward_officer_sends_to_their_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        group = await make_group(session, cast.ha_long_kp)
        await session.commit()
        targets = [HA_LONG, str(cast.ha_long_kp.id), str(group.id), HA_LONG]
        response = await client.post(
            BROADCASTS, json=new_broadcast(*targets), headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{BROADCASTS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert (body["province_code"], body["ward_code"]) == (QUANG_NINH, HA_LONG)
        assert body["target_unit_codes"] == targets[:3]
        assert (body["state"], body["acknowledged"]) == ("live", False)
        assert body["author_id"] == str(cast.ward_officer.id)
        session.expunge_all()
        stored = (
            await session.exec(
                select_model(BroadcastTarget).where(
                    col(BroadcastTarget.broadcast_id) == uuid.UUID(body["id"])
                )
            )
        ).all()
        assert sorted(t.level for t in stored) == ["neighbourhood", "residential_group", "ward"]
        [event] = (
            await session.exec(
                select_model(AuditEvent).where(col(AuditEvent.record_id) == body["id"])
            )
        ).all()
        assert event.action == "create"
        assert "Cảnh báo" not in str(event.changed_fields)

    async def test_province_officer_sends_to_several_wards(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            BROADCASTS,
            json=new_broadcast(HA_LONG, BAI_CHAY, kind="legal_knowledge"),
            headers=cast.headers(cast.province_officer),
        )
        assert response.status_code == 201, response.text
        assert (response.json()["province_code"], response.json()["ward_code"]) == (
            QUANG_NINH,
            None,
        )

    async def test_role_matrix(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_unauthorized(await client.post(BROADCASTS, json=new_broadcast()))
        for who in ("resident", "head"):
            response = await client.post(
                BROADCASTS, json=new_broadcast(), headers=cast.headers(getattr(cast, who))
            )
            assert "broadcasts:write" in assert_forbidden(response)

    @pytest.mark.parametrize(
        ("who", "target"),
        [
            ("ward_officer", BAI_CHAY),
            ("ward_officer", "bai_chay_kp"),
            ("province_officer", HOAN_KIEM),
            ("other_province_officer", HA_LONG),
        ],
    )
    async def test_targets_outside_your_units_get_403(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, who: str, target: str
    ) -> None:
        code = str(cast.bai_chay_kp.id) if target == "bai_chay_kp" else target
        response = await client.post(
            BROADCASTS, json=new_broadcast(code), headers=cast.headers(getattr(cast, who))
        )
        assert code in assert_forbidden(response)
        assert (await session.exec(select_model(Broadcast))).all() == []

    @pytest.mark.parametrize(
        ("change", "loc", "kind"),
        [
            ({"target_unit_codes": ["99999"]}, ["body", "target_unit_codes"], "not_found"),
            (
                {"target_unit_codes": [str(uuid.uuid4())]},
                ["body", "target_unit_codes"],
                "not_found",
            ),
            ({"target_unit_codes": ["22"]}, ["body", "target_unit_codes", 0], "string_too_short"),
            ({"target_unit_codes": ["2" * 12]}, ["body", "target_unit_codes"], "value_error"),
            ({"target_unit_codes": []}, ["body", "target_unit_codes"], "too_short"),
            ({"kind": "gossip"}, ["body", "kind"], "enum"),
            ({"title": ""}, ["body", "title"], "string_too_short"),
            # both times sent: the schema's own cross-field check, which names no one field
            (
                {"publish_at": "2026-01-02T00:00:00Z", "expires_at": "2026-01-01T00:00:00Z"},
                ["body"],
                "value_error",
            ),
            ({"expires_at": "2020-01-01T00:00:00Z"}, ["body", "expires_at"], "greater_than"),
            ({"publish_at": "2026-01-02T00:00:00"}, ["body", "publish_at"], "timezone_aware"),
            ({"author_id": str(uuid.uuid4())}, ["body", "author_id"], "extra_forbidden"),
        ],
    )
    async def test_bad_input_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        change: dict[str, Any],
        loc: list[str],
        kind: str,
    ) -> None:
        response = await client.post(
            BROADCASTS, json=new_broadcast(**change), headers=cast.headers(cast.ward_officer)
        )
        assert_field_problem(response, loc, kind)

    async def test_admin_cannot_span_two_provinces(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            BROADCASTS, json=new_broadcast(HA_LONG, HOAN_KIEM), headers=cast.headers(cast.admin)
        )
        assert_field_problem(response, ["body", "target_unit_codes"], "value_error")

    async def test_idempotency_key_replays(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.ward_officer), "Idempotency-Key": "bc-1"}
        first = await client.post(BROADCASTS, json=new_broadcast(), headers=headers)
        again = await client.post(BROADCASTS, json=new_broadcast(), headers=headers)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        assert len((await session.exec(select_model(Broadcast))).all()) == 1


class TestListBroadcasts:
    async def test_residents_see_live_broadcasts_sent_to_where_they_live(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        now = utcnow()
        own_group = await make_group(session, cast.ha_long_kp)
        other_kp = await make_neighbourhood(session, HA_LONG)
        other_group = await make_group(session, other_kp)
        made = {
            "ward": await make_broadcast(session, [HA_LONG]),
            "neighbourhood": await make_broadcast(session, [cast.ha_long_kp]),
            "group": await make_broadcast(session, [own_group]),
            "other_neighbourhood": await make_broadcast(session, [other_kp]),
            "other_group": await make_broadcast(session, [other_group]),
            "other_ward": await make_broadcast(session, [BAI_CHAY]),
            "expired": await make_broadcast(
                session, [HA_LONG], expires_at=now - timedelta(minutes=1)
            ),
            "scheduled": await make_broadcast(
                session, [HA_LONG], publish_at=now + timedelta(days=1)
            ),
            "withdrawn": await make_broadcast(session, [HA_LONG], deleted_at=now),
        }
        neighbour = await make_user(session, Role.RESIDENT, str(cast.ha_long_kp.id))
        await session.commit()

        async def seen(account: Any) -> set[str]:
            response = await client.get(BROADCASTS, headers=cast.headers(account))
            assert response.status_code == 200, response.text
            ids = {item["id"] for item in response.json()["items"]}
            return {name for name, b in made.items() if str(b.id) in ids}

        assert await seen(neighbour) == {"ward", "neighbourhood", "group"}
        assert await seen(cast.head) == {"ward", "neighbourhood", "group"}
        # Anchored to the ward only: ward-wide broadcasts.
        assert await seen(cast.resident) == {"ward"}
        assert await seen(cast.other_resident) == {"other_ward"}

    async def test_officers_see_every_broadcast_of_their_units(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        now = utcnow()
        live = await make_broadcast(session, [HA_LONG])
        scheduled = await make_broadcast(session, [cast.ha_long_kp], publish_at=now + timedelta(1))
        province = await make_broadcast(session, [HA_LONG, BAI_CHAY])
        other = await make_broadcast(session, [BAI_CHAY])
        await session.commit()
        response = await client.get(BROADCASTS, headers=cast.headers(cast.ward_officer))
        ids = {item["id"] for item in response.json()["items"]}
        assert ids == {str(live.id), str(scheduled.id), str(province.id)}
        states = {item["id"]: item["state"] for item in response.json()["items"]}
        assert states[str(scheduled.id)] == "scheduled"
        only_live = await client.get(
            BROADCASTS, params={"state": "live"}, headers=cast.headers(cast.ward_officer)
        )
        assert str(scheduled.id) not in only_live.text
        provincial = await client.get(BROADCASTS, headers=cast.headers(cast.province_officer))
        assert {item["id"] for item in provincial.json()["items"]} == ids | {str(other.id)}

    async def test_ward_system_reads_its_wards_broadcasts(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        machine, _ = await make_client(session, HA_LONG)
        mine = await make_broadcast(session, [HA_LONG])
        await make_broadcast(session, [BAI_CHAY])
        await session.commit()
        response = await client.get(BROADCASTS, headers=cast.headers(machine))
        assert [item["id"] for item in response.json()["items"]] == [str(mine.id)]

    async def test_newest_first_filtered_by_kind_with_my_acknowledgement(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        now = utcnow()
        older = await make_broadcast(session, [HA_LONG], publish_at=now - timedelta(days=2))
        newer = await make_broadcast(session, [HA_LONG], kind="legal_knowledge")
        session.add(BroadcastAcknowledgement(broadcast_id=older.id, user_id=cast.resident.id))
        await session.commit()
        headers = cast.headers(cast.resident)
        body = (await client.get(BROADCASTS, headers=headers)).json()
        assert [(i["id"], i["acknowledged"]) for i in body["items"]] == [
            (str(newer.id), False),
            (str(older.id), True),
        ]
        legal = await client.get(BROADCASTS, params={"kind": "legal_knowledge"}, headers=headers)
        assert [i["id"] for i in legal.json()["items"]] == [str(newer.id)]

    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(BROADCASTS))


class TestGetBroadcast:
    async def test_recipient_reads_it_with_its_etag_others_get_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        path = f"{BROADCASTS}/{broadcast.id}"
        mine = await client.get(path, headers=cast.headers(cast.resident))
        assert mine.status_code == 200
        assert mine.headers["etag"] == '"1"'
        for who in ("other_resident", "other_ward_officer", "other_province_officer"):
            assert_not_found(await client.get(path, headers=cast.headers(getattr(cast, who))))


class TestAcknowledge:
    async def test_first_acknowledgement_is_201_repeats_are_200_and_harmless(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        path = f"{BROADCASTS}/{broadcast.id}/acknowledgements"
        headers = cast.headers(cast.resident)
        first = await client.post(path, headers=headers)
        assert first.status_code == 201, first.text
        again = await client.post(path, headers=headers)
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert first.headers["location"] == f"{path}/{first.json()['id']}"
        assert first.json()["user_id"] == str(cast.resident.id)
        rows = (
            await session.exec(
                select_model(BroadcastAcknowledgement).where(
                    col(BroadcastAcknowledgement.broadcast_id) == broadcast.id
                )
            )
        ).all()
        assert len(rows) == 1
        own = await client.get(first.headers["location"], headers=headers)
        assert own.status_code == 200
        assert_not_found(
            await client.get(first.headers["location"], headers=cast.headers(cast.head))
        )
        officer = await client.get(
            first.headers["location"], headers=cast.headers(cast.ward_officer)
        )
        assert officer.status_code == 200
        shown = await client.get(f"{BROADCASTS}/{broadcast.id}", headers=headers)
        assert shown.json()["acknowledged"] is True

    async def test_broadcast_not_sent_to_you_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        now = utcnow()
        elsewhere = await make_broadcast(session, [BAI_CHAY])
        expired = await make_broadcast(session, [HA_LONG], expires_at=now - timedelta(hours=1))
        scheduled = await make_broadcast(session, [HA_LONG], publish_at=now + timedelta(hours=1))
        await session.commit()
        for broadcast in (elsewhere, expired, scheduled):
            response = await client.post(
                f"{BROADCASTS}/{broadcast.id}/acknowledgements",
                headers=cast.headers(cast.resident),
            )
            assert_not_found(response)

    async def test_officers_do_not_acknowledge(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        path = f"{BROADCASTS}/{broadcast.id}/acknowledgements"
        assert_unauthorized(await client.post(path))
        assert assert_forbidden(await client.post(path, headers=cast.headers(cast.ward_officer)))
        assert_not_found(await client.post(path, headers=cast.headers(cast.other_ward_officer)))


class TestReach:
    async def test_acknowledgements_against_households_each_counted_once(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        kp_a = await make_neighbourhood(session, BAI_CHAY, households=100)
        kp_b = await make_neighbourhood(session, BAI_CHAY, households=50)
        group_in_a = await make_group(session, kp_a, households=20)
        group_in_b = await make_group(session, kp_b, households=15)
        # kp_a whole, and one group of kp_b; kp_a's own group must not count twice.
        broadcast = await make_broadcast(session, [kp_a, group_in_a, group_in_b])
        for unit in (kp_a, kp_a, kp_b):
            resident = await make_user(session, Role.RESIDENT, str(unit.id))
            session.add(BroadcastAcknowledgement(broadcast_id=broadcast.id, user_id=resident.id))
        await session.commit()
        response = await client.get(
            f"{BROADCASTS}/{broadcast.id}/reach", headers=cast.headers(cast.other_ward_officer)
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "broadcast_id": str(broadcast.id),
            "acknowledged": 3,
            "households": 115,
            "reach": round(3 / 115, 4),
        }

    async def test_ward_target_counts_every_neighbourhood_of_the_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        kp = await make_neighbourhood(session, BAI_CHAY, households=70)
        group = await make_group(session, kp, households=30)
        broadcast = await make_broadcast(session, [BAI_CHAY, kp, group])
        await session.commit()
        response = await client.get(
            f"{BROADCASTS}/{broadcast.id}/reach", headers=cast.headers(cast.province_officer)
        )
        body = response.json()
        # cast.bai_chay_kp has 100 households; kp 70; the group is inside kp.
        assert (body["acknowledged"], body["households"], body["reach"]) == (0, 170, 0.0)

    async def test_only_officers_of_its_units_see_reach(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        path = f"{BROADCASTS}/{broadcast.id}/reach"
        assert_unauthorized(await client.get(path))
        assert "broadcasts:write" in assert_forbidden(
            await client.get(path, headers=cast.headers(cast.resident))
        )
        assert_not_found(await client.get(path, headers=cast.headers(cast.other_ward_officer)))
        assert (await client.get(path, headers=cast.headers(cast.ward_officer))).status_code == 200


class TestChangeBroadcast:
    async def test_ward_officer_edits_with_if_match(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        path, headers = f"{BROADCASTS}/{broadcast.id}", cast.headers(cast.ward_officer)
        body = {"title": "Cảnh báo (cập nhật)", "kind": "announcement"}
        assert_problem(
            await client.patch(path, json=body, headers=headers), 428, "precondition-required"
        )
        response = await client.patch(path, json=body, headers={**headers, "If-Match": '"1"'})
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert (response.json()["title"], response.json()["kind"]) == (body["title"], body["kind"])
        stale = await client.patch(path, json=body, headers={**headers, "If-Match": '"1"'})
        assert_problem(stale, 412, "precondition-failed")

    @pytest.mark.parametrize(
        ("body", "loc", "kind"),
        [
            ({"title": None}, ["body", "title"], "null_not_allowed"),
            ({"expires_at": "2000-01-01T00:00:00Z"}, ["body", "expires_at"], "greater_than"),
            ({"target_unit_codes": []}, ["body", "target_unit_codes"], "extra_forbidden"),
        ],
    )
    async def test_bad_changes_get_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        body: dict[str, Any],
        loc: list[str],
        kind: str,
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        response = await client.patch(
            f"{BROADCASTS}/{broadcast.id}",
            json=body,
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert_field_problem(response, loc, kind)

    async def test_ward_officer_cannot_change_a_province_broadcast(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG, BAI_CHAY])
        await session.commit()
        response = await client.patch(
            f"{BROADCASTS}/{broadcast.id}",
            json={"title": "x"},
            headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'},
        )
        assert assert_forbidden(response)

    async def test_withdrawing_hides_it_from_everyone(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        broadcast = await make_broadcast(session, [HA_LONG])
        await session.commit()
        path = f"{BROADCASTS}/{broadcast.id}"
        assert_not_found(
            await client.delete(
                path, headers={**cast.headers(cast.other_ward_officer), "If-Match": '"1"'}
            )
        )
        response = await client.delete(
            path, headers={**cast.headers(cast.ward_officer), "If-Match": '"1"'}
        )
        assert response.status_code == 204
        assert_not_found(await client.get(path, headers=cast.headers(cast.resident)))
        assert_not_found(await client.get(path, headers=cast.headers(cast.ward_officer)))
