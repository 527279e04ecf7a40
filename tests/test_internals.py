"""Every private name app/internals.py uses is still there and still does what it relies on.

When one of these fails after an upgrade, the library moved the name: read
its change log, adapt app/internals.py (or drop the use), and measure again."""

from __future__ import annotations

import ast
import inspect
import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fastapi
import httpx
import pytest
import sqlalchemy.engine.cursor
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, dialect
from sqlalchemy.pool import QueuePool
from sqlmodel import col
from starlette.routing import Match
from uvicorn.supervisors import multiprocess

from app import internals, routing
from app.config import Settings
from app.main import create_app
from app.models.reports import Report

HANOI = timezone(timedelta(hours=7))


def middleware_layers(asgi: Any) -> list[type]:
    layers = []
    while (inner := getattr(asgi, "app", None)) is not None:
        layers.append(type(asgi))
        asgi = inner
    return layers


class TestSQLAlchemy:
    def test_results_still_read_the_option_that_skips_rekeying(self) -> None:
        [name] = internals.ROWS_BY_NAME
        assert name in inspect.getsource(sqlalchemy.engine.cursor), (
            f"SQLAlchemy's cursor results no longer read {name}: see app/internals.py"
        )

    def test_a_compiled_statement_gives_its_binds_in_order_with_their_processors(self) -> None:
        statement = select(col(Report.id)).where(
            col(Report.created_at) > bindparam("since"), col(Report.ward_code) == bindparam("ward")
        )
        compiled = statement.compile(dialect=dialect())
        order, processors = internals.bind_order(compiled)
        assert order == ("since", "ward")
        assert str(compiled).index("$1") < str(compiled).index("$2")
        # UTCDateTime's processor refuses a naive time, as SQLAlchemy's execution would.
        with pytest.raises(ValueError, match="naive"):
            processors["since"](datetime(2026, 1, 1))
        assert processors["since"](datetime(2026, 1, 1, 7, tzinfo=HANOI)) == datetime(
            2026, 1, 1, tzinfo=UTC
        )

    def test_the_asyncpg_adapter_still_begins_lazily_by_these_names(self) -> None:
        assert callable(getattr(AsyncAdapt_asyncpg_connection, "_start_transaction", None)), (
            "SQLAlchemy's asyncpg adapter has no _start_transaction: see app/internals.py"
        )
        source = inspect.getsource(AsyncAdapt_asyncpg_connection)
        assert "self._transaction = None" in source
        assert isinstance(AsyncAdapt_asyncpg_connection.autocommit, property)

    def test_a_queue_pools_ceiling_is_its_size_and_overflow(self) -> None:
        pool = QueuePool(lambda: None, pool_size=3, max_overflow=2)
        assert internals.pool_ceiling(pool) == 5


class TestFastAPI:
    def test_fastapi_still_wraps_every_app_in_the_two_layers_wardsafe_unwraps(self) -> None:
        layers = middleware_layers(fastapi.FastAPI().build_middleware_stack())
        assert internals.IDLE_WHEN_TELEMETRY_OFF in layers
        assert internals.IDLE_WITHOUT_BODY_LIMIT in layers

    def test_wardsafe_unwraps_them(self, settings: Settings) -> None:
        layers = middleware_layers(create_app(settings).build_middleware_stack())
        assert internals.IDLE_WHEN_TELEMETRY_OFF not in layers
        assert internals.IDLE_WITHOUT_BODY_LIMIT not in layers

    async def test_an_included_router_is_asked_whether_it_matches(self, monkeypatch: Any) -> None:
        """FastAPI's private _IncludedRouter calls the router's matches(): the prefix
        check in app/routing.py only turns requests away because it does."""
        asked: list[str] = []

        def spy(scope: Any) -> str:
            asked.append(scope["path"])
            return internals.route_path(scope)

        monkeypatch.setattr(routing, "route_path", spy)
        first, second = routing.APIRouter(prefix="/first"), routing.APIRouter(prefix="/second")
        first.add_api_route("/thing", lambda: {"router": "first"})
        second.add_api_route("/thing", lambda: {"router": "second"})
        app = fastapi.FastAPI()
        app.include_router(first)
        app.include_router(second)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/second/thing")
        assert response.json() == {"router": "second"}
        assert "/second/thing" in asked, "FastAPI no longer asks an included router: see routing.py"
        assert first.matches({"type": "http", "path": "/second/thing"}) == (Match.NONE, {})


class TestStarlette:
    def test_the_route_path_is_the_path_below_the_root_path(self) -> None:
        scope = {"type": "http", "path": "/wardsafe/api/v1/wards", "root_path": "/wardsafe"}
        assert internals.route_path(scope) == "/api/v1/wards"


class TestLogging:
    def test_without_the_caller_lookup_a_record_names_no_file(self) -> None:
        before = logging._srcfile  # type: ignore[attr-defined]
        try:
            internals.skip_caller_lookup()
            records: list[logging.LogRecord] = []
            logger = logging.getLogger("wardsafe.tests.internals")
            handler = logging.Handler()
            handler.emit = records.append  # type: ignore[method-assign]
            logger.addHandler(handler)
            try:
                logger.warning("no caller")
            finally:
                logger.removeHandler(handler)
            assert records[0].pathname == "(unknown file)"
        finally:
            logging._srcfile = before  # type: ignore[attr-defined]


class TestUvicorn:
    def test_the_supervisor_makes_its_workers_from_its_modules_process(self) -> None:
        assert "Process(" in inspect.getsource(multiprocess.Multiprocess), (
            "uvicorn's supervisor no longer makes workers from multiprocess.Process"
        )

    def test_workers_are_made_as_the_given_class_only_within_the_block(self) -> None:
        class Worker(multiprocess.Process):
            pass

        original = multiprocess.Process
        with internals.workers_made_as(Worker):
            assert multiprocess.Process is Worker
        assert multiprocess.Process is original


class TestOnlyHere:
    PRIVATE_NAMES = (
        "_result_disable_adapt_to_context",
        "_bind_processors",
        "positiontup",
        "_start_transaction",
        "_max_overflow",
        "_srcfile",
        "get_route_path",
    )

    def test_no_other_module_imports_a_librarys_private_module_or_uses_these_names(
        self,
    ) -> None:
        app_dir = Path(internals.__file__).parent
        found = []
        for path in sorted(app_dir.rglob("*.py")):
            if path.name == "internals.py":
                continue
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    private = [part for part in node.module.split(".") if part.startswith("_")]
                    if private and node.module != "__future__":
                        found.append(f"{path.name}:{node.lineno} from {node.module}")
                if isinstance(node, ast.Attribute) and node.attr in self.PRIVATE_NAMES:
                    found.append(f"{path.name}:{node.lineno} .{node.attr}")
                if isinstance(node, ast.Constant) and node.value in self.PRIVATE_NAMES:
                    found.append(f"{path.name}:{node.lineno} {node.value!r}")
        assert found == [], "private library names belong in app/internals.py"
