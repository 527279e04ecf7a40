"""Safe-zone certifications over HTTP: registration, drafts, reads, lists, history, who sees what.

The workflow steps are in test_certifications_transitions.py."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data
from app.demo.places import BAI_CHAY, HA_LONG, demo_id
from app.models.audit import AuditEvent
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import Certification, CertificationEvent
from app.security import Role
from tests.conftest import Cast
from tests.factories import (
    HOAN_KIEM,
    PASSING_SELF_ASSESSMENT,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    headers_for,
    login,
    make_certification,
    make_client,
    make_criteria_set,
    make_neighbourhood,
    make_user,
)

CERTIFICATIONS = "/api/v1/certifications"
YEAR = 2030


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def registration(neighbourhood_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {"neighbourhood_id": str(neighbourhood_id), "year": YEAR, **extra}


async def stored(session: AsyncSession, certification_id: uuid.UUID | str) -> Certification:
    session.expunge_all()
    found = await session.get(Certification, uuid.UUID(str(certification_id)))
    assert found is not None
    return found


@pytest.fixture
async def criteria_set(session: AsyncSession) -> CriteriaSet:
    found: CriteriaSet = await make_criteria_set(session, YEAR)
    await session.commit()
    return found


class TestCreateCertification:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_unauthorized(await client.post(CERTIFICATIONS, json=registration(uuid.uuid4())))

    @pytest.mark.parametrize("role", ["ward_officer", "province_officer", "resident"])
    async def test_roles_without_certifications_submit_get_403(
        self, client: httpx.AsyncClient, cast: Cast, criteria_set: CriteriaSet, role: str
    ) -> None:
        response = await client.post(
            CERTIFICATIONS,
            json=registration(cast.ha_long_kp.id),
            headers=cast.headers(getattr(cast, role)),
        )
        assert_forbidden(response)
        assert response.json()["required_scopes"] == ["certifications:submit"]

    async def test_head_of_another_neighbourhood_gets_403_with_reason(
        self, client: httpx.AsyncClient, cast: Cast, criteria_set: CriteriaSet
    ) -> None:
        response = await client.post(
            CERTIFICATIONS,
            json=registration(cast.bai_chay_kp.id),
            headers=cast.headers(cast.head),
        )
        assert "their own neighbourhood" in assert_forbidden(response)

    async def test_head_registers_their_neighbourhood_as_a_draft(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        body_in = registration(
            cast.ha_long_kp.id,
            registered_on=f"{YEAR}-01-12",
            resolution_no="01/NQ-KP",
            households_committed=60,
            self_assessment=[{"code": "C1", "value": True, "evidence": "Biên bản"}],
        )
        response = await client.post(CERTIFICATIONS, json=body_in, headers=cast.headers(cast.head))
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"{CERTIFICATIONS}/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert {k: body[k] for k in ("province_code", "ward_code", "neighbourhood_id")} == {
            "province_code": "22",
            "ward_code": HA_LONG,
            "neighbourhood_id": str(cast.ha_long_kp.id),
        }
        assert (body["status"], body["allowed_transitions"]) == ("draft", ["submit"])
        assert body["criteria_set_id"] == str(criteria_set.id)
        assert (body["households_total"], body["households_committed"]) == (100, 60)
        assert body["self_assessment"] == [
            {"code": "C1", "value": True, "score": None, "evidence": "Biên bản"}
        ]
        assert (body["registered_on"], body["resolution_no"]) == (f"{YEAR}-01-12", "01/NQ-KP")
        assert body["review"] is body["decision"] is body["revocation"] is None
        row = await stored(session, body["id"])
        assert (row.status, row.year, row.households_total) == ("draft", YEAR, 100)
        events = (
            await session.exec(
                select(CertificationEvent).where(col(CertificationEvent.certification_id) == row.id)
            )
        ).all()
        assert [
            (e.action, e.from_status, e.to_status, e.actor_id, e.actor_role) for e in events
        ] == [("register", None, "draft", cast.head.id, "neighbourhood_head")]
        audit = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).all()
        assert [(a.action, a.ward_code) for a in audit] == [("create", HA_LONG)]
        assert "self_assessment" in audit[0].changed_fields

    async def test_a_second_registration_for_the_year_gets_409(
        self, client: httpx.AsyncClient, cast: Cast, criteria_set: CriteriaSet
    ) -> None:
        headers = cast.headers(cast.head)
        first = await client.post(
            CERTIFICATIONS, json=registration(cast.ha_long_kp.id), headers=headers
        )
        second = await client.post(
            CERTIFICATIONS, json=registration(cast.ha_long_kp.id), headers=headers
        )
        body = assert_problem(second, 409, "conflict")
        assert body["certification_id"] == first.json()["id"]
        assert str(YEAR) in body["detail"]

    async def test_next_year_is_a_new_registration(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        await make_criteria_set(session, YEAR + 1)
        await session.commit()
        headers = cast.headers(cast.head)
        for year in (YEAR, YEAR + 1):
            response = await client.post(
                CERTIFICATIONS, json=registration(cast.ha_long_kp.id, year=year), headers=headers
            )
            assert response.status_code == 201, response.text

    async def test_admin_registers_any_neighbourhood_against_the_latest_set(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        newer = await make_criteria_set(session, YEAR)
        await session.commit()
        response = await client.post(
            CERTIFICATIONS,
            json=registration(cast.bai_chay_kp.id),
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 201, response.text
        assert response.json()["criteria_set_id"] == str(newer.id)
        assert response.json()["ward_code"] == BAI_CHAY

    async def test_an_older_set_of_the_year_may_be_named(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        await make_criteria_set(session, YEAR)
        await session.commit()
        response = await client.post(
            CERTIFICATIONS,
            json=registration(cast.ha_long_kp.id, criteria_set_id=str(criteria_set.id)),
            headers=cast.headers(cast.head),
        )
        assert response.json()["criteria_set_id"] == str(criteria_set.id)

    @pytest.mark.parametrize(
        ("extra", "words"),
        [
            ({"year": 2099}, "No criteria set is published for 2099"),
            ({"criteria_set_id": str(uuid.uuid4())}, "No criteria set"),
            ({"households_committed": 101}, "cannot exceed households_total"),
            ({"households_total": 10, "households_committed": 11}, "cannot exceed"),
            ({"self_assessment": [{"code": "C9", "value": True}]}, "not criteria of this set: C9"),
            ({"self_assessment": [{"code": "C1", "score": 3}]}, "C1 is met or not"),
            ({"self_assessment": [{"code": "C3", "value": True}]}, "C3 is scored"),
            ({"self_assessment": [{"code": "C3", "score": 101}]}, "C3 scores at most 100"),
            (
                {"self_assessment": [{"code": "C1", "value": True}, {"code": "C1", "value": True}]},
                "given twice: C1",
            ),
        ],
    )
    async def test_inconsistent_registration_gets_422_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        extra: dict[str, Any],
        words: str,
    ) -> None:
        response = await client.post(
            CERTIFICATIONS,
            json=registration(cast.ha_long_kp.id, **extra),
            headers=cast.headers(cast.head),
        )
        assert words in assert_problem(response, 422, "validation-error")["detail"]
        rows = await session.exec(
            select(Certification).where(col(Certification.neighbourhood_id) == cast.ha_long_kp.id)
        )
        assert rows.all() == []
        session.expunge_all()
        assert (await session.get(CriteriaSet, criteria_set.id)).in_use is False  # type: ignore[union-attr]

    async def test_a_set_of_another_year_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        response = await client.post(
            CERTIFICATIONS,
            json=registration(
                cast.ha_long_kp.id, year=YEAR + 5, criteria_set_id=str(criteria_set.id)
            ),
            headers=cast.headers(cast.admin),
        )
        assert f"not {YEAR + 5}" in assert_problem(response, 422)["detail"]

    @pytest.mark.parametrize(
        ("extra", "loc"),
        [
            ({"status": "certified"}, "status"),
            ({"province_code": "01"}, "province_code"),
            ({"self_assessment": [{"code": "C1"}]}, "self_assessment"),
            ({"self_assessment": [{"code": "C1", "value": True, "score": 3}]}, "self_assessment"),
            ({"households_committed": -1}, "households_committed"),
        ],
    )
    async def test_malformed_or_mass_assigned_body_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, extra: dict[str, Any], loc: str
    ) -> None:
        response = await client.post(
            CERTIFICATIONS,
            json=registration(cast.ha_long_kp.id, **extra),
            headers=cast.headers(cast.head),
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"][:2] == ["body", loc]

    async def test_unknown_neighbourhood_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, criteria_set: CriteriaSet
    ) -> None:
        response = await client.post(
            CERTIFICATIONS, json=registration(uuid.uuid4()), headers=cast.headers(cast.admin)
        )
        assert "No neighbourhood" in assert_problem(response, 422)["detail"]

    async def test_idempotency_key_replays_instead_of_conflicting(
        self, client: httpx.AsyncClient, cast: Cast, criteria_set: CriteriaSet
    ) -> None:
        headers = {**cast.headers(cast.head), "Idempotency-Key": "kp-register-2030"}
        first = await client.post(
            CERTIFICATIONS, json=registration(cast.ha_long_kp.id), headers=headers
        )
        again = await client.post(
            CERTIFICATIONS, json=registration(cast.ha_long_kp.id), headers=headers
        )
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"


class Scene:
    """Certifications in three wards and two provinces, and the accounts that look at them."""

    def __init__(self, cast: Cast, rows: dict[str, Certification], **accounts: Any) -> None:
        self.cast = cast
        self.rows = rows
        self.accounts = accounts

    def ids(self, *names: str) -> set[str]:
        return {str(self.rows[name].id) for name in names}


@pytest.fixture
async def scene(cast: Cast, session: AsyncSession, criteria_set: CriteriaSet) -> Scene:
    other_kp = await make_neighbourhood(session, HA_LONG)
    ha_noi_kp = await make_neighbourhood(session, HOAN_KIEM)
    rows = {
        "ha_long": await make_certification(session, cast.ha_long_kp, criteria_set, "certified"),
        "ha_long_other": await make_certification(session, other_kp, criteria_set, "submitted"),
        "bai_chay": await make_certification(session, cast.bai_chay_kp, criteria_set, "certified"),
        "ha_noi": await make_certification(session, ha_noi_kp, criteria_set, "draft"),
    }
    leader = await make_user(session, Role.GROUP_LEADER, str(cast.ha_long_kp.id))
    bai_chay_head = await make_user(session, Role.NEIGHBOURHOOD_HEAD, str(cast.bai_chay_kp.id))
    camera_owner = await make_user(session, Role.CAMERA_OWNER, HA_LONG)
    ward_system, _ = await make_client(session, HA_LONG)
    province_system, _ = await make_client(session, "22")
    await session.commit()
    return Scene(
        cast,
        rows,
        leader=leader,
        bai_chay_head=bai_chay_head,
        camera_owner=camera_owner,
        ward_system=ward_system,
        province_system=province_system,
    )


class TestListCertifications:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(CERTIFICATIONS))

    async def test_resident_and_camera_owner_get_403(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        for account in (scene.cast.resident, scene.accounts["camera_owner"]):
            response = await client.get(CERTIFICATIONS, headers=scene.cast.headers(account))
            assert_forbidden(response)

    @pytest.mark.parametrize(
        ("who", "sees"),
        [
            ("admin", {"ha_long", "ha_long_other", "bai_chay", "ha_noi"}),
            ("province_officer", {"ha_long", "ha_long_other", "bai_chay"}),
            ("other_province_officer", {"ha_noi"}),
            ("ward_officer", {"ha_long", "ha_long_other"}),
            ("other_ward_officer", {"bai_chay"}),
            ("head", {"ha_long"}),
            ("leader", {"ha_long"}),
            ("bai_chay_head", {"bai_chay"}),
            ("ward_system", {"ha_long", "ha_long_other"}),
            ("province_system", {"ha_long", "ha_long_other", "bai_chay"}),
        ],
    )
    async def test_each_role_sees_its_units_only(
        self, client: httpx.AsyncClient, scene: Scene, who: str, sees: set[str]
    ) -> None:
        account = getattr(scene.cast, who, None) or scene.accounts[who]
        response = await client.get(
            CERTIFICATIONS,
            params={"year": YEAR, "limit": 200},
            headers=scene.cast.headers(account),
        )
        assert response.status_code == 200, response.text
        assert {item["id"] for item in response.json()["items"]} == scene.ids(*sees)

    async def test_filters_by_status_ward_and_neighbourhood(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        headers = scene.cast.headers(scene.cast.admin)

        async def ids(**params: Any) -> set[str]:
            response = await client.get(
                CERTIFICATIONS, params={"year": YEAR, **params}, headers=headers
            )
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        assert await ids(status="certified") == scene.ids("ha_long", "bai_chay")
        assert await ids(status="certified", ward_code=HA_LONG) == scene.ids("ha_long")
        assert await ids(ward_code=HA_LONG) == scene.ids("ha_long", "ha_long_other")
        kp = scene.rows["ha_long_other"].neighbourhood_id
        assert await ids(neighbourhood_id=str(kp)) == scene.ids("ha_long_other")
        assert await ids(status="revoked") == set()
        assert await ids(year=YEAR + 1) == set()

    async def test_items_carry_the_review_and_decision(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        response = await client.get(
            CERTIFICATIONS,
            params={"status": "certified", "ward_code": HA_LONG},
            headers=scene.cast.headers(scene.cast.ward_officer),
        )
        [item] = response.json()["items"]
        assert item["review"]["passed"] is True
        assert item["review"]["total_score"] == 75
        assert item["decision"]["outcome"] == "certified"
        assert item["decision"]["certificate_no"] == scene.rows["ha_long"].certificate_no
        assert item["allowed_transitions"] == ["revoke"]

    @pytest.mark.parametrize(
        "params",
        [{"status": "approved"}, {"ward_code": "6688"}, {"year": 1999}, {"limit": 201}],
    )
    async def test_bad_filters_get_422(
        self, client: httpx.AsyncClient, cast: Cast, params: dict[str, Any]
    ) -> None:
        response = await client.get(CERTIFICATIONS, params=params, headers=cast.headers(cast.admin))
        assert_problem(response, 422, "validation-error")


class TestWardSystemAsksWhichAreasAreCertified:
    """The issue's example: a ward system lists its certified areas of 2025."""

    async def test_ward_system_gets_ha_longs_11_certified_areas_in_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
    ) -> None:
        await demo_data.seed_demo(session)
        ward_system, _ = await make_client(session, HA_LONG)
        await session.commit()
        headers = headers_for(app, ward_system)
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {
                "status": "certified",
                "year": 2025,
                "ward_code": HA_LONG,
                "limit": 5,
            }
            if cursor:
                params["cursor"] = cursor
            response = await client.get(CERTIFICATIONS, params=params, headers=headers)
            assert response.status_code == 200, response.text
            items += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert len(items) == len({i["id"] for i in items}) == 11
        assert {i["status"] for i in items} == {"certified"}
        numbers = sorted(i["decision"]["certificate_no"] for i in items)
        assert numbers == [f"ANTT-2025-{HA_LONG}-{n:04d}" for n in range(1, 12)]
        kp12 = demo_id("neighbourhood", HA_LONG, "KP12")
        assert str(kp12) in {i["neighbourhood_id"] for i in items}


