"""Demo accounts: one per role, anchored in Hạ Long and Bãi Cháy (development only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG, PROVINCE_CODE, SeedSummary, demo_id
from app.models.users import User
from app.security import Role, hash_password

# Every demo account signs in with this password (development only).
DEMO_PASSWORD = "wardsafe-demo"  # noqa: S105


@dataclass(frozen=True)
class DemoLogin:
    """One demo account: who it is and where it is anchored."""

    username: str
    full_name: str
    role: Role
    ward_code: str | None = None
    neighbourhood_code: str | None = None
    province_code: str | None = None


DEMO_LOGINS = (
    DemoLogin("admin", "Quản trị hệ thống", Role.ADMIN),
    DemoLogin("province.officer", "Trần Thị Bình", Role.PROVINCE_OFFICER, province_code="22"),
    DemoLogin("officer.halong", "Nguyễn Văn An", Role.WARD_OFFICER, HA_LONG),
    DemoLogin("officer.baichay", "Phạm Minh Châu", Role.WARD_OFFICER, BAI_CHAY),
    DemoLogin("head.halong", "Lê Thị Dung", Role.NEIGHBOURHOOD_HEAD, HA_LONG, "KP01"),
    DemoLogin("head.baichay", "Hoàng Văn Em", Role.NEIGHBOURHOOD_HEAD, BAI_CHAY, "KP01"),
    DemoLogin("leader.halong", "Vũ Thị Giang", Role.GROUP_LEADER, HA_LONG, "KP01"),
    DemoLogin("leader.baichay", "Đặng Văn Hải", Role.GROUP_LEADER, BAI_CHAY, "KP01"),
    DemoLogin("camera.halong", "Bùi Thị Lan", Role.CAMERA_OWNER, HA_LONG),
    DemoLogin("camera.baichay", "Đỗ Văn Minh", Role.CAMERA_OWNER, BAI_CHAY),
    DemoLogin("resident.halong", "Ngô Thị Nga", Role.RESIDENT, HA_LONG, "KP01"),
    DemoLogin("resident.baichay", "Dương Văn Phúc", Role.RESIDENT, BAI_CHAY, "KP01"),
)


async def seed_logins(session: AsyncSession, summary: SeedSummary) -> None:
    """Add the demo accounts that are missing (password ``DEMO_PASSWORD``)."""
    existing = set((await session.exec(select(User.username))).all())
    password_hash: str | None = None
    for login in DEMO_LOGINS:
        if login.username in existing:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        neighbourhood_id = (
            demo_id("neighbourhood", login.ward_code, login.neighbourhood_code)
            if login.ward_code and login.neighbourhood_code
            else None
        )
        if neighbourhood_id:
            unit_code: str | None = str(neighbourhood_id)
        else:
            unit_code = login.ward_code or login.province_code
        session.add(
            User(
                id=demo_id("user", login.username),
                username=login.username,
                full_name=login.full_name,
                phone=None,
                role=login.role.value,
                unit_code=unit_code,
                province_code=PROVINCE_CODE if login.role is not Role.ADMIN else None,
                ward_code=login.ward_code,
                neighbourhood_id=neighbourhood_id,
                password_hash=password_hash,
            )
        )
        summary.users_added += 1
    await session.flush()
