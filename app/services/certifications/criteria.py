"""Criteria sets: published as data, frozen once used, and the pass rule that reads them."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, fetch_row, utcnow
from app.errors import Conflict, FieldErrorType, PreconditionFailed, ValidationFailed
from app.models.certification_criteria import CriteriaSet
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.certification_criteria import (
    CriteriaSetCreate,
    CriteriaSetUpdate,
    Criterion,
    CriterionKind,
    PassRule,
    check_criteria,
)
from app.security import Principal

_UNIT = UnitOfWrite("certification_criteria_set")
CRITERIA_SETS = Repository(
    CriteriaSet,
    noun="criteria set",
    columns=(
        CriteriaSet.id,
        CriteriaSet.created_at,
        CriteriaSet.updated_at,
        CriteriaSet.version,
        CriteriaSet.year,
        CriteriaSet.set_version,
        CriteriaSet.name,
        CriteriaSet.legal_basis,
        CriteriaSet.criteria,
        CriteriaSet.pass_rule,
        CriteriaSet.in_use,
    ),
    # National reference data: every live set, whoever asks (the routes' scopes decide
    # who may ask).
    visible=Visible.all(),
    # Newest year first, and within a year the latest set first.
    keyset=Keyset(
        "certification-criteria-sets",
        columns(CriteriaSet.year, CriteriaSet.set_version, CriteriaSet.id),
        descending=True,
    ),
    filters={"year": CriteriaSet.year},
    writes=_UNIT,
)
_FROZEN = (
    "A certification already uses this criteria set, so it can no longer change; "
    "publish a new version for the year instead (POST /api/v1/certification-criteria-sets)."
)


# --- the pass rule --------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """What the pass rule makes of a set of findings."""

    total_score: int
    unmet: list[str]  # required criteria not met, in the set's order
    min_total: int

    @property
    def passed(self) -> bool:
        return not self.unmet and self.total_score >= self.min_total

    def explain(self) -> str:
        """The verdict in one sentence."""
        parts = []
        if self.unmet:
            parts.append(f"required criteria not met: {', '.join(self.unmet)}")
        if self.total_score < self.min_total:
            parts.append(f"total score {self.total_score} is below {self.min_total}")
        if not parts:
            return (
                f"every required criterion is met and the total score {self.total_score} "
                f"reaches {self.min_total}"
            )
        return "; ".join(parts)


def _criteria(criteria_set: CriteriaSet) -> list[Criterion]:
    return [Criterion.model_validate(raw) for raw in criteria_set.criteria]


def _met(criterion: Criterion, item: Mapping[str, Any] | None) -> bool:
    if item is None:
        return False
    if criterion.kind is CriterionKind.BOOLEAN:
        return item.get("value") is True
    score = item.get("score")
    return score is not None and score >= (criterion.pass_score or 0)


def evaluate(criteria_set: CriteriaSet, items: Iterable[Mapping[str, Any]]) -> Evaluation:
    """Apply the set's pass rule: every required criterion met, total score ≥ ``min_total``."""
    by_code = {item["code"]: item for item in items}
    criteria = _criteria(criteria_set)
    total = sum(
        by_code[c.code].get("score") or 0
        for c in criteria
        if c.kind is CriterionKind.SCORE and c.code in by_code
    )
    unmet = [c.code for c in criteria if c.required and not _met(c, by_code.get(c.code))]
    min_total = PassRule.model_validate(criteria_set.pass_rule).min_total
    return Evaluation(total_score=total, unmet=unmet, min_total=min_total)


def check_findings(
    criteria_set: CriteriaSet, items: Sequence[Mapping[str, Any]], field: str
) -> None:
    """Each finding names a criterion of the set once, in the way its kind is assessed."""
    criteria = {c.code: c for c in _criteria(criteria_set)}
    problems: list[str] = []
    duplicates = sorted(code for code, n in Counter(i["code"] for i in items).items() if n > 1)
    if duplicates:
        problems.append(f"criteria given twice: {', '.join(duplicates)}")
    unknown = sorted({i["code"] for i in items} - set(criteria))
    if unknown:
        problems.append(f"not criteria of this set: {', '.join(unknown)}")
    for item in items:
        criterion = criteria.get(item["code"])
        if criterion is None:
            continue
        if criterion.kind is CriterionKind.BOOLEAN and item.get("value") is None:
            problems.append(f"{criterion.code} is met or not: give value, not score")
        elif criterion.kind is CriterionKind.SCORE:
            score = item.get("score")
            if score is None:
                problems.append(f"{criterion.code} is scored: give score, not value")
            elif criterion.max_score is not None and score > criterion.max_score:
                problems.append(f"{criterion.code} scores at most {criterion.max_score}")
    if problems:
        raise ValidationFailed.field(("body", field), f"{field}: " + "; ".join(problems) + ".")


