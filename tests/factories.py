"""Records and tokens for tests: users, units and clients stored directly, tokens really signed."""

from __future__ import annotations

import base64
import uuid
from functools import lru_cache
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.users import DEMO_PASSWORD
from app.models.clients import Client
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.models.users import User
from app.security import DEFAULT_CLIENT_SCOPES, Role, hash_password, hash_secret, new_secret
from app.services import auth as auth_service
from app.services import units as unit_service

PROBLEM = "application/problem+json"
PASSWORD = DEMO_PASSWORD
QUANG_NINH = "22"
HA_NOI = "01"
HOAN_KIEM = "00070"  # a ward of Hà Nội: another province


@lru_cache
def password_hash() -> str:
    """One argon2 hash of ``PASSWORD`` per run: hashing costs a few hundred ms."""
    return hash_password(PASSWORD)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def make_neighbourhood(
    session: AsyncSession, ward_code: str, code: str | None = None, **values: Any
) -> Neighbourhood:
    """A neighbourhood of ``ward_code`` (Quảng Ninh, or the province given in ``values``)."""
    province_code = values.pop("province_code", HA_NOI if ward_code == HOAN_KIEM else QUANG_NINH)
    neighbourhood = Neighbourhood(
        province_code=province_code,
        ward_code=ward_code,
        code=code or unique("KP-"),
        name=values.pop("name", "Khu phố thử"),
        households=values.pop("households", 100),
        population=values.pop("population", 400),
        **values,
    )
    session.add(neighbourhood)
    await session.flush()
    return neighbourhood


async def make_group(
    session: AsyncSession, neighbourhood: Neighbourhood, code: str | None = None, **values: Any
) -> ResidentialGroup:
    """A residential group of ``neighbourhood``."""
    group = ResidentialGroup(
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        neighbourhood_id=neighbourhood.id,
        code=code or unique("T-"),
        name=values.pop("name", "Tổ thử"),
        households=values.pop("households", 20),
        population=values.pop("population", 80),
        **values,
    )
    session.add(group)
    await session.flush()
    return group


async def make_user(
    session: AsyncSession,
    role: Role,
    unit_code: str | None = None,
    *,
    username: str | None = None,
    full_name: str = "Người Thử",
    phone: str | None = None,
    is_active: bool = True,
) -> User:
    """A user whose password is ``PASSWORD``, anchored like the API would anchor it."""
    province_code = ward_code = None
    neighbourhood_id = None
    if unit_code is not None:
        anchor = await unit_service.resolve_unit(session, unit_code)
        assert anchor is not None, f"no unit {unit_code}"
        province_code, ward_code = anchor.province_code, anchor.ward_code
        neighbourhood_id = anchor.neighbourhood_id
    user = User(
        username=username or unique(f"{role.value.replace('_', '-')}-"),
        full_name=full_name,
        phone=phone,
        role=role.value,
        unit_code=unit_code,
        province_code=province_code,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        is_active=is_active,
        password_hash=password_hash(),
    )
    session.add(user)
    await session.flush()
    return user


async def make_client(
    session: AsyncSession, unit_code: str, scopes: frozenset[str] | None = None
) -> tuple[Client, str]:
    """A machine client (the API's default scopes unless given) and its plain secret."""
    anchor = await unit_service.resolve_unit(session, unit_code)
    assert anchor is not None
    secret = new_secret("wss_")
    client = Client(
        client_id=unique("wsc_"),
        name="Ward registry sync",
        secret_hash=hash_secret(secret),
        unit_code=unit_code,
        province_code=anchor.province_code,
        ward_code=anchor.ward_code,
        scopes=" ".join(sorted(DEFAULT_CLIENT_SCOPES if scopes is None else scopes)),
    )
    session.add(client)
    await session.flush()
    return client, secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def headers_for(
    app: FastAPI, account: User | Client, scopes: frozenset[str] | None = None
) -> dict[str, str]:
    """An Authorization header with a token signed by the app's own signer."""
    principal = (
        auth_service.user_principal(account, scopes)
        if isinstance(account, User)
        else auth_service.client_principal(account, scopes)
    )
    token, _ = app.state.token_signer.issue(principal)
    return bearer(token)


