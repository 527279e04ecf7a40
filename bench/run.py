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
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load
from bench.scenarios import Scenario, build
from bench.server import HOST, ROOT, Server, check, deep_position, mint_tokens, server_env
from bench.wrk import Result, ensure_wrk, measure, settle, table

RESULTS = ROOT / "bench" / "results"


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
