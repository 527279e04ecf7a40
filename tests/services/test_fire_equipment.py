"""Equipment dates: month arithmetic, the due day, and the late and expired edges."""

from __future__ import annotations

from datetime import date

import pytest

from app.services.fire.derived import add_months, schedule
from app.services.fire.readiness import is_expired, is_late


class TestAddMonths:
    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2026, 1, 15), 1, date(2026, 2, 15)),
            (date(2026, 1, 31), 1, date(2026, 2, 28)),  # February is shorter
            (date(2027, 8, 31), 6, date(2028, 2, 29)),  # leap year
            (date(2026, 3, 31), 1, date(2026, 4, 30)),
            (date(2026, 12, 31), 1, date(2027, 1, 31)),  # across the year
            (date(2026, 11, 30), 14, date(2028, 1, 30)),
            (date(2026, 2, 28), 12, date(2027, 2, 28)),
            (date(2028, 2, 29), 12, date(2029, 2, 28)),
            (date(2999, 12, 31), 120, date(3009, 12, 31)),  # the input bounds stay in range
        ],
    )
    def test_whole_months_clamped_to_the_months_last_day(
        self, day: date, months: int, expected: date
    ) -> None:
        assert add_months(day, months) == expected


class TestSchedule:
    def test_no_dates_no_due_day(self) -> None:
        assert schedule(None, None, None) == (None, None)

    def test_only_an_expiry_is_the_due_day(self) -> None:
        assert schedule(None, None, date(2027, 1, 1)) == (None, date(2027, 1, 1))

    def test_the_earlier_of_next_inspection_and_expiry(self) -> None:
        assert schedule(date(2026, 1, 10), 6, date(2027, 1, 1)) == (
            date(2026, 7, 10),
            date(2026, 7, 10),
        )
        assert schedule(date(2026, 1, 10), 12, date(2026, 12, 1)) == (
            date(2027, 1, 10),
            date(2026, 12, 1),
        )


class TestEdges:
    DUE = date(2026, 6, 30)

    @pytest.mark.parametrize(
        ("as_of", "late"),
        [(date(2026, 6, 29), False), (date(2026, 6, 30), False), (date(2026, 7, 1), True)],
    )
    def test_an_inspection_on_its_due_day_is_on_time(self, as_of: date, late: bool) -> None:
        assert is_late(self.DUE, as_of) is late

    @pytest.mark.parametrize(
        ("as_of", "expired"),
        [(date(2026, 6, 29), False), (date(2026, 6, 30), False), (date(2026, 7, 1), True)],
    )
    def test_an_item_is_good_through_its_expiry_day(self, as_of: date, expired: bool) -> None:
        assert is_expired(self.DUE, as_of) is expired

    def test_no_dates_are_never_late_or_expired(self) -> None:
        assert not is_late(None, date(2999, 1, 1))
        assert not is_expired(None, date(2999, 1, 1))