async def token_request(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    """POST the form to the token endpoint."""
    return await client.post("/api/v1/auth/token", data=form)


async def login(
    client: httpx.AsyncClient,
    username: str,
    password: str = PASSWORD,
    scope: str | None = None,
) -> dict[str, str]:
    """Sign in through the token endpoint (password grant); the Authorization header."""
    form = {"grant_type": "password", "username": username, "password": password}
    if scope is not None:
        form["scope"] = scope
    response = await token_request(client, **form)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Header, claims and the signature segment of a compact JWT, unverified."""
    header, claims, signature = token.split(".")
    return orjson.loads(unb64url(header)), orjson.loads(unb64url(claims)), signature


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> Any:
    """The response is an RFC 9457 problem with this status (and type slug)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if slug is not None:
        assert body["type"].endswith(f"/problems/{slug}")
    return body


def assert_field_problem(response: httpx.Response, loc: list[Any], kind: str) -> Any:
    """A 422 whose one ``errors`` entry is at ``loc``, of type ``kind``, with a message."""
    body = assert_problem(response, 422, "validation-error")
    assert "field" not in body
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [(loc, kind)], body
    (error,) = body["errors"]
    assert set(error) == {"loc", "msg", "type"}
    assert isinstance(error["msg"], str)
    assert error["msg"]
    return body


def assert_unauthorized(response: httpx.Response) -> None:
    """401 problem with a Bearer challenge."""
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def assert_forbidden(response: httpx.Response) -> str:
    """403 problem; returns its detail (the reason)."""
    body = assert_problem(response, 403, "forbidden")
    detail: str = body["detail"]
    assert detail
    return detail


def assert_not_found(response: httpx.Response) -> None:
    assert_problem(response, 404, "not-found")


# --- community reports, Open311 keys and broadcasts ----------------------------


async def make_report(
    session: AsyncSession, unit: Neighbourhood | str, *, reporter: User | None = None, **values: Any
) -> Any:
    """A report in ``unit`` (a neighbourhood, or a ward code), anonymous unless ``reporter``."""
    from app.models.reports import Report

    if isinstance(unit, Neighbourhood):
        province_code, ward_code, neighbourhood_id = unit.province_code, unit.ward_code, unit.id
    else:
        province_code = HA_NOI if unit == HOAN_KIEM else QUANG_NINH
        ward_code, neighbourhood_id = unit, None
    report = Report(
        province_code=province_code,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        category=values.pop("category", "noise"),
        description=values.pop("description", "Karaoke ồn ào sau 23 giờ."),
        address=values.pop("address", "Ngõ 12 Lê Thánh Tông"),
        anonymous=reporter is None,
        reporter_id=reporter.id if reporter else None,
        **values,
    )
    session.add(report)
    await session.flush()
    return report


async def make_open311_client(
    session: AsyncSession, unit_code: str, scopes: frozenset[str] | None = None
) -> tuple[Client, str]:
    """A machine client with an Open311 api_key; returns it and the plain key."""
    client, _secret = await make_client(session, unit_code, scopes)
    api_key = new_secret("wsk_")
    client.api_key_hash = hash_secret(api_key)
    session.add(client)
    await session.flush()
    return client, api_key


async def make_broadcast(session: AsyncSession, targets: list[Any], **values: Any) -> Any:
    """A live broadcast to ``targets`` (ward codes, neighbourhoods or residential groups)."""
    from datetime import timedelta

    from app.db import utcnow
    from app.models.broadcasts import Broadcast, BroadcastTarget
    from app.models.units import Ward

    resolved = []
    for target in targets:
        if isinstance(target, str):
            ward = await session.get(Ward, target)
            assert ward is not None
            resolved.append(("ward", target, ward.province_code, target, None, None))
        elif isinstance(target, Neighbourhood):
            resolved.append(
                (
                    "neighbourhood",
                    str(target.id),
                    target.province_code,
                    target.ward_code,
                    target.id,
                    None,
                )
            )
        else:
            resolved.append(
                (
                    "residential_group",
                    str(target.id),
                    target.province_code,
                    target.ward_code,
                    target.neighbourhood_id,
                    target.id,
                )
            )
    wards = {row[3] for row in resolved}
    broadcast = Broadcast(
        province_code=resolved[0][2],
        ward_code=wards.pop() if len(wards) == 1 else None,
        kind=values.pop("kind", "warning"),
        title=values.pop("title", "Cảnh báo thử"),
        body=values.pop("body", "Nội dung cảnh báo thử."),
        target_unit_codes=[row[1] for row in resolved],
        publish_at=values.pop("publish_at", utcnow() - timedelta(hours=1)),
        **values,
    )
    session.add(broadcast)
    await session.flush()
    for level, code, province, ward_code, neighbourhood_id, group_id in resolved:
        session.add(
            BroadcastTarget(
                broadcast_id=broadcast.id,
                level=level,
                unit_code=code,
                province_code=province,
                ward_code=ward_code,
                neighbourhood_id=neighbourhood_id,
                residential_group_id=group_id,
            )
        )
    await session.flush()
    return broadcast


# --- safe-zone certification ---------------------------------------------------


def sample_criteria() -> list[dict[str, Any]]:
    """Required: C1, C2 (met or not), C3 (score out of 100, met at 50); optional: C4."""
    return [
        {"code": "C1", "title": "Đăng ký, 100% hộ cam kết", "kind": "boolean", "required": True},
        {
            "code": "C2",
            "title": "Không có vụ việc nghiêm trọng",
            "kind": "boolean",
            "required": True,
        },
        {
            "code": "C3",
            "title": "Phong trào",
            "kind": "score",
            "max_score": 100,
            "pass_score": 50,
            "required": True,
        },
        {"code": "C4", "title": "Sáng kiến", "kind": "boolean", "required": False},
    ]


async def make_criteria_set(
    session: AsyncSession, year: int = 2030, *, min_total: int = 60, **values: Any
) -> Any:
    """A set of ``sample_criteria()`` passing at ``min_total``, the next version of ``year``."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from app.models.certification_criteria import CriteriaSet

    latest = (
        await session.exec(
            select(func.max(col(CriteriaSet.set_version))).where(col(CriteriaSet.year) == year)
        )
    ).one()
    criteria_set = CriteriaSet(
        year=year,
        set_version=values.pop("set_version", (latest or 0) + 1),
        name=values.pop("name", f"Bộ tiêu chí thử {year}"),
        criteria=values.pop("criteria", sample_criteria()),
        pass_rule={"min_total": min_total},
        **values,
    )
    session.add(criteria_set)
    await session.flush()
    return criteria_set


PASSING_SELF_ASSESSMENT = [
    {"code": "C1", "value": True, "evidence": "Biên bản họp dân"},
    {"code": "C2", "value": True},
    {"code": "C3", "score": 80},
]
PASSING_REVIEW = [
    {"code": "C1", "value": True},
    {"code": "C2", "value": True},
    {"code": "C3", "score": 75, "note": "Tổ tự quản hoạt động tốt"},
    {"code": "C4", "value": False},
]


async def make_certification(
    session: AsyncSession,
    neighbourhood: Neighbourhood,
    criteria_set: Any,
    status: str = "draft",
    **values: Any,
) -> Any:
    """A certification of ``neighbourhood`` already at ``status``, with what that status implies:
    a full self-assessment from ``submitted``, a passing review from ``under_review``, a decision
    and a certificate number from ``certified``/``rejected``, a revocation for ``revoked``."""
    from datetime import date, timedelta

    from app.db import utcnow
    from app.models.certifications import Certification

    criteria_set.in_use = True
    session.add(criteria_set)
    now = utcnow()
    stage = ["draft", "submitted", "under_review", "certified", "revoked"]
    reached = stage.index("certified" if status == "rejected" else status)
    fields: dict[str, Any] = {
        "households_total": neighbourhood.households,
        "households_committed": neighbourhood.households,
        "self_assessment": PASSING_SELF_ASSESSMENT if reached >= 1 else [],
    }
    if reached >= 1:
        fields["submitted_at"] = now
    if reached >= 2:
        fields.update(
            review_criteria=PASSING_REVIEW,
            review_total_score=75,
            review_passed=True,
            review_unmet=[],
            reviewed_by=uuid.uuid4(),
            reviewed_at=now,
        )
    if reached >= 3:
        fields.update(
            decision_outcome="rejected" if status == "rejected" else "certified",
            decided_on=now.date() - timedelta(days=30),
            decided_by=uuid.uuid4(),
            decided_at=now,
            decision_reasons=["Lý do thử"] if status == "rejected" else [],
            override_reason="Ghi đè thử" if status == "rejected" else None,
            certificate_no=None if status == "rejected" else unique("ANTT-T-"),
        )
    if reached >= 4:
        fields.update(
            revocation_reason="Thu hồi thử",
            revoked_on=now.date() - timedelta(days=10),
            revoked_by=uuid.uuid4(),
            revoked_at=now,
        )
    fields.update(values)
    certification = Certification(
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        neighbourhood_id=neighbourhood.id,
        year=criteria_set.year,
        criteria_set_id=criteria_set.id,
        status=status,
        registered_on=date(criteria_set.year, 1, 15),
        **fields,
    )
    session.add(certification)
    await session.flush()
    return certification


# --- self-managed groups --------------------------------------------------------


async def make_self_managed_group(
    session: AsyncSession,
    unit: Neighbourhood | str,
    kind: str = "security_self_management",
    **values: Any,
) -> Any:
    """A self-managed group of a neighbourhood, or ward-wide when ``unit`` is a ward code."""
    from app.models.groups import SelfManagedGroup
    from app.text import fold

    if isinstance(unit, Neighbourhood):
        province_code, ward_code, neighbourhood_id = unit.province_code, unit.ward_code, unit.id
    else:
        province_code = HA_NOI if unit == HOAN_KIEM else QUANG_NINH
        ward_code, neighbourhood_id = unit, None
    name = values.pop("name", unique("Tổ tự quản thử "))
    group = SelfManagedGroup(
        province_code=province_code,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        kind=kind,
        name=name,
        search_key=fold(name),
        **values,
    )
    session.add(group)
    await session.flush()
    return group


async def make_member(session: AsyncSession, group: Any, **values: Any) -> Any:
    """A member of ``group`` (a 40-year-old resident of 10 years, joined 2025-03-01)."""
    from datetime import date

    from app.models.group_members import GroupMember

    member = GroupMember(
        group_id=group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
        full_name=values.pop("full_name", "Thành Viên Thử"),
        phone=values.pop("phone", "0912345678"),
        birth_year=values.pop("birth_year", 1985),
        position=values.pop("position", "member"),
        joined_on=values.pop("joined_on", date(2025, 3, 1)),
        resident_since=values.pop("resident_since", date(2015, 1, 1)),
        **values,
    )
    session.add(member)
    await session.flush()
    return member


# --- cameras and footage requests ----------------------------------------------


async def make_camera(
    session: AsyncSession, ward_code: str, *, owner: User | None = None, **values: Any
) -> Any:
    """A camera of ``ward_code`` (owned by ``owner``'s account if given), sharing on request."""
    from app.models.cameras import Camera, placed
    from app.models.units import Ward

    ward = await session.get(Ward, ward_code)
    assert ward is not None, f"no ward {ward_code}"
    camera = Camera(
        province_code=ward.province_code,
        ward_code=ward_code,
        owner_kind=values.pop("owner_kind", "household"),
        owner_user_id=owner.id if owner else values.pop("owner_user_id", None),
        owner_name=values.pop("owner_name", "Hộ Nguyễn Văn Thử"),
        owner_phone=values.pop("owner_phone", "0912000111"),
        label=values.pop("label", unique("Camera ")),
        address=values.pop("address", "12 Lê Thánh Tông"),
        lat=values.pop("lat", 20.9526),
        lon=values.pop("lon", 107.0812),
        retention_days=values.pop("retention_days", 30),
        sharing=values.pop("sharing", "on_request"),
        status=values.pop("status", "active"),
        **values,
    )
    placed(camera)
    session.add(camera)
    await session.flush()
    return camera


async def make_footage_request(
    session: AsyncSession,
    officer: User,
    cameras: list[Any],
    *,
    case_code: str | None = None,
    hours_ago: float = 6,
) -> uuid.UUID:
    """A footage request by ``officer`` for a two-hour window ``hours_ago``, through the service."""
    from datetime import timedelta

    from app.db import utcnow
    from app.schemas.footage_requests import FootageRequestCreate
    from app.services.cameras import requesting as requesting_service

    start = utcnow() - timedelta(hours=hours_ago)
    created = await requesting_service.create_footage_request(
        session,
        auth_service.user_principal(officer),
        FootageRequestCreate(
            case_code=case_code or unique("HL-"),
            reason="Trộm xe máy",
            window_start=start,
            window_end=start + timedelta(hours=2),
            camera_ids=[camera.id for camera in cameras],
            respond_by=utcnow() + timedelta(days=2),
        ),
    )
    return created.id
