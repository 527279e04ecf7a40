"""The per-request sessions: routes that only read run without a transaction on PostgreSQL,
take a connection only for what they run through SQLAlchemy, and give it back (with their
slot) once the request is over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import bindparam, delete, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.data.driver import AsyncpgQuery, DriverPool
from app.data.prepared import NewRows, Prepared, held_rows
from app.db import create_engine, create_sessionmaker
from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.sessions import Reads, close_read_session, connection_slots, get_read_session, get_session
from app.timeouts import Turns
from tests.conftest import Committed


def request_for(engine: AsyncEngine, slots: Turns | None = None) -> Any:
    """What the session dependencies read of a request: the app's state and the scope."""
    state = SimpleNamespace(
        sessionmaker=create_sessionmaker(engine),
        reads=Reads.of(engine, pool_size=2),
        connection_slots=slots,
    )
    # Matched to a route that closes its read session (app.routing.Route).
    route = SimpleNamespace(closes_read_sessions=True)
    return SimpleNamespace(app=SimpleNamespace(state=state), scope={"route": route})


@asynccontextmanager
async def read_session(request: Any) -> AsyncIterator[AsyncSession]:
    """A read session as a request has it: opened by the dependency, closed as its
    route closes it."""
    session = await get_read_session(request)
    try:
        yield session
    finally:
        await close_read_session(request.scope)


@asynccontextmanager
async def write_session(request: Any) -> AsyncIterator[AsyncSession]:
    """A write session as FastAPI drives the dependency: committed when the block ends,
    rolled back if it raises."""
    sessions = get_session(request)
    session = await anext(sessions)
    try:
        yield session
    except BaseException as error:
        await sessions.athrow(error)
        raise
    await anext(sessions, None)


async def in_transaction_after_a_select(session: AsyncSession, engine: AsyncEngine) -> bool:
    """Whether the database holds a transaction open after the session's first SELECT."""
    await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    if engine.dialect.name == "postgresql":
        return bool(driver.is_in_transaction())
    return bool(driver.in_transaction)


async def test_read_session_sends_no_begin_on_postgresql(engine: AsyncEngine) -> None:
    # SQLite keeps its transaction (it costs no round trip there).
    expected = engine.dialect.name != "postgresql"
    async with read_session(request_for(engine)) as session:
        assert await in_transaction_after_a_select(session, engine) is expected


async def test_write_session_keeps_its_transaction(engine: AsyncEngine) -> None:
    async with write_session(request_for(engine)) as session:
        assert await in_transaction_after_a_select(session, engine) is True


async def test_pooled_connection_is_transactional_again_after_a_read(engine: AsyncEngine) -> None:
    async with read_session(request_for(engine)) as session:
        await in_transaction_after_a_select(session, engine)
    async with write_session(request_for(engine)) as session:
        assert await in_transaction_after_a_select(session, engine) is True


