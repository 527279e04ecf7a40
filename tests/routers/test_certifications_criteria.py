"""Criteria sets over HTTP: published by admins, read in the workflow, frozen once used."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.audit import AuditEvent
from app.models.certification_criteria import CriteriaSet
from tests.conftest import Cast
from tests.factories import (
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_certification,
    make_criteria_set,
    sample_criteria,
)

SETS = "/api/v1/certification-criteria-sets"
CERTIFICATIONS = "/api/v1/certifications"


def new_set(year: int = 2031, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "year": year,
        "name": f"Tiêu chuẩn khu dân cư an toàn về ANTT năm {year}",
        "legal_basis": "Thông tư 124/2021/TT-BCA",
        "criteria": sample_criteria(),
        "pass_rule": {"min_total": 60},
    }
    return {**body, **extra}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def stored(session: AsyncSession, set_id: uuid.UUID | str) -> CriteriaSet:
    session.expunge_all()
    found = await session.get(CriteriaSet, uuid.UUID(str(set_id)))
    assert found is not None
    return found


class TestCreateCriteriaSet:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.post(SETS, json=new_set()))

    @pytest.mark.parametrize("role", ["province_officer", "ward_officer", "head"])
    async def test_roles_other_than_admin_get_403_naming_criteria_write(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.post(
            SETS, json=new_set(), headers=cast.headers(getattr(cast, role))
        )
        assert_forbidden(response)
        assert response.json()["required_scopes"] == ["criteria:write"]

    async def test_admin_publishes_version_1_then_2_of_a_year(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        headers = cast.headers(cast.admin)
        first = await client.post(SETS, json=new_set(), headers=headers)
        assert first.status_code == 201, first.text
        body = first.json()
        assert first.headers["location"] == f"{SETS}/{body['id']}"
        assert first.headers["etag"] == '"1"'
        assert (body["year"], body["set_version"], body["version"]) == (2031, 1, 1)
        assert body["max_total"] == 100
        assert body["in_use"] is False
        assert body["pass_rule"] == {"min_total": 60}
        assert [c["code"] for c in body["criteria"]] == ["C1", "C2", "C3", "C4"]
        assert body["criteria"][2] == {**sample_criteria()[2], "description": None}
        second = await client.post(SETS, json=new_set(name="Bản sửa đổi"), headers=headers)
        assert second.json()["set_version"] == 2
        other_year = await client.post(SETS, json=new_set(2032), headers=headers)
        assert other_year.json()["set_version"] == 1
        row = await stored(session, body["id"])
        assert row.criteria[0]["code"] == "C1"
        events = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == body["id"]))
        ).all()
        assert [(e.action, e.record_type) for e in events] == [
            ("create", "certification_criteria_set")
        ]
        assert "criteria" in events[0].changed_fields

    async def test_idempotency_key_replays_the_first_answer(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = {**cast.headers(cast.admin), "Idempotency-Key": "criteria-2031"}
        first = await client.post(SETS, json=new_set(), headers=headers)
        again = await client.post(SETS, json=new_set(), headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["idempotency-replayed"] == "true"
        other = await client.post(SETS, json=new_set(name="Khác"), headers=headers)
        assert_problem(other, 422)

    @pytest.mark.parametrize(
        ("change", "words"),
        [
            ({"criteria": [*sample_criteria(), sample_criteria()[0]]}, "unique"),
            ({"criteria": [{"code": "X", "title": "t", "kind": "score"}]}, "max_score"),
            (
                {"criteria": [{"code": "X", "title": "t", "kind": "boolean", "max_score": 5}]},
                "boolean",
            ),
            (
                {
                    "criteria": [
                        {
                            "code": "X",
                            "title": "t",
                            "kind": "score",
                            "max_score": 5,
                            "pass_score": 6,
                        }
                    ]
                },
                "pass_score",
            ),
            ({"pass_rule": {"min_total": 101}}, "min_total"),
            ({"criteria": []}, "at least 1"),
            ({"criteria": [{"code": "bad code", "title": "t", "kind": "boolean"}]}, "pattern"),
            ({"criteria": [{"code": "X", "title": "t", "kind": "stars"}]}, "boolean"),
        ],
    )
    async def test_inconsistent_criteria_get_422_and_store_nothing(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        change: dict[str, Any],
        words: str,
    ) -> None:
        response = await client.post(
            SETS, json=new_set(2099, **change), headers=cast.headers(cast.admin)
        )
        body = assert_problem(response, 422, "validation-error")
        assert words in str(body["errors"])
        assert (
            await session.exec(select(CriteriaSet).where(col(CriteriaSet.year) == 2099))
        ).all() == []

    @pytest.mark.parametrize("field", ["set_version", "in_use", "version", "id"])
    async def test_server_owned_fields_cannot_be_sent(
        self, client: httpx.AsyncClient, cast: Cast, field: str
    ) -> None:
        response = await client.post(
            SETS, json=new_set(**{field: 7}), headers=cast.headers(cast.admin)
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"] == ["body", field]


class TestReadCriteriaSets:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(SETS))

    async def test_resident_without_certifications_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        assert_forbidden(await client.get(SETS, headers=cast.headers(cast.resident)))

    async def test_lists_newest_year_and_version_first_filtered_by_year(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        a = await make_criteria_set(session, 2040)
        b = await make_criteria_set(session, 2041)
        c = await make_criteria_set(session, 2041)
        await session.commit()
        headers = cast.headers(cast.head)
        response = await client.get(SETS, params={"limit": 200}, headers=headers)
        assert response.status_code == 200
        ids = [item["id"] for item in response.json()["items"]]
        assert ids.index(str(c.id)) < ids.index(str(b.id)) < ids.index(str(a.id))
        only = await client.get(SETS, params={"year": 2041}, headers=headers)
        assert [(i["year"], i["set_version"]) for i in only.json()["items"]] == [
            (2041, 2),
            (2041, 1),
        ]

    async def test_pages_of_one_walk_a_year_without_repeats(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        for _ in range(3):
            await make_criteria_set(session, 2042)
        await session.commit()
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"year": 2042, "limit": 1}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get(SETS, params=params, headers=cast.headers(cast.admin))).json()
            seen += [item["set_version"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [3, 2, 1]

    async def test_get_one_has_etag_of_its_version(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2043, version=3)
        await session.commit()
        response = await client.get(
            f"{SETS}/{criteria_set.id}", headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"3"'
        assert response.json()["set_version"] == 1

    async def test_unknown_id_gets_404(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_not_found(
            await client.get(f"{SETS}/{uuid.uuid4()}", headers=cast.headers(cast.admin))
        )


class TestUpdateCriteriaSet:
    async def test_admin_changes_an_unused_set_and_gets_the_new_etag(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2044)
        await session.commit()
        changed = [*sample_criteria()[:3]]
        response = await client.patch(
            f"{SETS}/{criteria_set.id}",
            json={"criteria": changed, "pass_rule": {"min_total": 80}, "name": "Sửa"},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        body = response.json()
        assert (body["name"], body["pass_rule"], len(body["criteria"])) == (
            "Sửa",
            {"min_total": 80},
            3,
        )
        row = await stored(session, criteria_set.id)
        assert (row.version, row.pass_rule) == (2, {"min_total": 80})

    async def test_a_set_a_certification_uses_gets_409_saying_publish_a_new_version(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2045)
        await make_certification(session, cast.ha_long_kp, criteria_set)
        await session.commit()
        headers = {**cast.headers(cast.admin), **if_match(criteria_set.version)}
        response = await client.patch(
            f"{SETS}/{criteria_set.id}", json={"name": "Đổi tên"}, headers=headers
        )
        body = assert_problem(response, 409, "conflict")
        assert "publish a new version" in body["detail"]
        deleted = await client.delete(f"{SETS}/{criteria_set.id}", headers=headers)
        assert "publish a new version" in assert_problem(deleted, 409, "conflict")["detail"]
        row = await stored(session, criteria_set.id)
        assert (row.name, row.deleted_at) == (criteria_set.name, None)

    async def test_registering_a_certification_freezes_the_set_and_changes_its_etag(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2046)
        await session.commit()
        registered = await client.post(
            CERTIFICATIONS,
            json={"neighbourhood_id": str(cast.ha_long_kp.id), "year": 2046},
            headers=cast.headers(cast.head),
        )
        assert registered.status_code == 201, registered.text
        read = await client.get(f"{SETS}/{criteria_set.id}", headers=cast.headers(cast.admin))
        assert (read.json()["in_use"], read.headers["etag"]) == (True, '"2"')
        stale = await client.patch(
            f"{SETS}/{criteria_set.id}",
            json={"name": "Muộn"},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert_problem(stale, 409, "conflict")

    async def test_without_if_match_gets_428_and_stale_gets_412(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2047)
        await session.commit()
        url = f"{SETS}/{criteria_set.id}"
        admin = cast.headers(cast.admin)
        assert_problem(await client.patch(url, json={"name": "x"}, headers=admin), 428)
        stale = await client.patch(url, json={"name": "x"}, headers={**admin, **if_match(9)})
        assert_problem(stale, 412, "precondition-failed")

    @pytest.mark.parametrize(
        ("change", "loc", "kind"),
        [
            ({"name": None}, ["body", "name"], "null_not_allowed"),
            ({"criteria": None}, ["body", "criteria"], "null_not_allowed"),
            # ["body"]: the loc pydantic gives the same check when a set is created
            ({"pass_rule": {"min_total": 500}}, ["body"], "value_error"),
            ({"criteria": [sample_criteria()[0]]}, ["body"], "value_error"),  # 60 points too few
            ({"year": 2050}, ["body", "year"], "extra_forbidden"),
        ],
    )
    async def test_invalid_change_gets_422(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        session: AsyncSession,
        change: dict[str, Any],
        loc: list[str],
        kind: str,
    ) -> None:
        criteria_set = await make_criteria_set(session, 2048)
        await session.commit()
        response = await client.patch(
            f"{SETS}/{criteria_set.id}",
            json=change,
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert_field_problem(response, loc, kind)
        assert (await stored(session, criteria_set.id)).version == 1

    async def test_ward_officer_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2049)
        await session.commit()
        response = await client.patch(
            f"{SETS}/{criteria_set.id}",
            json={"name": "x"},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert_forbidden(response)


class TestDeleteCriteriaSet:
    async def test_admin_withdraws_an_unused_set_and_its_number_is_not_reused(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2051)
        await session.commit()
        url = f"{SETS}/{criteria_set.id}"
        admin = cast.headers(cast.admin)
        response = await client.delete(url, headers={**admin, **if_match(1)})
        assert response.status_code == 204
        assert_not_found(await client.get(url, headers=admin))
        listed = await client.get(SETS, params={"year": 2051}, headers=admin)
        assert listed.json()["items"] == []
        again = await client.post(SETS, json=new_set(2051), headers=admin)
        assert again.json()["set_version"] == 2

    async def test_a_deleted_set_cannot_be_used_for_a_registration(
        self, client: httpx.AsyncClient, cast: Cast, session: AsyncSession
    ) -> None:
        criteria_set = await make_criteria_set(session, 2052)
        await session.commit()
        await client.delete(
            f"{SETS}/{criteria_set.id}", headers={**cast.headers(cast.admin), **if_match(1)}
        )
        response = await client.post(
            CERTIFICATIONS,
            json={
                "neighbourhood_id": str(cast.ha_long_kp.id),
                "year": 2052,
                "criteria_set_id": str(criteria_set.id),
            },
            headers=cast.headers(cast.head),
        )
        assert "criteria set" in assert_problem(response, 422, "validation-error")["detail"]
