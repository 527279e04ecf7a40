"""The rules a member of a self-managed group must meet, and how phone numbers are masked."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.errors import ValidationFailed
from app.schemas.groups import GroupKind

# The law on grassroots forces (2023): members are 18 to 70, resident a year or more.
GRASSROOTS_MIN_AGE = 18
GRASSROOTS_MAX_AGE = 70


def mask_phone(phone: str | None) -> str | None:
    """``0912345678`` → ``09******78``: the first and last two characters stay."""
    if phone is None:
        return None
    if len(phone) <= 4:
        return "*" * len(phone)
    return phone[:2] + "*" * (len(phone) - 4) + phone[-2:]


def _one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _rule(rule: str, field: str, detail: str) -> ValidationFailed:
    return ValidationFailed.field(("body", field), detail, rule, rule=rule)


def check_member(kind: str, values: dict[str, Any]) -> None:
    """The rules a member of a group of ``kind`` must meet (422 naming the rule)."""
    birth_year: int = values["birth_year"]
    joined_on: date = values["joined_on"]
    left_on: date | None = values.get("left_on")
    if birth_year > joined_on.year:
        raise _rule("born_before_joining", "birth_year", "birth_year is after joined_on.")
    if left_on is not None and left_on < joined_on:
        raise _rule("left_after_joining", "left_on", "left_on is before joined_on.")
    if kind == GroupKind.GRASSROOTS_SECURITY_TEAM.value:
        age = joined_on.year - birth_year
        if age < GRASSROOTS_MIN_AGE:
            raise _rule(
                "grassroots_team_age",
                "birth_year",
                f"A grassroots security team member must be at least {GRASSROOTS_MIN_AGE} "
                f"in the year of joining; this one is {age} in {joined_on.year}.",
            )
        if age > GRASSROOTS_MAX_AGE and not values.get("exception_approved_by"):
            raise _rule(
                "grassroots_team_age",
                "birth_year",
                f"A grassroots security team member must be at most {GRASSROOTS_MAX_AGE} "
                f"in the year of joining; this one is {age} in {joined_on.year}. "
                "Over 70 needs exception_approved_by.",
            )
        resident_since: date | None = values.get("resident_since")
        if resident_since is None or resident_since > _one_year_before(joined_on):
            raise _rule(
                "grassroots_team_residence",
                "resident_since",
                "A grassroots security team member must have lived in the locality at least "
                "one year before joining; resident_since must be on or before "
                f"{_one_year_before(joined_on).isoformat()}.",
            )
    if kind == GroupKind.MEDIATION_TEAM.value and values.get("elected_on") is None:
        raise _rule(
            "mediation_team_election",
            "elected_on",
            "A mediator is elected by the households: a mediation team member needs elected_on.",
        )
