"""Self-managed groups: the register (who sees and manages which: ``policies``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.cascade import delete_all
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.groups import SelfManagedGroup
from app.pagination import CursorCodec, PageParams
from app.schemas.groups import GroupCreate, GroupKind, GroupStatus, GroupUpdate
from app.security import Principal
from app.services.groups import counts, coverage, policies
from app.services.groups.records import COVERAGE, GROUP_SUMMARIES, GROUPS, MEMBERS
from app.services.neighbourhoods import NEIGHBOURHOODS
from app.services.units import province_of_ward
from app.text import fold, word_prefix_patterns

Group = SelfManagedGroup


async def visible_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> policies.GroupRow:
    """One group ``principal`` may see, as a row of its summary's columns (404 otherwise)."""
    row: policies.GroupRow = await GROUP_SUMMARIES.get(session, principal, group_id)
    return row


# --- reads ---------------------------------------------------------------------


async def present_groups(
    session: AsyncSession, rows: Sequence[Any], *, summary: bool
) -> list[dict[str, Any]]:
    """Rows of ``GROUPS`` (or ``GROUP_SUMMARIES`` for ``summary``) as their GET answers."""
    items = [row._asdict() for row in rows]
    if summary:
        for item in items:
            item["view"] = "summary"
        return items
    covered = await coverage.covered_ids(session, (item["id"] for item in items))
    for item in items:
        item["view"] = "full"
        item["covered_residential_group_ids"] = covered[item["id"]]
    return items


