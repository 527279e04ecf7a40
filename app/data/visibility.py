"""Which rows of a table a principal may see, as a value: the one thing a domain writes
about scoping (its ``visible(principal)``), which the repository turns into SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, false, or_, true

from app.security import Principal, Role

# Names a visibility may use that are not columns of the table, each the SQL of its
# value: a membership, e.g. ``{"leader": lambda user_id: table.c.id.in_(led_by(user_id))}``.
Through = Mapping[str, Callable[[Any], ColumnElement[bool]]]


@dataclass(frozen=True)
class Visible:
    """The rows whose columns equal these values (any one of ``alternatives``, each a set of
    column names and the values they must have), every row, or none.

    The shape (which columns, how combined) decides the statement, which is
    built once per shape; the values are bound at run time."""

    alternatives: tuple[tuple[tuple[str, Any], ...], ...]
    everything: bool = False

    @classmethod
    def all(cls) -> Visible:
        """Every row (an admin's view)."""
        return cls((), everything=True)

    @classmethod
    def nothing(cls) -> Visible:
        """No row at all (default deny)."""
        return cls(())

    @classmethod
    def where(cls, **equal: Any) -> Visible:
        """The rows whose columns equal these values, e.g. ``Visible.where(ward_code=...)``."""
        return cls((tuple(sorted(equal.items())),))

    def or_where(self, **equal: Any) -> Visible:
        """These rows, and also those whose columns equal these values."""
        if self.everything:
            return self
        return Visible((*self.alternatives, tuple(sorted(equal.items()))))

    @property
    def shape(self) -> tuple[Any, ...]:
        """What the statement depends on: the column names, not their values."""
        if self.everything:
            return ("all",)
        return tuple(tuple(name for name, _ in alternative) for alternative in self.alternatives)

    def values(self) -> dict[str, Any]:
        """The values the shape's predicate binds (``visible_<i>_<column>``)."""
        return {
            f"visible_{position}_{name}": value
            for position, alternative in enumerate(self.alternatives)
            for name, value in alternative
        }


def predicate(
    table: Table, shape: tuple[Any, ...], through: Through | None = None
) -> ColumnElement[bool]:
    """The SQL for a ``Visible.shape`` on ``table``, its values as bound parameters
    (a name in ``through`` given its parameter)."""
    if shape == ("all",):
        return true()
    if not shape:
        return false()
    columns: Any = table.c

    def equal(position: int, name: str) -> ColumnElement[bool]:
        if through and name in through:
            return through[name](bindparam(f"visible_{position}_{name}"))
        column = columns[name]
        return column == bindparam(f"visible_{position}_{name}", type_=column.type)  # type: ignore[no-any-return]

    return or_(
        *(and_(*(equal(position, name) for name in names)) for position, names in enumerate(shape))
    )


def inline_predicate(
    visible: Visible, columns: Mapping[str, Any], through: Through | None = None
) -> ColumnElement[bool]:
    """``visible`` as SQL on these columns (by name), its values written in: for a
    statement built per request, such as one that joins another table (a name in
    ``through`` given its value)."""
    if visible.everything:
        return true()
    if not visible.alternatives:
        return false()
    return or_(
        *(
            and_(
                *(
                    through[name](value) if through and name in through else columns[name] == value
                    for name, value in alternative
                )
            )
            for alternative in visible.alternatives
        )
    )


def by_unit(principal: Principal) -> Visible:
    """The records placed by ``province_code``, ``ward_code`` and ``neighbourhood_id``
    that a principal may see (fire safety, certifications).

    Admins everything; province officers their province; ward officers and
    ward systems their ward (a province-level system its province);
    neighbourhood heads and group leaders their neighbourhood. Default deny."""
    role = principal.role
    if role is Role.ADMIN:
        return Visible.all()
    if role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    if role is Role.WARD_SYSTEM and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if role in (Role.NEIGHBOURHOOD_HEAD, Role.GROUP_LEADER) and principal.neighbourhood_id:
        return Visible.where(neighbourhood_id=principal.neighbourhood_id)
    return Visible.nothing()
