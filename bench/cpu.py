"""Server CPU per request of one scenario, for an A/B of a change on a noisy machine.

    python -m bench.cpu [--scale small] [--scenario "report by id"] [--runs 5] [--seconds 10]

Serves wardsafe (1 worker), drives the scenario with wrk and reads the server
process's own CPU time (user + system, from /proc) around each run: CPU per
request moves far less with what else the machine is doing than requests per
second, which also depend on PostgreSQL and wrk getting the cores in time.
Run it on the commit before and on the change, back to back, with the same
``BENCH_DATABASE`` or each side's own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import load
from bench.scenarios import build
from bench.server import HOST, Server, deep_position, mint_tokens, server_env
from bench.wrk import ensure_wrk, wrk

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=sorted(load.SCALES))
    parser.add_argument("--scenario", default="report by id")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8104)
    args = parser.parse_args()

    binary = ensure_wrk()
    fixture = asyncio.run(load.ensure(args.scale))
    asyncio.run(load.reset(fixture.dsn))
    tokens = mint_tokens(fixture)
    log = Path(tempfile.mkdtemp(prefix="wardsafe-cpu-")) / "wardsafe.log"
    wardsafe = str(Path(sys.executable).parent / "wardsafe")
    argv = [wardsafe, "serve", "--host", HOST, "--port", str(args.port), "--workers", "1"]
    server = Server(argv, server_env(fixture), args.port, log)
    try:
        deep = asyncio.run(deep_position(fixture, args.port, tokens["officer"]))
        [scenario] = [s for s in build(fixture, deep) if s.name == args.scenario]
        token = tokens[scenario.token] if scenario.token else None
        wrk(binary, args.port, scenario, scenario.path, token, 2, args.connections)
        per_request = []
        for _ in range(args.runs):
            before = cpu_seconds(server.process.pid)
            figures = wrk(
                binary, args.port, scenario, scenario.path, token, args.seconds, args.connections
            )
            used = cpu_seconds(server.process.pid) - before
            per_request.append(used / figures["requests"] * 1e6)
            print(
                f"{scenario.name}: {used / figures['requests'] * 1e6:.0f} µs CPU per request, "
                f"{figures['rps']:,.0f} rps, {figures['non2xx']} non-2xx",
                flush=True,
            )
        print(f"median: {statistics.median(per_request):.0f} µs CPU per request", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
