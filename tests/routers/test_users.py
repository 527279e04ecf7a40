"""User accounts: who am I, and account management by admins and ward officers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.auth import RefreshToken
from app.models.users import User
from app.security import ROLE_SCOPES, Role, verify_password
from tests.conftest import Cast
from tests.factories import (
    PASSWORD,
    QUANG_NINH,
    assert_field_problem,
    assert_forbidden,
    assert_not_found,
    assert_problem,
    assert_unauthorized,
    make_client,
    token_request,
    unique,
)

USERS = "/api/v1/users"
SECRET_FIELDS = {"password", "password_hash"}


def new_user(role: str, unit_code: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": unique("new-"),
        "password": "a-long-enough-password",
        "full_name": "Trần Văn Mới",
        "role": role,
        "unit_code": unit_code,
    }
    return {**body, **extra}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def stored(session: AsyncSession, user_id: uuid.UUID | str) -> User:
    """The user row as committed, read fresh."""
    session.expunge_all()
    user = await session.get(User, uuid.UUID(str(user_id)))
    assert user is not None
    return user


class TestMe:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(f"{USERS}/me"))

    async def test_user_gets_own_account_and_token_scopes(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(f"{USERS}/me", headers=cast.headers(cast.head))
        assert response.status_code == 200
        body = response.json()
        assert {key: body[key] for key in ("id", "username", "full_name", "role", "unit_code")} == {
            "id": str(cast.head.id),
            "username": cast.head.username,
            "full_name": cast.head.full_name,
            "role": "neighbourhood_head",
            "unit_code": str(cast.ha_long_kp.id),
        }
        assert body["scopes"] == sorted(ROLE_SCOPES[Role.NEIGHBOURHOOD_HEAD])
        assert not SECRET_FIELDS & set(body)

    async def test_machine_client_token_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        machine, _ = await make_client(session, HA_LONG)
        await session.commit()
        response = await client.get(f"{USERS}/me", headers=cast.headers(machine))
        assert "machine client" in assert_forbidden(response)

    async def test_deleted_account_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = cast.headers(cast.resident)
        cast.resident.deleted_at = utcnow()
        session.add(cast.resident)
        await session.commit()
        assert_not_found(await client.get(f"{USERS}/me", headers=headers))


class TestListUsers:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(USERS))

    @pytest.mark.parametrize("role", ["resident", "head"])
    async def test_role_without_users_read_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.get(USERS, headers=cast.headers(getattr(cast, role)))
        assert "users:read" in assert_forbidden(response)

    async def test_ward_officer_sees_only_their_wards_accounts(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(USERS, headers=cast.headers(cast.ward_officer))
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["items"]}
        ha_long_users = [cast.ward_officer, cast.peer_ward_officer, cast.head, cast.resident]
        assert ids == {str(user.id) for user in ha_long_users}

    async def test_province_officer_sees_their_province_only(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(USERS, headers=cast.headers(cast.province_officer))
        ids = {item["id"] for item in response.json()["items"]}
        assert str(cast.other_resident.id) in ids
        assert str(cast.resident.id) in ids
        assert str(cast.other_province_officer.id) not in ids
        assert str(cast.admin.id) not in ids

    async def test_other_province_officer_sees_none_of_quang_ninh(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(USERS, headers=cast.headers(cast.other_province_officer))
        assert [item["id"] for item in response.json()["items"]] == [
            str(cast.other_province_officer.id)
        ]

    async def test_admin_sees_every_account_filtered_by_role_and_ward(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        headers = cast.headers(cast.admin)
        response = await client.get(
            USERS, params={"role": "ward_officer", "ward_code": HA_LONG}, headers=headers
        )
        ids = {item["id"] for item in response.json()["items"]}
        assert ids == {str(cast.ward_officer.id), str(cast.peer_ward_officer.id)}
        everyone = await client.get(USERS, params={"limit": 200}, headers=headers)
        assert str(cast.other_province_officer.id) in {i["id"] for i in everyone.json()["items"]}

    async def test_items_never_carry_a_password(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(USERS, headers=cast.headers(cast.admin))
        for item in response.json()["items"]:
            assert not SECRET_FIELDS & set(item)
        assert "$argon2" not in response.text


class TestCreateUser:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.post(USERS, json=new_user("resident", HA_LONG)))

    @pytest.mark.parametrize("role", ["resident", "head", "province_officer"])
    async def test_role_without_users_write_gets_403(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.post(
            USERS, json=new_user("resident", HA_LONG), headers=cast.headers(getattr(cast, role))
        )
        assert "users:write" in assert_forbidden(response)

    @pytest.mark.parametrize(
        ("role", "unit"),
        [
            ("admin", None),
            ("province_officer", "province"),
            ("ward_officer", "ward"),
            ("neighbourhood_head", "neighbourhood"),
            ("group_leader", "neighbourhood"),
            ("camera_owner", "ward"),
            ("camera_owner", "neighbourhood"),
            ("resident", "ward"),
            ("resident", "neighbourhood"),
        ],
    )
    async def test_admin_creates_each_role_anchored_to_its_unit(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        role: str,
        unit: str | None,
    ) -> None:
        unit_code = {
            None: None,
            "province": QUANG_NINH,
            "ward": HA_LONG,
            "neighbourhood": str(cast.ha_long_kp.id),
        }[unit]
        body = new_user(role, unit_code, phone="0912345678")
        response = await client.post(USERS, json=body, headers=cast.headers(cast.admin))
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"{USERS}/{created['id']}"
        assert response.headers["etag"] == '"1"'
        assert (created["username"], created["role"], created["unit_code"]) == (
            body["username"],
            role,
            unit_code,
        )
        assert created["ward_code"] == (None if unit in (None, "province") else HA_LONG)
        assert created["province_code"] == (None if unit is None else QUANG_NINH)
        assert not SECRET_FIELDS & set(created)
        assert body["password"] not in response.text
        user = await stored(session, created["id"])
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(body["password"], user.password_hash)

    @pytest.mark.parametrize(
        ("role", "unit"),
        [
            ("admin", "ward"),
            ("province_officer", None),
            ("province_officer", "ward"),
            ("ward_officer", None),
            ("ward_officer", "province"),
            ("ward_officer", "neighbourhood"),
            ("ward_officer", "unknown ward"),
            ("neighbourhood_head", "ward"),
            ("neighbourhood_head", "unknown neighbourhood"),
            ("group_leader", "province"),
            ("resident", "province"),
            ("resident", "not a code"),
        ],
    )
    async def test_unit_that_does_not_fit_the_role_gets_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        role: str,
        unit: str | None,
    ) -> None:
        unit_code = {
            None: None,
            "province": QUANG_NINH,
            "ward": HA_LONG,
            "neighbourhood": str(cast.ha_long_kp.id),
            "unknown ward": "99999",
            "unknown neighbourhood": str(uuid.uuid4()),
            "not a code": "KP01",
        }[unit]
        body = new_user(role, unit_code)
        response = await client.post(USERS, json=body, headers=cast.headers(cast.admin))
        unknown = ("unknown ward", "unknown neighbourhood", "not a code")
        kind = "missing" if unit is None else "not_found" if unit in unknown else "value_error"
        assert_field_problem(response, ["body", "unit_code"], kind)
        found = await session.exec(select(User).where(col(User.username) == body["username"]))
        assert found.first() is None

    async def test_ward_system_is_not_a_role_for_people(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        body = new_user("ward_system", HA_LONG)
        response = await client.post(USERS, json=body, headers=cast.headers(cast.admin))
        assert_problem(response, 422, "validation-error")
        found = await session.exec(select(User).where(col(User.username) == body["username"]))
        assert found.first() is None

    async def test_ward_officer_creates_a_resident_of_their_ward(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            USERS,
            json=new_user("resident", str(cast.ha_long_kp.id)),
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 201, response.text
        assert response.json()["ward_code"] == HA_LONG

    async def test_ward_officer_creating_in_another_ward_gets_403_with_reason(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.post(
            USERS, json=new_user("resident", BAI_CHAY), headers=cast.headers(cast.ward_officer)
        )
        assert "own ward" in assert_forbidden(response)

    @pytest.mark.parametrize(("role", "unit_code"), [("ward_officer", HA_LONG), ("admin", None)])
    async def test_ward_officer_creating_their_rank_or_above_gets_403_with_reason(
        self, client: httpx.AsyncClient, cast: Cast, role: str, unit_code: str | None
    ) -> None:
        response = await client.post(
            USERS, json=new_user(role, unit_code), headers=cast.headers(cast.ward_officer)
        )
        assert "below their own" in assert_forbidden(response)

    async def test_taken_username_gets_409(self, client: httpx.AsyncClient, cast: Cast) -> None:
        body = new_user("resident", HA_LONG, username=cast.resident.username)
        response = await client.post(USERS, json=body, headers=cast.headers(cast.admin))
        assert_problem(response, 409, "conflict")

    @pytest.mark.parametrize(
        "extra",
        [
            {"id": "0190c3f4-0000-7000-8000-000000000000"},
            {"password_hash": "$argon2id$v=19$m=1,t=1,p=1$x$y"},
            {"is_admin": True},
            {"version": 7},
            {"ward_code": BAI_CHAY},
            {"scopes": ["users:write"]},
        ],
    )
    async def test_unknown_field_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, extra: dict[str, Any]
    ) -> None:
        response = await client.post(
            USERS, json=new_user("resident", HA_LONG, **extra), headers=cast.headers(cast.admin)
        )
        body = assert_problem(response, 422, "validation-error")
        assert [error["loc"] for error in body["errors"]] == [["body", next(iter(extra))]]

    @pytest.mark.parametrize(
        "change",
        [{"password": "short"}, {"username": "Has Spaces"}, {"phone": "call me"}, {"role": "x"}],
    )
    async def test_invalid_value_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, change: dict[str, Any]
    ) -> None:
        body = {**new_user("resident", HA_LONG), **change}
        response = await client.post(USERS, json=body, headers=cast.headers(cast.admin))
        assert_problem(response, 422, "validation-error")


class TestGetUser:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_unauthorized(await client.get(f"{USERS}/{cast.resident.id}"))

    async def test_resident_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.get(
            f"{USERS}/{cast.resident.id}", headers=cast.headers(cast.resident)
        )
        assert_forbidden(response)

    async def test_other_ward_officer_gets_404(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.get(
            f"{USERS}/{cast.resident.id}", headers=cast.headers(cast.other_ward_officer)
        )
        assert_not_found(response)

    async def test_other_province_officer_gets_404(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(
            f"{USERS}/{cast.resident.id}", headers=cast.headers(cast.other_province_officer)
        )
        assert_not_found(response)

    @pytest.mark.parametrize("role", ["ward_officer", "province_officer", "admin"])
    async def test_officer_in_scope_gets_it_with_etag(
        self, client: httpx.AsyncClient, cast: Cast, role: str
    ) -> None:
        response = await client.get(
            f"{USERS}/{cast.resident.id}", headers=cast.headers(getattr(cast, role))
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        assert response.json()["id"] == str(cast.resident.id)
        assert not SECRET_FIELDS & set(response.json())

    async def test_ward_officer_may_read_a_peer_ward_officer(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(
            f"{USERS}/{cast.peer_ward_officer.id}", headers=cast.headers(cast.ward_officer)
        )
        assert response.status_code == 200

    async def test_unknown_id_gets_404(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.get(f"{USERS}/{uuid.uuid4()}", headers=cast.headers(cast.admin))
        assert_not_found(response)


class TestUpdateUser:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}", json={"full_name": "X"}, headers=if_match(1)
        )
        assert_unauthorized(response)

    async def test_province_officer_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"full_name": "X"},
            headers={**cast.headers(cast.province_officer), **if_match(1)},
        )
        assert "users:write" in assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"full_name": "Đổi Tên"},
            headers={**cast.headers(cast.other_ward_officer), **if_match(1)},
        )
        assert_not_found(response)
        assert (await stored(session, cast.resident.id)).full_name == "Người Thử"

    async def test_peer_ward_officer_gets_403_with_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.peer_ward_officer.id}",
            json={"full_name": "Đổi Tên"},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert "below their own" in assert_forbidden(response)
        assert (await stored(session, cast.peer_ward_officer.id)).version == 1

    async def test_ward_officer_changes_a_resident_and_gets_the_new_etag(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"full_name": "Ngô Thị Mới", "phone": "0987654321"},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        body = response.json()
        assert (body["full_name"], body["phone"], body["version"]) == (
            "Ngô Thị Mới",
            "0987654321",
            2,
        )
        user = await stored(session, cast.resident.id)
        assert (user.full_name, user.phone, user.version) == ("Ngô Thị Mới", "0987654321", 2)

    async def test_ward_officer_moves_a_resident_to_a_neighbourhood_of_their_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"unit_code": str(cast.ha_long_kp.id)},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        user = await stored(session, cast.resident.id)
        assert (user.unit_code, user.neighbourhood_id) == (
            str(cast.ha_long_kp.id),
            cast.ha_long_kp.id,
        )

    @pytest.mark.parametrize(
        "change",
        [{"role": "ward_officer"}, {"unit_code": BAI_CHAY}, {"role": "admin", "unit_code": None}],
    )
    async def test_ward_officer_raising_or_moving_out_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, change: dict[str, Any]
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json=change,
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert_forbidden(response)
        user = await stored(session, cast.resident.id)
        assert (user.role, user.ward_code, user.version) == ("resident", HA_LONG, 1)

    async def test_admin_promotes_a_resident_to_ward_officer(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"role": "ward_officer", "unit_code": HA_LONG},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "ward_officer"

    async def test_role_change_with_a_unit_that_does_not_fit_gets_422(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"role": "province_officer"},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert_field_problem(response, ["body", "unit_code"], "value_error")

    async def test_changing_a_person_to_ward_system_gets_422(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"role": "ward_system"},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert_problem(response, 422, "validation-error")
        assert (await stored(session, cast.resident.id)).role == "resident"

    @pytest.mark.parametrize(
        "field",
        [("version", 9), ("id", str(uuid.uuid4())), ("password_hash", "x"), ("username", "boss")],
    )
    async def test_mass_assigned_field_gets_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        cast: Cast,
        field: tuple[str, Any],
    ) -> None:
        name, value = field
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={name: value, "full_name": "Đổi Tên"},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        body = assert_problem(response, 422, "validation-error")
        assert [error["loc"] for error in body["errors"]] == [["body", name]]
        user = await stored(session, cast.resident.id)
        assert (user.username, user.full_name, user.version) == (
            cast.resident.username,
            "Người Thử",
            1,
        )

    @pytest.mark.parametrize("field", ["full_name", "is_active", "role"])
    async def test_null_for_a_required_field_gets_422(
        self, client: httpx.AsyncClient, cast: Cast, field: str
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={field: None},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        body = assert_field_problem(response, ["body", field], "null_not_allowed")
        assert body["detail"] == f"{field} cannot be null."

    async def test_without_if_match_gets_428(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"full_name": "X Y"},
            headers=cast.headers(cast.admin),
        )
        assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = cast.headers(cast.admin)
        first = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"full_name": "Lần Một"},
            headers={**headers, **if_match(1)},
        )
        assert first.status_code == 200
        second = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"full_name": "Lần Hai"},
            headers={**headers, **if_match(1)},
        )
        assert_problem(second, 412, "precondition-failed")
        user = await stored(session, cast.resident.id)
        assert (user.full_name, user.version) == ("Lần Một", 2)

    async def test_user_cannot_deactivate_themself(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.patch(
            f"{USERS}/{cast.admin.id}",
            json={"is_active": False},
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert_forbidden(response)

    async def test_new_password_is_hashed_and_signs_out_every_session(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        signed_in = await token_request(
            client, grant_type="password", username=cast.resident.username, password=PASSWORD
        )
        refresh_token = signed_in.json()["refresh_token"]
        response = await client.patch(
            f"{USERS}/{cast.resident.id}",
            json={"password": "another-long-password"},
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert response.status_code == 200, response.text
        assert "another-long-password" not in response.text
        user = await stored(session, cast.resident.id)
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password("another-long-password", user.password_hash)
        refreshed = await token_request(
            client, grant_type="refresh_token", refresh_token=refresh_token
        )
        assert refreshed.status_code == 400
        assert refreshed.json()["error"] == "invalid_grant"


class TestDeleteUser:
    async def test_anonymous_gets_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        assert_unauthorized(await client.delete(f"{USERS}/{cast.resident.id}", headers=if_match(1)))

    async def test_head_gets_403(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.delete(
            f"{USERS}/{cast.resident.id}", headers={**cast.headers(cast.head), **if_match(1)}
        )
        assert_forbidden(response)

    async def test_other_ward_officer_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.delete(
            f"{USERS}/{cast.resident.id}",
            headers={**cast.headers(cast.other_ward_officer), **if_match(1)},
        )
        assert_not_found(response)
        assert (await stored(session, cast.resident.id)).deleted_at is None

    async def test_peer_ward_officer_gets_403_with_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.delete(
            f"{USERS}/{cast.peer_ward_officer.id}",
            headers={**cast.headers(cast.ward_officer), **if_match(1)},
        )
        assert "below their own" in assert_forbidden(response)
        assert (await stored(session, cast.peer_ward_officer.id)).deleted_at is None

    async def test_ward_officer_deletes_a_resident_who_is_then_gone(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        headers = cast.headers(cast.ward_officer)
        response = await client.delete(
            f"{USERS}/{cast.resident.id}", headers={**headers, **if_match(1)}
        )
        assert response.status_code == 204
        assert response.content == b""
        assert_not_found(await client.get(f"{USERS}/{cast.resident.id}", headers=headers))
        user = await stored(session, cast.resident.id)
        assert user.deleted_at is not None
        assert user.is_active is False

    async def test_deleting_signs_the_user_out(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        await token_request(
            client, grant_type="password", username=cast.resident.username, password=PASSWORD
        )
        response = await client.delete(
            f"{USERS}/{cast.resident.id}",
            headers={**cast.headers(cast.admin), **if_match(1)},
        )
        assert response.status_code == 204
        tokens = (
            await session.exec(
                select(RefreshToken).where(col(RefreshToken.user_id) == cast.resident.id)
            )
        ).all()
        assert len(tokens) == 1
        assert tokens[0].revoked_at is not None

    async def test_without_if_match_gets_428(self, client: httpx.AsyncClient, cast: Cast) -> None:
        response = await client.delete(
            f"{USERS}/{cast.resident.id}", headers=cast.headers(cast.admin)
        )
        assert_problem(response, 428, "precondition-required")

    async def test_stale_if_match_gets_412(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.delete(
            f"{USERS}/{cast.resident.id}", headers={**cast.headers(cast.admin), **if_match(3)}
        )
        assert_problem(response, 412, "precondition-failed")
        assert (await stored(session, cast.resident.id)).deleted_at is None

    async def test_admin_cannot_delete_themself(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.delete(
            f"{USERS}/{cast.admin.id}", headers={**cast.headers(cast.admin), **if_match(1)}
        )
        assert_forbidden(response)