async def list_groups(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    kind: GroupKind | None = None,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    status: GroupStatus | None = None,
    q: str | None = None,
    updated_since: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Groups ``principal`` may see, oldest first, by kind, unit, status and name."""
    summary = policies.summary_only(principal)
    rows, next_cursor = await (GROUP_SUMMARIES if summary else GROUPS).page(
        session,
        principal,
        page,
        codec,
        kind=kind.value if kind else None,
        ward_code=ward_code or None,
        neighbourhood_id=neighbourhood_id,
        status=status.value if status else None,
        # A q that folds to nothing filters nothing (every name matched its patterns).
        q=word_prefix_patterns(q)[1] if q and fold(q) else None,
        updated_since=updated_since,
    )
    return await present_groups(session, rows, summary=summary), next_cursor


async def get_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> dict[str, Any]:
    """One group in the view ``principal`` gets (404 outside their units)."""
    summary = policies.summary_only(principal)
    row = await (GROUP_SUMMARIES if summary else GROUPS).get(session, principal, group_id)
    return (await present_groups(session, [row], summary=summary))[0]


async def _full(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> dict[str, Any]:
    # Whoever may manage a group may see it, in the full view.
    row = await GROUPS.get(session, principal, group_id)
    return (await present_groups(session, [row], summary=False))[0]


# --- writes --------------------------------------------------------------------


async def _live_neighbourhood(session: AsyncSession, neighbourhood_id: uuid.UUID) -> Any:
    neighbourhood = await NEIGHBOURHOODS.find(session, None, neighbourhood_id)
    if neighbourhood is None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"No neighbourhood has the id {neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )
    return neighbourhood


def _check_households_linked(kind: str, households_linked: int | None) -> None:
    if households_linked is not None and kind != GroupKind.CRIME_PREVENTION_CHANNEL.value:
        raise ValidationFailed.field(
            ("body", "households_linked"),
            "households_linked is only for crime-prevention channels.",
            "households_linked_channel_only",
            rule="households_linked_channel_only",
        )


async def create_group(
    session: AsyncSession, principal: Principal, data: GroupCreate
) -> dict[str, Any]:
    """Register a group in a ward or neighbourhood the principal manages."""
    if data.neighbourhood_id is not None:
        neighbourhood = await _live_neighbourhood(session, data.neighbourhood_id)
        if data.ward_code is not None and data.ward_code != neighbourhood.ward_code:
            raise ValidationFailed.field(
                ("body", "ward_code"),
                f"Neighbourhood {neighbourhood.id} is in ward {neighbourhood.ward_code}, "
                f"not {data.ward_code}.",
            )
        province_code, ward_code = neighbourhood.province_code, neighbourhood.ward_code
    elif data.ward_code is not None:
        ward_province = await province_of_ward(session, data.ward_code)
        if ward_province is None:
            raise ValidationFailed.field(
                ("body", "ward_code"),
                f"No ward has the code {data.ward_code!r}.",
                FieldErrorType.NOT_FOUND,
            )
        province_code, ward_code = ward_province, data.ward_code
    else:
        raise ValidationFailed.missing_one_of(
            [("body", "neighbourhood_id"), ("body", "ward_code")],
            "Give neighbourhood_id, or ward_code for a ward-wide group.",
        )
    reason = policies.can_manage_group(principal, ward_code, data.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    _check_households_linked(data.kind.value, data.households_linked)
    covered = await coverage.check_covered(
        session, data.covered_residential_group_ids, ward_code, data.neighbourhood_id
    )
    values = data.model_dump(exclude={"covered_residential_group_ids", "ward_code"})
    group = Group(**values, province_code=province_code, ward_code=ward_code)
    await GROUPS.insert(
        session, principal, group, fields=data.model_fields_set | {"kind", "name", "status"}
    )
    await COVERAGE.add(session, group.id, covered)
    return await _full(session, principal, group.id)


async def _manageable_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> SelfManagedGroup:
    group = await GROUPS.get_for_update(session, principal, group_id)
    reason = policies.can_manage_group(principal, group.ward_code, group.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    return group


async def update_group(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    expected_version: int,
    data: GroupUpdate,
) -> dict[str, Any]:
    """Change a group, if it is still at ``expected_version``."""
    group = await _manageable_group(session, principal, group_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(
        k
        for k in ("name", "status", "covered_residential_group_ids")
        if k in changes and changes[k] is None
    )
    if nulls:
        raise ValidationFailed.not_null(nulls)
    neighbourhood_id = changes.get("neighbourhood_id", group.neighbourhood_id)
    if "neighbourhood_id" in changes and neighbourhood_id != group.neighbourhood_id:
        if neighbourhood_id is not None:
            neighbourhood = await _live_neighbourhood(session, neighbourhood_id)
            if neighbourhood.ward_code != group.ward_code:
                raise ValidationFailed.field(
                    ("body", "neighbourhood_id"),
                    f"A group stays in its ward ({group.ward_code}); "
                    f"neighbourhood {neighbourhood_id} is in {neighbourhood.ward_code}.",
                )
        reason = policies.can_manage_group(principal, group.ward_code, neighbourhood_id)
        if reason:
            raise Forbidden(reason)
    _check_households_linked(group.kind, changes.get("households_linked"))
    covered: list[uuid.UUID] | None = None
    if "covered_residential_group_ids" in changes or "neighbourhood_id" in changes:
        wanted = changes.pop("covered_residential_group_ids", None)
        if wanted is None:
            wanted = await coverage.stored_coverage(session, group.id)
        covered = await coverage.check_covered(session, wanted, group.ward_code, neighbourhood_id)
    values = {k: v for k, v in changes.items() if k != "covered_residential_group_ids"}
    if "status" in values:
        values["status"] = GroupStatus(values["status"]).value
    await GROUPS.update(
        session, principal, group, expected_version, values, fields=data.model_fields_set
    )
    if covered is not None:
        await COVERAGE.replace(session, group.id, covered)
    return await _full(session, principal, group.id)


async def delete_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a group registered by mistake, and its members; a designated one is kept."""
    group = await _manageable_group(session, principal, group_id)
    designations = await counts.designations(session, group.id)
    if designations:
        raise Conflict(
            f"The group was designated an exemplary model {designations} time(s); "
            "set its status to dissolved instead of deleting it.",
            rule="exemplary_model_designated",
        )
    await GROUPS.delete(session, principal, group, expected_version)
    await delete_all(MEMBERS, session, principal, group_id=group.id)
