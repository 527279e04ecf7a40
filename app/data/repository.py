"""One repository per domain, from its declaration: the records a principal may see, one
by id or a page at a time, on the fast path, and the record to change.

A domain declares its table (the model), the columns it reads, its
visibility for a principal (``visible``: the one place its scoping is
written), its filters and its sort key. Reads run as ``Prepared``
statements, built once per combination of visibility shape, filters and
cursor and cached here: on PostgreSQL asyncpg sends them (through the
driver pool in a read session), on SQLite SQLAlchemy does. Soft-deleted
rows are never visible. A service names none of that: it calls ``get``,
``page`` or ``get_for_update``."""

from __future__ import annotations

import uuid
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Boolean, ColumnElement, Select, bindparam, select
from sqlmodel import SQLModel, col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import Prepared
from app.data.visibility import Through, Visible, predicate
from app.data.writes import UnitOfWrite
from app.errors import NotFound
from app.pagination import (
    PAGE_LIMIT,
    CursorCodec,
    Keyset,
    PageParams,
    fetch_prepared_page,
    prepared_page,
)
from app.security import Principal

M = TypeVar("M", bound=SQLModel)

# How a filter compares its column with the value given.
_OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "==": lambda column, value: column == value,
    ">=": lambda column, value: column >= value,
    ">": lambda column, value: column > value,
    "<": lambda column, value: column < value,
    "<=": lambda column, value: column <= value,
    # A LIKE pattern, ``\\`` escaping ``%`` and ``_`` in it.
    "like": lambda column, value: column.like(value, escape="\\"),
}


def _expression(column: Any) -> Any:
    """A model's attribute as its column (``col`` checks that it is one), or an SQL
    expression as it is: a computed column (labelled), or what a filter compares."""
    return column if isinstance(column, ColumnElement) else col(column)


def _everyone(visible: Visible) -> Callable[[Principal], Visible]:
    return lambda _principal: visible


class Filter:
    """A list's query filter: its column compared with the value given (``==`` unless
    ``op`` says otherwise); a filter left out (None) filters nothing."""

    def __init__(self, column: Any, op: str = "==") -> None:
        self.column: Any = _expression(column)
        self.op = op
        if op not in _OPERATORS:
            raise ValueError(f"no such operator: {op}")

    def clause(self, name: str) -> ColumnElement[bool]:
        """This filter as SQL, its value bound as ``name``."""
        return _OPERATORS[self.op](self.column, bindparam(name, type_=self.column.type))


class Present(Filter):
    """A filter on whether its column holds a value: True keeps the rows where it does,
    False those where it is null (one statement for both: the value is bound)."""

    def __init__(self, column: Any) -> None:
        super().__init__(column)

    def clause(self, name: str) -> ColumnElement[bool]:
        """``(column IS NOT NULL) = :name``."""
        return self.column.is_not(None) == bindparam(name, type_=Boolean())  # type: ignore[no-any-return]


# The prefix of what a read binds besides its visibility and filters (``bound=``).
_BOUND = "bound_"


def bound_value(name: str, type_: Any = None) -> Any:
    """The SQL of a value a read binds besides its visibility and filters, given to
    ``get``, ``page`` or ``get_for_update`` as ``bound={name: value}`` (the time of
    reading, the reader): for the declared columns and ``Where`` filters to name."""
    return bindparam(_BOUND + name, type_=type_)


def row_fields(model: type[SQLModel], names: tuple[str, ...]) -> tuple[str, ...]:
    """``names``, checked as the fields of rows read by attribute (``row.ward_code``),
    position or ``_asdict()``, whichever path ran them (a SQLAlchemy ``Row`` or a
    ``driver.Row``): each an identifier, once, as a named tuple's fields must be."""
    namedtuple(f"{model.__name__}Row", names)
    return names


