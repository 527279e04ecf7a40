"""Report rules and aggregates at the service level: figures in SQL, categories, the machine."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG
from app.errors import ValidationFailed
from app.schemas.reports import ReportCategory, ReportStatus
from app.services import units as unit_service
from app.services.reports import categories as report_categories
from app.services.reports import statistics as report_statistics
from app.services.reports.triage import TRANSITIONS
from app.services.units import UnitAnchor
from tests.factories import HOAN_KIEM, QUANG_NINH, make_neighbourhood, make_report

START = datetime(2025, 3, 1, tzinfo=UTC)


async def anchor(session: AsyncSession, unit_code: str) -> UnitAnchor:
    found = await unit_service.resolve_unit(session, unit_code)
    assert found is not None
    return found


def nearest_rank(values: list[float], p: float) -> float:
    """The textbook nearest-rank percentile: the ceil(p·n)-th smallest value."""
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered)) - 1]


async def acknowledged_after(
    session: AsyncSession, unit: object, minutes: list[float], **values: object
) -> None:
    for index, wait in enumerate(minutes):
        created = START + timedelta(hours=index)
        await make_report(
            session,
            unit,  # type: ignore[arg-type]
            status="acknowledged",
            created_at=created,
            acknowledged_at=created + timedelta(minutes=wait),
            **values,
        )


class TestReportStatistics:
    @pytest.mark.parametrize(
        ("minutes", "median", "p90"),
        [
            ([7], 7, 7),
            ([10, 30], 10, 30),
            ([5, 1, 3], 3, 5),
            ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5, 9),
            ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 6, 10),
        ],
    )
    async def test_median_and_p90_are_nearest_rank(
        self, session: AsyncSession, minutes: list[float], median: float, p90: float
    ) -> None:
        await acknowledged_after(session, HA_LONG, minutes)
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert figures.acknowledged == len(minutes)
        assert figures.median_seconds_to_acknowledge == median * 60
        assert figures.p90_seconds_to_acknowledge == p90 * 60

    async def test_matches_the_definition_on_random_durations(self, session: AsyncSession) -> None:
        rng = random.Random(8)
        minutes = [round(rng.lognormvariate(3, 1), 1) for _ in range(57)]
        await acknowledged_after(session, HA_LONG, minutes)
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert figures.median_seconds_to_acknowledge == round(nearest_rank(minutes, 0.5) * 60)
        assert figures.p90_seconds_to_acknowledge == round(nearest_rank(minutes, 0.9) * 60)

    async def test_counts_by_status_and_category_for_each_unit_level(
        self, session: AsyncSession
    ) -> None:
        kp = await make_neighbourhood(session, HA_LONG)
        await make_report(session, kp, category="theft", status="resolved", created_at=START)
        await make_report(session, HA_LONG, category="theft", created_at=START)
        await make_report(session, HA_LONG, category="noise", created_at=START)
        await make_report(session, BAI_CHAY, category="drugs", created_at=START)
        await make_report(session, HOAN_KIEM, category="drugs", created_at=START)
        ward = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert ward.total == 3
        assert ward.by_status == {"received": 2, "resolved": 1}
        assert ward.by_category == {"theft": 2, "noise": 1}
        assert (ward.acknowledged, ward.median_seconds_to_acknowledge) == (0, None)
        province = await report_statistics.report_statistics(
            session, await anchor(session, QUANG_NINH)
        )
        assert province.total == 4
        assert province.by_category["drugs"] == 1
        neighbourhood = await report_statistics.report_statistics(
            session, await anchor(session, str(kp.id))
        )
        assert (neighbourhood.total, neighbourhood.by_status) == (1, {"resolved": 1})

    async def test_the_period_is_half_open_on_filing_time(self, session: AsyncSession) -> None:
        for day in (0, 1, 2):
            await make_report(session, HA_LONG, created_at=START + timedelta(days=day))
        figures = await report_statistics.report_statistics(
            session,
            await anchor(session, HA_LONG),
            since=START + timedelta(days=1),
            until=START + timedelta(days=2),
        )
        assert figures.total == 1

    async def test_unacknowledged_reports_do_not_enter_the_times(
        self, session: AsyncSession
    ) -> None:
        await acknowledged_after(session, HA_LONG, [12])
        await make_report(session, HA_LONG, created_at=START)
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert (figures.total, figures.acknowledged) == (2, 1)
        assert figures.median_seconds_to_acknowledge == 12 * 60

    @pytest.mark.parametrize(
        ("minutes", "median", "p90"),
        [
            ([5, 5, 5, 5, 10], 5, 10),
            ([2, 2, 2, 2, 2, 2, 7, 7, 7, 7], 2, 7),
            ([1, 4, 4, 4, 4, 4, 4, 4, 4, 9], 4, 4),
            ([3, 3], 3, 3),
        ],
    )
    async def test_duplicates_at_the_rank_boundary(
        self, session: AsyncSession, minutes: list[float], median: float, p90: float
    ) -> None:
        await acknowledged_after(session, HA_LONG, minutes)
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert figures.median_seconds_to_acknowledge == median * 60
        assert figures.p90_seconds_to_acknowledge == p90 * 60

    async def test_every_count_from_1_to_21_gets_rank_ceil_p_n(self, session: AsyncSession) -> None:
        # Day n holds n answered reports of 1..n minutes, filed out of order.
        for n in range(1, 22):
            day = START + timedelta(days=n)
            for position, wait in enumerate(reversed(range(1, n + 1))):
                created = day + timedelta(minutes=position)
                await make_report(
                    session,
                    HA_LONG,
                    status="acknowledged",
                    created_at=created,
                    acknowledged_at=created + timedelta(minutes=wait),
                )
        ha_long = await anchor(session, HA_LONG)
        for n in range(1, 22):
            day = START + timedelta(days=n)
            figures = await report_statistics.report_statistics(
                session, ha_long, since=day, until=day + timedelta(days=1)
            )
            assert figures.acknowledged == n
            assert figures.median_seconds_to_acknowledge == math.ceil(0.5 * n) * 60, n
            assert figures.p90_seconds_to_acknowledge == math.ceil(0.9 * n) * 60, n

    async def test_a_unit_without_reports_has_zeros_and_no_times(
        self, session: AsyncSession
    ) -> None:
        await make_report(session, BAI_CHAY, created_at=START)
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert (figures.total, figures.by_status, figures.by_category) == (0, {}, {})
        assert figures.acknowledged == 0
        assert figures.median_seconds_to_acknowledge is None
        assert figures.p90_seconds_to_acknowledge is None

    async def test_since_is_inclusive_and_until_exclusive_each_alone(
        self, session: AsyncSession
    ) -> None:
        edge = START + timedelta(days=1)
        for instant in (edge - timedelta(microseconds=1), edge, edge + timedelta(microseconds=1)):
            await make_report(session, HA_LONG, created_at=instant)
        ha_long = await anchor(session, HA_LONG)
        since = await report_statistics.report_statistics(session, ha_long, since=edge)
        until = await report_statistics.report_statistics(session, ha_long, until=edge)
        assert (since.total, until.total) == (2, 1)

    async def test_deleted_reports_are_not_counted(self, session: AsyncSession) -> None:
        await acknowledged_after(session, HA_LONG, [5, 50])
        deleted = await make_report(
            session,
            HA_LONG,
            status="acknowledged",
            category="theft",
            created_at=START,
            acknowledged_at=START + timedelta(minutes=1),
            deleted_at=START + timedelta(days=1),
        )
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert deleted.deleted_at is not None
        assert (figures.total, figures.by_category, figures.acknowledged) == (2, {"noise": 2}, 2)
        assert figures.median_seconds_to_acknowledge == 5 * 60

    async def test_breakdowns_are_summed_from_status_and_category_pairs(
        self, session: AsyncSession
    ) -> None:
        pairs = [("received", "noise"), ("received", "theft"), ("resolved", "theft")] * 2
        for status, category in [*pairs, ("resolved", "noise")]:
            await make_report(session, HA_LONG, status=status, category=category, created_at=START)
        figures = await report_statistics.report_statistics(session, await anchor(session, HA_LONG))
        assert figures.total == 7
        assert figures.by_status == {"received": 4, "resolved": 3}
        assert figures.by_category == {"noise": 3, "theft": 4}

    async def test_unknown_unit_is_a_validation_error(self, session: AsyncSession) -> None:
        with pytest.raises(ValidationFailed):
            await report_statistics.unit_anchor(session, "99999")


class TestCategories:
    def test_every_category_has_an_entry(self) -> None:
        assert list(report_categories.CATEGORIES) == [c.value for c in ReportCategory]

    def test_answers_are_checked_and_numbers_normalised(self) -> None:
        checked = report_categories.check_answers(
            "fighting", {"weapons": "none", "people_involved": "12"}
        )
        assert checked == {"weapons": "none", "people_involved": 12}

    @pytest.mark.parametrize(
        ("category", "answers", "code"),
        [
            ("fighting", {"people_involved": "1.5"}, "people_involved"),
            ("fighting", {"people_involved": "0"}, "people_involved"),
            ("fighting", {"people_involved": True}, "people_involved"),
            ("fighting", {"people_involved": "nan"}, "people_involved"),
            ("noise", {"time_of_day": "dawn"}, "time_of_day"),
            ("drugs", {"anything": "x"}, "anything"),
        ],
    )
    def test_misfits_are_named(self, category: str, answers: dict[str, object], code: str) -> None:
        with pytest.raises(report_categories.AnswerError) as raised:
            report_categories.check_answers(category, answers)
        assert [name for name, _ in raised.value.problems] == [code]

    def test_required_questions_are_enforced(self, monkeypatch: pytest.MonkeyPatch) -> None:
        question = report_categories.Question("floor", "string", "Which floor?", required=True)
        category = report_categories.Category("test", "Thử", "Test.", "Nhóm", ("x",), (question,))
        monkeypatch.setitem(report_categories.CATEGORIES, "test", category)
        with pytest.raises(report_categories.AnswerError) as raised:
            report_categories.check_answers("test", {})
        assert raised.value.problems[0][0] == "floor"
        assert report_categories.check_answers("test", {"floor": " 3 "}) == {"floor": "3"}


class TestStateMachine:
    def test_covers_every_status(self) -> None:
        assert set(TRANSITIONS) == {s.value for s in ReportStatus}

    def test_open_statuses_may_be_rejected_or_duplicated_closed_ones_are_final(self) -> None:
        for status, moves in TRANSITIONS.items():
            if status in ("resolved", "rejected", "duplicate"):
                assert moves == ()
            else:
                assert {"rejected", "duplicate"} <= set(moves)

    def test_the_main_line(self) -> None:
        line = ["received", "acknowledged", "in_progress", "resolved"]
        for current, following in itertools.pairwise(line):
            assert following in TRANSITIONS[current]
        assert "resolved" not in TRANSITIONS["received"]
        assert "resolved" not in TRANSITIONS["acknowledged"]
