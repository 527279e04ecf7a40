"""Instructions the server runs per request of each scenario, counted by callgrind.

    python -m bench.instructions [--scale small] [--count 200] ["cameras page 1" ...]

Serves wardsafe (uvicorn, 1 process) under valgrind's callgrind with counting
off, sends each scenario's request ``--warm`` times, then counts the
instructions of the next ``--count`` requests, sent one at a time. The count is
the same from run to run (within about 0.3 %) whatever else the machine is
doing, where CPU time per request moved by 30 % on a shared host: the A/B of a
change to a hot path on a noisy machine (docs/performance.md). It counts the
server's own work only (not PostgreSQL's), and an instruction is not a
nanosecond: a change that waits more on I/O or misses more cache shows in
``make bench``, not here. Needs valgrind (Debian's package ``valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from bench import load
from bench.scenarios import Scenario, build
from bench.server import HOST, ROOT, deep_position, mint_tokens, server_env


def send(port: int, scenario: Scenario, path: str, token: str | None) -> int:
    """One request of ``scenario``; its status."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = scenario.body.encode() if scenario.body else None
    if body is not None:
        headers["Content-Type"] = "application/json"
    if scenario.idempotent_key:
        headers["Idempotency-Key"] = f"bench-{uuid.uuid4().hex}"
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=body, headers=headers, method=scenario.method
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 (loopback)
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def total_instructions(dump: Path) -> int:
    """The ``totals:`` line of a callgrind dump (its header's ``summary:`` may be 0)."""
    for line in reversed(dump.read_text().splitlines()):
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {dump}")


class Counted:
    """wardsafe under callgrind, counting only between ``start`` and ``stop``."""

    def __init__(self, fixture: load.Fixture, port: int, out: Path) -> None:
        self.out = out
        self.dumps = 0
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}/callgrind.%p",
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-access-log",
        ]
        self.log = (out / "server.log").open("ab")
        self.process = subprocess.Popen(
            argv, env=server_env(fixture), stdout=self.log, stderr=self.log, cwd=ROOT
        )
        deadline = time.monotonic() + 600  # a slow start: every import runs under valgrind
        while True:
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"wardsafe did not start under valgrind; see {out}/server.log"
                    ) from None
                time.sleep(1)

    def _control(self, *args: str) -> None:
        subprocess.run(
            ["callgrind_control", *args, str(self.process.pid)], check=True, capture_output=True
        )

    def start(self) -> None:
        self._control("--zero")
        self._control("--instr=on")

    def stop(self) -> int:
        """Instructions counted since ``start``."""
        self._control("--instr=off")
        self._control("--dump")
        self.dumps += 1
        pattern = f"callgrind.{self.process.pid}.{self.dumps}"
        deadline = time.monotonic() + 300
        while not (self.out / pattern).exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"no callgrind dump {pattern} in {self.out}")
            time.sleep(0.5)
        time.sleep(1)  # written as the file appears; let it finish
        return total_instructions(self.out / pattern)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: every one)")
    parser.add_argument("--scale", default="small", choices=sorted(load.SCALES))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--warm", type=int, default=60)
    parser.add_argument("--port", type=int, default=8105)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("bench.instructions needs valgrind: apt-get install valgrind")

    fixture = asyncio.run(load.ensure(args.scale))
    asyncio.run(load.reset(fixture.dsn))
    tokens = mint_tokens(fixture)
    out = Path(tempfile.mkdtemp(prefix="wardsafe-instructions-"))
    server = Counted(fixture, args.port, out)
    figures: dict[str, float] = {}
    try:
        deep = asyncio.run(deep_position(fixture, args.port, tokens["officer"]))
        scenarios = {s.name: s for s in build(fixture, deep)}
        unknown = set(args.scenarios) - scenarios.keys()
        if unknown:
            raise SystemExit(f"no such scenarios: {sorted(unknown)}; there are {sorted(scenarios)}")
        for name in args.scenarios or list(scenarios):
            scenario = scenarios[name]
            token = tokens[scenario.token] if scenario.token else None
            for _ in range(args.warm):
                status = send(args.port, scenario, scenario.path, token)
                if not 200 <= status < 300:
                    raise SystemExit(f"{name}: {status} answered while warming up")
            server.start()
            statuses = [send(args.port, scenario, scenario.path, token) for _ in range(args.count)]
            used = server.stop()
            failed = sum(1 for status in statuses if not 200 <= status < 300)
            figures[name] = used / args.count
            print(
                f"{name}: {used / args.count / 1e6:.3f} M instructions per request"
                + (f" ({failed} non-2xx)" if failed else ""),
                flush=True,
            )
    finally:
        server.close()
        asyncio.run(load.reset(fixture.dsn))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
