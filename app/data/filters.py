"""Filters beyond ``Filter`` and ``Present`` (app/data/repository.py).

``OneOf``: the rows whose column holds one of the values given, a list bound as
one JSON array, so that the statement stays one prepared statement whatever the
list's length (an ``IN`` list expands at execution and cannot be prepared).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import Boolean

from app.data.repository import Filter


class one_of(ColumnElement[bool]):
    """``column IN (the elements of a JSON array of text)``."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column: ClauseElement, values: ClauseElement) -> None:
        self.column = column
        self.values = values

    def get_children(self, **kw: Any) -> tuple[ClauseElement, ...]:
        return (self.column, self.values)


@compiles(one_of, "postgresql")
def _one_of_postgresql(element: one_of, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(element.values, **kw)
    return f"({column} IN (SELECT jsonb_array_elements_text(CAST({values} AS JSONB))))"


@compiles(one_of)
def _one_of_default(element: one_of, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(element.values, **kw)
    return f"({column} IN (SELECT value FROM json_each({values})))"  # noqa: S608 (compiled SQL)


class OneOf(Filter):
    """A filter keeping the rows whose text column holds one of the values given (a list;
    None filters nothing, an empty list keeps nothing)."""

    def __init__(self, column: Any) -> None:
        super().__init__(column)

    def clause(self, name: str) -> ColumnElement[bool]:
        """``column IN (the elements of :name)``."""
        return one_of(self.column, bindparam(name, type_=JSON()))
