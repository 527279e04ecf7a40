"""Who reads which units of the change feed, and where a reader is: the units a
principal's feed covers (``Units``) and the signed position its cursor carries
(``Position``), refused with 410 when it is too old or another's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, bindparam, literal, or_

from app.db import utcnow
from app.errors import CursorExpired, Forbidden, InvalidCursor
from app.pagination import CursorCodec
from app.security import Principal, Role

# The codec's scope for the feed's cursors; the caller's units are inside them.
_CURSOR = "changes"
_READERS = (Role.ADMIN, Role.PROVINCE_OFFICER, Role.WARD_OFFICER, Role.WARD_SYSTEM)


@dataclass(frozen=True)
class Units:
    """The units whose changes a principal reads: every unit, a province, or a ward."""

    key: str  # "all", "p:22", "w:06688": what a cursor is bound to
    province_code: str | None = None
    ward_code: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Units:
        if principal.role not in _READERS:
            raise Forbidden("The change feed is for officers, ward systems and administrators.")
        if principal.role is Role.ADMIN:
            return cls("all")
        if principal.ward_code:
            return cls(f"w:{principal.ward_code}", principal.province_code, principal.ward_code)
        if principal.province_code:
            return cls(f"p:{principal.province_code}", principal.province_code)
        raise Forbidden("Your account is tied to no unit.")

    @property
    def kind(self) -> str:
        return "ward" if self.ward_code else "province" if self.province_code else "all"

    def values(self) -> dict[str, Any]:
        """The values ``unit_parts`` binds."""
        return {"unit_ward": self.ward_code, "unit_province": self.province_code}

    def contains(self, data: Any) -> bool:
        """Whether a record as read now is still of these units."""
        if self.ward_code is not None:
            ward = data.get("ward_code")
            return ward == self.ward_code or (
                ward is None and data.get("province_code") in (self.province_code, None)
            )
        if self.province_code is not None:
            return data.get("province_code") in (self.province_code, None)
        return True


def unit_parts(kind: str, table: Any) -> list[Any]:
    """The conditions whose union says that a change row (of ``table``, the log or an
    alias) is of a ``kind`` of units (``Units.kind``; values: ``Units.values``): the
    record's unit after the change, its unit before it (it left), or no unit (reference
    data such as criteria sets). Disjoint, and each one an index's leading column, so
    each part reads in commit order from its own index and a page reads no further than
    it needs."""
    c = table.c
    ward, province = bindparam("unit_ward", type_=String), bindparam("unit_province", type_=String)
    if kind == "ward":
        return [
            c.ward_code == ward,
            and_(c.was_ward_code == ward, c.was_ward_code.is_not(None)),
            and_(
                c.ward_code.is_(None), or_(c.province_code == province, c.province_code.is_(None))
            ),
        ]
    if kind == "province":
        return [
            c.province_code == province,
            and_(c.was_province_code == province, c.was_province_code.is_not(None)),
            c.province_code.is_(None),
        ]
    return [literal(True)]


@dataclass(frozen=True)
class Position:
    """Where a reader is: past ``(txid, id)``; ``zero``, where a sync from zero began
    (deletes before it are left out); ``complete_at``, the time up to which its copy
    lacks nothing, for the retention check."""

    txid: int
    id: int
    zero: tuple[int, int] | None
    complete_at: datetime

    def encode(self, codec: CursorCodec, units: Units) -> str:
        zero = list(self.zero) if self.zero else None
        return codec.encode(
            _CURSOR, [self.txid, self.id, zero, units.key, int(self.complete_at.timestamp())]
        )

    @classmethod
    def decode(
        cls, codec: CursorCodec, cursor: str, units: Units, retention: timedelta
    ) -> Position:
        values = codec.decode(_CURSOR, cursor)
        try:
            txid, row_id, zero, key, at = values
            position = cls(
                int(txid),
                int(row_id),
                (int(zero[0]), int(zero[1])) if zero is not None else None,
                datetime.fromtimestamp(int(at), UTC),
            )
        except (TypeError, ValueError, IndexError, OverflowError):
            raise InvalidCursor("The cursor is not one this API issued.") from None
        if key != units.key:
            raise CursorExpired(
                "The cursor was issued for other units than yours; sync again from zero "
                "(call without since)."
            )
        if position.complete_at < utcnow() - retention:
            raise CursorExpired(
                f"The cursor is older than the feed keeps changes ({retention.days} days); "
                "sync again from zero (call without since)."
            )
        return position


def in_units(kind: str, table: Any) -> Any:
    """Whether a change row is of a ``kind`` of units: the union of ``unit_parts``."""
    parts = unit_parts(kind, table)
    return parts[0] if len(parts) == 1 else or_(*parts)
