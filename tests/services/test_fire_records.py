"""Fire safety's declarations: every table written only through its unit of write, and
the columns each unit derives, from the record and the values being written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from app.data.writes import GUARDED
from app.services.fire import derived, records


def test_every_fire_safety_table_is_guarded() -> None:
    assert {
        "fire_teams",
        "fire_equipment",
        "drills",
        "competitions",
        "competition_entries",
    } <= GUARDED
    units = (records.FIRE_TEAMS, records.EQUIPMENT, records.DRILLS, records.COMPETITIONS)
    assert [unit.writes.record_type for unit in (*units, records.ENTRIES) if unit.writes] == [
        "fire_team",
        "fire_equipment",
        "drill",
        "competition",
        "competition_entry",
    ]


def test_the_due_list_writes_nothing_of_its_own() -> None:
    assert records.EQUIPMENT_DUE.writes is None
    assert "team_name" in records.EQUIPMENT_DUE.fields


def test_a_teams_household_count_follows_the_households_written_or_kept() -> None:
    team = SimpleNamespace(households=["A", "B", "C", "D", "E"])
    assert derived.team_household_count(team, {}) == {"household_count": 5}
    six = {"households": ["A", "B", "C", "D", "E", "F"]}
    assert derived.team_household_count(team, six) == {"household_count": 6}


def test_an_items_schedule_takes_the_values_written_over_the_records() -> None:
    item = SimpleNamespace(
        last_inspected_on=date(2026, 1, 31),
        inspection_interval_months=1,
        expires_on=date(2026, 12, 1),
    )
    assert derived.equipment_schedule(item, {}) == {
        "next_inspection_on": date(2026, 2, 28),
        "due_on": date(2026, 2, 28),
    }
    # A value written as None counts as None, not as the record's.
    cleared = {"last_inspected_on": None, "inspection_interval_months": None}
    assert derived.equipment_schedule(item, cleared) == {
        "next_inspection_on": None,
        "due_on": date(2026, 12, 1),
    }


def test_a_drills_day_is_the_vietnamese_day_it_was_held_else_the_day_planned() -> None:
    drill = SimpleNamespace(planned_for=date(2026, 3, 1), held_at=None)
    assert derived.drill_day(drill, {}) == {"occurs_on": date(2026, 3, 1)}
    late_evening_utc = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)  # 01:30 on the 5th in Vietnam
    assert derived.drill_day(drill, {"held_at": late_evening_utc}) == {
        "occurs_on": date(2026, 3, 5)
    }


def test_an_entrys_total_waits_for_both_scores() -> None:
    entry = SimpleNamespace(theory_score=40, practical_score=None)
    assert derived.entry_total(entry, {}) == {"total_score": None}
    assert derived.entry_total(entry, {"practical_score": 45}) == {"total_score": 85}
    assert derived.entry_total(entry, {"theory_score": None, "practical_score": 45}) == {
        "total_score": None
    }
