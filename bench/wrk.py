"""Driving a server with wrk: one run, the median of several, and the table of results."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.scenarios import Scenario
from bench.server import HOST, ROOT, Server

LUA = ROOT / "bench" / "request.lua"


@dataclass
class Result:
    """One scenario's line of the table."""

    name: str
    kind: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    rss_mb: float
    anchor_rps: float | None = None
    ratio: float | None = None
    runs: list[float] = field(default_factory=list)


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("could not install wrk")
    return found


def wrk(
    binary: str,
    port: int,
    scenario: Scenario,
    path: str,
    token: str | None,
    seconds: int,
    connections: int,
) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_METHOD": scenario.method,
        "BENCH_PATH": path,
        "BENCH_BODY": scenario.body,
        "BENCH_TOKEN": token or "",
        "BENCH_IDEM": "1" if scenario.idempotent_key else "0",
        "BENCH_RUN": uuid.uuid4().hex[:12],
    }
    completed = subprocess.run(
        [
            binary,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            f"http://{HOST}:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if completed.stderr.strip():
        print("   ", completed.stderr.strip()[:300], flush=True)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
            return figures
    raise SystemExit(f"wrk said nothing usable:\n{completed.stdout}\n{completed.stderr}")


async def _settle(dsn: str, limit_seconds: float = 300.0) -> float:
    """Wait until no query of an earlier scenario still runs in the bench database.

    An anchor whose requests timed out (the province's statistics on the full
    set) leaves its server running the queued ones for minutes after wrk
    stops; the next scenario must not be measured against that backlog."""
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < limit_seconds:
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            )
            if not busy:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return time.perf_counter() - started


def settle(dsn: str) -> None:
    waited = asyncio.run(_settle(dsn))
    if waited > 1:
        print(f"    (waited {waited:.0f} s for the database to finish earlier queries)", flush=True)


def measure(
    binary: str,
    server: Server,
    scenario: Scenario,
    path: str,
    token: str | None,
    args: argparse.Namespace,
) -> Result:
    """Warm up, then ``args.runs`` runs; the run with the median rps is kept."""
    wrk(binary, server.port, scenario, path, token, args.warmup, args.connections)
    server.rss.reset()
    runs = [
        wrk(binary, server.port, scenario, path, token, args.duration, args.connections)
        for _ in range(args.runs)
    ]
    runs.sort(key=lambda r: r["rps"])
    kept = runs[len(runs) // 2]
    return Result(
        name=scenario.name,
        kind=scenario.kind,
        rps=round(kept["rps"], 1),
        p50_ms=round(kept["p50_us"] / 1000, 2),
        p99_ms=round(kept["p99_us"] / 1000, 2),
        errors=sum(r["errors"] for r in runs),
        non_2xx=sum(r["non2xx"] for r in runs),
        rss_mb=round(server.rss.peak_kb / 1024, 1),
        runs=[round(r["rps"], 1) for r in runs],
    )


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | kind | rps | p50 ms | p99 ms | errors | non-2xx | RSS MB "
        "| anchor rps | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        anchor = f"{r.anchor_rps:,.0f}" if r.anchor_rps is not None else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(
            f"| {r.name} | {r.kind} | {r.rps:,.0f} | {r.p50_ms} | {r.p99_ms} | {r.errors} "
            f"| {r.non_2xx} | {r.rss_mb} | {anchor} | {ratio} |"
        )
    return "\n".join(lines)
