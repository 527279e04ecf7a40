"""Demo community reports over 2025 and a few broadcasts with acknowledgements.

Hạ Long gets 140 reports across every category and status (most anonymous,
some filed by ``resident.halong``), with their histories; Bãi Cháy 30.
Anonymous demo reports have predictable tracking codes (``wtc_demo_06688_0003``),
so that the docs can show the tracking endpoint: demo data only.
Deterministic (``random.Random`` seeded per ward, ids from ``demo_id``) and
idempotent: a rerun adds only what is missing.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG, PROVINCE_CODE, SeedSummary, demo_id
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement, BroadcastTarget
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.models.users import User
from app.security import hash_secret

_WEIGHTS = {
    "noise": 24,
    "theft": 15,
    "traffic": 14,
    "suspicious_person": 10,
    "other": 9,
    "fire_hazard": 8,
    "fighting": 8,
    "gambling": 7,
    "drugs": 5,
}
_DESCRIPTIONS = {
    "noise": (
        "Hát karaoke rất to sau 23 giờ, nhiều đêm liền.",
        "Công trình thi công ồn ào ban đêm.",
    ),
    "theft": ("Mất trộm xe máy để trước cửa nhà.", "Bị giật điện thoại khi đi bộ ven biển."),
    "traffic": ("Xe tải đỗ chắn ngõ, xe cứu thương không vào được.", "Nhóm thanh niên đua xe."),
    "suspicious_person": (
        "Người lạ đi xe không biển số hỏi thăm từng nhà.",
        "Có người lạ soi cửa.",
    ),
    "other": ("Đèn đường hỏng, ngõ tối nhiều tuần.", "Vứt rác bừa bãi ở bãi đất trống."),
    "fire_hazard": ("Ngửi thấy mùi gas ở tầng 1 nhà trọ.", "Dây điện chằng chịt, chập cháy."),
    "fighting": ("Hai nhóm xô xát trước quán nhậu.", "Cãi nhau to, có người cầm gậy."),
    "gambling": ("Tụ tập đánh bạc ăn tiền trong nhà hoang.", "Ghi lô đề ở quán nước đầu ngõ."),
    "drugs": ("Nghi có người sử dụng ma túy trong nhà trọ.", "Thấy kim tiêm vứt ở bãi cỏ."),
}
_STREETS = (
    "Lê Thánh Tông",
    "Cao Xanh",
    "Bến Đoan",
    "Hà Lầm",
    "Vườn Đào",
    "Ba Đèo",
    "Hạ Long",
    "Hậu Cần",
)
_PUBLIC_NOTES = {
    "acknowledged": "Công an phường đã tiếp nhận, sẽ cử cán bộ xác minh.",
    "in_progress": "Tổ công tác đang xác minh tại hiện trường.",
    "resolved": "Đã xử lý xong; cảm ơn người dân đã phản ánh.",
    "rejected": "Nội dung không thuộc thẩm quyền hoặc không đủ căn cứ xác minh.",
    "duplicate": "Trùng với một phản ánh đã tiếp nhận trước đó.",
}
_INTERNAL = "Ghi chú nội bộ: đối chiếu camera khu vực và danh sách lưu trú."
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _WardPlan:
    ward_code: str
    reports: int
    neighbourhoods: int
    officer: str
    resident: str
    centre: tuple[float, float]


PLANS = (
    _WardPlan(HA_LONG, 140, 27, "officer.halong", "resident.halong", (20.9526, 107.0810)),
    _WardPlan(BAI_CHAY, 30, 5, "officer.baichay", "resident.baichay", (20.9580, 107.0450)),
)


def tracking_code(ward_code: str, number: int) -> str:
    """The demo tracking code of an anonymous demo report."""
    return f"wtc_demo_{ward_code}_{number:04d}"


async def _existing(
    session: AsyncSession, model: type[Report] | type[Broadcast], ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    found = await session.exec(select(model.id).where(col(model.id).in_(ids)))
    return set(found.all())


async def _users(session: AsyncSession, usernames: list[str]) -> set[uuid.UUID]:
    ids = [demo_id("user", name) for name in usernames]
    found = await session.exec(select(User.id).where(col(User.id).in_(ids)))
    return set(found.all())


def _path(status: str, rng: random.Random) -> list[str]:
    """The statuses a report passed through to reach ``status``."""
    if status in ("rejected", "duplicate"):
        stops = ["received", "acknowledged", "in_progress"][: rng.randint(1, 2)]
        return [*stops, status]
    order = ["received", "acknowledged", "in_progress", "resolved"]
    return order[: order.index(status) + 1]


def _status(created: datetime, rng: random.Random) -> str:
    # Older reports are mostly closed; the last weeks of the year still open.
    age = (datetime(2026, 1, 1, tzinfo=UTC) - created).days
    if age > 45:
        return rng.choices(("resolved", "rejected", "duplicate", "in_progress"), (80, 10, 6, 4))[0]
    return rng.choices(
        ("received", "acknowledged", "in_progress", "resolved", "rejected"), (15, 25, 30, 25, 5)
    )[0]


async def seed_reports(session: AsyncSession, summary: SeedSummary) -> None:
    """Demo reports with their histories; a rerun adds nothing."""
    for plan in PLANS:
        await _seed_ward(session, plan, summary)


async def _seed_ward(session: AsyncSession, plan: _WardPlan, summary: SeedSummary) -> None:
    rng = random.Random(f"wardsafe-demo-reports-{plan.ward_code}")  # noqa: S311 (demo data)
    ids = [demo_id("report", plan.ward_code, str(n)) for n in range(plan.reports)]
    present = await _existing(session, Report, ids)
    officer_id, resident_id = demo_id("user", plan.officer), demo_id("user", plan.resident)
    accounts = await _users(session, [plan.officer, plan.resident])
    categories, weights = list(_WEIGHTS), list(_WEIGHTS.values())
    originals: list[uuid.UUID] = []  # reports a later one may duplicate
    for number, report_id in enumerate(ids):
        # Draw everything whether or not the report exists, so that a rerun
        # (or a partial seed) draws the same values for the same report.
        created = YEAR_START + timedelta(minutes=rng.randint(0, 364 * 24 * 60))
        category = rng.choices(categories, weights)[0]
        path = _path(_status(created, rng), rng)
        signed = rng.random() < 0.2 and resident_id in accounts
        neighbourhood = demo_id(
            "neighbourhood", plan.ward_code, f"KP{rng.randint(1, plan.neighbourhoods):02d}"
        )
        lat = plan.centre[0] + rng.uniform(-0.01, 0.01)
        lon = plan.centre[1] + rng.uniform(-0.015, 0.015)
        address = f"Ngõ {rng.randint(1, 80)} {rng.choice(_STREETS)}"
        description = rng.choice(_DESCRIPTIONS[category])
        # Time to acknowledge: log-normal, a median near 25 minutes, a long tail.
        waits = [timedelta(minutes=math.exp(rng.gauss(math.log(25), 0.9)))]
        waits += [timedelta(hours=rng.uniform(2, 72)) for _ in path[2:]]
        priority = rng.choices(("low", "normal", "high", "urgent"), (15, 60, 20, 5))[0]
        public = [rng.random() < 0.5 for _ in path]
        duplicate_of = originals[-1] if path[-1] == "duplicate" and originals else None
        if path[-1] == "duplicate" and duplicate_of is None:
            path[-1] = "rejected"
        if path[-1] != "duplicate":
            originals.append(report_id)
        if report_id in present:
            continue
        times = [created]
        for wait in waits[: len(path) - 1]:
            times.append(times[-1] + wait)
        assigned = officer_id if officer_id in accounts and len(path) > 2 else None
        final = path[-1]
        code = tracking_code(plan.ward_code, number)
        report = Report(
            id=report_id,
            created_at=created,
            updated_at=times[-1],
            version=len(path),
            province_code=PROVINCE_CODE,
            ward_code=plan.ward_code,
            neighbourhood_id=neighbourhood,
            category=category,
            description=description,
            lat=round(lat, 6),
            lon=round(lon, 6),
            address=address,
            anonymous=not signed,
            reporter_id=resident_id if signed else None,
            tracking_code_hash=None if signed else hash_secret(code),
            status=final,
            priority=priority,
            assigned_to=assigned,
            duplicate_of=duplicate_of,
            acknowledged_at=times[1] if len(times) > 1 else None,
            resolved_at=times[-1] if final == "resolved" else None,
        )
        session.add(report)
        await session.flush()
        for step, (before, after) in enumerate(itertools.pairwise(path), start=1):
            shown = after != "in_progress" or public[step]
            session.add(
                ReportUpdate(
                    id=demo_id("report-update", plan.ward_code, str(number), str(step)),
                    created_at=times[step],
                    updated_at=times[step],
                    report_id=report_id,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    kind="transition",
                    from_status=before,
                    to_status=after,
                    note=_PUBLIC_NOTES[after] if shown else _INTERNAL,
                    public=shown,
                    author_id=officer_id,
                    assigned_to=assigned if step == 1 else None,
                )
            )
        summary.count("reports")
    await session.flush()


@dataclass(frozen=True)
class _BroadcastPlan:
    key: str
    ward_code: str
    kind: str
    title: str
    body: str
    targets: tuple[str, ...]  # "ward" or neighbourhood codes ("KP01")
    publish_at: datetime
    expires_at: datetime | None
    author: str
    acknowledged_by: tuple[str, ...]


BROADCASTS = (
    _BroadcastPlan(
        "residence-law",
        HA_LONG,
        "legal_knowledge",
        "Luật Cư trú 2020: thông báo lưu trú",
        "Người đến lưu trú dưới 30 ngày phải được thông báo với công an trước 23 giờ "
        "cùng ngày đến (trước 8 giờ sáng hôm sau nếu đến sau 23 giờ). Chủ nhà trọ, "
        "chủ hộ có trách nhiệm thông báo.",
        ("ward",),
        datetime(2025, 3, 1, 1, 0, tzinfo=UTC),
        None,
        "officer.halong",
        ("resident.halong", "head.halong", "leader.halong", "camera.halong"),
    ),
    _BroadcastPlan(
        "phone-scam",
        HA_LONG,
        "warning",
        "Cảnh báo lừa đảo giả danh công an qua điện thoại",
        "Công an không làm việc qua điện thoại và không yêu cầu chuyển tiền. Khi nhận "
        "cuộc gọi như vậy, không chuyển tiền và báo ngay cho công an phường.",
        ("KP01", "KP02"),
        datetime(2025, 11, 3, 2, 0, tzinfo=UTC),
        None,
        "officer.halong",
        ("resident.halong",),
    ),
    _BroadcastPlan(
        "peak-period",
        HA_LONG,
        "announcement",
        "Cao điểm tấn công, trấn áp tội phạm 1/8 – 15/10/2025",
        "Đề nghị nhân dân tích cực cung cấp thông tin về tội phạm và tệ nạn xã hội.",
        ("ward",),
        datetime(2025, 8, 1, 0, 0, tzinfo=UTC),
        datetime(2025, 10, 15, 17, 0, tzinfo=UTC),
        "officer.halong",
        ("head.halong",),
    ),
    _BroadcastPlan(
        "fire-drill",
        BAI_CHAY,
        "announcement",
        "Diễn tập phòng cháy chữa cháy tổ liên gia",
        "Sáng Chủ nhật 8 giờ, diễn tập PCCC tại khu phố 1. Mỗi hộ cử một người tham gia.",
        ("KP01",),
        datetime(2025, 12, 1, 1, 0, tzinfo=UTC),
        None,
        "officer.baichay",
        ("resident.baichay", "head.baichay"),
    ),
)


async def seed_broadcasts(session: AsyncSession, summary: SeedSummary) -> None:
    """Demo broadcasts and their acknowledgements; a rerun adds nothing."""
    ids = [demo_id("broadcast", plan.key) for plan in BROADCASTS]
    present = await _existing(session, Broadcast, ids)
    usernames = sorted({name for plan in BROADCASTS for name in plan.acknowledged_by})
    accounts = await _users(session, usernames)
    for plan, broadcast_id in zip(BROADCASTS, ids, strict=True):
        if broadcast_id in present:
            continue
        targets = [
            (plan.ward_code if target == "ward" else str(_neighbourhood(plan, target)), target)
            for target in plan.targets
        ]
        session.add(
            Broadcast(
                id=broadcast_id,
                created_at=plan.publish_at,
                updated_at=plan.publish_at,
                province_code=PROVINCE_CODE,
                ward_code=plan.ward_code,
                kind=plan.kind,
                title=plan.title,
                body=plan.body,
                target_unit_codes=[code for code, _ in targets],
                publish_at=plan.publish_at,
                expires_at=plan.expires_at,
                author_id=demo_id("user", plan.author),
            )
        )
        await session.flush()
        for code, target in targets:
            session.add(
                BroadcastTarget(
                    id=demo_id("broadcast-target", plan.key, code),
                    broadcast_id=broadcast_id,
                    level="ward" if target == "ward" else "neighbourhood",
                    unit_code=code,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    neighbourhood_id=None if target == "ward" else _neighbourhood(plan, target),
                )
            )
        for offset, username in enumerate(plan.acknowledged_by):
            user_id = demo_id("user", username)
            if user_id not in accounts:
                continue
            at = plan.publish_at + timedelta(hours=3 + 5 * offset)
            session.add(
                BroadcastAcknowledgement(
                    id=demo_id("broadcast-acknowledgement", plan.key, username),
                    created_at=at,
                    updated_at=at,
                    broadcast_id=broadcast_id,
                    user_id=user_id,
                    province_code=PROVINCE_CODE,
                    ward_code=plan.ward_code,
                    neighbourhood_id=None
                    if username.startswith("camera.")
                    else _neighbourhood(plan, "KP01"),
                )
            )
        summary.count("broadcasts")
    await session.flush()


def _neighbourhood(plan: _BroadcastPlan, code: str) -> uuid.UUID:
    return demo_id("neighbourhood", plan.ward_code, code)


async def seed_demo(session: AsyncSession, summary: SeedSummary) -> None:
    """Reports, then broadcasts."""
    await seed_reports(session, summary)
    await seed_broadcasts(session, summary)
