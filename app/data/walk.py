"""Every visible record a repository's filters select, page after page in the keyset's
order: for the few reads that answer a whole list at once (a tracked report's public
history), so that they too run on the repository's prepared pages."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.pagination import CursorCodec, PageParams
from app.security import Principal

# The pages' cursors never leave the process: a key of its own.
_CODEC = CursorCodec(secrets.token_hex(32))
# A page as long as a list's longest.
PAGE = 200


async def every(
    repository: Repository[Any],
    session: AsyncSession,
    principal: Principal | None,
    **filters: Any,
) -> list[Any]:
    """Every record the filters given select that ``principal`` may see, as rows."""
    found: list[Any] = []
    cursor: str | None = None
    while True:
        rows, cursor = await repository.page(
            session, principal, PageParams(PAGE, cursor), _CODEC, **filters
        )
        found.extend(rows)
        if cursor is None:
            return found


async def up_to(
    repository: Repository[Any],
    session: AsyncSession,
    principal: Principal | None,
    limit: int,
    **filters: Any,
) -> list[Any]:
    """The first ``limit`` visible records in the keyset's order that the filters given
    select, as rows: a list answered whole with a cap (Open311's 1,000)."""
    rows, _ = await repository.page(session, principal, PageParams(limit, None), _CODEC, **filters)
    return rows
