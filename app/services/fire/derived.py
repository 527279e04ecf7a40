"""The columns fire safety derives from others, computed in one place: the unit of write
fills them on every insert and update (``records``), and the demo and the test factories
call the same functions.

An item's next inspection and due day, a drill's day, an entry's total score."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any

from app.services.fire.policies import VIETNAM


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months; the month's last day when it is shorter (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(
    last_inspected_on: date | None, interval_months: int | None, expires_on: date | None
) -> tuple[date | None, date | None]:
    """(next_inspection_on, due_on): the next inspection, and the earlier of it and expiry."""
    next_inspection_on = (
        add_months(last_inspected_on, interval_months)
        if last_inspected_on is not None and interval_months is not None
        else None
    )
    dates = [d for d in (next_inspection_on, expires_on) if d is not None]
    return next_inspection_on, min(dates) if dates else None


def occurs_on(planned_for: date, held_at: datetime | None) -> date:
    """The drill's day: the Vietnamese calendar day it was held, else the day planned."""
    return held_at.astimezone(VIETNAM).date() if held_at is not None else planned_for


def total_score(theory: int | None, practical: int | None) -> int | None:
    """An entry's total: theory plus practical, once both are scored."""
    return theory + practical if theory is not None and practical is not None else None


def _after(record: Any, values: dict[str, Any], name: str) -> Any:
    """The value ``name`` has once ``values`` are written to ``record``."""
    return values[name] if name in values else getattr(record, name)


# --- as the unit of write derives them: (record, values written) -> derived values ---


def team_household_count(record: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A team's household_count follows its households."""
    return {"household_count": len(_after(record, values, "households"))}


def equipment_schedule(record: Any, values: dict[str, Any]) -> dict[str, Any]:
    """An item's next inspection and due day follow its inspection and expiry dates."""
    next_inspection_on, due_on = schedule(
        _after(record, values, "last_inspected_on"),
        _after(record, values, "inspection_interval_months"),
        _after(record, values, "expires_on"),
    )
    return {"next_inspection_on": next_inspection_on, "due_on": due_on}


def drill_day(record: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A drill's day follows the day planned and when it was held."""
    return {
        "occurs_on": occurs_on(
            _after(record, values, "planned_for"), _after(record, values, "held_at")
        )
    }


def entry_total(record: Any, values: dict[str, Any]) -> dict[str, Any]:
    """An entry's total follows its theory and practical scores."""
    return {
        "total_score": total_score(
            _after(record, values, "theory_score"), _after(record, values, "practical_score")
        )
    }
