"""Demo self-managed groups: Hạ Long's realistic mix and Bãi Cháy's crime-prevention channels.

Deterministic (``random.Random`` seeded per ward, ids from ``demo_id``) and
idempotent: a rerun adds only what is missing."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG, PROVINCE_CODE, SeedSummary, demo_id
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import GroupResidentialGroup, SelfManagedGroup
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.models.users import User
from app.schemas.groups import GroupKind
from app.security import Role
from app.text import fold

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương")
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hữu", "Ngọc", "Quang", "Thanh", "Xuân")
_GIVEN = (
    *("An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương", "Lan", "Long"),
    *("Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Tuấn", "Yến"),
)

# Which demo group each demo group_leader account leads (their neighbourhood's
# security self-management group), so the role works out of the box.
LEADER_LOGINS = {
    (HA_LONG, "security/KP01"): "leader.halong",
    (BAI_CHAY, "security/KP01"): "leader.baichay",
}
# (ward, group key, year, decision number): designations as exemplary models.
EXEMPLARY = (
    (HA_LONG, "security/KP03", 2024, "1875/QĐ-UBND"),
    (HA_LONG, "mediation/KP05", 2024, "1876/QĐ-UBND"),
    (HA_LONG, "channel/KP01", 2025, "2210/QĐ-UBND"),
    (HA_LONG, "grassroots/1", 2025, "2211/QĐ-UBND"),
    (BAI_CHAY, "channel/KP01", 2025, "1540/QĐ-UBND"),
)


@dataclass
class _Plan:
    """One demo group and its members, before anything is stored."""

    key: str
    kind: GroupKind
    name: str
    neighbourhood_id: uuid.UUID | None
    households: int
    founded_on: date
    decision_no: str
    covered: list[uuid.UUID] = field(default_factory=list)
    members: list[GroupMember] = field(default_factory=list)


def _member_count(kind: GroupKind, rng: random.Random) -> int:
    return {
        GroupKind.SECURITY_SELF_MANAGEMENT: rng.randint(5, 9),
        GroupKind.GRASSROOTS_SECURITY_TEAM: rng.randint(6, 10),
        GroupKind.MEDIATION_TEAM: rng.randint(5, 7),
        GroupKind.CRIME_PREVENTION_CHANNEL: 3,
    }.get(kind, 5)


def _members(ward_code: str, plan: _Plan, rng: random.Random) -> list[GroupMember]:
    members = []
    for index in range(_member_count(plan.kind, rng)):
        joined_on = plan.founded_on + timedelta(days=rng.randint(0, 400))
        age = rng.randint(24, 62) if plan.kind is GroupKind.GRASSROOTS_SECURITY_TEAM else None
        members.append(
            GroupMember(
                id=demo_id("group-member", ward_code, plan.key, str(index)),
                group_id=demo_id("group", ward_code, plan.key),
                province_code=PROVINCE_CODE,
                ward_code=ward_code,
                full_name=f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}",
                # Fake numbers in the 09x range, never real subscribers' data.
                phone="09" + "".join(str(rng.randint(0, 9)) for _ in range(8)),
                birth_year=joined_on.year - (age or rng.randint(26, 72)),
                position="leader" if index == 0 else "deputy" if index == 1 else "member",
                joined_on=joined_on,
                resident_since=joined_on - timedelta(days=365 * rng.randint(2, 40)),
                elected_on=joined_on if plan.kind is GroupKind.MEDIATION_TEAM else None,
            )
        )
    return members


def _plans(
    ward_code: str,
    neighbourhoods: list[Neighbourhood],
    groups_of: dict[uuid.UUID, list[tuple[uuid.UUID, int]]],
    rng: random.Random,
) -> list[_Plan]:
    plans: list[_Plan] = []

    def add(key: str, kind: GroupKind, name: str, n: Neighbourhood | None, households: int) -> None:
        founded_on = date(rng.randint(2016, 2023), rng.randint(1, 12), rng.randint(1, 28))
        if kind is GroupKind.GRASSROOTS_SECURITY_TEAM:
            # Teams under the 2023 law on grassroots forces, in force from 1 July 2024.
            founded_on = date(2024, 7, rng.randint(1, 31))
        decision_no = f"{rng.randint(100, 2999)}/QĐ-UBND"
        plans.append(
            _Plan(key, kind, name, n.id if n else None, households, founded_on, decision_no)
        )

    security = GroupKind.SECURITY_SELF_MANAGEMENT
    channel = GroupKind.CRIME_PREVENTION_CHANNEL
    mediation = GroupKind.MEDIATION_TEAM
    for n in neighbourhoods:
        where = f"khu phố {int(n.code[2:])}"
        add(f"security/{n.code}", security, f"Tổ tự quản an ninh, trật tự {where}", n, n.households)
        add(
            f"channel/{n.code}",
            channel,
            f"Nhóm Zalo phòng, chống tội phạm {where}",
            n,
            n.households,
        )
        if ward_code == HA_LONG:
            add(f"mediation/{n.code}", mediation, f"Tổ hòa giải {where}", n, n.households)
    if ward_code == HA_LONG:
        # One grassroots security team per three neighbourhoods, covering their residential groups.
        for team, start in enumerate(range(0, len(neighbourhoods), 3), start=1):
            covered = [rg for n in neighbourhoods[start : start + 3] for rg in groups_of[n.id]]
            households = sum(households for _, households in covered)
            name = f"Tổ bảo vệ an ninh, trật tự số {team}"
            add(f"grassroots/{team}", GroupKind.GRASSROOTS_SECURITY_TEAM, name, None, households)
            plans[-1].covered = [rg_id for rg_id, _ in covered]
        by_code = {n.code: n for n in neighbourhoods}
        market = "Tổ tự quản an ninh, phòng cháy chợ Hạ Long I"
        add("market", GroupKind.MARKET_SELF_MANAGEMENT, market, by_code["KP04"], 0)
        boarding = "Tổ tự quản khu nhà trọ công nhân khu phố 7"
        add(
            "boarding-house",
            GroupKind.BOARDING_HOUSE_SELF_MANAGEMENT,
            boarding,
            by_code["KP07"],
            38,
        )
    for plan in plans:
        plan.members = _members(ward_code, plan, rng)
    return plans


async def _seed_ward(session: AsyncSession, ward_code: str, summary: SeedSummary) -> None:
    rng = random.Random(f"wardsafe-demo-groups-{ward_code}")  # noqa: S311 (demo data)
    neighbourhoods = list(
        (
            await session.exec(
                select(Neighbourhood)
                .where(
                    col(Neighbourhood.ward_code) == ward_code,
                    col(Neighbourhood.deleted_at).is_(None),
                    col(Neighbourhood.code).like("KP%"),
                )
                .order_by(col(Neighbourhood.code))
            )
        ).all()
    )
    demo_neighbourhoods = [
        n for n in neighbourhoods if n.id == demo_id("neighbourhood", ward_code, n.code)
    ]
    residential_groups = await session.exec(
        select(ResidentialGroup)
        .where(
            col(ResidentialGroup.ward_code) == ward_code,
            col(ResidentialGroup.deleted_at).is_(None),
        )
        .order_by(col(ResidentialGroup.code))
    )
    groups_of: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
    for rg in residential_groups.all():
        groups_of.setdefault(rg.neighbourhood_id, []).append((rg.id, rg.households))
    plans = _plans(ward_code, demo_neighbourhoods, groups_of, rng)

    existing_groups = set(
        (
            await session.exec(
                select(SelfManagedGroup.id).where(col(SelfManagedGroup.ward_code) == ward_code)
            )
        ).all()
    )
    existing_members = set(
        (
            await session.exec(
                select(GroupMember.id).where(col(GroupMember.ward_code) == ward_code)
            )
        ).all()
    )
    led = set(
        (
            await session.exec(
                select(GroupMember.group_id).where(
                    col(GroupMember.ward_code) == ward_code,
                    col(GroupMember.position) == "leader",
                    col(GroupMember.left_on).is_(None),
                    col(GroupMember.deleted_at).is_(None),
                )
            )
        ).all()
    )
    for plan in plans:
        group_id = demo_id("group", ward_code, plan.key)
        if group_id not in existing_groups:
            channel = plan.kind is GroupKind.CRIME_PREVENTION_CHANNEL
            session.add(
                SelfManagedGroup(
                    id=group_id,
                    province_code=PROVINCE_CODE,
                    ward_code=ward_code,
                    neighbourhood_id=plan.neighbourhood_id,
                    kind=plan.kind.value,
                    name=plan.name,
                    search_key=fold(plan.name),
                    households_covered=plan.households or None,
                    founded_on=plan.founded_on,
                    founding_decision_no=plan.decision_no,
                    # The newspaper's figure: the channel links 100% of households.
                    households_linked=plan.households if channel else None,
                )
            )
            await session.flush()
            session.add_all(
                GroupResidentialGroup(group_id=group_id, residential_group_id=rg_id)
                for rg_id in plan.covered
            )
            summary.count("groups")
        login = LEADER_LOGINS.get((ward_code, plan.key))
        for member in plan.members:
            if member.id in existing_members:
                if login and member.position == "leader":
                    await _relink_login(session, member.id, login)
                continue
            if member.position == "leader":
                if group_id in led:
                    continue
                if login:
                    await _link_login(session, member, login)
            session.add(member)
            summary.count("group members")
    await session.flush()


async def _link_login(session: AsyncSession, member: GroupMember, username: str) -> None:
    """Make the demo group_leader account this leader, if the account was seeded."""
    user = await session.get(User, demo_id("user", username))
    if user is not None and user.role == Role.GROUP_LEADER.value and user.deleted_at is None:
        member.user_id = user.id
        member.full_name = user.full_name


async def _relink_login(session: AsyncSession, member_id: uuid.UUID, username: str) -> None:
    """Link a stored demo leader to its account if the account came later (logins seeded)."""
    stored = await session.get(GroupMember, member_id)
    if stored is not None and stored.user_id is None and stored.deleted_at is None:
        user = await session.get(User, demo_id("user", username))
        if user is not None and user.role == Role.GROUP_LEADER.value and user.deleted_at is None:
            stored.user_id = user.id
            stored.version += 1
            session.add(stored)


async def _seed_exemplary(session: AsyncSession, summary: SeedSummary) -> None:
    for ward_code, key, year, decision_no in EXEMPLARY:
        designation_id = demo_id("exemplary-model", ward_code, key, str(year))
        group_id = demo_id("group", ward_code, key)
        if await session.get(ExemplaryModel, designation_id) is not None:
            continue
        if await session.get(SelfManagedGroup, group_id) is None:
            continue
        session.add(
            ExemplaryModel(
                id=designation_id,
                group_id=group_id,
                province_code=PROVINCE_CODE,
                ward_code=ward_code,
                year=year,
                decision_no=decision_no,
                citation=f"Mô hình tự quản về an ninh, trật tự tiêu biểu năm {year}.",
            )
        )
        summary.count("exemplary models")
    await session.flush()


async def seed_demo(session: AsyncSession, summary: SeedSummary) -> None:
    """Hạ Long's groups and Bãi Cháy's channels, their members and a few exemplary models."""
    for ward_code in (HA_LONG, BAI_CHAY):
        await _seed_ward(session, ward_code, summary)
    await _seed_exemplary(session, summary)
