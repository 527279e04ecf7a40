"""Load a province-sized data set into a PostgreSQL database of its own, deterministically.

Every ward of Quảng Ninh (province 22); reports, cameras, groups with members
and the accounts the scenarios sign in as. Rows go in with COPY
(asyncpg's ``copy_records_to_table``), never through the API. A small table
``bench_meta`` records what was loaded, so a second run with the same scale
and seed skips the load (``--reload`` forces it).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from app.models.cameras import unit_vector

PROVINCE = "22"  # Quảng Ninh
HA_LONG = "06688"  # Phường Hạ Long: the ward the officer scenarios run in
SEED = 20261129
NOW = datetime(2026, 11, 29, tzinfo=UTC)
# Hạ Long's centre; cameras are packed into about 11 km x 11 km around it.
CENTRE_LAT, CENTRE_LON = 20.9526, 107.0812

SCALES: dict[str, dict[str, int]] = {
    "small": {"reports": 10_000, "cameras": 1_000, "groups": 200, "members_per_group": 5},
    "full": {"reports": 1_000_000, "cameras": 100_000, "groups": 20_000, "members_per_group": 5},
}
# A fifth of the reports and half the cameras are Hạ Long's: the busiest ward.
HA_LONG_SHARE_REPORTS = 0.2
HA_LONG_SHARE_CAMERAS = 0.5
CATEGORIES = (
    "theft",
    "fighting",
    "drugs",
    "gambling",
    "fire_hazard",
    "suspicious_person",
    "traffic",
    "noise",
    "other",
)
STATUSES = ("received", "acknowledged", "in_progress", "resolved", "rejected", "duplicate")
STATUS_WEIGHTS = (10, 8, 7, 60, 10, 5)
GROUP_KINDS = ("security_self_management", "crime_prevention_channel", "mediation_team")


@dataclass(frozen=True)
class Fixture:
    """What the scenarios need to know about the loaded data."""

    database_url: str  # postgresql+asyncpg://... for wardsafe
    dsn: str  # postgresql://... for asyncpg
    scale: str
    ward_code: str
    province_code: str
    officer_id: uuid.UUID
    province_officer_id: uuid.UUID
    resident_id: uuid.UUID
    report_id: uuid.UUID
    load_seconds: float | None


async def reset(dsn: str) -> None:
    """Back to the loaded set: remove what a run wrote (the write scenario's reports, their
    audit events and idempotency keys), so every run reads the same data."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("DELETE FROM report_updates WHERE created_at > $1", NOW)
            await conn.execute("DELETE FROM reports WHERE created_at > $1", NOW)
            await conn.execute("DELETE FROM changes WHERE changed_at > $1", NOW)
            await conn.execute("DELETE FROM idempotency_keys")
            await conn.execute("DELETE FROM audit_events")
        await conn.execute("VACUUM ANALYZE reports")
    finally:
        await conn.close()


