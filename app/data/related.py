"""The visible rows of a table for a set of keys, e.g. the items of a page of parents
(``RowsOf``). A list's filter on its related rows is a ``repository.Where``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository, bound_values
from app.db import fetch_rows
from app.security import Principal

M = TypeVar("M", bound=SQLModel)


class RowsOf(Generic[M]):
    """The visible rows whose ``column`` is one of a set of values (the ids of a page of
    parents, or of the records a request names), each value's in the repository's
    keyset order: one statement for them all."""

    def __init__(self, repository: Repository[M], column: Any) -> None:
        self.repository = repository
        expression: Any = col(column)
        self.column = expression
        self.key = str(expression.key)
        if self.key not in repository.fields:
            raise TypeError(f"the repository reads no column {self.key}")

    async def of(
        self,
        session: AsyncSession,
        principal: Principal | None,
        values: Sequence[Any],
        *,
        bound: Mapping[str, Any] | None = None,
    ) -> dict[Any, list[Any]]:
        """Each value's visible rows (as the repository's rows), by value; ``bound`` as
        ``Repository.get``'s (the values its SQL names besides: the time now, the reader)."""
        grouped: dict[Any, list[Any]] = {value: [] for value in values}
        if not values:
            return grouped
        repository = self.repository
        visible = repository.visible_to(principal)
        # A page's ids (up to 200), written in as an IN list.
        statement = repository._scoped(
            repository._select.where(self.column.in_(list(values))), visible.shape
        ).order_by(*repository.keyset.order_by())
        rows = await fetch_rows(session, statement, {**bound_values(bound), **visible.values()})
        position = repository.fields.index(self.key)
        for row in rows:
            grouped[row[position]].append(row)
        return grouped