def missing_required(criteria_set: CriteriaSet, items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Required criteria that ``items`` do not assess, in the set's order."""
    given = {item["code"] for item in items}
    return [c.code for c in _criteria(criteria_set) if c.required and c.code not in given]


def criterion_codes(criteria_set: CriteriaSet) -> list[str]:
    """Every criterion's code, in the set's order."""
    return [raw["code"] for raw in criteria_set.criteria]


def max_total(criteria: Iterable[Mapping[str, Any]]) -> int:
    """The highest total score a set allows."""
    return sum(raw.get("max_score") or 0 for raw in criteria)


# --- the sets themselves ------------------------------------------------------------


async def list_sets(
    session: AsyncSession, page: PageParams, codec: CursorCodec, *, year: int | None = None
) -> tuple[Sequence[Any], str | None]:
    """Live criteria sets, newest year and version first."""
    return await CRITERIA_SETS.page(session, None, page, codec, year=year)


async def get_set(session: AsyncSession, set_id: uuid.UUID) -> Any:
    """One live criteria set, as a row (404 otherwise)."""
    return await CRITERIA_SETS.get(session, None, set_id)


async def get_set_for_update(session: AsyncSession, set_id: uuid.UUID) -> CriteriaSet:
    """One live criteria set, as the record to change (404 otherwise)."""
    return await CRITERIA_SETS.get_for_update(session, None, set_id)


async def latest_set(session: AsyncSession, year: int) -> Any | None:
    """The highest ``set_version`` of ``year`` still live, as a row, if any."""
    # The list's order (newest year, then latest version, first) puts it first.
    return await CRITERIA_SETS.first(session, None, year=year)


async def mark_in_use(session: AsyncSession, set_id: uuid.UUID) -> None:
    """Freeze a set because a certification now uses it (422 if it was deleted meanwhile).

    One conditional UPDATE: it waits for, or beats, a concurrent edit of the set,
    whose own UPDATE requires ``in_use = false``."""
    # No event of its own: the certification's write that uses the set records it.
    await _UNIT.move(session, set_id, {"deleted_at": None, "in_use": False}, {"in_use": True})
    if await CRITERIA_SETS.find(session, None, set_id) is None:
        raise ValidationFailed.field(
            ("body", "criteria_set_id"),
            f"No criteria set has the id {set_id}.",
            FieldErrorType.NOT_FOUND,
        )


async def create_set(
    session: AsyncSession, principal: Principal, data: CriteriaSetCreate
) -> CriteriaSet:
    """Publish a criteria set as the next ``set_version`` of its year."""
    latest = await fetch_row(
        session,
        select(func.max(col(CriteriaSet.set_version))).where(col(CriteriaSet.year) == data.year),
    )
    # Deleted sets keep their number: a version, once published, means one thing.
    set_version = (latest[0] or 0) + 1 if latest else 1
    criteria_set = CriteriaSet(
        year=data.year,
        set_version=set_version,
        name=data.name,
        legal_basis=data.legal_basis,
        criteria=[c.model_dump(mode="json") for c in data.criteria],
        pass_rule=data.pass_rule.model_dump(mode="json"),
    )
    return await CRITERIA_SETS.insert(
        session,
        principal,
        criteria_set,
        fields=data.model_fields_set | {"year", "name", "criteria"},
    )


async def _write_unused(
    session: AsyncSession,
    principal: Principal,
    criteria_set: CriteriaSet,
    expected_version: int,
    values: dict[str, Any],
    *,
    fields: Any,
    action: str,
) -> None:
    """Compare-and-set that also requires the set to be unused (409 if used, 412 if stale)."""
    if criteria_set.in_use:
        raise Conflict(_FROZEN)
    stale = criteria_set.version != expected_version
    try:
        await CRITERIA_SETS.update(
            session,
            principal,
            criteria_set,
            expected_version,
            values,
            fields=fields,
            action=action,
            where=col(CriteriaSet.in_use).is_(False),
        )
    except PreconditionFailed:
        if not stale:
            # Changed meanwhile: frozen by a certification (409), or edited (412).
            await session.refresh(criteria_set)
            if criteria_set.in_use:
                raise Conflict(_FROZEN) from None
        raise


async def update_set(
    session: AsyncSession,
    principal: Principal,
    set_id: uuid.UUID,
    expected_version: int,
    data: CriteriaSetUpdate,
) -> CriteriaSet:
    """Change a set no certification uses yet, if it is still at ``expected_version``."""
    criteria_set = await get_set_for_update(session, set_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    nulls = [
        name
        for name in ("name", "criteria", "pass_rule")
        if name in changes and changes[name] is None
    ]
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if "criteria" in changes or "pass_rule" in changes:
        criteria = data.criteria if data.criteria is not None else _criteria(criteria_set)
        pass_rule = data.pass_rule or PassRule.model_validate(criteria_set.pass_rule)
        try:
            check_criteria(criteria, pass_rule)
        except ValueError as error:
            # loc ["body"], as pydantic's model validator answers the same check on create.
            raise ValidationFailed.field(("body",), str(error).capitalize() + ".") from None
    await _write_unused(
        session, principal, criteria_set, expected_version, changes, fields=changes, action="update"
    )
    return criteria_set


async def delete_set(
    session: AsyncSession, principal: Principal, set_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a set no certification uses yet."""
    criteria_set = await get_set_for_update(session, set_id)
    await _write_unused(
        session,
        principal,
        criteria_set,
        expected_version,
        {"deleted_at": utcnow()},
        fields=(),
        action="delete",
    )
