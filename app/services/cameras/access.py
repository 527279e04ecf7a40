"""Who sees which cameras (and whose contact), and who may register or change one: the
camera registry's declaration (``CAMERAS``) and its policies."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns
from app.errors import Forbidden
from app.models.cameras import Camera, OwnerKind, derived_columns
from app.pagination import Keyset
from app.security import Principal, Role

CAMERA_COLUMNS = columns(
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
# A camera's fields, in the order of its rows.
CAMERA_FIELDS = tuple(str(column.key) for column in CAMERA_COLUMNS)
FILTERS = ("ward_code", "neighbourhood_id", "owner_kind", "sharing", "status")

OWNER_FIELDS = ("owner_user_id", "owner_name", "owner_phone")

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
    columns=CAMERA_COLUMNS,
    visible=camera_visibility,
    keyset=Keyset("cameras", columns(Camera.created_at, Camera.id)),
    filters={
        **{name: getattr(Camera, name) for name in FILTERS},
        "updated_since": Filter(Camera.updated_at, ">="),
    },
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
    camera = dict(zip(CAMERA_FIELDS, row, strict=True))
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


def owner_limits(principal: Principal, changes: Mapping[Any, Any]) -> None:
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
