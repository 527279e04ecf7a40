"""The camera registry: who sees which cameras (and whose contact), writes, and `near`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    Uuid,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import Prepared
from app.data.repository import Repository
from app.data.visibility import Visible, predicate
from app.data.writes import UnitOfWrite
from app.db import columns, fetch_row, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, InvalidCursor, ValidationFailed
from app.models.cameras import Camera, OwnerKind, derived_columns, unit_vector
from app.models.footage_requests import OPEN_STATUSES, FootageRequestItem
from app.models.units import Neighbourhood, Ward
from app.models.users import User
from app.pagination import (
    PAGE_LIMIT,
    CursorCodec,
    Keyset,
    PageParams,
    limit_bound,
)
from app.schemas.cameras import CameraCreate, CameraUpdate
from app.security import Principal, Role
from app.services.camera_geo import (
    Near,
    bounding_box,
    chord_distance_m,
    chord_squared,
    distance_key,
)

_CAMERA_COLUMNS = columns(
    Camera.id,
    Camera.province_code,
    Camera.ward_code,
    Camera.neighbourhood_id,
    Camera.owner_kind,
    Camera.owner_user_id,
    Camera.owner_name,
    Camera.owner_phone,
    Camera.label,
    Camera.address,
    Camera.lat,
    Camera.lon,
    Camera.bearing_deg,
    Camera.covers,
    Camera.retention_days,
    Camera.sharing,
    Camera.status,
    Camera.last_verified_on,
    Camera.created_at,
    Camera.updated_at,
    Camera.version,
)
# Built once: coercing twenty columns into a new SELECT cost a read by id a tenth
# of its CPU; each request adds its WHERE to a copy.
_CAMERA_SELECT = select(*_CAMERA_COLUMNS)
_CAMERAS_TABLE: Any = Camera.__table__  # type: ignore[attr-defined]
_CAMERA_FIELDS = tuple(str(column.key) for column in _CAMERA_COLUMNS)
_FILTERS = ("ward_code", "neighbourhood_id", "owner_kind", "sharing", "status")
# `near` pages in (chord, id) order (see _list_near); this keyset only names the
# list, so that its cursors are refused by every other list.
CAMERAS_NEAR = Keyset("cameras-near", columns(Camera.id))

OWNER_FIELDS = ("owner_user_id", "owner_name", "owner_phone")
# Vietnam has one time zone and no daylight saving.
_VIETNAM = timedelta(hours=7)

# --- who sees what ------------------------------------------------------------


def camera_visibility(principal: Principal) -> Visible:
    """Which live cameras a principal may see.

    Officers and ward systems see every camera of their unit; a camera owner
    their own and the public ones of their ward; everyone else the public
    cameras of their ward."""
    role = principal.role
    if role is Role.ADMIN:
        return Visible.all()
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    if role in (Role.PROVINCE_OFFICER, Role.WARD_SYSTEM) and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    public = OwnerKind.PUBLIC.value
    if role is Role.CAMERA_OWNER:
        own = Visible.where(owner_user_id=principal.subject)
        if principal.ward_code:
            return own.or_where(owner_kind=public, ward_code=principal.ward_code)
        return own
    if role in (Role.NEIGHBOURHOOD_HEAD, Role.GROUP_LEADER, Role.RESIDENT) and principal.ward_code:
        return Visible.where(owner_kind=public, ward_code=principal.ward_code)
    return Visible.nothing()


CAMERAS = Repository(
    Camera,
    noun="camera",
    columns=_CAMERA_COLUMNS,
    visible=camera_visibility,
    keyset=Keyset("cameras", columns(Camera.created_at, Camera.id)),
    filters={name: getattr(Camera, name) for name in _FILTERS},
    writes=UnitOfWrite("camera", derive=derived_columns),
)


def can_see_owner(principal: Principal, ward_code: str, owner_user_id: uuid.UUID | None) -> bool:
    """Whether the owner's contact (personal data) of a visible camera is shown to ``principal``."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.WARD_OFFICER:
        return principal.ward_code == ward_code
    return owner_user_id is not None and owner_user_id == principal.subject


