"""The insert a repository's ``insert`` does not cover, through the unit of write.

``insert_row``: a new record written as a plain ``INSERT`` of its row
(``new_row``), past the ORM, with its ``create`` event: for the hottest write (a
new report), where constructing and flushing a SQLModel object cost about a third
of the write's CPU (docs/performance.md). Inside an idempotent request the row
and its event wait for the statement that stores the answer
(``app.data.idempotency.run_once``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import NewRows
from app.data.repository import Repository
from app.data.writes import audit_event, writing
from app.security import Principal

# One ``NewRows`` per table, built once.
_NEW_ROWS: dict[str, NewRows] = {}


def _new_rows(repository: Repository[Any]) -> NewRows:
    name = repository.table.name
    found = _NEW_ROWS.get(name)
    if found is None:
        found = _NEW_ROWS[name] = NewRows(repository.model)
    return found


def _unit_of(repository: Repository[Any]) -> Any:
    if repository.writes is None:
        raise TypeError(f"{repository.model.__name__}'s repository declares no writes")
    if repository.writes.derive is not None:
        # A row written past the ORM has no record to derive from.
        raise TypeError(f"{repository.model.__name__} derives columns: use Repository.insert")
    return repository.writes


def new_row(repository: Repository[Any], **given: Any) -> dict[str, Any]:
    """A whole new row of the repository's table: ``given``, and the model's default for
    every other column (``id``, ``created_at``, ``version``...)."""
    return _new_rows(repository).values(**given)


async def insert_row(
    repository: Repository[Any],
    session: AsyncSession,
    principal: Principal | None,
    row: Mapping[str, Any],
    *,
    fields: Iterable[str],
    untied: Mapping[str, Any] | None = None,
) -> None:
    """Write ``row`` (from ``new_row``) and its ``create`` event (``fields``: the fields it
    was given). ``untied`` gives the event its own id and times and leaves it naming no
    actor and no request (an anonymous report's: docs/reports.md)."""
    unit = _unit_of(repository)
    with writing():
        await _new_rows(repository).insert(session, row)
    if untied is None:
        await audit_event(
            session,
            principal,
            "create",
            unit.record_type,
            row["id"],
            province_code=row.get("province_code"),
            ward_code=row.get("ward_code"),
            changed_fields=fields,
        )
        return
    await audit_event(
        session,
        None,
        "create",
        unit.record_type,
        row["id"],
        province_code=row.get("province_code"),
        ward_code=row.get("ward_code"),
        changed_fields=fields,
        request_id=None,
        stamp=untied,
    )
