"""Profile wardsafe under load for one scenario with the standard library's cProfile.

    python -m bench.profiling [--scale small] [--scenario "report by id"] [--seconds 10]

Serves wardsafe (1 worker) under ``cProfile`` on another port, drives one
scenario with wrk, stops the server with SIGINT (so the profile is written)
and prints the functions with the most own time, and the most cumulative time
inside ``app``. py-spy or pyinstrument give nicer pictures; this needs
nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import load
from bench.scenarios import build
from bench.server import HOST, Server, deep_position, mint_tokens, server_env
from bench.wrk import ensure_wrk, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=sorted(load.SCALES))
    parser.add_argument("--scenario", default="report by id")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()

    binary = ensure_wrk()
    fixture = asyncio.run(load.ensure(args.scale))
    asyncio.run(load.reset(fixture.dsn))
    tokens = mint_tokens(fixture)
    out = Path(tempfile.mkdtemp(prefix="wardsafe-profile-"))
    profile = out / "wardsafe.prof"
    server = Server(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(profile),
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            HOST,
            "--port",
            str(args.port),
            "--no-access-log",
        ],
        server_env(fixture),
        args.port,
        out / "server.log",
    )
    try:
        deep = asyncio.run(deep_position(fixture, args.port, tokens["officer"]))
        scenario = next(s for s in build(fixture, deep) if args.scenario in s.name)
        token = tokens[scenario.token] if scenario.token else None
        figures = wrk(binary, args.port, scenario, scenario.path, token, args.seconds, 32)
        print(f"{scenario.name}: {figures['rps']:,.0f} rps under cProfile", flush=True)
    finally:
        server.rss.stop()
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
        asyncio.run(load.reset(fixture.dsn))
    stats = pstats.Stats(str(profile))
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(r"/app/", args.top)
    print(f"profile: {profile}")


if __name__ == "__main__":
    main()
