"""The change feed ward systems sync with (docs/sync.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from app.deps import CursorCodecDep, ReadSessionDep, scoped
from app.errors import ValidationFailed, problem_responses
from app.responses import plain_json
from app.routing import APIRouter
from app.schemas.changes import ChangePage, ChangeType
from app.schemas.common import Text
from app.security import Principal
from app.services.changes import feed

router = APIRouter(prefix="/api/v1/changes", tags=["sync"])

SyncReader = Annotated[Principal, scoped("sync:read")]
_TYPES = ", ".join(f"`{t.value}`" for t in ChangeType)


@router.get("", response_model=ChangePage, responses=problem_responses(401, 403, 410, 422))
async def list_changes(
    request: Request,
    session: ReadSessionDep,
    principal: SyncReader,
    codec: CursorCodecDep,
    since: Annotated[
        str | None,
        Text(max_length=1024),
        Query(description="The `next_cursor` of your last page; omit it to sync from zero."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Changes per page (1 to 500).")] = 100,
    types: Annotated[
        str | None,
        Text(max_length=1024),
        Query(
            description=f"Only these record types, comma-separated: {_TYPES}.",
            examples=["report,camera"],
        ),
    ] = None,
) -> Any:
    """The changes of your units since your cursor, oldest first, each record's latest.

    Without `since`: every record of your units as an `upsert` (deleted ones left out),
    then every change after that. A `410` (`/problems/cursor-expired`) means the cursor
    is older than the feed keeps changes, or was issued for other units: sync again
    from zero."""
    wanted = _types(types)
    items, next_cursor = await feed.read_changes(
        session,
        principal,
        codec,
        since=since,
        limit=limit,
        types=wanted,
        retention_days=request.app.state.settings.changes_retention_days,
    )
    return plain_json({"items": items, "next_cursor": next_cursor})


def _types(given: str | None) -> list[str] | None:
    if given is None:
        return None
    names = [name.strip() for name in given.split(",") if name.strip()]
    known = {t.value for t in ChangeType}
    unknown = sorted(set(names) - known)
    if unknown or not names:
        raise ValidationFailed.field(
            ("query", "types"),
            f"No record types called {', '.join(unknown) or '(none given)'}; "
            f"the feed has {', '.join(sorted(known))}.",
        )
    return names