def present(principal: Principal, row: Sequence[Any]) -> dict[str, Any]:
    """A camera (a row of its columns) as ``principal`` may see it: owner details if allowed."""
    # zip with the names known up front: a row's mapping view costs more.
    camera = dict(zip(_CAMERA_FIELDS, row, strict=True))
    camera["distance_m"] = None  # set by `near` lists only
    if not can_see_owner(principal, camera["ward_code"], camera["owner_user_id"]):
        for name in OWNER_FIELDS:
            camera[name] = None
    return camera


def can_register_camera(principal: Principal, ward_code: str) -> str | None:
    """Why ``principal`` may not register a camera in ``ward_code`` (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role in (Role.WARD_OFFICER, Role.CAMERA_OWNER):
        if principal.ward_code == ward_code:
            return None
        return "You can register cameras only in your own ward."
    return "Only camera owners, ward officers and administrators register cameras."


def can_change_camera(principal: Principal, camera: Camera) -> str | None:
    """Why ``principal`` may not change or delete a camera it can see (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == camera.ward_code:
        return None
    if principal.role is Role.CAMERA_OWNER and camera.owner_user_id == principal.subject:
        return None
    return "You can change only your own cameras."


def _owner_limits(principal: Principal, changes: Mapping[Any, Any]) -> None:
    """What a camera owner may not set on their own cameras."""
    if principal.role is not Role.CAMERA_OWNER:
        return
    if "owner_user_id" in changes and changes["owner_user_id"] != principal.subject:
        raise Forbidden("A camera owner registers and keeps cameras as their own.")
    if changes.get("last_verified_on") is not None:
        raise Forbidden("Only ward officers record that a camera was verified.")
    # Residents trust a public camera as the authority's own: an owner's camera
    # that claimed the kind would pass a made-up authority off as the police.
    if changes.get("owner_kind") == OwnerKind.PUBLIC:
        raise Forbidden(
            "Only ward officers register public (authority) cameras; "
            "choose household, business, school or agency."
        )


# --- reads --------------------------------------------------------------------


async def list_cameras(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    filters: Mapping[Any, Any],
    near: Near | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Visible cameras, oldest first; with ``near``, nearest first with their distance."""
    plain = {k: (v.value if hasattr(v, "value") else v) for k, v in filters.items()}
    if near is not None:
        return await _list_near(session, principal, page, codec, plain, near)
    rows, next_cursor = await CAMERAS.page(session, principal, page, codec, **plain)
    return [present(principal, row) for row in rows], next_cursor


def _filtered(statement: Select[Any], filters: frozenset[str]) -> Select[Any]:
    """``statement`` with an equality on each filter given, bound by the filter's name."""
    for name in _FILTERS:
        if name in filters:
            statement = statement.where(col(getattr(Camera, name)) == bindparam(name))
    return statement


async def _list_near(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    filters: Mapping[Any, Any],
    near: Near,
) -> tuple[list[dict[str, Any]], str | None]:
    # The bounding box narrows the candidates through the (lat, lon) indexes;
    # the chord decides exactly which are within the radius and in what order
    # (the chord grows with the great-circle distance), ties broken by id.
    box = bounding_box(near.lat, near.lon, near.radius_m)
    x0, y0, z0 = unit_vector(near.lat, near.lon)
    values: dict[str, Any] = {
        "near_x": x0,
        "near_y": y0,
        "near_z": z0,
        "lat_min": box.lat_min,
        "lat_max": box.lat_max,
        "chord2_max": chord_squared(near.radius_m),
        PAGE_LIMIT: page.limit + 1,
    }
    for i, (low, high) in enumerate(box.lon_ranges):
        values[f"lon_min_{i}"], values[f"lon_max_{i}"] = low, high
    visible = camera_visibility(principal)
    shape = visible.shape
    given = frozenset(name for name, value in filters.items() if value is not None)
    values.update(visible.values())
    values.update({name: filters[name] for name in given})
    scope = CAMERAS_NEAR.scope(
        {**filters, "near": f"{near.lat!r},{near.lon!r}", "radius_m": near.radius_m}
    )
    after = page.cursor is not None
    if page.cursor:
        values["after_chord2"], values["after_id"] = _near_cursor(codec.decode(scope, page.cursor))
    statement = _near_listing(shape, given, len(box.lon_ranges), after)
    rows = await statement.rows(session, values)
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        next_cursor = codec.encode(scope, [last[-1], last[0]])
    items = []
    for row in rows:
        item = present(principal, row[:-1])
        item["distance_m"] = distance_key(chord_distance_m(row[-1]))
        items.append(item)
    return items, next_cursor


def _float(name: str) -> Any:
    return bindparam(name, type_=Float())


@cache
def _near_listing(
    shape: tuple[Any, ...], filters: frozenset[str], ranges: int, after: bool
) -> Prepared[Select[Any]]:
    """The cameras near a point with their squared chord (the last column), nearest first,
    for a visibility shape, the filters given, one or two longitude ranges and a cursor or
    not. Whole rows in one statement: the top-N sort keeps only a page of them, and a second
    statement for the page's rows by id cost more than the wider sort."""
    dx = col(Camera.unit_x) - _float("near_x")
    dy = col(Camera.unit_y) - _float("near_y")
    dz = col(Camera.unit_z) - _float("near_z")
    chord2 = dx * dx + dy * dy + dz * dz
    statement = _filtered(
        select(*_CAMERA_COLUMNS, chord2.label("chord2")).where(
            col(Camera.lat).between(_float("lat_min"), _float("lat_max")),
            or_(
                *(
                    col(Camera.lon).between(_float(f"lon_min_{i}"), _float(f"lon_max_{i}"))
                    for i in range(ranges)
                )
            ),
            chord2 <= _float("chord2_max"),
            predicate(_CAMERAS_TABLE, shape),
            col(Camera.deleted_at).is_(None),
        ),
        filters,
    )
    if after:
        statement = statement.where(
            tuple_(chord2, col(Camera.id))
            > tuple_(_float("after_chord2"), bindparam("after_id", type_=Uuid()))
        )
    return Prepared(statement.order_by(chord2, col(Camera.id)).limit(limit_bound()))


def _near_cursor(values: list[Any]) -> tuple[float, uuid.UUID]:
    try:
        chord2, camera_id = values
        if not isinstance(chord2, int | float) or isinstance(chord2, bool):
            raise TypeError
        return float(chord2), uuid.UUID(camera_id)
    except (TypeError, ValueError):
        raise InvalidCursor("The cursor is not one this API issued.") from None


async def get_camera(
    session: AsyncSession, principal: Principal, camera_id: uuid.UUID
) -> dict[str, Any]:
    """One visible camera, owner details masked as the principal's role requires."""
    return present(principal, await CAMERAS.get(session, principal, camera_id))


# --- writes -------------------------------------------------------------------

_NOT_NULL = {
    "owner_kind",
    "owner_name",
    "label",
    "address",
    "lat",
    "lon",
    "retention_days",
    "sharing",
    "status",
}


async def _check_neighbourhood(
    session: AsyncSession, ward_code: str, neighbourhood_id: uuid.UUID
) -> None:
    found = await fetch_row(
        session,
        select(col(Neighbourhood.id)).where(
            col(Neighbourhood.id) == neighbourhood_id,
            col(Neighbourhood.ward_code) == ward_code,
            col(Neighbourhood.deleted_at).is_(None),
        ),
    )
    if found is None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"Ward {ward_code} has no neighbourhood with the id {neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )


async def _check_owner_account(session: AsyncSession, ward_code: str, user_id: uuid.UUID) -> None:
    found = await fetch_row(
        session,
        select(col(User.id)).where(
            col(User.id) == user_id,
            col(User.role) == Role.CAMERA_OWNER.value,
            col(User.ward_code) == ward_code,
            col(User.deleted_at).is_(None),
        ),
    )
    if found is None:
        raise ValidationFailed.field(
            ("body", "owner_user_id"),
            f"owner_user_id must name a camera_owner account of ward {ward_code}.",
        )


def _check_verified_on(value: date | None) -> None:
    if value is not None and value > (utcnow() + _VIETNAM).date():
        raise ValidationFailed.field(
            ("body", "last_verified_on"),
            "last_verified_on cannot be in the future.",
            FieldErrorType.DATE_PAST,
        )


async def create_camera(session: AsyncSession, principal: Principal, data: CameraCreate) -> Camera:
    """Register a camera (a camera owner's own; officers in their ward; admins anywhere)."""
    ward = await session.get(Ward, data.ward_code)
    if ward is None:
        raise ValidationFailed.field(
            ("body", "ward_code"),
            f"No ward has the code {data.ward_code!r}.",
            FieldErrorType.NOT_FOUND,
        )
    reason = can_register_camera(principal, data.ward_code)
    if reason:
        raise Forbidden(reason)
    values = data.model_dump()
    _owner_limits(principal, data.model_dump(exclude_none=True))
    if principal.role is Role.CAMERA_OWNER:
        values["owner_user_id"] = principal.subject
    elif values["owner_user_id"] is not None:
        await _check_owner_account(session, data.ward_code, values["owner_user_id"])
    if data.neighbourhood_id is not None:
        await _check_neighbourhood(session, data.ward_code, data.neighbourhood_id)
    _check_verified_on(data.last_verified_on)
    camera = Camera(province_code=ward.province_code, **values)
    fields = data.model_fields_set | {"ward_code", "owner_kind", "label", "lat", "lon"}
    return await CAMERAS.insert(session, principal, camera, fields=fields)


async def _changeable(session: AsyncSession, principal: Principal, camera_id: uuid.UUID) -> Camera:
    camera = await CAMERAS.get_for_update(session, principal, camera_id)
    reason = can_change_camera(principal, camera)
    if reason:
        raise Forbidden(reason)
    return camera


async def update_camera(
    session: AsyncSession,
    principal: Principal,
    camera_id: uuid.UUID,
    expected_version: int,
    data: CameraUpdate,
) -> Camera:
    """Change a camera, if it is still at ``expected_version``."""
    camera = await _changeable(session, principal, camera_id)
    changes = data.model_dump(exclude_unset=True)
    nulls = sorted(name for name in _NOT_NULL if name in changes and changes[name] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    _owner_limits(principal, changes)
    if changes.get("owner_user_id") is not None and principal.role is not Role.CAMERA_OWNER:
        await _check_owner_account(session, camera.ward_code, changes["owner_user_id"])
    if changes.get("neighbourhood_id") is not None:
        await _check_neighbourhood(session, camera.ward_code, changes["neighbourhood_id"])
    _check_verified_on(changes.get("last_verified_on"))
    return await CAMERAS.update(
        session, principal, camera, expected_version, dict(changes), fields=changes
    )


async def delete_camera(
    session: AsyncSession, principal: Principal, camera_id: uuid.UUID, expected_version: int
) -> None:
    """Remove a camera from the registry, unless a footage request still waits on it."""
    camera = await _changeable(session, principal, camera_id)
    open_items = await fetch_row(
        session,
        select(func.count()).where(
            col(FootageRequestItem.camera_id) == camera.id,
            col(FootageRequestItem.status).in_([s.value for s in OPEN_STATUSES]),
        ),
    )
    if open_items is not None and open_items[0]:
        raise Conflict(
            f"The camera is in {open_items[0]} open footage requests; "
            "close them first, or set its status to decommissioned."
        )
    await CAMERAS.delete(session, principal, camera, expected_version)
