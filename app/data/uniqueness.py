"""The read a uniqueness rule makes: whether a live record already holds these values,
whoever may see it (a team's name in its neighbourhood, a round's name in its unit and
year). The rule holds across every principal's scope, so the read is not scoped; it runs
prepared like a repository's own reads, as the first row of its page."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.pagination import PAGE_LIMIT

# The visibility shape of every row (``Visible.all().shape``).
_EVERY_ROW = ("all",)


async def taken(repository: Repository[Any], session: AsyncSession, **filters: Any) -> Any:
    """The first live record of ``repository`` (in its keyset's order) that these filters
    select, whoever may see it, as a row; None when there is none. Every filter must be
    given a value: one left out (None) would widen the rule, not narrow it."""
    unknown = filters.keys() - repository.filters.keys()
    if unknown:
        raise TypeError(f"no such filters: {sorted(unknown)}")
    missing = sorted(name for name, value in filters.items() if value is None)
    if missing:
        raise TypeError(f"a uniqueness read needs every filter's value: {missing}")
    statement = repository._page(_EVERY_ROW, frozenset(filters), False)
    return await statement.row(session, {**filters, PAGE_LIMIT: 1})