def bound_values(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """A read's ``bound`` values by the names its SQL binds them under."""
    return {_BOUND + name: value for name, value in (values or {}).items()}


class Where(Filter):
    """A filter written as SQL of its bound value (``sql(bindparam)``), for one no column
    comparison says: a list's ``state`` as a condition on times, an ``EXISTS`` over the
    record's related rows. With ``also``, ``sql`` takes those other filters' values too
    (``sql(value, other)``), which must then be given with it. Its SQL may also name the
    values a read binds besides (``bound_value("now")``)."""

    def __init__(
        self,
        sql: Callable[..., ColumnElement[bool]],
        type_: Any = None,
        *,
        also: Sequence[str] = (),
    ) -> None:
        self.sql = sql
        self.op = "where"
        self.type = type_
        self.also = tuple(also)
        self.column: Any = None

    def clause(self, name: str) -> ColumnElement[bool]:
        """``sql`` of the value bound as ``name`` (of ``type_``), and of those bound as
        ``also``."""
        return self.sql(bindparam(name, type_=self.type), *(bindparam(o) for o in self.also))


class Repository(Generic[M]):
    """The reads of one domain's table, scoped to the caller."""

    def __init__(
        self,
        model: type[M],
        *,
        noun: str,
        columns: Sequence[Any],
        visible: Callable[[Principal], Visible] | Visible,
        keyset: Keyset,
        filters: Mapping[str, Filter | Any] | None = None,
        missing: str | None = None,
        key: Any = None,
        writes: UnitOfWrite | None = None,
        through: Through | None = None,
    ) -> None:
        self.model = model
        self.writes = writes
        self.noun = noun
        self.table: Any = model.__table__  # type: ignore[attr-defined]
        if writes is not None:
            writes.guard(self.table.name)
        # One Visible is every caller's, signed in or not (reference data); a function of
        # the principal leaves a caller without a token nothing to see.
        self.visible = _everyone(visible) if isinstance(visible, Visible) else visible
        self.anonymous = visible if isinstance(visible, Visible) else Visible.nothing()
        # The column a record is found by: ``id``, or an official code.
        self.key: Any = self.table.c.id if key is None else col(key)
        self.keyset = keyset
        # The 404 of a record read under its parent names the parent
        # ("The team has no equipment item with the id {id}.").
        self.missing = missing
        self.filters = {
            name: given if isinstance(given, Filter) else Filter(given)
            for name, given in (filters or {}).items()
        }
        # Names the visibility uses that are no columns of the table (see visibility.Through).
        self.through = through
        self._select: Select[Any] = select(*(_expression(column) for column in columns))
        names = tuple(str(column.key) for column in self._select.selected_columns)
        self.fields: tuple[str, ...] = row_fields(model, names)
        self._live: ColumnElement[bool] | None = (
            self.table.c.deleted_at.is_(None) if "deleted_at" in self.table.c else None
        )
        self._by_id: dict[tuple[Any, ...], Prepared[Select[Any]]] = {}
        self._pages: dict[tuple[Any, ...], Prepared[Select[Any]]] = {}

    def _scoped(self, statement: Select[Any], shape: tuple[Any, ...]) -> Select[Any]:
        statement = statement.where(predicate(self.table, shape, self.through))
        return statement if self._live is None else statement.where(self._live)

    def _one(
        self, shape: tuple[Any, ...], given: frozenset[str] = frozenset()
    ) -> Prepared[Select[Any]]:
        key = (shape, given)
        statement = self._by_id.get(key)
        if statement is None:
            by_id = self.key == bindparam("record_id", type_=self.key.type)
            one = self._scoped(self._select.where(by_id), shape)
            for name in sorted(given):
                one = one.where(self.filters[name].clause(name))
            statement = Prepared(one)
            self._by_id[key] = statement
        return statement

    def _within(self, within: Mapping[str, Any]) -> dict[str, Any]:
        """The filters a read by id is also held to. Unlike a page's, one given as None is
        kept (and matches nothing): a parent's id left out must not widen the read."""
        unknown = within.keys() - self.filters.keys()
        if unknown:
            raise TypeError(f"no such filters: {sorted(unknown)}")
        return dict(within)

    def _page(
        self, shape: tuple[Any, ...], given: frozenset[str], after: bool
    ) -> Prepared[Select[Any]]:
        key = (shape, given, after)
        statement = self._pages.get(key)
        if statement is None:
            unbounded = self._scoped(self._select, shape)
            for name in sorted(given):
                unbounded = unbounded.where(self.filters[name].clause(name))
            statement = prepared_page(unbounded, self.keyset, after)
            self._pages[key] = statement
        return statement

    def visible_to(self, principal: Principal | None) -> Visible:
        """What ``principal`` may see (None: a caller without a token)."""
        return self.anonymous if principal is None else self.visible(principal)

    def not_found(self, record_id: Any, **within: Any) -> NotFound:
        """The 404 for an id the caller cannot see (or that does not exist: the same);
        ``missing`` may name the parent's id it was read under (``within``)."""
        if self.missing is not None:
            return NotFound(self.missing.format(id=record_id, **within))
        # A code is quoted, so that its ends show; a uuid is not.
        shown = repr(record_id) if isinstance(record_id, str) else record_id
        return NotFound(f"No {self.noun} has the {self.key.key} {shown}.")

    async def find(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record_id: uuid.UUID | str,
        *,
        bound: Any = None,
        **within: Any,
    ) -> Any:
        """The visible record with this id, as a row of the declared columns, or None;
        each filter in ``within`` must hold too (a record read under its parent's id).
        ``bound``: the values the declared SQL names besides (the time now, the reader).
        For a rule's look-up, whose absence is a 422 or a refusal, not a 404."""
        visible = self.visible_to(principal)
        held = self._within(within)
        return await self._one(visible.shape, frozenset(held)).row(
            session, {**bound_values(bound), **visible.values(), **held, "record_id": record_id}
        )

    async def get(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record_id: uuid.UUID | str,
        *,
        bound: Any = None,
        **within: Any,
    ) -> Any:
        """As ``find``, but a record not found is the 404 (naming its parent)."""
        row = await self.find(session, principal, record_id, bound=bound, **within)
        if row is None:
            raise self.not_found(record_id, **within)
        return row

    async def page(
        self,
        session: AsyncSession,
        principal: Principal | None,
        params: PageParams,
        codec: CursorCodec,
        *,
        # A mapping (Any: a caller's ``**filters`` dict may not be told from it).
        bound: Any = None,
        **filters: Any,
    ) -> tuple[list[Any], str | None]:
        """One page of the visible records in the keyset's order, with the cursor after it
        (None on the last page); each filter given (not None) narrows it. ``bound`` (as
        ``get``'s) is no filter: the cursor does not carry it."""
        unknown = filters.keys() - self.filters.keys()
        if unknown:
            raise TypeError(f"no such filters: {sorted(unknown)}")
        visible = self.visible_to(principal)
        shape = visible.shape
        rows, next_cursor = await fetch_prepared_page(
            session,
            lambda given, after: self._page(shape, given, after),
            self.keyset,
            params,
            codec,
            filters,
            {**bound_values(bound), **visible.values()},
        )
        return list(rows), next_cursor

    async def first(
        self, session: AsyncSession, principal: Principal | None, **filters: Any
    ) -> Any:
        """The first visible record in the keyset's order that the filters given (not None)
        select, as a row (None when there is none): a list's first page of one."""
        unknown = filters.keys() - self.filters.keys()
        if unknown:
            raise TypeError(f"no such filters: {sorted(unknown)}")
        visible = self.visible_to(principal)
        given = frozenset(name for name, value in filters.items() if value is not None)
        bound = {**visible.values(), **{name: filters[name] for name in given}, PAGE_LIMIT: 1}
        return await self._page(visible.shape, given, False).row(session, bound)

    async def get_for_update(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record_id: uuid.UUID | str,
        *,
        bound: Any = None,
        **within: Any,
    ) -> M:
        """The visible record with this id, as the model to change (404 otherwise); each
        filter in ``within`` must hold too (``bound`` as ``get``'s)."""
        visible = self.visible_to(principal)
        held = self._within(within)
        statement = select_model(self.model).where(
            self.key == record_id, predicate(self.table, visible.shape, self.through)
        )
        if self._live is not None:
            statement = statement.where(self._live)
        for name in sorted(held):
            statement = statement.where(self.filters[name].clause(name))
        values = {**bound_values(bound), **visible.values(), **held}
        found = (await session.exec(statement, params=values)).first()
        if found is None:
            raise self.not_found(record_id, **held)
        return found

    # --- writes: through the unit of write, each with its audit event ---------------

    def _unit(self) -> UnitOfWrite:
        if self.writes is None:
            raise TypeError(f"{self.model.__name__}'s repository declares no writes")
        return self.writes

    async def insert(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record: M,
        *,
        fields: Any,
        parts: Sequence[SQLModel] = (),
    ) -> M:
        """Write a new record and its ``create`` event (``fields``: the fields it was given;
        ``parts``: rows of other tables that belong to it, written with it)."""
        await self._unit().insert(session, principal, record, fields=fields, parts=parts)
        return record

    async def update(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record: M,
        expected_version: int,
        values: dict[str, Any],
        *,
        fields: Any,
        action: str = "update",
        where: Any = None,
        parts: Sequence[SQLModel] = (),
    ) -> M:
        """Compare-and-set ``values`` on ``record`` at ``expected_version`` (412 when it
        moved on, or fails ``where``), with its ``action`` event (``fields``: the fields the
        caller changed) and ``parts`` (rows that belong to it) written with it."""
        await self._unit().update(
            session,
            principal,
            record,
            expected_version,
            values,
            fields=fields,
            action=action,
            where=where,
            parts=parts,
        )
        return record

    async def delete(
        self, session: AsyncSession, principal: Principal | None, record: M, expected_version: int
    ) -> None:
        """Soft-delete ``record`` at ``expected_version`` (412 when it moved on), with its
        ``delete`` event."""
        await self._unit().delete(session, principal, record, expected_version)
