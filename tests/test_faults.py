"""A database that is unreachable, restarting, out of connections, locked or too slow is a
503 ``database-unavailable`` problem with Retry-After and one short log line per kind of
fault, on every route; a bug is still a 500 (issue 16, item 14)."""

from __future__ import annotations

import io
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import (
    DBAPIError,
    EmulatedDBAPIException,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import faults
from app.config import Settings
from app.demo.places import HA_LONG
from app.main import create_app
from app.services import users as user_service
from app.timeouts import AcquireTimeout
from tests.conftest import TEST_SETTINGS, Cast, json_log, unstored_admin
from tests.factories import bearer

USERS = "/api/v1/users"
# Nothing listens on port 1: every connection is refused at once.
REFUSED = "postgresql+asyncpg://postgres@127.0.0.1:1/wardsafe"


def sqlite_locked(tmp_path: Path) -> sqlite3.OperationalError:
    """SQLite's own "database is locked": a second writer that would not wait."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return error
    finally:
        holder.close()
        other.close()
    raise AssertionError("the second writer got the lock")


def through_sqlalchemy(driver_error: Exception) -> DBAPIError:
    """``driver_error`` as SQLAlchemy's asyncpg dialect raises it: its own error around
    asyncpg's, inside SQLAlchemy's."""
    return InterfaceError("SELECT 1", None, EmulatedDBAPIException(str(driver_error), driver_error))


# Each fault, and the kind its log line names.
FAULTS: list[tuple[str, Callable[[Path], BaseException], str]] = [
    (
        "connection closed mid-statement (SQLAlchemy)",
        lambda _: through_sqlalchemy(asyncpg.ConnectionDoesNotExistError("connection was closed")),
        faults.CONNECTION_LOST,
    ),
    (
        "asyncpg: connection is closed (SQLAlchemy)",
        lambda _: through_sqlalchemy(asyncpg.InterfaceError("connection is closed")),
        faults.CONNECTION_LOST,
    ),
    (
        "invalidated connection",
        lambda _: DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True),
        faults.CONNECTION_LOST,
    ),
    ("pool timeout", lambda _: PoolTimeout("QueuePool limit reached"), faults.ACQUIRE_TIMEOUT),
    ("our acquire timeout", lambda _: AcquireTimeout("no turn"), faults.ACQUIRE_TIMEOUT),
    (
        "asyncpg: connection does not exist",
        lambda _: asyncpg.ConnectionDoesNotExistError("closed"),
        faults.CONNECTION_LOST,
    ),
    (
        "asyncpg: connection failure",
        lambda _: asyncpg.ConnectionFailureError("failure"),
        faults.CONNECTION_LOST,
    ),
    (
        "asyncpg: cannot connect now",
        lambda _: asyncpg.CannotConnectNowError("the database system is starting up"),
        faults.RESTARTING,
    ),
    (
        "asyncpg: admin shutdown",
        lambda _: asyncpg.AdminShutdownError("terminating connection"),
        faults.RESTARTING,
    ),
    ("asyncpg: crash shutdown", lambda _: asyncpg.CrashShutdownError("crash"), faults.RESTARTING),
    (
        "asyncpg: too many connections",
        lambda _: asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        faults.TOO_MANY_CONNECTIONS,
    ),
    (
        "asyncpg: statement timeout",
        lambda _: asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        faults.STATEMENT_TIMEOUT,
    ),
    ("connection refused", lambda _: ConnectionRefusedError(111, "refused"), faults.UNREACHABLE),
    (
        "no route (asyncio's bare OSError)",
        lambda _: OSError("Multiple exceptions: [Errno 111] Connect call failed"),
        faults.UNREACHABLE,
    ),
    (
        "no such host",
        lambda _: socket.gaierror(-2, "Name or service not known"),
        faults.UNREACHABLE,
    ),
    ("connection reset", lambda _: ConnectionResetError(104, "reset"), faults.CONNECTION_LOST),
    ("builtin timeout", lambda _: TimeoutError(), faults.TIMEOUT),
    (
        "SQLite: database is locked",
        lambda tmp_path: OperationalError("BEGIN IMMEDIATE", None, sqlite_locked(tmp_path)),
        faults.LOCKED,
    ),
]

# Errors of bugs, which stay 500s.
BUGS: list[tuple[str, Callable[[Path], BaseException]]] = [
    ("a plain bug", lambda _: ValueError("bad")),
    (
        "no such table (PostgreSQL)",
        lambda _: ProgrammingError(
            "SELECT", None, EmulatedDBAPIException("x", asyncpg.UndefinedTableError("no"))
        ),
    ),
    ("a unique violation raised raw", lambda _: asyncpg.UniqueViolationError("duplicate")),
    ("asyncpg refusing an argument", lambda _: asyncpg.DataError("invalid input")),
    ("a missing file", lambda _: FileNotFoundError(2, "No such file")),
    (
        "no such table (SQLite)",
        lambda _: OperationalError("SELECT", None, sqlite3.OperationalError("no such table: x")),
    ),
]


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fresh fault log (no kind logged yet) on a clock the test moves."""
    clock = Clock()
    monkeypatch.setattr(faults, "fault_log", faults.FaultLog(clock=clock))
    return clock


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The real JSON log (``configure_logging``) on a stream the test reads."""
    with json_log(monkeypatch, "INFO") as stream:
        yield stream


def logged(stream: io.StringIO, msg: str | None = None) -> list[dict[str, Any]]:
    found = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in found if msg is None or line["msg"] == msg]


def assert_unavailable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(faults.RETRY_AFTER_SECONDS)
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/database-unavailable"
    assert body["title"] == "Database unavailable"
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def raising(error: BaseException) -> Callable[..., Any]:
    async def service(*_: Any, **__: Any) -> Any:
        raise error

    return service


class TestFaultAnswers:
    @pytest.mark.parametrize(
        ("fault", "kind"), [(f, k) for _, f, k in FAULTS], ids=[n for n, _, _ in FAULTS]
    )
    async def test_a_fault_is_a_503_problem_with_retry_after_and_its_kind_logged(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        monkeypatch: pytest.MonkeyPatch,
        clock: Clock,
        captured: io.StringIO,
        tmp_path: Path,
        fault: Callable[[Path], BaseException],
        kind: str,
    ) -> None:
        monkeypatch.setattr(user_service, "list_users", raising(fault(tmp_path)))
        response = await client.get(USERS, headers=cast.headers(cast.admin))
        body = assert_unavailable(response)
        assert "retry" in body["detail"].lower()
        [line] = logged(captured, "database unavailable")
        assert (line["level"], line["kind"], line["route"]) == ("warning", kind, USERS)
        assert line["request_id"] == response.headers["x-request-id"]
        assert logged(captured, "unhandled error") == []
        assert "Traceback" not in captured.getvalue()

    @pytest.mark.parametrize("bug", [b for _, b in BUGS], ids=[n for n, _ in BUGS])
    async def test_a_bug_is_still_a_500_with_its_trace_logged(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        monkeypatch: pytest.MonkeyPatch,
        clock: Clock,
        captured: io.StringIO,
        tmp_path: Path,
        bug: Callable[[Path], BaseException],
    ) -> None:
        monkeypatch.setattr(user_service, "list_users", raising(bug(tmp_path)))
        response = await client.get(USERS, headers=cast.headers(cast.admin))
        assert response.status_code == 500
        assert response.json()["type"] == "/problems/internal-error"
        assert "retry-after" not in response.headers
        [line] = logged(captured, "unhandled error")
        assert "Traceback" in line["exc"]
        assert logged(captured, "database unavailable") == []

    async def test_the_problem_type_is_described(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/problems/database-unavailable")
        assert response.status_code == 200
        assert response.json() == {
            "type": "/problems/database-unavailable",
            "title": "Database unavailable",
            "status": 503,
        }


class TestFaultLog:
    def test_the_first_of_a_kind_is_logged_then_one_line_per_period_with_the_count(
        self, clock: Clock, captured: io.StringIO
    ) -> None:
        lost = faults.Fault(
            faults.CONNECTION_LOST, "asyncpg.exceptions.ConnectionDoesNotExistError"
        )
        timeout = faults.Fault(faults.TIMEOUT, "TimeoutError")
        faults.fault_log.report(lost, "/a")
        for _ in range(40):
            clock.now += 0.1
            faults.fault_log.report(lost, "/a")
        faults.fault_log.report(timeout, "/b")  # another kind: logged at once
        clock.now += faults.LOG_EVERY_SECONDS
        faults.fault_log.report(lost, "/c")
        lines = logged(captured, "database unavailable")
        assert [(line["kind"], line["route"], line["suppressed"]) for line in lines] == [
            ("connection-lost", "/a", 0),
            ("timeout", "/b", 0),
            ("connection-lost", "/c", 40),
        ]
        assert lines[0]["error"] == "asyncpg.exceptions.ConnectionDoesNotExistError"


@pytest.fixture
async def refused_app() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose PostgreSQL refuses every connection, and an admin's client of it."""
    other = Settings(**{**TEST_SETTINGS, "database_url": REFUSED})
    app = create_app(other)
    admin = unstored_admin()
    token, _ = app.state.token_signer.issue(admin)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=bearer(token)
    ) as client:
        try:
            yield app, client
        finally:
            await app.state.engine.dispose()
            await app.state.reads.driver.close()


