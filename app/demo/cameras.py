"""Demo cameras across Hạ Long and Bãi Cháy, and footage requests in every state."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.demo.places import BAI_CHAY, HA_LONG, PLANS, PROVINCE_CODE, SeedSummary, demo_id
from app.models.cameras import Camera, CameraStatus, OwnerKind, Sharing, placed
from app.models.footage_requests import FootageRequest
from app.models.users import User
from app.schemas.footage_requests import (
    Decision,
    FootageClose,
    FootageHandover,
    FootageRequestCreate,
    FootageResponse,
)
from app.security import ROLE_SCOPES, Principal, Role
from app.services.cameras import requesting as requesting_service
from app.services.cameras import steps as step_service


@dataclass(frozen=True)
class CameraPlan:
    """Where a ward's demo cameras go: how many, inside which box, whose account owns some."""

    ward_code: str
    ward_name: str
    cameras: int
    lat: tuple[float, float]
    lon: tuple[float, float]
    owner_login: str
    owned: int
    streets: tuple[str, ...]


CAMERA_PLANS = (
    # The Hòn Gai side of the bay: from the Bãi Cháy bridge east past the
    # market and Vincom to Hồng Hải, between the shore and the hills.
    CameraPlan(
        HA_LONG,
        "Hạ Long",
        cameras=300,
        lat=(20.9460, 20.9690),
        lon=(107.0660, 107.1070),
        owner_login="camera.halong",
        owned=12,
        streets=(
            "Lê Thánh Tông",
            "Cao Thắng",
            "Nguyễn Văn Cừ",
            "Trần Hưng Đạo",
            "Bến Đoan",
            "Giếng Đồn",
            "Kênh Liêm",
            "Lê Lợi",
            "Ba Đèo",
            "Hồng Hà",
            "Bạch Đằng",
            "Trần Quốc Nghiễn",
        ),
    ),
    # Across the bridge: the hotels, the night market and the Cái Lân side.
    CameraPlan(
        BAI_CHAY,
        "Bãi Cháy",
        cameras=60,
        lat=(20.9480, 20.9660),
        lon=(107.0260, 107.0560),
        owner_login="camera.baichay",
        owned=4,
        streets=("Hạ Long", "Hoàng Quốc Việt", "Anh Đào", "Vườn Đào", "Hậu Cần", "Cái Lân"),
    ),
)

