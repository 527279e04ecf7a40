"""``make bench``: load the data set, serve wardsafe and the anchors, drive them with wrk.

    python -m bench.run [--scale small|full] [--reload] [--runs N] [--duration S]

``BENCH_SCALE=small`` is the quick set. Results go to ``bench/results/latest.json``
(and ``bench/results/<scale>.json``, which the size-growth comparison reads)
and are printed as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import load
from bench.scenarios import Position, Scenario, build

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "request.lua"
SECRET = "bench-secret-key-0123456789abcdef0123456789"  # noqa: S105 (local benchmark only)
TTL_SECONDS = 86_400
HOST = "127.0.0.1"
DEEP_ROWS = 5_000


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


class RssSampler:
    """Samples VmRSS summed over a process and its descendants; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(children.get(pid, []))
        return pids

    def current_kb(self) -> int:
        total = 0
        for pid in self._tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_kb = max(self.peak_kb, self.current_kb())

    def reset(self) -> None:
        self.peak_kb = self.current_kb()

    def stop(self) -> None:
        self._stop.set()


class Server:
    """A uvicorn process on a port, up until stopped."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log.open("ab")
        self.process = subprocess.Popen(argv, env=env, stdout=self.log, stderr=self.log, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server on {port} exited; see {log}")
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers: up (the anchor has no /healthz)
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"server on {port} did not start; see {log}")
        self.rss = RssSampler(self.process.pid)

    def stop(self) -> None:
        self.rss.stop()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def server_env(fixture: load.Fixture) -> dict[str, str]:
    return {
        **os.environ,
        "WARDSAFE_DATABASE_URL": fixture.database_url,
        # What the runs measured before production became the default (docs,
        # open /metrics); both A/B sides then serve the same routes.
        "WARDSAFE_ENV": "development",
        # Each pass stops its server with SIGTERM: no load balancer to drain for.
        "WARDSAFE_SHUTDOWN_DRAIN_SECONDS": "0",
        "WARDSAFE_SECRET_KEY": SECRET,
        "WARDSAFE_ACCESS_TOKEN_TTL_SECONDS": str(TTL_SECONDS),
        "BENCH_DSN": fixture.dsn,
    }


def mint_tokens(fixture: load.Fixture) -> dict[str, str]:
    """Access tokens signed with the secret the server runs with (no sign-in, no throttling)."""
    from app.config import Settings
    from app.security import ROLE_SCOPES, Principal, Role, TokenSigner

    settings = Settings(
        env="development",
        secret_key=SECRET,
        database_url=fixture.database_url,
        access_token_ttl_seconds=TTL_SECONDS,
    )
    signer = TokenSigner(settings)

    def token(subject: uuid.UUID, role: Role, ward: str | None) -> str:
        principal = Principal(
            subject=subject,
            kind="user",
            role=role,
            unit_code=ward or fixture.province_code,
            province_code=fixture.province_code,
            ward_code=ward,
            neighbourhood_id=None,
            scopes=ROLE_SCOPES[role],
        )
        return signer.issue(principal)[0]

    return {
        "officer": token(fixture.officer_id, Role.WARD_OFFICER, fixture.ward_code),
        "province": token(fixture.province_officer_id, Role.PROVINCE_OFFICER, None),
        "resident": token(fixture.resident_id, Role.RESIDENT, fixture.ward_code),
    }


def get_json(port: int, path: str, token: str | None = None) -> Any:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (http://127.0.0.1)
        return json.load(answer)


async def deep_position(fixture: load.Fixture, port: int, token: str) -> Position:
    """The cursor 5,000 rows into the officer's reports (less on a smaller set), walked
    through the API, and the same position as a key for the anchor."""
    conn = await asyncpg.connect(fixture.dsn)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM reports WHERE ward_code = $1 AND deleted_at IS NULL",
            fixture.ward_code,
        )
        depth = min(DEEP_ROWS, max(200, (count - 100) // 200 * 200))
        row = await conn.fetchrow(
            "SELECT created_at, id FROM reports WHERE ward_code = $1 AND deleted_at IS NULL "
            "ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            fixture.ward_code,
            depth - 1,
        )
    finally:
        await conn.close()
    cursor: str | None = None
    for _ in range(depth // 200):
        query = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = get_json(port, "/api/v1/reports?" + urllib.parse.urlencode(query), token)
        cursor = page["next_cursor"]
    assert cursor is not None
    return Position(depth, cursor, row["created_at"].isoformat(), str(row["id"]))


def check(port: int, scenario: Scenario, path: str, token: str | None) -> None:
    """One request before the run: a scenario that fails says why at once."""
    headers = {"Content-Type": "application/json"} if scenario.body else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if scenario.idempotent_key:
        headers["Idempotency-Key"] = f"bench-check-{uuid.uuid4()}"
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}",
        data=scenario.body.encode() if scenario.body else None,
        headers=headers,
        method=scenario.method,
    )
    try:
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 (http://127.0.0.1)
    except urllib.error.HTTPError as error:
        detail = error.read()[:300]
        print(f"  ! {scenario.name} on {port}: {error.code} {detail!r}", flush=True)
    except OSError as error:
        # A server still busy with the previous scenario's backlog: wrk will tell.
        print(f"  ! {scenario.name} on {port}: {error!r}", flush=True)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale", default=os.environ.get("BENCH_SCALE", "full"), choices=sorted(load.SCALES)
    )
    parser.add_argument("--reload", action="store_true", help="drop and load the data again")
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario (median kept)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default="1,2", help="wardsafe worker counts to measure")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--anchor-port", type=int, default=8102)
    parser.add_argument("--only", default="", help="only scenarios whose name contains this")
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 1 if args.scale == "small" else 3

    binary = ensure_wrk()
    fixture = asyncio.run(load.ensure(args.scale, args.reload))
    tokens = mint_tokens(fixture)
    env = server_env(fixture)
    logs = Path(tempfile.mkdtemp(prefix="wardsafe-bench-"))
    print(f"server logs in {logs}", flush=True)
    python = sys.executable
    RESULTS.mkdir(parents=True, exist_ok=True)

    anchor = Server(
        [
            python,
            "-m",
            "uvicorn",
            "bench.anchors:app",
            "--host",
            HOST,
            "--port",
            str(args.anchor_port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        {**env, "BENCH_POOL": "20"},
        args.anchor_port,
        logs / "anchor.log",
    )
    output: dict[str, Any] = {
        "scale": args.scale,
        "workers": 1,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count()},
        "wrk": {
            "threads": 1,
            "connections": args.connections,
            "seconds": args.duration,
            "runs": args.runs,
            "warmup_seconds": args.warmup,
        },
        "load_seconds": fixture.load_seconds,
    }
    try:
        floor = measure(
            binary,
            anchor,
            Scenario("floor", "read", "/floor", None, "/floor"),
            "/floor",
            None,
            args,
        )
        print(f"framework floor (bare Starlette JSON): {floor.rps:,.0f} rps", flush=True)
        output["floor_rps"] = floor.rps
        anchor_rps: dict[str, float] = {}
        for count in [int(n) for n in args.workers.split(",")]:
            asyncio.run(load.reset(fixture.dsn))
            server = Server(
                [
                    str(Path(python).parent / "wardsafe"),
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(args.port),
                    "--workers",
                    str(count),
                ],
                {**env, "WARDSAFE_WORKERS": str(count)},
                args.port,
                logs / f"wardsafe-{count}.log",
            )
            try:
                deep = asyncio.run(deep_position(fixture, args.port, tokens["officer"]))
                scenarios = [s for s in build(fixture, deep) if args.only in s.name]
                results: list[Result] = []
                for scenario in scenarios:
                    token = tokens[scenario.token] if scenario.token else None
                    settle(fixture.dsn)
                    check(args.port, scenario, scenario.path, token)
                    result = measure(binary, server, scenario, scenario.path, token, args)
                    if count == 1:
                        settle(fixture.dsn)
                        check(args.anchor_port, scenario, scenario.anchor_path, None)
                        anchor_rps[scenario.name] = measure(
                            binary, anchor, scenario, scenario.anchor_path, None, args
                        ).rps
                    result.anchor_rps = anchor_rps.get(scenario.name)
                    if result.anchor_rps:
                        result.ratio = round(result.rps / result.anchor_rps, 3)
                    print(
                        f"  [{count}w] {scenario.name}: {result.rps:,.0f} rps "
                        f"(anchor {result.anchor_rps or 0:,.0f})",
                        flush=True,
                    )
                    results.append(result)
                results.extend(comparisons(results, args.scale, count))
                key = "scenarios" if count == 1 else f"scenarios_{count}_workers"
                output[key] = [
                    {k: v for k, v in asdict(r).items() if k != "runs"} | {"runs_rps": r.runs}
                    for r in results
                ]
                print(
                    f"\n{args.scale} set, {count} worker(s), floor {floor.rps:,.0f} rps\n"
                    + table(results)
                    + "\n",
                    flush=True,
                )
            finally:
                server.stop()
    finally:
        anchor.stop()
        asyncio.run(load.reset(fixture.dsn))
    text = json.dumps(output, indent=2, ensure_ascii=False)
    (RESULTS / "latest.json").write_text(text + "\n")
    (RESULTS / f"{args.scale}.json").write_text(text + "\n")
    print(f"wrote {RESULTS / 'latest.json'}")


def comparisons(results: list[Result], scale: str, workers: int = 1) -> list[Result]:
    """The deep page against page 1, and the list against the small set's list.

    ``ratio`` is rps over the reference's rps (1.0: flat); the targets ask for
    a cost within 1.25 times the reference, i.e. a ratio of at least 0.8."""
    by_name = {r.name: r for r in results}
    page1 = by_name.get("reports page 1")
    extra: list[Result] = []
    if page1 is None:
        return extra
    deep = next((r for r in results if r.name.startswith("reports deep page")), None)
    if deep is not None:
        extra.append(
            Result(
                f"{deep.name} vs page 1",
                "read",
                deep.rps,
                deep.p50_ms,
                deep.p99_ms,
                deep.errors,
                deep.non_2xx,
                deep.rss_mb,
                page1.rps,
                round(deep.rps / page1.rps, 3),
            )
        )
    small_file = RESULTS / "small.json"
    if scale != "small" and small_file.exists():
        small = json.loads(small_file.read_text())
        # The small set's run with as many workers.
        key = "scenarios" if workers == 1 else f"scenarios_{workers}_workers"
        reference = next((s for s in small.get(key, []) if s["name"] == "reports page 1"), None)
        if reference:
            extra.append(
                Result(
                    f"reports page 1, {scale} vs small set",
                    "read",
                    page1.rps,
                    page1.p50_ms,
                    page1.p99_ms,
                    page1.errors,
                    page1.non_2xx,
                    page1.rss_mb,
                    reference["rps"],
                    round(page1.rps / reference["rps"], 3),
                )
            )
    return extra


if __name__ == "__main__":
    main()
