"""Report figures for any unit and period: counts, and time to acknowledge, all in SQL.

Two queries over the unit's reports: the counts by (status, category), summed
into both breakdowns here, and the percentiles. Percentiles are nearest-rank
(the smallest duration with at least p% of the durations at or below it: rank
ceil(p·n) in ascending order): ``percentile_disc`` on PostgreSQL, which is
exactly that, and ``ROW_NUMBER()`` with ``COUNT(*) OVER ()`` on SQLite (3.25+),
which has no ordered-set aggregates; both give the same answer.
(``percentile_cont`` would interpolate.) The covering indexes on ``reports``
let PostgreSQL read both from the index alone.

The figures of a unit and period are kept a short while (``StatisticsCache``,
``WARDSAFE_STATISTICS_CACHE_SECONDS``): scanning a province's million reports
for every phone that opens the dashboard is what the cache saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Select,
    case,
    func,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cache import Cached, TTLCache
from app.db import columns, fetch_row, fetch_rows
from app.errors import FieldErrorType, Forbidden, ValidationFailed
from app.models.reports import Report
from app.security import Principal, Role, UnitLevel
from app.services import units as unit_service
from app.services.units import UnitAnchor


class seconds_between(FunctionElement[float]):
    """``end - start`` in seconds, as a float, on PostgreSQL and SQLite alike."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@dataclass(frozen=True)
class ReportStatistics:
    """What the newspaper quotes about reports, for one unit and period."""

    unit_code: str
    since: datetime | None
    until: datetime | None
    total: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    acknowledged: int = 0
    median_seconds_to_acknowledge: float | None = None
    p90_seconds_to_acknowledge: float | None = None


def _unit_predicate(anchor: UnitAnchor) -> ColumnElement[bool]:
    if anchor.level is UnitLevel.PROVINCE:
        return col(Report.province_code) == anchor.province_code
    if anchor.level is UnitLevel.WARD:
        return col(Report.ward_code) == anchor.ward_code
    return col(Report.neighbourhood_id) == anchor.neighbourhood_id


