"""Sessions as types: a read session refuses every kind of write, every GET route reads
through one, and only a route that closes it can open one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import fastapi
import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import NewRows, Prepared
from app.db import ReadOnly, ReadSession, WriteSession, compare_and_set, read_session_of
from app.demo.places import HA_LONG
from app.deps import ReadSessionDep
from app.models.audit import AuditEvent
from app.models.neighbourhoods import Neighbourhood
from app.routing import APIRouter
from app.sessions import get_session
from tests.factories import make_neighbourhood

EVENTS = NewRows(AuditEvent)


def audit_row() -> dict[str, Any]:
    return EVENTS.values(
        actor_kind="user",
        action="create",
        record_type="test",
        record_id=str(uuid.uuid4()),
        ward_code=HA_LONG,
    )


@pytest.fixture
async def read_session(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[ReadSession]:
    session = read_session_of(sessionmaker)
    try:
        yield session
    finally:
        await session.close()


async def neighbourhood_names(session: AsyncSession, ward_code: str) -> list[str]:
    rows = await session.exec(
        select(Neighbourhood.name).where(col(Neighbourhood.ward_code) == ward_code)  # type: ignore[call-overload]
    )
    return sorted(rows.scalars().all())


class TestReadSessionRefusesWrites:
    async def test_it_reads(self, session: AsyncSession, read_session: ReadSession) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Tổ đọc")
        assert "Tổ đọc" in await neighbourhood_names(read_session, made.ward_code)

    async def test_adding_an_object_is_refused(self, read_session: ReadSession) -> None:
        with pytest.raises(ReadOnly, match="cannot add Neighbourhood"):
            read_session.add(
                Neighbourhood(ward_code=HA_LONG, name="x", province_code="22", code="x")
            )

    async def test_deleting_and_merging_an_object_are_refused(
        self, session: AsyncSession, read_session: ReadSession
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Tổ còn")
        loaded = await read_session.get(Neighbourhood, made.id)
        assert loaded is not None
        with pytest.raises(ReadOnly, match="cannot delete"):
            await read_session.delete(loaded)
        with pytest.raises(ReadOnly, match="cannot merge"):
            await read_session.merge(loaded)
        assert "Tổ còn" in await neighbourhood_names(session, made.ward_code)

    async def test_a_changed_object_is_not_flushed(
        self, session: AsyncSession, read_session: ReadSession
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Tổ cũ")
        loaded = await read_session.get(Neighbourhood, made.id)
        assert loaded is not None
        loaded.name = "Tổ mới"
        with pytest.raises(ReadOnly, match="changes to flush"):
            await read_session.flush()
        await session.refresh(made)
        assert made.name == "Tổ cũ"

    @pytest.mark.parametrize("kind", ["insert", "update", "delete"])
    async def test_a_core_write_is_refused(
        self, session: AsyncSession, read_session: ReadSession, kind: str
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Tổ giữ")
        table: Any = Neighbourhood.__table__  # type: ignore[attr-defined]
        statement = {
            "insert": insert(table).values(
                id=uuid.uuid4(), name="Tổ lạ", code="KP-lạ", ward_code=HA_LONG, province_code="22"
            ),
            "update": update(table).where(table.c.id == made.id).values(name="Tổ đổi"),
            "delete": delete(table).where(table.c.id == made.id),
        }[kind]
        with pytest.raises(ReadOnly):
            await read_session.exec(statement)  # type: ignore[call-overload]
        names = await neighbourhood_names(session, made.ward_code)
        assert "Tổ giữ" in names
        assert "Tổ lạ" not in names
        assert "Tổ đổi" not in names

    async def test_a_prepared_write_and_new_rows_are_refused(
        self, session: AsyncSession, read_session: ReadSession
    ) -> None:
        row = audit_row()
        with pytest.raises(ReadOnly):
            await EVENTS.insert(read_session, row)
        with pytest.raises(ReadOnly):
            await Prepared(insert(AuditEvent.__table__)).rows(read_session, audit_row())  # type: ignore[attr-defined]
        found = await session.exec(
            select(AuditEvent).where(col(AuditEvent.record_id) == row["record_id"])
        )
        assert found.all() == []

    async def test_a_compare_and_set_is_refused(
        self, session: AsyncSession, read_session: ReadSession
    ) -> None:
        made = await make_neighbourhood(session, HA_LONG, name="Tổ một")
        loaded = await read_session.get(Neighbourhood, made.id)
        with pytest.raises(ReadOnly):
            await compare_and_set(read_session, loaded, loaded.version, {"name": "Tổ hai"})  # type: ignore[union-attr]
        await session.refresh(made)
        assert (made.name, made.version) == ("Tổ một", loaded.version)  # type: ignore[union-attr]


def dependency_calls(dependant: Dependant) -> set[Any]:
    calls = {dependant.call}
    for sub in dependant.dependencies:
        calls |= dependency_calls(sub)
    return calls


class TestRoutesAndSessions:
    def test_every_get_reads_through_a_read_session_and_no_write_session(
        self, app: fastapi.FastAPI
    ) -> None:
        gets = [
            route
            for route in iter_route_contexts(app.routes)
            if isinstance(route.original_route, APIRoute) and "GET" in (route.methods or ())
        ]
        assert len(gets) > 50
        writing = [route.path for route in gets if get_session in dependency_calls(route.dependant)]
        assert writing == []

    def test_the_session_types_are_distinct(self) -> None:
        assert not issubclass(ReadSession, WriteSession)
        assert not issubclass(WriteSession, ReadSession)

    async def test_a_route_that_cannot_close_a_read_session_cannot_open_one(self) -> None:
        """FastAPI's own route class has no way to close it: asking is a bug, not a leak."""
        app = fastapi.FastAPI()

        @app.get("/plain")
        async def plain(session: ReadSessionDep) -> dict[str, str]:
            return {}

        router = APIRouter()

        @router.get("/ours")
        async def ours(session: ReadSessionDep) -> dict[str, bool]:
            return {"read_only": isinstance(session, ReadSession)}

        app.include_router(router)
        app.state.sessionmaker = async_sessionmaker(class_=WriteSession)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/ours")).json() == {"read_only": True}
            with pytest.raises(RuntimeError, match="needs a route that closes it"):
                await client.get("/plain")