_KINDS = (
    (OwnerKind.HOUSEHOLD, 45),
    (OwnerKind.BUSINESS, 30),
    (OwnerKind.SCHOOL, 5),
    (OwnerKind.AGENCY, 8),
    (OwnerKind.PUBLIC, 12),
)
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
_MIDDLE = ("Văn", "Thị", "Minh", "Đức", "Thu", "Quang", "Ngọc")
_GIVEN = ("An", "Bình", "Cường", "Dung", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Sơn")
_SHOPS = ("Cửa hàng", "Nhà hàng", "Khách sạn", "Tiệm vàng", "Nhà thuốc", "Quán cà phê")
_VIEWS = ("cổng trước", "sân sau", "lối vào ngõ", "mặt đường", "bãi để xe")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def _phone(rng: random.Random) -> str:
    return "09" + "".join(str(rng.randrange(10)) for _ in range(8))


def _owner(rng: random.Random, kind: OwnerKind, plan: CameraPlan) -> tuple[str, str]:
    """The owner's name and the camera's label for a kind of owner."""
    view = rng.choice(_VIEWS)
    if kind is OwnerKind.HOUSEHOLD:
        return f"Hộ {_person(rng)}", f"Camera nhà, {view}"
    if kind is OwnerKind.BUSINESS:
        name = f"{rng.choice(_SHOPS)} {rng.choice(_GIVEN)} {rng.choice(('Phát', 'Hưng', 'Long'))}"
        return name, f"{name}, {view}"
    if kind is OwnerKind.SCHOOL:
        level = rng.choice(("Tiểu học", "THCS", "Mầm non"))
        return f"Trường {level} {plan.ward_name}", "Cổng trường"
    if kind is OwnerKind.AGENCY:
        agency = rng.choice(("UBND phường", "Trạm y tế phường", "Bưu điện"))
        return f"{agency} {plan.ward_name}", f"Trụ sở, {view}"
    return f"Công an phường {plan.ward_name}", "Camera an ninh công cộng"


def _cameras(plan: CameraPlan, owner_id: uuid.UUID | None) -> list[Camera]:
    """A ward's demo cameras, the same on every run; they cluster around each neighbourhood."""
    rng = random.Random(f"wardsafe-demo-cameras-{plan.ward_code}")  # noqa: S311 (demo data)
    neighbourhoods = next(p.neighbourhoods for p in PLANS if p.ward_code == plan.ward_code)
    centres = [(rng.uniform(*plan.lat), rng.uniform(*plan.lon)) for _ in range(neighbourhoods)]
    today = (utcnow() + timedelta(hours=7)).date()
    kinds = [kind for kind, _ in _KINDS]
    weights = [weight for _, weight in _KINDS]
    cameras = []
    owned = 0
    for number in range(1, plan.cameras + 1):
        index = rng.randrange(neighbourhoods)
        lat = min(max(rng.gauss(centres[index][0], 0.0012), plan.lat[0]), plan.lat[1])
        lon = min(max(rng.gauss(centres[index][1], 0.0013), plan.lon[0]), plan.lon[1])
        kind = rng.choices(kinds, weights)[0]
        owner_name, label = _owner(rng, kind, plan)
        sharing = rng.choices(
            (Sharing.NONE, Sharing.ON_REQUEST, Sharing.LIVE),
            (5, 80, 15) if kind is OwnerKind.PUBLIC else (15, 75, 10),
        )[0]
        status = rng.choices(
            (CameraStatus.ACTIVE, CameraStatus.OFFLINE, CameraStatus.DECOMMISSIONED), (88, 9, 3)
        )[0]
        retention = rng.choice((7, 14, 30) if kind is OwnerKind.HOUSEHOLD else (14, 30, 60, 90))
        verified: date | None = (
            today - timedelta(days=rng.randrange(365)) if rng.random() < 0.7 else None
        )
        owner_user_id = None
        if owner_id and owned < plan.owned and kind in (OwnerKind.HOUSEHOLD, OwnerKind.BUSINESS):
            # The demo camera owner's cameras share, record and keep a month.
            owner_user_id, sharing, status = owner_id, Sharing.ON_REQUEST, CameraStatus.ACTIVE
            retention = 30
            owned += 1
        street = rng.choice(plan.streets)
        cameras.append(
            placed(
                Camera(
                    id=demo_id("camera", plan.ward_code, f"{number:04d}"),
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    neighbourhood_id=demo_id("neighbourhood", plan.ward_code, f"KP{index + 1:02d}"),
                    owner_kind=kind.value,
                    owner_user_id=owner_user_id,
                    owner_name=owner_name,
                    owner_phone=_phone(rng) if kind is not OwnerKind.PUBLIC else None,
                    label=label,
                    address=f"{rng.randrange(1, 400)} {street}, Khu phố {index + 1}",
                    lat=round(lat, 6),
                    lon=round(lon, 6),
                    bearing_deg=rng.randrange(360) if rng.random() < 0.8 else None,
                    covers=f"Vỉa hè và lòng đường {street}",
                    retention_days=retention,
                    sharing=sharing.value,
                    status=status.value,
                    last_verified_on=verified,
                )
            )
        )
    return cameras


async def seed_cameras(session: AsyncSession, summary: SeedSummary) -> None:
    """The demo cameras that are missing (a rerun adds nothing)."""
    existing = set((await session.exec(select(Camera.id))).all())
    users = set((await session.exec(select(User.id))).all())
    for plan in CAMERA_PLANS:
        owner_id = demo_id("user", plan.owner_login)
        for camera in _cameras(plan, owner_id if owner_id in users else None):
            if camera.id not in existing:
                session.add(camera)
                summary.count("cameras")
    await session.flush()


def _principal(username: str, role: Role) -> Principal:
    return Principal(
        subject=demo_id("user", username),
        kind="user",
        role=role,
        unit_code=HA_LONG,
        province_code=PROVINCE_CODE,
        ward_code=HA_LONG,
        neighbourhood_id=None,
        scopes=ROLE_SCOPES[role],
    )


# Each demo request and where each of its cameras ends up.
_REQUESTS = (
    ("HL-DEMO-0001", "Trộm xe máy trước cửa hàng", ("pending", "pending", "pending")),
    ("HL-DEMO-0002", "Đánh nhau tại ngõ", ("accepted", "declined")),
    ("HL-DEMO-0003", "Mất trộm tài sản trong nhà", ("handed_over", "handed_over")),
    ("HL-DEMO-0004", "Va chạm giao thông, bỏ chạy", ("closed", "closed")),
    (
        "HL-DEMO-0005",
        "Nghi vấn trộm cắp tại chợ Hạ Long",
        ("pending", "accepted", "declined", "handed_over", "closed"),
    ),
)


async def seed_footage_requests(session: AsyncSession, summary: SeedSummary) -> None:
    """Footage requests in Hạ Long with cameras in every state (a rerun adds nothing)."""
    officer = _principal("officer.halong", Role.WARD_OFFICER)
    owner = _principal("camera.halong", Role.CAMERA_OWNER)
    existing = set(
        (
            await session.exec(
                select(FootageRequest.id).where(col(FootageRequest.ward_code) == HA_LONG)
            )
        ).all()
    )
    cameras = (
        await session.exec(
            select(Camera)
            .where(
                col(Camera.ward_code) == HA_LONG,
                col(Camera.sharing) != Sharing.NONE.value,
                col(Camera.status) == CameraStatus.ACTIVE.value,
                col(Camera.retention_days) >= 14,
                col(Camera.deleted_at).is_(None),
            )
            # The demo owner's cameras first, so that camera.halong has requests to answer.
            .order_by(col(Camera.owner_user_id).is_(None), col(Camera.id))
        )
    ).all()
    now = utcnow()
    used = 0
    for days_ago, (case_code, reason, outcomes) in enumerate(_REQUESTS, start=1):
        chosen, used = cameras[used : used + len(outcomes)], used + len(outcomes)
        request_id = demo_id("footage-request", case_code)
        if request_id in existing or len(chosen) < len(outcomes):
            continue
        start = (now - timedelta(days=days_ago, hours=3)).replace(microsecond=0)
        await requesting_service.create_footage_request(
            session,
            officer,
            FootageRequestCreate(
                case_code=case_code,
                reason=reason,
                window_start=start,
                window_end=start + timedelta(hours=2),
                camera_ids=[camera.id for camera in chosen],
                respond_by=now + timedelta(days=3),
            ),
            record_id=request_id,
        )
        for camera, outcome in zip(chosen, outcomes, strict=True):
            await _advance(session, officer, owner, request_id, camera, outcome)
        summary.count("footage_requests")
    await session.flush()


async def _advance(
    session: AsyncSession,
    officer: Principal,
    owner: Principal,
    request_id: uuid.UUID,
    camera: Camera,
    outcome: str,
) -> None:
    """Take one camera of a demo request through the steps to ``outcome``."""
    if outcome == "pending":
        return
    answerer = owner if camera.owner_user_id == owner.subject else officer
    decision = Decision.DECLINE if outcome == "declined" else Decision.ACCEPT
    note = "Camera hỏng ổ cứng hôm đó" if outcome == "declined" else "Đến lấy tại nhà sau 17h"
    await step_service.respond(
        session,
        answerer,
        request_id,
        FootageResponse(decision=decision, camera_ids=[camera.id], note=note),
    )
    if outcome in ("accepted", "declined"):
        return
    media = f"demo-footage/{request_id}/{camera.id}".encode()
    await step_service.hand_over(
        session,
        answerer,
        request_id,
        FootageHandover(
            camera_id=camera.id,
            sha256=hashlib.sha256(media).hexdigest(),
            media_ref=f"evidence://{request_id}/{camera.id}.mp4",
            size_bytes=len(media) * 1_000_003,
        ),
    )
    if outcome == "closed":
        await step_service.close(session, officer, request_id, FootageClose(camera_ids=[camera.id]))