async def test_read_session_takes_a_connection_only_for_a_statement(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        request = request_for(engine)
        async with read_session(request) as session:
            assert engine.pool.checkedout() == 0  # opening it took nothing
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            assert engine.pool.checkedout() == 1
        assert engine.pool.checkedout() == 0  # closed with the request
        assert set(request.scope) == {"route"}  # the session let go with the request
    finally:
        await engine.dispose()


async def test_read_session_of_a_tests_sessionmaker_reads_through_it(engine: AsyncEngine) -> None:
    # A sessionmaker bound elsewhere (a test's connection) is used as it is.
    request = request_for(engine)
    async with engine.connect() as connection:
        request.app.state.sessionmaker = create_sessionmaker(connection)  # type: ignore[arg-type]
        async with read_session(request) as session:
            assert session.bind is connection
            assert session.info == {}


async def test_sessions_queue_for_the_pools_connections_in_order(settings: Settings) -> None:
    engine = create_engine(settings.model_copy(update={"db_pool_size": 1}))
    try:
        slots = connection_slots(engine)
        if engine.dialect.name != "postgresql":
            assert slots is None  # SQLite: BEGIN IMMEDIATE queues writers already
            return
        assert slots is not None
        # WARDSAFE_DB_POOL_SIZE=1: a pool of 2, and two requests hold both slots.
        first, second = request_for(engine, slots), request_for(engine, slots)
        await get_read_session(first)
        await get_read_session(second)
        order: list[str] = []

        async def third_and_fourth(name: str) -> None:
            async with read_session(request_for(engine, slots)):
                order.append(name)

        waiting = [asyncio.create_task(third_and_fourth(name)) for name in ("third", "fourth")]
        await asyncio.sleep(0.05)
        assert order == []  # no slot free: they wait, the pool has no waiter
        await close_read_session(first.scope)
        await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
        assert order == ["third", "fourth"]  # first come, first served
        await close_read_session(second.scope)
        assert slots.free == 2  # every slot back
    finally:
        await engine.dispose()


async def test_a_failed_request_still_gives_its_slot_back(settings: Settings) -> None:
    engine = create_engine(settings.model_copy(update={"db_pool_size": 1}))
    try:
        slots = connection_slots(engine)
        if slots is None:
            return  # SQLite has no slots
        request = request_for(engine, slots)
        try:
            async with read_session(request) as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                raise RuntimeError("the route failed")
        except RuntimeError:
            pass
        assert slots.free == 2
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_the_app_gives_a_read_sessions_connection_and_slot_back(
    committed: Committed,
) -> None:
    engine = committed.app.state.engine
    slots: Turns | None = committed.app.state.connection_slots
    before = engine.pool.checkedout()
    # Open311 looks the ward up through SQLAlchemy, so the read session connects;
    # the unknown ward's 404 is raised after it did.
    for jurisdiction_id, status in ((HA_LONG, 200), ("99999", 404)):
        response = await committed.client.get(
            "/open311/v2/requests.json", params={"jurisdiction_id": jurisdiction_id}
        )
        assert response.status_code == status, response.text
        assert engine.pool.checkedout() == before  # the ReadSessions middleware closed it
        if slots is not None:
            assert slots.free == engine.pool.size() + engine.pool._max_overflow


def audit_row(**given: Any) -> dict[str, Any]:
    return NewRows(AuditEvent).values(
        actor_kind="anonymous", action="create", record_type="report", record_id="r-1", **given
    )


class TestNewRows:
    def test_a_row_has_every_column_and_the_models_defaults(self) -> None:
        row = audit_row(changed_fields=["description"])
        assert set(row) == set(AuditEvent.__table__.columns.keys())  # type: ignore[attr-defined]
        assert isinstance(row["id"], uuid.UUID)
        assert row["id"].version == 7
        assert row["created_at"].tzinfo is not None
        assert (row["version"], row["deleted_at"], row["actor_id"]) == (1, None, None)
        assert row["changed_fields"] == ["description"]
        # A default factory runs for each row: no two rows share a list or an id.
        first, second = audit_row(), audit_row()
        assert first["changed_fields"] == []
        assert first["changed_fields"] is not second["changed_fields"]
        assert first["id"] != second["id"]

    def test_an_unknown_column_or_a_missing_required_one_is_refused(self) -> None:
        with pytest.raises(TypeError, match="no such columns: \\['colour'\\]"):
            audit_row(colour="red")
        with pytest.raises(TypeError, match="action has no default"):
            NewRows(AuditEvent).values(actor_kind="user", record_type="report", record_id="r-1")

    async def test_the_row_written_is_the_row_read_back(self, session: AsyncSession) -> None:
        row = audit_row(ward_code=HA_LONG, changed_fields=["category", "description"])
        await NewRows(AuditEvent).insert(session, row)
        stored = (await session.exec(select(AuditEvent).where(AuditEvent.id == row["id"]))).one()
        assert stored.model_dump() == row

    async def test_it_is_written_in_the_sessions_transaction(self, session: AsyncSession) -> None:
        row = audit_row()
        async with session.begin_nested() as savepoint:
            await NewRows(AuditEvent).insert(session, row)
            await savepoint.rollback()
        found = await session.exec(select(AuditEvent).where(AuditEvent.id == row["id"]))
        assert found.first() is None

    async def test_a_constraint_violation_is_sqlalchemys_integrity_error(
        self, session: AsyncSession
    ) -> None:
        row = audit_row()
        await NewRows(AuditEvent).insert(session, row)
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await NewRows(AuditEvent).insert(session, row)
        # The session goes on: the first row is still there.
        stored = await session.exec(select(AuditEvent.id).where(AuditEvent.id == row["id"]))
        assert stored.all() == [row["id"]]

    async def test_on_postgresql_the_statement_goes_straight_to_the_driver(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        """The fast path, in the session's transaction (SQLAlchemy sees no statement);
        SQLite's goes through SQLAlchemy."""
        seen: list[str] = []

        def spy(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", spy)
        try:
            await NewRows(AuditEvent).insert(session, audit_row())
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", spy)
        inserts = [statement for statement in seen if statement.startswith("INSERT")]
        on_driver = engine.dialect.name == "postgresql"
        assert len(inserts) == (0 if on_driver else 1)
        raw = await (await session.connection()).get_raw_connection()
        driver: Any = raw.driver_connection
        if on_driver:
            assert driver.is_in_transaction()


async def test_the_engine_keeps_every_connection_it_opens(settings: Settings) -> None:
    """No overflow to open and close under load; the ceiling is twice the setting."""
    engine = create_engine(
        settings.model_copy(
            update={
                "database_url": "postgresql+asyncpg://postgres@127.0.0.1/none",
                "db_pool_size": 4,
            }
        )
    )
    try:
        pool: Any = engine.pool
        assert (pool.size(), pool._max_overflow) == (8, 0)
        slots = connection_slots(engine)
        assert slots is not None
        assert slots.free == 8
    finally:
        await engine.dispose()


@pytest.fixture
async def driver_pool(engine: AsyncEngine) -> AsyncIterator[DriverPool | None]:
    """A read pool of 2 on PostgreSQL, closed after the test; None on SQLite, which has none."""
    reads = Reads.of(engine, pool_size=2)
    if engine.dialect.name != "postgresql":
        assert reads is None
        yield None
        return
    assert reads is not None
    try:
        yield reads.driver
    finally:
        await reads.driver.close()


class TestDriverPool:
    """The hot reads' own connections (PostgreSQL; SQLite has none)."""

    @staticmethod
    def query(engine: AsyncEngine, sql: str) -> AsyncpgQuery:
        return AsyncpgQuery.compile(text(sql), engine.dialect)

    async def test_a_connection_serves_read_after_read(
        self, engine: AsyncEngine, driver_pool: DriverPool | None
    ) -> None:
        if (pool := driver_pool) is None:
            return
        assert pool._open == set()  # nothing opened before the first read
        for n in range(3):
            [row] = await pool.fetch(self.query(engine, f"SELECT {n} AS n"), {})
            assert row["n"] == n
        assert len(pool._open) == 1
        await pool.close()
        assert pool._open == set()

    async def test_the_pgbouncer_recipe_sends_every_read_unnamed(self, settings: Settings) -> None:
        """``?prepared_statement_cache_size=0`` (pgbouncer in transaction mode) reaches the
        driver pool as asyncpg's own setting: its reads leave no named statement behind."""
        if not settings.database_url.startswith("postgresql"):
            return
        joiner = "&" if "?" in settings.database_url else "?"
        statements = "SELECT count(*) AS n FROM pg_prepared_statements"
        for recipe, named in (("", 1), (f"{joiner}prepared_statement_cache_size=0", 0)):
            url = settings.database_url + recipe
            engine = create_engine(settings.model_copy(update={"database_url": url}))
            reads = Reads.of(engine, pool_size=1)
            assert reads is not None
            try:
                for _ in range(2):
                    [row] = await reads.driver.fetch(self.query(engine, statements), {})
                    assert row["n"] == named, recipe
                async with engine.connect() as connection:
                    assert (await connection.execute(text("SELECT 1"))).scalar() == 1
            finally:
                await reads.driver.close()
                await engine.dispose()

    @pytest.mark.parametrize(
        "sql",
        [
            "SELECT 1 / 0",
            "SELECT no_such_column FROM audit_events",
            "SELECT CAST('x' AS integer)",
            "SELECT * FROM no_such_table",
        ],
    )
    async def test_an_error_is_raised_as_sqlalchemy_raises_it_for_its_own_statement(
        self, engine: AsyncEngine, driver_pool: DriverPool | None, sql: str
    ) -> None:
        """The same class, the same message, the parameters hidden, the driver's error as
        ``orig``'s: services, error handlers and app/faults.py see no difference."""
        if (pool := driver_pool) is None:
            return
        with pytest.raises(DBAPIError) as through_sqlalchemy:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        with pytest.raises(DBAPIError) as on_the_driver:
            await pool.fetch(self.query(engine, sql), {})
        assert type(on_the_driver.value) is type(through_sqlalchemy.value)
        assert type(on_the_driver.value.orig) is type(through_sqlalchemy.value.orig)
        assert str(on_the_driver.value.orig) == str(through_sqlalchemy.value.orig)
        assert on_the_driver.value.hide_parameters
        assert isinstance(on_the_driver.value.__cause__, asyncpg.PostgresError)

    async def test_after_an_error_of_the_server_the_connection_is_kept(
        self, engine: AsyncEngine, driver_pool: DriverPool | None
    ) -> None:
        if (pool := driver_pool) is None:
            return
        with pytest.raises(DBAPIError):
            await pool.fetch(self.query(engine, "SELECT 1 / 0"), {})
        [kept] = pool._idle
        assert (await pool.fetch(self.query(engine, "SELECT 2 AS n"), {}))[0]["n"] == 2
        assert pool._idle == [kept]

    async def test_a_read_cancelled_mid_statement_leaves_its_connection_closed(
        self, engine: AsyncEngine, driver_pool: DriverPool | None
    ) -> None:
        if (pool := driver_pool) is None:
            return
        read = asyncio.create_task(pool.fetch(self.query(engine, "SELECT pg_sleep(5)"), {}))
        await asyncio.sleep(0.2)
        [busy] = pool._open
        read.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read
        assert busy.is_closed()
        assert pool._open == set()
        assert pool._idle == []
        assert pool._turns.free == 2  # its turn given back
        assert (await pool.fetch(self.query(engine, "SELECT 3 AS n"), {}))[0]["n"] == 3

    async def test_an_idle_connection_the_server_closed_is_replaced(
        self, engine: AsyncEngine, driver_pool: DriverPool | None
    ) -> None:
        if (pool := driver_pool) is None:
            return
        [row] = await pool.fetch(self.query(engine, "SELECT pg_backend_pid() AS pid"), {})
        async with engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row["pid"]})
        [gone] = pool._idle
        for _ in range(50):  # the client sees the socket close on its next loop turn
            if gone.is_closed():
                break
            await asyncio.sleep(0.02)
        [again] = await pool.fetch(self.query(engine, "SELECT pg_backend_pid() AS pid"), {})
        assert again["pid"] != row["pid"]
        assert gone not in pool._open
        assert len(pool._open) == 1


EVENTS = NewRows(AuditEvent)


def audit_gate(engine: AsyncEngine) -> Prepared[Any]:
    """A gate: the INSERT of an audit event that returns its id, or nothing if the id is taken."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    return Prepared(
        insert(table)
        .values({column.name: bindparam(column.name, type_=column.type) for column in table.c})
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )


async def stored_ids(session: AsyncSession, *rows: dict[str, Any]) -> set[uuid.UUID]:
    found = await session.exec(
        select(AuditEvent.id).where(col(AuditEvent.id).in_([row["id"] for row in rows]))
    )
    return set(found.all())


class TestGate:
    """New rows held back and written with the statement that decides whether they stand."""

    async def test_a_row_inserted_while_held_waits(self, session: AsyncSession) -> None:
        row = audit_row()
        with held_rows(session) as held:
            await EVENTS.insert(session, row)
        assert held == [(EVENTS, row)]
        assert await stored_ids(session, row) == set()
        # Outside the block a row is written at once again.
        await EVENTS.insert(session, row)
        assert await stored_ids(session, row) == {row["id"]}

    async def test_the_held_rows_are_written_when_the_gate_returns_a_row(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        gate, first, second = audit_row(), audit_row(), audit_row(changed_fields=["status"])
        found = await audit_gate(engine).gate(session, gate, [(EVENTS, first), (EVENTS, second)])
        assert found is not None
        assert found[0] == gate["id"]
        assert await stored_ids(session, gate, first, second) == {
            gate["id"],
            first["id"],
            second["id"],
        }
        stored = (await session.exec(select(AuditEvent).where(AuditEvent.id == second["id"]))).one()
        assert stored.model_dump() == second  # every column, as given

    async def test_the_held_rows_are_not_written_when_the_gate_returns_none(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        gate, held = audit_row(), audit_row()
        await EVENTS.insert(session, gate)  # the gate's id is taken: it returns no row
        assert await audit_gate(engine).gate(session, gate, [(EVENTS, held)]) is None
        assert await stored_ids(session, gate, held) == {gate["id"]}

    async def test_a_held_row_that_breaks_a_constraint_is_an_integrity_error(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        taken, gate = audit_row(), audit_row()
        await EVENTS.insert(session, taken)
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await audit_gate(engine).gate(session, gate, [(EVENTS, {**taken})])
        assert await stored_ids(session, taken, gate) == {taken["id"]}

    async def test_in_a_request_that_began_nothing_it_is_one_statement_committing_itself(
        self, engine: AsyncEngine
    ) -> None:
        """On PostgreSQL the gate and its rows go out as one statement on the driver's
        own connection, without BEGIN or COMMIT; on SQLite in the request's transaction."""
        request = request_for(engine)
        pool: DriverPool | None = request.app.state.reads and request.app.state.reads.driver
        gate, held = audit_row(), audit_row()
        sent: list[str] = []
        try:
            async with write_session(request) as session:
                if pool is not None:
                    await pool.fetch(AsyncpgQuery.compile(text("SELECT 1"), engine.dialect), {})
                    [connection] = pool._idle
                    connection.add_query_logger(lambda query: sent.append(query.query))
                found = await audit_gate(engine).gate(session, gate, [(EVENTS, held)])
                assert found is not None
                if pool is not None:
                    await asyncio.sleep(0)  # asyncpg calls its query loggers soon after
                    assert [query.split()[0] for query in sent] == ["WITH"]
                    assert not session.in_transaction()  # nothing for the session to commit
                    assert pool._idle == [connection]  # given back
                else:
                    assert session.in_transaction()
            async with AsyncSession(engine) as other:  # committed: another session sees it
                assert await stored_ids(other, gate, held) == {gate["id"], held["id"]}
        finally:
            if pool is not None:
                await pool.close()
            async with AsyncSession(engine) as cleanup:
                await cleanup.exec(
                    delete(AuditEvent).where(col(AuditEvent.id).in_([gate["id"], held["id"]]))
                )
                await cleanup.commit()

    async def test_by_itself_a_constraint_violation_writes_nothing(
        self, engine: AsyncEngine, driver_pool: DriverPool | None
    ) -> None:
        if (pool := driver_pool) is None:
            return  # SQLite has no statement by itself
        request = request_for(engine)
        request.app.state.reads = SimpleNamespace(engine=engine, driver=pool)
        taken, gate = audit_row(), audit_row()
        try:
            async with AsyncSession(engine) as setup:
                await EVENTS.insert(setup, taken)
                await setup.commit()
            with pytest.raises(IntegrityError):
                async with write_session(request) as session:
                    await audit_gate(engine).gate(session, gate, [(EVENTS, {**taken})])
            assert len(pool._idle) == 1  # the server refused it; the connection is kept
            async with AsyncSession(engine) as other:
                assert await stored_ids(other, taken, gate) == {taken["id"]}
        finally:
            async with AsyncSession(engine) as cleanup:
                await cleanup.exec(
                    delete(AuditEvent).where(col(AuditEvent.id).in_([taken["id"], gate["id"]]))
                )
                await cleanup.commit()

    async def test_a_held_value_too_long_for_its_column_is_refused_not_cut(
        self, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        if engine.dialect.name != "postgresql":
            return  # SQLite does not hold a string to its declared length
        held = audit_row(ward_code="123456")  # ward codes are 5 long
        with pytest.raises(DBAPIError) as refused:
            async with session.begin_nested():
                await audit_gate(engine).gate(session, audit_row(), [(EVENTS, held)])
        assert isinstance(refused.value.__cause__, asyncpg.StringDataRightTruncationError)
        assert await stored_ids(session, held) == set()
