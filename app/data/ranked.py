"""Pages of a repository's visible records in the order of a key computed per search (a
distance from a point), the search's own values bound into the statement.

A search (``Search``) gives what decides its statement (``shape``: how many
ranges, say), the values it binds (the point, the radius) and what its cursors
are valid for (``scope``). The statement is the repository's own (its
columns, its visibility, its filters, live rows only), the computed key added
as its last column, the search's conditions (``where``) and the keyset on the
key and a tie-break column; it is built once per shape and run as a
``Prepared`` statement, like every other page. The cursor is the keyset's
values, signed as every cursor is."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Float, Select, bindparam
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import Prepared
from app.data.repository import Repository, row_fields
from app.pagination import (
    PAGE_LIMIT,
    CursorCodec,
    Keyset,
    PageParams,
    _cursor_values,
    _cut,
    prepared_page,
)
from app.security import Principal

M = TypeVar("M", bound=SQLModel)

# A search's values are bound apart from the filters' and the visibility's.
_PREFIX = "search_"


def searched(name: str, type_: TypeEngine[Any] | None = None) -> Any:
    """The SQL of the search's value ``name`` (``Search.values[name]``; a float unless
    ``type_`` says otherwise), for the key and the conditions."""
    return bindparam(_PREFIX + name, type_=Float() if type_ is None else type_)


@dataclass(frozen=True)
class Search:
    """One search: its statement's ``shape``, the ``values`` it binds (each read in SQL
    as ``searched(name)``), and the ``scope`` its cursors are valid for (with the
    filters)."""

    shape: Hashable
    values: Mapping[str, Any] = field(default_factory=dict)
    scope: Mapping[str, Any] = field(default_factory=dict)


class RankedPages(Generic[M]):
    """A repository's visible records nearest first (or in any computed order).

    ``keyset``'s first column is the computed key, labelled (its name is the
    rows' last field); the others break its ties and are columns the
    repository reads. ``where(shape)`` are the search's conditions, their
    values ``searched(name)``."""

    def __init__(
        self,
        repository: Repository[M],
        *,
        keyset: Keyset,
        where: Callable[[Any], Sequence[ColumnElement[bool]]],
    ) -> None:
        self.repository = repository
        self.keyset = keyset
        self.key: Any = keyset.columns[0]
        self.where = where
        row_fields(repository.model, (*repository.fields, str(self.key.key)))
        self._pages: dict[tuple[Any, ...], Prepared[Select[Any]]] = {}

    def _page(
        self, shape: tuple[Any, ...], given: frozenset[str], search: Hashable, after: bool
    ) -> Prepared[Select[Any]]:
        key = (shape, given, search, after)
        statement = self._pages.get(key)
        if statement is None:
            repository = self.repository
            unbounded = repository._scoped(repository._select.add_columns(self.key), shape)
            for name in sorted(given):
                unbounded = unbounded.where(repository.filters[name].clause(name))
            unbounded = unbounded.where(*self.where(search))
            statement = prepared_page(unbounded, self.keyset, after)
            self._pages[key] = statement
        return statement

    async def page(
        self,
        session: AsyncSession,
        principal: Principal | None,
        params: PageParams,
        codec: CursorCodec,
        search: Search,
        **filters: Any,
    ) -> tuple[list[Any], str | None]:
        """One page of the visible records the search finds, in the keyset's order, with
        the cursor after it (None on the last page); each filter given (not None) narrows
        it. Rows carry the repository's columns and then the computed key."""
        repository = self.repository
        unknown = filters.keys() - repository.filters.keys()
        if unknown:
            raise TypeError(f"no such filters: {sorted(unknown)}")
        visible = repository.visible_to(principal)
        scope = self.keyset.scope({**filters, **search.scope})
        after = _cursor_values(self.keyset, scope, params, codec)
        given = frozenset(name for name, value in filters.items() if value is not None)
        statement = self._page(visible.shape, given, search.shape, after is not None)
        bound = {
            **visible.values(),
            **{_PREFIX + name: value for name, value in search.values.items()},
            **{name: filters[name] for name in given},
            PAGE_LIMIT: params.limit + 1,
        }
        if after is not None:
            bound.update(self.keyset.bind(after))
        rows = await statement.rows(session, bound)
        page, next_cursor = _cut(rows, statement.names, self.keyset, params, scope, codec)
        return list(page), next_cursor