def dsns(scale: str) -> tuple[str, str, str]:
    """(server dsn for CREATE DATABASE, asyncpg dsn, SQLAlchemy url) of the scale's database."""
    base = os.environ.get("BENCH_PG", "postgres@127.0.0.1:5432")
    # BENCH_DATABASE: another name, for an A/B against a commit with another schema.
    name = os.environ.get("BENCH_DATABASE") or f"wardsafe_bench_{scale}"
    return (
        f"postgresql://{base}/postgres",
        f"postgresql://{base}/{name}",
        f"postgresql+asyncpg://{base}/{name}",
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _stamp(rng: random.Random, days_back: float) -> datetime:
    return NOW - timedelta(seconds=rng.random() * days_back * 86400)


async def _columns(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "ORDER BY ordinal_position",
        table,
    )
    return [row["column_name"] for row in rows]


async def _copy(
    conn: asyncpg.Connection, table: str, rows: list[dict[str, Any]], chunk: int = 50_000
) -> None:
    """COPY dicts into ``table``; columns a row leaves out are NULL."""
    names = await _columns(conn, table)
    for start in range(0, len(rows), chunk):
        records = [tuple(row.get(name) for name in names) for row in rows[start : start + chunk]]
        await conn.copy_records_to_table(table, records=records, columns=names)


def _record(rng: random.Random, created: datetime) -> dict[str, Any]:
    return {
        "id": _uuid(rng),
        "created_at": created,
        "updated_at": created,
        "version": 1,
        "deleted_at": None,
    }


async def _load(conn: asyncpg.Connection, scale: str) -> dict[str, Any]:
    sizes = SCALES[scale]
    rng = random.Random(SEED)
    wards = [
        row["code"]
        for row in await conn.fetch(
            "SELECT code FROM wards WHERE province_code = $1 ORDER BY code", PROVINCE
        )
    ]
    others = [code for code in wards if code != HA_LONG]
    from app.security import hash_password

    password_hash = hash_password("wardsafe-bench")

    # Accounts: an officer and a resident per ward, a province officer, an admin.
    users: list[dict[str, Any]] = []

    def user(username: str, role: str, ward: str | None) -> dict[str, Any]:
        row = {
            **_record(rng, NOW - timedelta(days=400)),
            "username": username,
            "full_name": f"Bench {username}",
            "phone": None,
            "role": role,
            "unit_code": ward or PROVINCE,
            "province_code": PROVINCE,
            "ward_code": ward,
            "neighbourhood_id": None,
            "is_active": True,
            "password_hash": password_hash,
            "token_epoch": 0,
        }
        users.append(row)
        return row

    officer = user("bench.officer", "ward_officer", HA_LONG)
    resident = user("bench.resident", "resident", HA_LONG)
    province_officer = user("bench.province", "province_officer", None)
    user("bench.admin", "admin", None)["unit_code"] = None
    for code in others:
        user(f"bench.officer.{code}", "ward_officer", code)
        user(f"bench.resident.{code}", "resident", code)
    await _copy(conn, "users", users)

    # Reports over the last two years, newest first in the lists.
    reports: list[dict[str, Any]] = []
    for _ in range(sizes["reports"]):
        ward = HA_LONG if rng.random() < HA_LONG_SHARE_REPORTS else rng.choice(others)
        created = _stamp(rng, 730)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        acknowledged = (
            created + timedelta(minutes=5 + rng.random() * 600) if status != "received" else None
        )
        resolved = (
            acknowledged + timedelta(hours=rng.random() * 72)
            if acknowledged and status in ("resolved", "rejected", "duplicate")
            else None
        )
        has_point = rng.random() < 0.7
        reports.append(
            {
                **_record(rng, created),
                "province_code": PROVINCE,
                "ward_code": ward,
                "neighbourhood_id": None,
                "category": rng.choice(CATEGORIES),
                "description": "Phản ánh của người dân về an ninh trật tự, số "
                f"{rng.randrange(1, 10**6)}.",
                "lat": CENTRE_LAT + (rng.random() - 0.5) * 0.1 if has_point else None,
                "lon": CENTRE_LON + (rng.random() - 0.5) * 0.1 if has_point else None,
                "address": f"{rng.randrange(1, 400)} Lê Thánh Tông",
                "media_refs": "[]",
                "attributes": "{}",
                "anonymous": rng.random() < 0.3,
                "reporter_id": None,
                "tracking_code_hash": None,
                "source": "app",
                "client_id": None,
                "status": status,
                "priority": "normal",
                "assigned_to": None,
                "duplicate_of": None,
                "acknowledged_at": acknowledged,
                "resolved_at": resolved,
            }
        )
    await _copy(conn, "reports", reports)
    report_id = next(r["id"] for r in reports[len(reports) // 2 :] if r["ward_code"] == HA_LONG)
    del reports

    # Cameras packed around Hạ Long, half of them Hạ Long's; unit vectors from lat and lon.
    cameras: list[dict[str, Any]] = []
    for number in range(sizes["cameras"]):
        lat = CENTRE_LAT + (rng.random() - 0.5) * 0.1
        lon = CENTRE_LON + (rng.random() - 0.5) * 0.1
        x, y, z = unit_vector(lat, lon)
        cameras.append(
            {
                **_record(rng, _stamp(rng, 365)),
                "province_code": PROVINCE,
                "ward_code": HA_LONG
                if rng.random() < HA_LONG_SHARE_CAMERAS
                else rng.choice(others),
                "neighbourhood_id": None,
                "owner_kind": rng.choice(("household", "business", "school", "agency", "public")),
                "owner_user_id": None,
                "owner_name": f"Chủ camera {number}",
                "owner_phone": f"09{rng.randrange(10**8):08d}",
                "label": "Cổng trước",
                "address": f"{rng.randrange(1, 400)} Lê Thánh Tông",
                "lat": lat,
                "lon": lon,
                "bearing_deg": rng.randrange(360),
                "covers": None,
                "retention_days": rng.choice((7, 14, 30, 90)),
                "sharing": rng.choice(("none", "on_request", "live")),
                "status": rng.choice(("active", "active", "active", "offline")),
                "last_verified_on": None,
                "unit_x": x,
                "unit_y": y,
                "unit_z": z,
            }
        )
    await _copy(conn, "cameras", cameras)
    del cameras

    groups: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for number in range(sizes["groups"]):
        ward = HA_LONG if rng.random() < 0.1 else rng.choice(others)
        group = {
            **_record(rng, _stamp(rng, 1000)),
            "province_code": PROVINCE,
            "ward_code": ward,
            "neighbourhood_id": None,
            "kind": rng.choice(GROUP_KINDS),
            "name": f"Tổ tự quản số {number}",
            "search_key": f"to tu quan so {number}",
            "households_covered": rng.randrange(20, 200),
            "founded_on": date(2020, 1, 1) + timedelta(days=rng.randrange(2000)),
            "founding_decision_no": None,
            "status": "active",
            "charter_notes": None,
            "households_linked": None,
        }
        groups.append(group)
        for position in range(sizes["members_per_group"]):
            members.append(
                {
                    **_record(rng, group["created_at"]),
                    "group_id": group["id"],
                    "province_code": PROVINCE,
                    "ward_code": ward,
                    "full_name": f"Thành viên {number}-{position}",
                    "phone": None,
                    "birth_year": 1950 + rng.randrange(55),
                    "position": "leader" if position == 0 else "member",
                    "joined_on": group["founded_on"],
                    "resident_since": None,
                    "elected_on": None,
                    "exception_approved_by": None,
                    "left_on": None,
                    "user_id": None,
                }
            )
    await _copy(conn, "self_managed_groups", groups)
    await _copy(conn, "group_members", members)
    # Each record's change for the sync feed, as the change log's migration writes one
    # for every record that exists: the log at the set's size (the full set: 1.2 M).
    for table, record_type in _LOGGED:
        await conn.execute(
            "INSERT INTO changes (record_type, record_id, op, version, province_code, "
            f"ward_code, changed_at) SELECT '{record_type}', id::text, 'upsert', version, "
            f"province_code, ward_code, updated_at FROM {table} ORDER BY created_at, id"
        )
    return {
        "officer_id": str(officer["id"]),
        "province_officer_id": str(province_officer["id"]),
        "resident_id": str(resident["id"]),
        "report_id": str(report_id),
    }


_LOGGED = (
    ("users", "user"),
    ("reports", "report"),
    ("cameras", "camera"),
    ("self_managed_groups", "group"),
    ("group_members", "group_member"),
)


async def ensure(scale: str, reload: bool = False) -> Fixture:
    """The scale's database, created, migrated and loaded unless it already holds that load."""
    server, dsn, url = dsns(scale)
    admin = await asyncpg.connect(server)
    name = dsn.rsplit("/", 1)[1]
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and reload:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()

    conn = await asyncpg.connect(dsn)
    try:
        meta = None
        if await conn.fetchval("SELECT to_regclass('bench_meta')"):
            meta = await conn.fetchrow("SELECT scale, seed, facts, load_seconds FROM bench_meta")
        if meta and meta["scale"] == scale and meta["seed"] == SEED:
            facts = json.loads(meta["facts"])
            load_seconds = meta["load_seconds"]
            # A loaded set still takes the migrations written since (new
            # indexes); each pass's reset() runs VACUUM ANALYZE after.
            env = {**os.environ, "WARDSAFE_DATABASE_URL": url, "WARDSAFE_ENV": "development"}
            wardsafe = os.path.join(os.path.dirname(sys.executable), "wardsafe")
            await asyncio.to_thread(subprocess.run, [wardsafe, "migrate"], check=True, env=env)
        else:
            if meta is not None:
                raise SystemExit(f"{name} holds another load; run with --reload")
            env = {**os.environ, "WARDSAFE_DATABASE_URL": url, "WARDSAFE_ENV": "development"}
            wardsafe = os.path.join(os.path.dirname(sys.executable), "wardsafe")
            for command in ("migrate", "import-units"):
                await asyncio.to_thread(subprocess.run, [wardsafe, command], check=True, env=env)
            print(f"loading the {scale} set into {name} ...", flush=True)
            started = time.perf_counter()
            async with conn.transaction():
                facts = await _load(conn, scale)
            load_seconds = time.perf_counter() - started
            print(f"loaded in {load_seconds:.1f} s; VACUUM ANALYZE ...", flush=True)
            await conn.execute("VACUUM ANALYZE")
            load_seconds = time.perf_counter() - started
            await conn.execute(
                "CREATE TABLE bench_meta (scale text, seed bigint, facts text, "
                "load_seconds double precision)"
            )
            await conn.execute(
                "INSERT INTO bench_meta VALUES ($1, $2, $3, $4)",
                scale,
                SEED,
                json.dumps(facts),
                load_seconds,
            )
            print(f"load + VACUUM ANALYZE: {load_seconds:.1f} s", flush=True)
    finally:
        await conn.close()
    return Fixture(
        database_url=url,
        dsn=dsn,
        scale=scale,
        ward_code=HA_LONG,
        province_code=PROVINCE,
        officer_id=uuid.UUID(facts["officer_id"]),
        province_officer_id=uuid.UUID(facts["province_officer_id"]),
        resident_id=uuid.UUID(facts["resident_id"]),
        report_id=uuid.UUID(facts["report_id"]),
        load_seconds=load_seconds,
    )
