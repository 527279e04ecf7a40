"""Deterministic demo data: Phường Hạ Long and Phường Bãi Cháy in Quảng Ninh."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict
from app.models.units import Neighbourhood, ResidentialGroup, Ward
from app.models.users import User
from app.security import Role, hash_password

PROVINCE_CODE = "22"
HA_LONG = "06688"
BAI_CHAY = "06673"

# Stable ids: the same demo record has the same id on every machine, so docs
# and scripts can name it.
DEMO_NAMESPACE = uuid.UUID("8f0c6a52-7d0e-4d5b-9a57-2f3f1f6a0c11")


def demo_id(*parts: str) -> uuid.UUID:
    """The stable id of a demo record, e.g. ``demo_id("neighbourhood", "06688", "KP03")``."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(parts))


@dataclass(frozen=True)
class WardPlan:
    """How many neighbourhoods and residential groups a demo ward gets."""

    ward_code: str
    neighbourhoods: int
    residential_groups: int
    population: int


PLANS = (
    # The newspaper's figures: 27 neighbourhoods, 233 groups, about 53,000 residents.
    WardPlan(HA_LONG, neighbourhoods=27, residential_groups=233, population=53_000),
    WardPlan(BAI_CHAY, neighbourhoods=5, residential_groups=30, population=7_500),
)


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


@dataclass
class SeedSummary:
    """What one run of the demo seed added."""

    neighbourhoods_added: int = 0
    residential_groups_added: int = 0
    users_added: int = 0
    # Records the domain seeders added, by kind ("groups": 54, ...).
    added: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        counts = (self.neighbourhoods_added, self.residential_groups_added, self.users_added)
        return any(counts) or any(self.added.values())

    def count(self, kind: str, n: int = 1) -> None:
        """Note ``n`` more records of ``kind`` added."""
        self.added[kind] = self.added.get(kind, 0) + n


DomainSeeder = Callable[[AsyncSession, "SeedSummary"], Awaitable[None]]


def _domain_seeders() -> tuple[DomainSeeder, ...]:
    """Each domain's demo data, in dependency order; each adds only what is missing."""
    from app.services import cameras_demo, certifications_demo, fire_demo, groups_demo, reports_demo

    return (
        groups_demo.seed_demo,
        cameras_demo.seed_cameras,
        cameras_demo.seed_footage_requests,
        certifications_demo.seed_demo,
        reports_demo.seed_demo,
        fire_demo.seed_demo,
    )


def _split(total: int, parts: int) -> list[int]:
    """``total`` spread over ``parts`` as evenly as whole numbers allow."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _jitter(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` over ``parts`` unevenly, as real neighbourhoods are, summing exactly to it."""
    weights = [rng.uniform(0.7, 1.3) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


async def seed_demo(
    session: AsyncSession, *, with_logins: bool = True, with_domains: bool = True
) -> SeedSummary:
    """Add the demo records that are missing; a rerun adds nothing.

    ``with_logins`` adds one account per role (password ``DEMO_PASSWORD``):
    for development only, never on a production database. ``with_domains``
    adds each domain's records (groups, cameras, ...) beside the units."""
    summary = SeedSummary()
    for plan in PLANS:
        if await session.get(Ward, plan.ward_code) is None:
            raise Conflict(
                f"Ward {plan.ward_code} is not imported; run `wardsafe import-units` first."
            )
        await _seed_ward(session, plan, summary)
    await session.flush()
    if with_logins:
        await _seed_logins(session, summary)
    for seeder in _domain_seeders() if with_domains else ():
        await seeder(session, summary)
        await session.flush()
    return summary


async def _seed_logins(session: AsyncSession, summary: SeedSummary) -> None:
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


async def _seed_ward(session: AsyncSession, plan: WardPlan, summary: SeedSummary) -> None:
    rng = random.Random(f"wardsafe-demo-{plan.ward_code}")  # noqa: S311 (demo data, not secrets)
    existing_neighbourhoods = set(
        (
            await session.exec(
                select(Neighbourhood.code).where(col(Neighbourhood.ward_code) == plan.ward_code)
            )
        ).all()
    )
    existing_groups = set(
        (
            await session.exec(
                select(ResidentialGroup.id).where(col(ResidentialGroup.ward_code) == plan.ward_code)
            )
        ).all()
    )
    group_counts = _split(plan.residential_groups, plan.neighbourhoods)
    populations = _jitter(rng, plan.population, plan.neighbourhoods)
    group_number = 0
    for index in range(plan.neighbourhoods):
        code = f"KP{index + 1:02d}"
        neighbourhood_id = demo_id("neighbourhood", plan.ward_code, code)
        group_populations = _jitter(rng, populations[index], group_counts[index])
        group_households = [max(1, round(p / rng.uniform(3.4, 4.2))) for p in group_populations]
        if code not in existing_neighbourhoods:
            session.add(
                Neighbourhood(
                    id=neighbourhood_id,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    code=code,
                    name=f"Khu phố {index + 1}",
                    households=sum(group_households),
                    population=populations[index],
                )
            )
            summary.neighbourhoods_added += 1
            await session.flush()
        for position in range(group_counts[index]):
            group_number += 1
            group_code = f"T{group_number:03d}"
            group_id = demo_id("residential-group", plan.ward_code, group_code)
            if group_id in existing_groups:
                continue
            session.add(
                ResidentialGroup(
                    id=group_id,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    neighbourhood_id=neighbourhood_id,
                    code=group_code,
                    name=f"Tổ {group_number}",
                    households=group_households[position],
                    population=group_populations[position],
                )
            )
            summary.residential_groups_added += 1
