"""Keyset pagination with opaque, tamper-evident cursors, and the ``Page[T]`` envelope."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import BindParameter, ColumnElement, Integer, Select, bindparam, literal, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import Prepared
from app.db import fetch_rows
from app.errors import InvalidCursor
from app.schemas.common import Text

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_MAC_BYTES = 16


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page.",
        examples=[None],
    )


@dataclass(frozen=True)
class PageParams:
    """The ``limit`` and ``cursor`` query parameters every list takes."""

    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1 to 200).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Text(max_length=1024),
        Query(
            description="The `next_cursor` of the previous page; omit for the first page.",
        ),
    ] = None,
) -> PageParams:
    """FastAPI dependency reading ``limit`` and ``cursor``."""
    return PageParams(limit=limit, cursor=cursor)


class CursorCodec:
    """Signs cursors with a key derived from the secret: a forged one is refused."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"wardsafe-cursor\x00" + secret_key.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, scope: str, values: Sequence[Any]) -> str:
        payload = orjson.dumps({"s": scope, "v": [_plain(v) for v in values]})
        token = self._mac(payload) + payload
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode()

    def decode(self, scope: str, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor("The cursor is not one this API issued.") from None
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor("The cursor is not one this API issued.")
        data = orjson.loads(payload)
        if data.get("s") != scope:
            raise InvalidCursor(
                "The cursor belongs to another list or other filters; start again without a cursor."
            )
        values = data.get("v")
        if not isinstance(values, list):
            raise InvalidCursor("The cursor is not one this API issued.")
        return values


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _typed(raw: Any, column: ColumnElement[Any]) -> Any:
    column_type: Any = column.type
    if isinstance(column_type, TypeDecorator):
        # A decorated type (UTCDateTime) names no Python type of its own:
        # the cursor's ISO string must still become a datetime before binding.
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return raw
    try:
        if python_type is datetime:
            return datetime.fromisoformat(raw)
        if python_type is date:
            return date.fromisoformat(raw)
        if python_type is uuid.UUID:
            return uuid.UUID(raw)
        if python_type in (int, str, float) and not isinstance(raw, python_type):
            raise TypeError
    except (TypeError, ValueError):
        raise InvalidCursor("The cursor is not one this API issued.") from None
    return raw


@dataclass(frozen=True)
class Keyset:
    """The unique, indexed sort key of one list, e.g. ``(code, id)``."""

    name: str
    columns: tuple[ColumnElement[Any], ...]
    descending: bool = False

    def scope(self, filters: Mapping[str, Any]) -> str:
        # The filters are part of what a cursor is valid for.
        pairs = sorted((k, _plain(v)) for k, v in filters.items() if v is not None)
        digest = hashlib.sha256(orjson.dumps(pairs)).hexdigest()[:16]
        return f"{self.name}:{digest}"

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``values`` in this keyset's order."""
        # A row-value comparison, (a, b) > (x, y): both PostgreSQL and SQLite
        # (3.15+) plan it as one index range scan, where an OR chain may not.
        row = tuple_(*self.columns)
        bound = tuple_(*(literal(v, c.type) for v, c in zip(values, self.columns, strict=True)))
        return row < bound if self.descending else row > bound

    def after_bound(self) -> ColumnElement[bool]:
        """Rows strictly after the values bound as ``after_0``, ``after_1``... (see ``bind``)."""
        row = tuple_(*self.columns)
        bound = tuple_(*(bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(self.columns)))
        return row < bound if self.descending else row > bound

    def bind(self, values: Sequence[Any]) -> dict[str, Any]:
        """A cursor's values as the ``after_bound`` parameters."""
        return {f"after_{i}": value for i, value in enumerate(values)}

    def order_by(self) -> list[ColumnElement[Any]]:
        """The ORDER BY clause for this keyset."""
        return [c.desc() if self.descending else c.asc() for c in self.columns]


PAGE_LIMIT = "page_limit"


def limit_bound() -> BindParameter[int]:
    """``LIMIT :page_limit``'s parameter: a page's limit plus one, to know if more follow."""
    return bindparam(PAGE_LIMIT, type_=Integer)


def prepared_page(statement: Select[Any], keyset: Keyset, after: bool) -> Prepared[Select[Any]]:
    """The statement of one page of a prepared list (see ``fetch_prepared_page``):
    ``statement`` in ``keyset`` order, after the cursor's bound values when ``after``."""
    if after:
        statement = statement.where(keyset.after_bound())
    return Prepared(statement.order_by(*keyset.order_by()).limit(limit_bound()))


def _cursor_values(
    keyset: Keyset, scope: str, params: PageParams, codec: CursorCodec
) -> list[Any] | None:
    if not params.cursor:
        return None
    raw = codec.decode(scope, params.cursor)
    if len(raw) != len(keyset.columns):
        raise InvalidCursor("The cursor is not one this API issued.")
    return [_typed(v, c) for v, c in zip(raw, keyset.columns, strict=True)]


async def fetch_prepared_page(
    session: AsyncSession,
    prepared: Callable[[frozenset[str], bool], Prepared[Select[Any]]],
    keyset: Keyset,
    params: PageParams,
    codec: CursorCodec,
    filters: Mapping[str, Any],
    values: Mapping[str, Any],
) -> tuple[Sequence[Any], str | None]:
    """One page of a prepared list. ``prepared(given, after)`` is the statement for the
    filters given (not None, each bound by its name) and a cursor or not, built once per
    shape with ``prepared_page``. ``values`` bind the rest (who may see what). Rows are
    tuples."""
    scope = keyset.scope(filters)
    after = _cursor_values(keyset, scope, params, codec)
    given = frozenset(name for name, value in filters.items() if value is not None)
    statement = prepared(given, after is not None)
    bound = {**values, **{name: filters[name] for name in given}, PAGE_LIMIT: params.limit + 1}
    if after is not None:
        bound.update(keyset.bind(after))
    rows = await statement.rows(session, bound)
    return _cut(rows, statement.names, keyset, params, scope, codec)


def _cut(
    rows: Sequence[Any],
    names: Sequence[str],
    keyset: Keyset,
    params: PageParams,
    scope: str,
    codec: CursorCodec,
) -> tuple[Sequence[Any], str | None]:
    """The page of ``rows`` (fetched with ``limit + 1``) and the cursor after its last row.

    Rows are read by position (``names`` are their columns'): a Core row knows
    its columns as the table's, not as the model's attributes."""
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, codec.encode(scope, [last[names.index(str(c.key))] for c in keyset.columns])


async def fetch_page(
    session: AsyncSession,
    statement: Select[Any],
    keyset: Keyset,
    params: PageParams,
    codec: CursorCodec,
    filters: Mapping[str, Any] | None = None,
) -> tuple[Sequence[Row[Any]], str | None]:
    """Run ``statement`` for one page in keyset order; returns the rows and the next cursor.

    ``statement`` must select the keyset's columns (labelled by their key)."""
    scope = keyset.scope(filters or {})
    values = _cursor_values(keyset, scope, params, codec)
    if values is not None:
        statement = statement.where(keyset.after(values))
    statement = statement.order_by(*keyset.order_by()).limit(params.limit + 1)
    rows = await fetch_rows(session, statement)
    names = [str(column.key) for column in statement.selected_columns]
    return _cut(rows, names, keyset, params, scope, codec)
