"""app/data/inserts.py: a record written as a plain INSERT of its row with its create event
(signed, or untied from its sender and request), and an entry written with another
record's write, which has no event of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import reset_request_id, set_request_id
from app.data.inserts import insert_row, new_row
from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns
from app.demo.places import HA_LONG
from app.models.audit import AuditEvent
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.pagination import Keyset
from app.security import Principal, Role
from app.services.reports.history import UPDATES
from app.services.reports.records import REPORTS
from tests.conftest import WRITES_OUTSIDE_THE_UNIT
from tests.factories import QUANG_NINH

RESIDENT = Principal(
    subject=uuid.uuid4(),
    kind="user",
    role=Role.RESIDENT,
    unit_code=HA_LONG,
    province_code=QUANG_NINH,
    ward_code=HA_LONG,
    neighbourhood_id=None,
)


@pytest.fixture
def in_a_request() -> Iterator[str]:
    request_id = uuid.uuid4().hex
    token = set_request_id(request_id)
    try:
        yield request_id
    finally:
        reset_request_id(token)


def report_row(**values: Any) -> dict[str, Any]:
    return new_row(
        REPORTS,
        province_code=QUANG_NINH,
        ward_code=HA_LONG,
        category="noise",
        description="Karaoke ồn ào sau 23 giờ.",
        **values,
    )


async def event_of(session: AsyncSession, record_id: Any) -> AuditEvent:
    [event] = (
        await session.exec(select(AuditEvent).where(col(AuditEvent.record_id) == str(record_id)))
    ).all()
    return event


class TestNewRow:
    def test_fills_every_column_from_the_model_defaults(self) -> None:
        row = report_row()
        assert isinstance(row["id"], uuid.UUID)
        assert (row["version"], row["status"], row["source"]) == (1, "received", "app")
        assert row["created_at"] is not None
        assert row["deleted_at"] is None

    def test_refuses_a_column_the_table_lacks(self) -> None:
        with pytest.raises(TypeError, match="no such columns"):
            report_row(colour="red")


class TestInsertRow:
    async def test_writes_the_row_and_its_event_in_the_request(
        self, session: AsyncSession, in_a_request: str
    ) -> None:
        row = report_row(anonymous=False)
        await insert_row(REPORTS, session, RESIDENT, row, fields={"category", "description"})

        stored = await session.get(Report, row["id"])
        assert stored is not None
        assert stored.description == row["description"]
        event = await event_of(session, row["id"])
        assert (event.action, event.record_type, event.changed_fields) == (
            "create",
            "report",
            ["category", "description"],
        )
        assert (event.actor_id, event.ward_code, event.request_id) == (
            RESIDENT.subject,
            HA_LONG,
            in_a_request,
        )
        # Through the unit: the suite's guard saw nothing outside it.
        assert WRITES_OUTSIDE_THE_UNIT == []

    async def test_an_untied_event_names_no_actor_and_no_request(
        self, session: AsyncSession, in_a_request: str
    ) -> None:
        row = report_row(anonymous=True)
        stamp = {
            "id": uuid.uuid4(),
            "created_at": row["created_at"],
            "updated_at": row["created_at"],
        }
        await insert_row(REPORTS, session, RESIDENT, row, fields={"category"}, untied=stamp)

        event = await event_of(session, row["id"])
        assert (event.id, event.created_at) == (stamp["id"], stamp["created_at"])
        assert (event.actor_id, event.actor_kind, event.request_id) == (None, "anonymous", None)

    async def test_refuses_a_repository_without_writes_or_with_derived_columns(self) -> None:
        reads_only = Repository(
            Report,
            noun="report",
            columns=(Report.id,),
            visible=Visible.all(),
            keyset=Keyset("test-reports", columns(Report.created_at, Report.id)),
        )
        with pytest.raises(TypeError, match="declares no writes"):
            await insert_row(reads_only, None, None, {}, fields=())  # type: ignore[arg-type]
        deriving = Repository(
            Report,
            noun="report",
            columns=(Report.id,),
            visible=Visible.all(),
            keyset=Keyset("test-reports", columns(Report.created_at, Report.id)),
            writes=UnitOfWrite("report", derive=lambda record, values: {}),
        )
        with pytest.raises(TypeError, match="derives columns"):
            await insert_row(deriving, None, None, {}, fields=())  # type: ignore[arg-type]


class TestHistoryEntries:
    async def test_writes_the_entry_with_no_event_of_its_own(
        self, session: AsyncSession, in_a_request: str
    ) -> None:
        row = report_row(anonymous=True)
        await insert_row(REPORTS, session, None, row, fields={"category"})
        entry = ReportUpdate(
            report_id=row["id"],
            province_code=QUANG_NINH,
            ward_code=HA_LONG,
            kind="triage",
            to_status="received",
            public=False,
        )
        # A history entry on its own (a note's) is appended: no event of its own.
        await UPDATES.writes.append(session, [entry])

        assert await session.get(ReportUpdate, entry.id) is not None
        none = await session.exec(
            select(AuditEvent).where(col(AuditEvent.record_id) == str(entry.id))
        )
        assert none.all() == []
        assert WRITES_OUTSIDE_THE_UNIT == []