def can_see_unit(principal: Principal, anchor: UnitAnchor) -> str | None:
    """Why ``principal`` may not see figures of this unit (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.ward_code is None:
        # Province officers, province-wide ward systems: any unit of the province.
        allowed = principal.province_code is not None and (
            principal.province_code == anchor.province_code
        )
    else:
        # Ward officers and ward systems: their ward and its neighbourhoods.
        allowed = anchor.level is not UnitLevel.PROVINCE and anchor.ward_code == principal.ward_code
    return None if allowed else "You see the figures of your own units only."


async def unit_anchor(session: AsyncSession, unit_code: str) -> UnitAnchor:
    """The province, ward or neighbourhood ``unit_code`` names (422 if none)."""
    anchor = await unit_service.resolve_unit(session, unit_code)
    if anchor is None:
        raise ValidationFailed.field(
            ("query", "unit_code"),
            f"No province, ward or neighbourhood has the code {unit_code!r}.",
            FieldErrorType.NOT_FOUND,
        )
    return anchor


def _percentiles_by_window(
    answered: ColumnElement[bool], seconds: ColumnElement[float]
) -> Select[Any]:
    """(acknowledged, median, p90) of ``seconds``: window functions, for SQLite."""
    durations = (
        select(
            seconds.label("seconds"),
            func.row_number().over(order_by=seconds).label("position"),
            func.count().over().label("n"),
        )
        .where(answered)
        .subquery()
    )
    # Nearest rank ceil(p·n) in integer arithmetic: ceil(n/2) = (n+1)//2,
    # ceil(9n/10) = (9n+9)//10. SQLite divides integers exactly so.
    rank, n, value = durations.c.position, durations.c.n, durations.c.seconds
    return (
        select(
            *cast(
                tuple[ColumnElement[Any], ...],
                (
                    func.count().label("acknowledged"),
                    func.min(case((rank == (n + 1) // 2, value))).label("median"),
                    func.min(case((rank == (9 * n + 9) // 10, value))).label("p90"),
                ),
            )
        )
        .select_from(durations)
        .where(true())
    )


def _percentiles_ordered_set(
    answered: ColumnElement[bool], seconds: ColumnElement[float]
) -> Select[Any]:
    """(acknowledged, [median, p90]) of ``seconds``: ``percentile_disc``, for PostgreSQL.

    ``percentile_disc(p)`` is the first value whose position in the order
    reaches p·n: rank ceil(p·n), the nearest rank. With an array of fractions
    it reads the sorted durations once for both (two separate calls share
    the sort but read it twice)."""
    return select(
        *cast(
            tuple[ColumnElement[Any], ...],
            (
                func.count().label("acknowledged"),
                type_coerce(
                    func.percentile_disc(literal_column("ARRAY[0.5, 0.9]")).within_group(seconds),
                    ARRAY(Float),
                ).label("percentiles"),
            ),
        )
    ).where(answered)


async def report_statistics(
    session: AsyncSession,
    anchor: UnitAnchor,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReportStatistics:
    """Counts by status and category, and the median and 90th percentile time to acknowledge,
    of the reports filed in ``[since, until)`` in the unit."""
    scope = _unit_predicate(anchor) & col(Report.deleted_at).is_(None)
    if since is not None:
        scope = scope & (col(Report.created_at) >= since)
    if until is not None:
        scope = scope & (col(Report.created_at) < until)

    # One scan for both breakdowns: the (status, category) pairs are few
    # (at most statuses × categories), so summing them here costs nothing.
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for pair in await fetch_rows(
        session,
        select(*columns(Report.status, Report.category), func.count().label("n"))
        .where(scope)
        .group_by(col(Report.status), col(Report.category)),
    ):
        by_status[pair.status] = by_status.get(pair.status, 0) + pair.n
        by_category[pair.category] = by_category.get(pair.category, 0) + pair.n

    seconds = seconds_between(col(Report.created_at), col(Report.acknowledged_at))
    answered = scope & col(Report.acknowledged_at).is_not(None)
    median: Any = None
    p90: Any = None
    if session.get_bind().dialect.name == "postgresql":
        row = await fetch_row(session, _percentiles_ordered_set(answered, seconds))
        if row is not None and row.percentiles is not None:
            median, p90 = row.percentiles
    else:
        row = await fetch_row(session, _percentiles_by_window(answered, seconds))
        if row is not None:
            median, p90 = row.median, row.p90
    return ReportStatistics(
        unit_code=anchor.unit_code,
        since=since,
        until=until,
        total=sum(by_status.values()),
        by_status=dict(sorted(by_status.items())),
        by_category=dict(sorted(by_category.items())),
        acknowledged=int(row.acknowledged) if row else 0,
        median_seconds_to_acknowledge=_seconds(median),
        p90_seconds_to_acknowledge=_seconds(p90),
    )


def _seconds(value: Any) -> float | None:
    # Whole seconds: SQLite's julianday carries about a millisecond of float noise.
    return None if value is None else float(round(float(value)))


# Units × periods callers ask for; a period is any pair of instants, so bound it.
CACHE_MAXSIZE = 1024
StatisticsKey = tuple[str, datetime | None, datetime | None]
StatisticsCache = TTLCache[StatisticsKey, ReportStatistics]


async def statistics_for(
    session: AsyncSession,
    principal: Principal,
    unit_code: str,
    since: datetime | None,
    until: datetime | None,
    cache: StatisticsCache | None = None,
) -> Cached[ReportStatistics]:
    """The figures of a unit the principal may see (403 for other units), and how many
    more seconds they may be kept: what is left of their time in ``cache`` (0 without one)."""
    anchor = await unit_anchor(session, unit_code)
    reason = can_see_unit(principal, anchor)
    if reason:
        raise Forbidden(reason)
    # Only after the check: the cache is keyed by unit, not by who asks.
    if cache is None:
        return Cached(await report_statistics(session, anchor, since, until), 0)
    cached = await cache.get_or_compute(
        (anchor.unit_code, since, until),
        lambda: report_statistics(session, anchor, since, until),
    )
    # Equal instants hit the same entry; echo the period as this caller wrote it.
    figures = replace(cached.value, since=since, until=until)
    return Cached(figures, cached.seconds_left)
