"""The benchmark's servers: wardsafe and the anchors as uvicorn processes, their
environment and tokens, and the requests it sends them outside wrk (a scenario's
check, the deep page's cursor)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench import load
from bench.scenarios import Position, Scenario

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-0123456789abcdef0123456789"  # noqa: S105 (local benchmark only)
TTL_SECONDS = 86_400
HOST = "127.0.0.1"
DEEP_ROWS = 5_000


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
    from app.security import ROLE_SCOPES, Principal, Role
    from app.tokens import TokenSigner

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
    changes_cursor, changes_after = await _deep_in_the_change_log(fixture)
    return Position(
        depth,
        cursor,
        row["created_at"].isoformat(),
        str(row["id"]),
        changes_cursor,
        changes_after,
    )


async def _deep_in_the_change_log(fixture: load.Fixture) -> tuple[str, tuple[int, int]]:
    """A feed cursor halfway through the officer's ward's changes (the full set: about
    9,000 reports' in), signed as the server signs it, and the same position."""
    from app.db import utcnow
    from app.pagination import CursorCodec
    from app.services.changes.cursors import Position as FeedPosition
    from app.services.changes.cursors import Units

    conn = await asyncpg.connect(fixture.dsn)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM changes WHERE ward_code = $1", fixture.ward_code
        )
        row = await conn.fetchrow(
            "SELECT txid, id FROM changes WHERE ward_code = $1 ORDER BY txid, id OFFSET $2 LIMIT 1",
            fixture.ward_code,
            max(0, count // 2),
        )
    finally:
        await conn.close()
    assert row is not None, "the change log is empty: load the set again (--reload)"
    units = Units(f"w:{fixture.ward_code}", fixture.province_code, fixture.ward_code)
    position = FeedPosition(row["txid"], row["id"], None, utcnow())
    return position.encode(CursorCodec(SECRET), units), (row["txid"], row["id"])


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