class TestGetCertification:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert_unauthorized(await client.get(f"{CERTIFICATIONS}/{scene.rows['ha_long'].id}"))

    async def test_ward_officer_reads_one_of_their_ward_with_its_etag(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        row = scene.rows["ha_long"]
        response = await client.get(
            f"{CERTIFICATIONS}/{row.id}", headers=scene.cast.headers(scene.cast.ward_officer)
        )
        assert response.status_code == 200
        assert response.headers["etag"] == f'"{row.version}"'
        body = response.json()
        assert body["decision"]["certificate_no"] == row.certificate_no
        assert body["decision"]["overridden"] is False

    @pytest.mark.parametrize(
        "who", ["other_ward_officer", "bai_chay_head", "other_province_officer"]
    )
    async def test_outside_the_callers_units_gets_404(
        self, client: httpx.AsyncClient, scene: Scene, who: str
    ) -> None:
        account = getattr(scene.cast, who, None) or scene.accounts[who]
        response = await client.get(
            f"{CERTIFICATIONS}/{scene.rows['ha_long'].id}", headers=scene.cast.headers(account)
        )
        assert_not_found(response)

    async def test_head_of_another_neighbourhood_of_the_ward_gets_404(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        response = await client.get(
            f"{CERTIFICATIONS}/{scene.rows['ha_long_other'].id}",
            headers=scene.cast.headers(scene.cast.head),
        )
        assert_not_found(response)

    async def test_unknown_id_gets_404(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_not_found(
            await client.get(f"{CERTIFICATIONS}/{uuid.uuid4()}", headers=cast.headers(cast.admin))
        )


class TestUpdateCertification:
    async def test_head_changes_their_draft_and_gets_the_new_etag(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        await session.commit()
        response = await client.patch(
            f"{CERTIFICATIONS}/{draft.id}",
            json={
                "households_total": 120,
                "households_committed": 120,
                "resolution_no": "02/NQ-KP",
                "self_assessment": PASSING_SELF_ASSESSMENT,
            },
            headers={**cast.headers(cast.head), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        body = response.json()
        assert (body["households_total"], body["resolution_no"]) == (120, "02/NQ-KP")
        assert [item["code"] for item in body["self_assessment"]] == ["C1", "C2", "C3"]
        row = await stored(session, draft.id)
        assert (row.version, row.households_committed) == (2, 120)
        assert row.self_assessment[2] == {"code": "C3", "score": 80}
        audit = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == str(draft.id)))
        ).all()
        assert [a.action for a in audit] == ["update"]
        assert set(audit[0].changed_fields) == {
            "households_total",
            "households_committed",
            "resolution_no",
            "self_assessment",
        }

    async def test_self_assessment_replaces_the_list(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(
            session, cast.ha_long_kp, criteria_set, self_assessment=PASSING_SELF_ASSESSMENT
        )
        await session.commit()
        response = await client.patch(
            f"{CERTIFICATIONS}/{draft.id}",
            json={"self_assessment": [{"code": "C2", "value": False}]},
            headers={**cast.headers(cast.head), **if_match(1)},
        )
        assert [i["code"] for i in response.json()["self_assessment"]] == ["C2"]

    async def test_moving_to_a_newer_set_of_the_year_freezes_it(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        newer = await make_criteria_set(session, YEAR)
        other_year = await make_criteria_set(session, YEAR + 1)
        await session.commit()
        headers = {**cast.headers(cast.head), **if_match(1)}
        wrong = await client.patch(
            f"{CERTIFICATIONS}/{draft.id}",
            json={"criteria_set_id": str(other_year.id)},
            headers=headers,
        )
        assert_problem(wrong, 422)
        response = await client.patch(
            f"{CERTIFICATIONS}/{draft.id}", json={"criteria_set_id": str(newer.id)}, headers=headers
        )
        assert response.json()["criteria_set_id"] == str(newer.id)
        session.expunge_all()
        assert (await session.get(CriteriaSet, newer.id)).in_use is True  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        "change",
        [
            {"households_committed": 101},
            {"households_total": None},
            {"self_assessment": [{"code": "C3", "score": 500}]},
            {"self_assessment": [{"code": "nope", "value": True}]},
            {"status": "submitted"},
            {"year": 2031},
        ],
    )
    async def test_invalid_change_gets_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        change: dict[str, Any],
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        await session.commit()
        response = await client.patch(
            f"{CERTIFICATIONS}/{draft.id}",
            json=change,
            headers={**cast.headers(cast.head), **if_match(1)},
        )
        assert_problem(response, 422)
        assert (await stored(session, draft.id)).version == 1

    @pytest.mark.parametrize("status", ["submitted", "under_review", "certified", "rejected"])
    async def test_a_certification_past_draft_gets_409(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
        status: str,
    ) -> None:
        row = await make_certification(session, cast.ha_long_kp, criteria_set, status)
        await session.commit()
        response = await client.patch(
            f"{CERTIFICATIONS}/{row.id}",
            json={"resolution_no": "x"},
            headers={**cast.headers(cast.head), **if_match(1)},
        )
        body = assert_problem(response, 409, "conflict")
        assert body["current_status"] == status
        assert "Only a draft" in body["detail"]

    async def test_without_if_match_gets_428_and_stale_gets_412(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        await session.commit()
        url = f"{CERTIFICATIONS}/{draft.id}"
        head = cast.headers(cast.head)
        assert_problem(await client.patch(url, json={"resolution_no": "x"}, headers=head), 428)
        stale = await client.patch(
            url, json={"resolution_no": "x"}, headers={**head, **if_match(7)}
        )
        assert_problem(stale, 412)

    async def test_ward_officer_gets_403_and_other_head_404(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        other_head = await make_user(session, Role.NEIGHBOURHOOD_HEAD, str(cast.bai_chay_kp.id))
        await session.commit()
        url = f"{CERTIFICATIONS}/{draft.id}"
        body = {"resolution_no": "x"}
        officer = await client.patch(
            url, json=body, headers={**cast.headers(cast.ward_officer), **if_match(1)}
        )
        assert_forbidden(officer)
        other = await client.patch(
            url, json=body, headers={**cast.headers(other_head), **if_match(1)}
        )
        assert_not_found(other)


class TestDeleteCertification:
    async def test_head_withdraws_a_draft_and_may_register_again(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        await session.commit()
        head = cast.headers(cast.head)
        response = await client.delete(
            f"{CERTIFICATIONS}/{draft.id}", headers={**head, **if_match(1)}
        )
        assert response.status_code == 204
        assert_not_found(await client.get(f"{CERTIFICATIONS}/{draft.id}", headers=head))
        again = await client.post(
            CERTIFICATIONS, json=registration(cast.ha_long_kp.id), headers=head
        )
        assert again.status_code == 201, again.text
        assert (await stored(session, draft.id)).deleted_at is not None

    async def test_a_certified_one_gets_409(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        row = await make_certification(session, cast.ha_long_kp, criteria_set, "certified")
        await session.commit()
        response = await client.delete(
            f"{CERTIFICATIONS}/{row.id}", headers={**cast.headers(cast.admin), **if_match(1)}
        )
        assert assert_problem(response, 409)["current_status"] == "certified"

    async def test_without_if_match_gets_428(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        criteria_set: CriteriaSet,
    ) -> None:
        draft = await make_certification(session, cast.ha_long_kp, criteria_set)
        await session.commit()
        response = await client.delete(
            f"{CERTIFICATIONS}/{draft.id}", headers=cast.headers(cast.head)
        )
        assert_problem(response, 428)


class TestHistory:
    async def test_history_is_in_order_and_scoped(
        self, client: httpx.AsyncClient, cast: Cast, criteria_set: CriteriaSet
    ) -> None:
        head = cast.headers(cast.head)
        created = await client.post(
            CERTIFICATIONS,
            json=registration(
                cast.ha_long_kp.id,
                households_committed=100,
                self_assessment=PASSING_SELF_ASSESSMENT,
            ),
            headers=head,
        )
        url = f"{CERTIFICATIONS}/{created.json()['id']}"
        submitted = await client.post(f"{url}/submit", json={"note": "Xin xét"}, headers=head)
        assert submitted.status_code == 200, submitted.text
        response = await client.get(f"{url}/history", headers=cast.headers(cast.ward_officer))
        assert response.status_code == 200
        items = response.json()["items"]
        assert [(i["action"], i["from_status"], i["to_status"]) for i in items] == [
            ("register", None, "draft"),
            ("submit", "draft", "submitted"),
        ]
        assert items[1]["note"] == "Xin xét"
        assert items[1]["actor_id"] == str(cast.head.id)
        assert items[1]["actor_role"] == "neighbourhood_head"
        page = await client.get(f"{url}/history", params={"limit": 1}, headers=head)
        assert len(page.json()["items"]) == 1
        nxt = await client.get(
            f"{url}/history",
            params={"limit": 1, "cursor": page.json()["next_cursor"]},
            headers=head,
        )
        assert nxt.json()["items"][0]["action"] == "submit"
        assert_not_found(
            await client.get(f"{url}/history", headers=cast.headers(cast.other_ward_officer))
        )
        assert_forbidden(await client.get(f"{url}/history", headers=cast.headers(cast.resident)))
        assert_unauthorized(await client.get(f"{url}/history"))


class TestDemoLogins:
    async def test_head_halong_signs_in_and_submits_kp01(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await demo_data.seed_demo(session)
        await session.commit()
        headers = await login(client, "head.halong")
        kp01 = demo_id("certification", HA_LONG, "KP01", "2025")
        mine = await client.get(CERTIFICATIONS, params={"year": 2025}, headers=headers)
        assert [i["id"] for i in mine.json()["items"]] == [str(kp01)]
        response = await client.post(f"{CERTIFICATIONS}/{kp01}/submit", json={}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "submitted"
