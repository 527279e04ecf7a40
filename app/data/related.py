"""Reads across a record and the rows that belong to it: a list's filter on its related
rows (``Related``), and the visible rows of a table for a set of keys, e.g. the items
of a page of parents (``RowsOf``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, bindparam
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.db import fetch_rows
from app.security import Principal

M = TypeVar("M", bound=SQLModel)


class Related(Filter):
    """A filter written as SQL of its value: ``condition(value)``, e.g. an ``EXISTS`` over
    the record's related rows; with ``also``, the values of those other filters too
    (``condition(value, other)``), which must then be given with it."""

    def __init__(
        self, condition: Callable[..., ColumnElement[bool]], *, also: Sequence[str] = ()
    ) -> None:
        self.condition = condition
        self.also = tuple(also)
        self.op = "=="
        self.column: Any = None

    def clause(self, name: str) -> ColumnElement[bool]:
        """``condition`` of the value bound as ``name`` (and of those bound as ``also``)."""
        return self.condition(bindparam(name), *(bindparam(other) for other in self.also))


class RowsOf(Generic[M]):
    """The visible rows whose ``column`` is one of a set of values (the ids of a page of
    parents, or of the records a request names), each value's in the repository's
    keyset order: one statement for them all."""

    def __init__(self, repository: Repository[M], column: Any) -> None:
        self.repository = repository
        expression: Any = col(column)
        self.column = expression
        self.key = str(expression.key)
        if self.key not in repository.row_type._fields:
            raise TypeError(f"the repository reads no column {self.key}")

    async def of(
        self,
        session: AsyncSession,
        principal: Principal | None,
        values: Sequence[Any],
    ) -> dict[Any, list[Any]]:
        """Each value's visible rows (as the repository's rows), by value."""
        grouped: dict[Any, list[Any]] = {value: [] for value in values}
        if not values:
            return grouped
        repository = self.repository
        visible = repository.visible_to(principal)
        # A page's ids (up to 200), written in as an IN list.
        statement = repository._scoped(
            repository._select.where(self.column.in_(list(values))), visible.shape
        ).order_by(*repository.keyset.order_by())
        rows = await fetch_rows(session, statement, visible.values())
        make = repository.row_type._make
        position = repository.row_type._fields.index(self.key)
        for row in rows:
            grouped[row[position]].append(make(row))
        return grouped
