"""Exemplary models over HTTP: a group designated a model for a year."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.exemplary_models import ExemplaryModel
from app.models.groups import SelfManagedGroup
from tests import factories
from tests.conftest import Cast
from tests.routers.test_groups import World, build_world, version

MODELS = "/api/v1/exemplary-models"


@pytest.fixture
async def world(session: AsyncSession, cast: Cast) -> World:
    return await build_world(session, cast)


async def designate(
    session: AsyncSession, group: SelfManagedGroup, year: int = 2025, **values: Any
) -> ExemplaryModel:
    designation = ExemplaryModel(
        group_id=group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
        year=year,
        decision_no=values.pop("decision_no", f"{year}/QĐ-UBND"),
        **values,
    )
    session.add(designation)
    await session.commit()
    return designation


@pytest.fixture
async def designated(session: AsyncSession, world: World) -> ExemplaryModel:
    """The head's neighbourhood's group, designated for 2025."""
    return await designate(session, world.kp_group, citation="Tiêu biểu năm 2025.")


def new_designation(group: SelfManagedGroup, **values: Any) -> dict[str, Any]:
    return {"group_id": str(group.id), "year": 2025, "decision_no": "312/QĐ-UBND", **values}


async def stored(session: AsyncSession, model_id: uuid.UUID | str) -> ExemplaryModel:
    session.expunge_all()
    designation = await session.get(ExemplaryModel, uuid.UUID(str(model_id)))
    assert designation is not None
    return designation


class TestListExemplaryModels:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        factories.assert_unauthorized(await client.get(MODELS))

    async def test_token_without_groups_read_gets_403(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        headers = world.headers(world.cast.admin, frozenset({"units:write"}))
        assert "groups:read" in factories.assert_forbidden(
            await client.get(MODELS, headers=headers)
        )

    @pytest.mark.parametrize(
        ("account", "sees"),
        [
            ("ward_officer", True),
            ("head", True),
            ("resident", True),
            ("camera_owner", True),
            ("province_officer", True),
            ("other_ward_officer", False),
            ("kp2_head", False),
            ("other_province_officer", False),
        ],
    )
    async def test_designations_of_the_groups_you_see(
        self,
        client: httpx.AsyncClient,
        world: World,
        designated: ExemplaryModel,
        account: str,
        sees: bool,
    ) -> None:
        who = getattr(world.cast, account, None) or getattr(world, account)
        response = await client.get(MODELS, headers=world.headers(who))
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["items"]}
        assert (str(designated.id) in ids) is sees

    async def test_items_name_the_group_and_its_kind(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.get(
            MODELS, params={"ward_code": HA_LONG}, headers=world.headers(world.cast.ward_officer)
        )
        [item] = response.json()["items"]
        assert {k: item[k] for k in ("group_id", "group_name", "group_kind", "year")} == {
            "group_id": str(world.kp_group.id),
            "group_name": world.kp_group.name,
            "group_kind": "security_self_management",
            "year": 2025,
        }
        assert (item["decision_no"], item["citation"], item["province_code"]) == (
            "2025/QĐ-UBND",
            "Tiêu biểu năm 2025.",
            "22",
        )

    async def test_filters_combined_with_paging(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World
    ) -> None:
        made = [await designate(session, world.kp_group, year) for year in range(2019, 2026)]
        await designate(session, world.kp2_group, 2024)
        await designate(session, world.bc_group, 2024)
        headers = world.headers(world.cast.admin)
        seen: list[str] = []
        sizes = []
        cursor = None
        while True:
            params: dict[str, Any] = {
                "group_id": str(world.kp_group.id),
                "kind": "security_self_management",
                "limit": 3,
            }
            if cursor:
                params["cursor"] = cursor
            body = (await client.get(MODELS, params=params, headers=headers)).json()
            sizes.append(len(body["items"]))
            seen.extend(item["id"] for item in body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sizes == [3, 3, 1]
        assert seen == [str(m.id) for m in made]
        by_year = await client.get(
            MODELS, params={"year": 2024, "ward_code": HA_LONG}, headers=headers
        )
        assert {item["group_id"] for item in by_year.json()["items"]} == {
            str(world.kp_group.id),
            str(world.kp2_group.id),
        }
        by_kind = await client.get(
            MODELS, params={"kind": "mediation_team", "year": 2024}, headers=headers
        )
        assert [item["group_id"] for item in by_kind.json()["items"]] == [str(world.kp2_group.id)]

    @pytest.mark.parametrize("params", [{"year": 1800}, {"kind": "x"}, {"limit": 500}])
    async def test_bad_query_gets_422(
        self, client: httpx.AsyncClient, world: World, params: dict[str, Any]
    ) -> None:
        response = await client.get(MODELS, params=params, headers=world.headers(world.cast.admin))
        factories.assert_problem(response, 422, "validation-error")


class TestGetExemplaryModel:
    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, designated: ExemplaryModel
    ) -> None:
        factories.assert_unauthorized(await client.get(f"{MODELS}/{designated.id}"))

    async def test_token_without_groups_read_gets_403(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        headers = world.headers(world.cast.admin, frozenset({"units:write"}))
        factories.assert_forbidden(await client.get(f"{MODELS}/{designated.id}", headers=headers))

    @pytest.mark.parametrize("account", ["other_ward_officer", "kp2_head"])
    async def test_outside_your_units_gets_404(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel, account: str
    ) -> None:
        who = getattr(world.cast, account, None) or getattr(world, account)
        response = await client.get(f"{MODELS}/{designated.id}", headers=world.headers(who))
        factories.assert_not_found(response)

    async def test_right_role_gets_it_with_etag(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.get(
            f"{MODELS}/{designated.id}", headers=world.headers(world.cast.head)
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        assert response.json()["group_name"] == world.kp_group.name

    async def test_designation_of_a_deleted_group_gets_404(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        designated: ExemplaryModel,
    ) -> None:
        world.kp_group.deleted_at = utcnow()
        session.add(world.kp_group)
        await session.commit()
        response = await client.get(
            f"{MODELS}/{designated.id}", headers=world.headers(world.cast.admin)
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize("account", ["admin", "ward_officer", "head", "resident"])
    async def test_designation_of_a_deleted_group_is_listed_to_no_one_nor_changed(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        designated: ExemplaryModel,
        account: str,
    ) -> None:
        world.kp_group.deleted_at = utcnow()
        session.add(world.kp_group)
        await session.commit()
        who = getattr(world.cast, account)
        listed = await client.get(MODELS, headers=world.headers(who))
        assert listed.status_code == 200
        assert str(designated.id) not in {item["id"] for item in listed.json()["items"]}
        if account in ("admin", "ward_officer"):
            changed = await client.patch(
                f"{MODELS}/{designated.id}",
                json={"citation": "X"},
                headers={**world.headers(who), **version(1)},
            )
            factories.assert_not_found(changed)


class TestCreateExemplaryModel:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, world: World) -> None:
        factories.assert_unauthorized(
            await client.post(MODELS, json=new_designation(world.kp_group))
        )

    @pytest.mark.parametrize("account", ["resident", "province_officer"])
    async def test_role_without_groups_write_gets_403(
        self, client: httpx.AsyncClient, world: World, account: str
    ) -> None:
        response = await client.post(
            MODELS,
            json=new_designation(world.kp_group),
            headers=world.headers(getattr(world.cast, account)),
        )
        assert "groups:write" in factories.assert_forbidden(response)

    async def test_head_gets_403_designations_are_the_authorities(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            MODELS, json=new_designation(world.kp_group), headers=world.headers(world.cast.head)
        )
        assert "authorities" in factories.assert_forbidden(response)

    @pytest.mark.parametrize("group", ["kp_group", "unknown"])
    async def test_group_outside_your_units_gets_404(
        self, client: httpx.AsyncClient, world: World, group: str
    ) -> None:
        body = new_designation(world.kp_group)
        if group == "unknown":
            body["group_id"] = str(uuid.uuid4())
        response = await client.post(
            MODELS, json=body, headers=world.headers(world.cast.other_ward_officer)
        )
        factories.assert_not_found(response)

    @pytest.mark.parametrize("account", ["ward_officer", "admin"])
    async def test_right_role_records_it_with_location_etag_and_audit(
        self, client: httpx.AsyncClient, session: AsyncSession, world: World, account: str
    ) -> None:
        body = new_designation(world.kp2_group, citation="Hòa giải thành 100% vụ việc.")
        response = await client.post(
            MODELS, json=body, headers=world.headers(getattr(world.cast, account))
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"{MODELS}/{created['id']}"
        assert response.headers["etag"] == '"1"'
        assert {k: created[k] for k in body} == body
        assert (created["ward_code"], created["group_kind"]) == (HA_LONG, "mediation_team")
        row = await stored(session, created["id"])
        assert (row.group_id, row.year) == (world.kp2_group.id, 2025)
        event = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == created["id"]))
        ).one()
        assert (event.action, event.record_type) == ("create", "exemplary_model")

    async def test_second_designation_for_the_same_year_gets_409(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.post(
            MODELS, json=new_designation(world.kp_group), headers=world.headers(world.cast.admin)
        )
        body = factories.assert_problem(response, 409, "conflict")
        assert body["rule"] == "one_designation_per_year"

    async def test_another_year_is_fine(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.post(
            MODELS,
            json=new_designation(world.kp_group, year=2026),
            headers=world.headers(world.cast.admin),
        )
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        "extra",
        [{"year": 1800}, {"decision_no": ""}, {"ward_code": BAI_CHAY}, {"group_name": "x"}],
    )
    async def test_bad_body_gets_422(
        self, client: httpx.AsyncClient, world: World, extra: dict[str, Any]
    ) -> None:
        response = await client.post(
            MODELS,
            json=new_designation(world.kp_group, **extra),
            headers=world.headers(world.cast.admin),
        )
        factories.assert_problem(response, 422, "validation-error")


class TestUpdateExemplaryModel:
    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, designated: ExemplaryModel
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}", json={"citation": "X"}, headers=version(1)
        )
        factories.assert_unauthorized(response)

    async def test_head_gets_403(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json={"citation": "X"},
            headers={**world.headers(world.cast.head), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json={"citation": "X"},
            headers={**world.headers(world.cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)

    async def test_ward_officer_changes_it(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        designated: ExemplaryModel,
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json={"year": 2024, "citation": None},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        row = await stored(session, designated.id)
        assert (row.year, row.citation) == (2024, None)

    async def test_moving_onto_a_taken_year_gets_409(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        designated: ExemplaryModel,
    ) -> None:
        await designate(session, world.kp_group, 2024)
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json={"year": 2024},
            headers={**world.headers(world.cast.ward_officer), **version(1)},
        )
        factories.assert_problem(response, 409, "conflict")

    @pytest.mark.parametrize("body", [{"year": None}, {"decision_no": None}, {"group_id": "x"}])
    async def test_bad_body_gets_422(
        self,
        client: httpx.AsyncClient,
        world: World,
        designated: ExemplaryModel,
        body: dict[str, Any],
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json=body,
            headers={**world.headers(world.cast.admin), **version(1)},
        )
        factories.assert_problem(response, 422, "validation-error")

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json={"citation": "X"},
            headers=world.headers(world.cast.admin),
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.patch(
            f"{MODELS}/{designated.id}",
            json={"citation": "X"},
            headers={**world.headers(world.cast.admin), **version(5)},
        )
        factories.assert_problem(response, 412, "precondition-failed")


class TestDeleteExemplaryModel:
    async def test_anonymous_gets_401(
        self, client: httpx.AsyncClient, designated: ExemplaryModel
    ) -> None:
        factories.assert_unauthorized(
            await client.delete(f"{MODELS}/{designated.id}", headers=version(1))
        )

    async def test_resident_gets_403(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.delete(
            f"{MODELS}/{designated.id}",
            headers={**world.headers(world.cast.resident), **version(1)},
        )
        factories.assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.delete(
            f"{MODELS}/{designated.id}",
            headers={**world.headers(world.cast.other_ward_officer), **version(1)},
        )
        factories.assert_not_found(response)

    async def test_ward_officer_withdraws_it_and_the_group_may_then_go(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: World,
        designated: ExemplaryModel,
    ) -> None:
        headers = world.headers(world.cast.ward_officer)
        response = await client.delete(
            f"{MODELS}/{designated.id}", headers={**headers, **version(1)}
        )
        assert response.status_code == 204
        factories.assert_not_found(await client.get(f"{MODELS}/{designated.id}", headers=headers))
        assert (await stored(session, designated.id)).deleted_at is not None
        group_gone = await client.delete(
            f"/api/v1/groups/{world.kp_group.id}", headers={**headers, **version(1)}
        )
        assert group_gone.status_code == 204

    async def test_without_if_match_gets_428(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.delete(
            f"{MODELS}/{designated.id}", headers=world.headers(world.cast.admin)
        )
        factories.assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, world: World, designated: ExemplaryModel
    ) -> None:
        response = await client.delete(
            f"{MODELS}/{designated.id}",
            headers={**world.headers(world.cast.admin), **version(2)},
        )
        factories.assert_problem(response, 412, "precondition-failed")
