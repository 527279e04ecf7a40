"""The anchors: what this machine does without wardsafe's framework, ORM and auth.

``/floor`` is a bare Starlette JSON endpoint (the framework floor). Every other
route is a raw-driver endpoint: Starlette + asyncpg + orjson, no ORM, no
auth, running the same SQL as one wardsafe scenario (written from the
services: columns, predicates, order and limit as wardsafe sends them).
Parameters the scenario fixes (ward, cursor position, report id) come in the
query string. Run with ``uvicorn bench.anchors:app``; ``BENCH_DSN`` names
the database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.routing import Route

from bench.anchors.changes import changes
from bench.anchors.common import POOL
from bench.anchors.reads import cameras, floor, groups, near, open311, report, reports, statistics
from bench.anchors.writes import (
    create_report,
    create_report_keyed,
    create_report_keyed_without_change,
)


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    POOL["db"] = await asyncpg.create_pool(
        os.environ["BENCH_DSN"], min_size=5, max_size=int(os.environ.get("BENCH_POOL", "15"))
    )
    yield
    await POOL["db"].close()


app = Starlette(
    routes=[
        Route("/floor", floor),
        Route("/changes", changes),
        Route("/cameras", cameras),
        Route("/cameras/near", near),
        Route("/groups", groups),
        Route("/reports", reports),
        Route("/reports/one", report),
        Route("/reports/create", create_report, methods=["POST"]),
        Route("/reports/create-keyed", create_report_keyed, methods=["POST"]),
        Route(
            "/reports/create-keyed-without-change",
            create_report_keyed_without_change,
            methods=["POST"],
        ),
        Route("/open311", open311),
        Route("/statistics", statistics),
    ],
    lifespan=lifespan,
)