def filled(path: str) -> str:
    """``path`` with each parameter given a value its route accepts the form of."""
    values = {"code": "22" if "/provinces/" in path else HA_LONG, "slug": "not-found"}
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        value = values.get(name, str(uuid.uuid4()))
        path = path.replace(f"{{{name}}}", value)
    return path


class TestEveryRoute:
    async def test_every_read_with_the_database_refusing_connections_gets_503(
        self, refused_app: tuple[FastAPI, httpx.AsyncClient], clock: Clock, captured: io.StringIO
    ) -> None:
        """Every GET under /api and /open311 that reaches the database answers 503 (in
        Open311's own format there), never a 500, and the log has one line."""
        app, client = refused_app
        schema = app.openapi()
        answered: dict[str, int] = {}
        for path, operations in schema["paths"].items():
            if "get" in operations and path.startswith(("/api/", "/open311/")):
                params = {"jurisdiction_id": HA_LONG, "unit_code": HA_LONG}
                response = await client.get(filled(path), params=params)
                answered[path] = response.status_code
                if response.status_code == 503:
                    assert response.headers["retry-after"] == str(faults.RETRY_AFTER_SECONDS)
                    if path.startswith("/open311/") and path.endswith(".json"):
                        assert response.json() == [{"code": 503, "description": faults.DETAIL}]
                    elif path.startswith("/open311/"):
                        assert b"<code>503</code>" in response.content
                    else:
                        assert response.json()["type"] == "/problems/database-unavailable"
        assert 500 not in answered.values(), answered
        # What needs no database: the discovery document and the report categories.
        static = {path for path, status in answered.items() if status == 200}
        assert set(answered.values()) <= {200, 503}, answered
        assert len(static) <= 3, static
        assert len(answered) - len(static) >= 40
        [line] = logged(captured, "database unavailable")
        assert line["kind"] == faults.UNREACHABLE
        assert logged(captured, "unhandled error") == []

    async def test_a_write_with_the_database_refusing_connections_gets_503(
        self, refused_app: tuple[FastAPI, httpx.AsyncClient], clock: Clock
    ) -> None:
        _, client = refused_app
        body = {"ward_code": HA_LONG, "code": "kp-refused", "name": "Khu 1"}
        assert_unavailable(await client.post("/api/v1/neighbourhoods", json=body))

    async def test_every_route_declares_the_503(
        self, refused_app: tuple[FastAPI, httpx.AsyncClient]
    ) -> None:
        app, _ = refused_app
        for path, operations in app.openapi()["paths"].items():
            if path.startswith(("/api/", "/open311/v2/services", "/open311/v2/requests")):
                for operation in operations.values():
                    assert "503" in operation["responses"], path
