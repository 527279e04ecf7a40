"""No log line carries a request's values: personal values sent through every error path
(422, a 409 from a unique violation, a 500 from a database error that quotes them, the
503 of a database fault, a refused sign-in) appear nowhere in the JSON log (issue 16, item 11)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Integer, bindparam, literal_column, select, text
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.data.prepared import Prepared
from app.db import create_engine
from app.demo.places import HA_LONG
from app.services import users as user_service
from tests.conftest import Cast, json_log

# Values that would only be in a log line if a request's values leaked into it.
FULL_NAME = "Hoàng Thị Quỳnh Zyxwv"
PHONE = "0987123450"
PASSWORD = "Zebra-Quokka-4471"
NOTE = "Ông Zyxwv ở số 17 hẻm 4 hay về muộn"
USERNAME = "zyxwv.quynh"
SEEDED = (FULL_NAME, PHONE, PASSWORD, NOTE, USERNAME)

USERS = "/api/v1/users"
REPORTS = "/api/v1/reports"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The real JSON log (``configure_logging``, every logger at DEBUG) on a stream the
    test reads; logging restored after."""
    with json_log(monkeypatch, "DEBUG") as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def assert_none_seeded(stream: io.StringIO) -> None:
    text = stream.getvalue()
    # The same values as JSON escapes them (orjson writes UTF-8, but be sure).
    escaped = [orjson.dumps(value).decode()[1:-1] for value in SEEDED]
    leaked = [value for value in (*SEEDED, *escaped) if value in text]
    assert leaked == [], text


def new_user(**values: Any) -> dict[str, Any]:
    return {
        "username": USERNAME,
        "password": PASSWORD,
        "full_name": FULL_NAME,
        "phone": PHONE,
        "role": "resident",
        "unit_code": HA_LONG,
        **values,
    }


async def failing_statement(session: AsyncSession) -> None:
    """A statement the database refuses, with every seeded value bound to it (PostgreSQL
    quotes the value it could not read in its message)."""
    values = {"name": FULL_NAME, "phone": PHONE, "password": PASSWORD, "note": NOTE}
    if session.get_bind().dialect.name == "postgresql":
        statement = "SELECT CAST(:name AS integer), :phone, :password, :note"
    else:
        statement = "SELECT :name, :phone, :password, :note FROM no_such_table"
    await session.exec(text(statement).bindparams(**values))  # type: ignore[call-overload]


class TestNoValueInTheLog:
    async def test_a_422_logs_none_of_the_values(
        self, client: httpx.AsyncClient, cast: Cast, captured: io.StringIO
    ) -> None:
        response = await client.post(
            USERS, json=new_user(role="no-such-role"), headers=cast.headers(cast.admin)
        )
        assert response.status_code == 422
        report = {"category": "no-such-category", "description": NOTE, "ward_code": HA_LONG}
        assert (await client.post(REPORTS, json=report)).status_code == 422
        assert [line["status"] for line in lines(captured) if line["msg"] == "request"] == [
            422,
            422,
        ]
        assert_none_seeded(captured)

    async def test_a_409_from_a_unique_violation_logs_none_of_the_values(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        captured: io.StringIO,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        headers = cast.headers(cast.admin)
        assert (await client.post(USERS, json=new_user(), headers=headers)).status_code == 201

        async def free(*_: Any) -> None:
            return None  # as if a concurrent request took the username meanwhile

        # The database's unique index catches it: PostgreSQL's DETAIL line quotes the
        # username ("Key (username)=(...) already exists").
        monkeypatch.setattr(user_service, "_ensure_username_free", free)
        response = await client.post(USERS, json=new_user(), headers=headers)
        assert response.status_code == 409
        assert any(line["msg"] == "integrity error" for line in lines(captured))
        assert_none_seeded(captured)

    async def test_a_500_from_a_database_error_quoting_them_logs_none_of_them(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        captured: io.StringIO,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        async def create_user(session: AsyncSession, *_: Any) -> None:
            await failing_statement(session)

        monkeypatch.setattr(user_service, "create_user", create_user)
        response = await client.post(USERS, json=new_user(), headers=cast.headers(cast.admin))
        assert response.status_code == 500
        [error] = [line for line in lines(captured) if line["msg"] == "unhandled error"]
        assert "Traceback" in error["exc"]  # the trace is there, without the messages
        assert "sqlalchemy.exc." in error["exc"]
        assert_none_seeded(captured)

    async def test_a_500_from_the_drivers_own_path_logs_none_of_the_values(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        captured: io.StringIO,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # A prepared statement given a name where it binds an integer: on PostgreSQL
        # asyncpg refuses it itself, quoting the value ("invalid input for query
        # argument $1: '...'"); SQLite stores what it is given, so the name goes
        # into a column of integers there and the test's own error carries it.
        prepared = Prepared(select(literal_column("1") + bindparam("n", type_=Integer)))

        async def get_user(session: AsyncSession, *_: Any) -> None:
            await prepared.rows(session, {"n": FULL_NAME})
            raise ValueError(f"could not read {FULL_NAME}, {PHONE}")

        monkeypatch.setattr(user_service, "get_user", get_user)
        user_id = cast.resident.id
        response = await client.get(f"{USERS}/{user_id}", headers=cast.headers(cast.admin))
        assert response.status_code == 500
        assert [line["msg"] for line in lines(captured)].count("unhandled error") == 1
        assert_none_seeded(captured)

    async def test_the_503_of_a_database_fault_logs_none_of_the_values(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        captured: io.StringIO,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        async def create_user(*_: Any) -> None:
            # A fault whose statement, parameters and message all carry the values.
            raise OperationalError(
                f"INSERT INTO users (full_name) VALUES ('{FULL_NAME}')",  # noqa: S608 (never run)
                {"phone": PHONE, "password": PASSWORD, "note": NOTE},
                ConnectionResetError(f"connection reset while sending {USERNAME}"),
                connection_invalidated=True,
            )

        monkeypatch.setattr(user_service, "create_user", create_user)
        response = await client.post(USERS, json=new_user(), headers=cast.headers(cast.admin))
        assert response.status_code == 503
        assert response.json()["type"] == "/problems/database-unavailable"
        assert any(line["msg"] == "database unavailable" for line in lines(captured))
        assert_none_seeded(captured)

    async def test_a_refused_sign_in_logs_none_of_the_values(
        self, client: httpx.AsyncClient, cast: Cast, captured: io.StringIO
    ) -> None:
        for username in (USERNAME, cast.resident.username):
            response = await client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": username, "password": PASSWORD},
            )
            assert response.status_code in (400, 401), response.text
        assert_none_seeded(captured)


class TestEchoedStatements:
    async def test_echo_shows_statements_but_not_their_values(
        self, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """WARDSAFE_DB_ECHO=true prints each statement (SQLAlchemy's own handler, on
        stdout), with its parameters hidden."""
        engine = create_engine(settings.model_copy(update={"db_echo": True}))
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT :name AS name"), {"name": FULL_NAME})
        finally:
            await engine.dispose()
            logging.getLogger("sqlalchemy.engine.Engine").handlers.clear()
        echoed = capsys.readouterr().out
        assert "SELECT" in echoed
        assert "parameters hidden" in echoed
        assert FULL_NAME not in echoed
