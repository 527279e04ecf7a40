"""Who sees which footage requests and which of their cameras: the declarations of the
requests (``FOOTAGE_REQUESTS``) and their items (``FOOTAGE_ITEMS``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlmodel import col

from app.data.related import RowsOf
from app.data.repository import Repository, Where
from app.data.visibility import Through, Visible
from app.data.writes import UnitOfWrite
from app.db import columns
from app.models.cameras import Camera
from app.models.footage_requests import FootageRequest, FootageRequestItem
from app.pagination import Keyset
from app.security import Principal, Role

_item_camera = col(FootageRequestItem.camera_id)
_item_status = col(FootageRequestItem.status)


def own_cameras(owner_user_id: Any) -> Any:
    """The ids of the cameras an owner's account answers for."""
    return select(col(Camera.id)).where(col(Camera.owner_user_id) == owner_user_id)


def _own_item(owner_user_id: Any) -> ColumnElement[bool]:
    return col(FootageRequestItem.camera_id).in_(own_cameras(owner_user_id))


def _has_item(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The request has an item for which ``conditions`` hold."""
    return exists(
        select(col(FootageRequestItem.id)).where(
            col(FootageRequestItem.footage_request_id) == col(FootageRequest.id), *conditions
        )
    )


# --- the requests --------------------------------------------------------------


def request_visibility(principal: Principal) -> Visible:
    """The requests a principal may see: officers their ward's, owners those that ask them."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.role is Role.WARD_OFFICER and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    if principal.role is Role.CAMERA_OWNER:
        return Visible.where(asks_owner=principal.subject)
    return Visible.nothing()


# A request is audited as one record: its items and custody events are its parts, and
# each step (respond, hand over, close) is one event of the request's.
REQUEST_WRITES = UnitOfWrite("footage_request")
ITEM_WRITES = UnitOfWrite("footage_request_item")

_REQUESTS_THROUGH: Through = {"asks_owner": lambda owner: _has_item(_own_item(owner))}

FOOTAGE_REQUESTS = Repository(
    FootageRequest,
    noun="footage request",
    columns=columns(
        FootageRequest.id,
        FootageRequest.province_code,
        FootageRequest.ward_code,
        FootageRequest.case_code,
        FootageRequest.reason,
        FootageRequest.window_start,
        FootageRequest.window_end,
        FootageRequest.respond_by,
        FootageRequest.requested_by,
        FootageRequest.created_at,
        FootageRequest.updated_at,
        FootageRequest.version,
        FootageRequest.custody_length,
        FootageRequest.custody_head,
    ),
    visible=request_visibility,
    # Newest first: an officer's desk, an owner's inbox.
    keyset=Keyset(
        "footage-requests",
        columns(FootageRequest.created_at, FootageRequest.id),
        descending=True,
    ),
    filters={
        "ward_code": FootageRequest.ward_code,
        "case_code": FootageRequest.case_code,
        # An officer's: the requests asking this camera, or with a camera in this status.
        "camera_id": Where(lambda camera_id: _has_item(_item_camera == camera_id)),
        "status": Where(lambda status: _has_item(_item_status == status)),
        # An owner's, among their own cameras only: ``asked_owner`` (the requests that ask
        # this owner) is given with either.
        "asked_owner": Where(lambda owner: _has_item(_own_item(owner))),
        "own_camera_id": Where(
            lambda camera_id, owner: _has_item(_item_camera == camera_id, _own_item(owner)),
            also=("asked_owner",),
        ),
        "own_status": Where(
            lambda status, owner: _has_item(_item_status == status, _own_item(owner)),
            also=("asked_owner",),
        ),
    },
    through=_REQUESTS_THROUGH,
    writes=REQUEST_WRITES,
)

# --- their items: one per camera asked -------------------------------------------------


def item_visibility(principal: Principal) -> Visible:
    """The items of a visible request a principal may see: a camera owner, only their
    cameras'; an officer, their ward's (every item of the ward's requests)."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.role is Role.WARD_OFFICER and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    if principal.role is Role.CAMERA_OWNER:
        return Visible.where(own_camera=principal.subject)
    return Visible.nothing()


def _camera(column: Any) -> Any:
    return (
        select(col(column))
        .where(col(Camera.id) == col(FootageRequestItem.camera_id))
        .scalar_subquery()
    )


_CAMERA_LABEL = _camera(Camera.label).label("camera_label")

FOOTAGE_ITEMS = Repository(
    FootageRequestItem,
    noun="footage request item",
    columns=(
        *columns(
            FootageRequestItem.id,
            FootageRequestItem.footage_request_id,
            FootageRequestItem.camera_id,
            FootageRequestItem.status,
            FootageRequestItem.response_note,
            FootageRequestItem.responded_at,
            FootageRequestItem.sha256,
            FootageRequestItem.media_ref,
            FootageRequestItem.size_bytes,
            FootageRequestItem.handed_over_at,
            FootageRequestItem.closed_at,
            FootageRequestItem.version,
        ),
        _CAMERA_LABEL,
        _camera(Camera.owner_user_id).label("owner_user_id"),
    ),
    visible=item_visibility,
    # A request's cameras by label (each camera once in a request).
    keyset=Keyset("footage-request-items", (_CAMERA_LABEL, *columns(FootageRequestItem.camera_id))),
    filters={"footage_request_id": FootageRequestItem.footage_request_id},
    through={"own_camera": _own_item},
    writes=ITEM_WRITES,
)

# The items of a page of requests, in one statement.
ITEMS_OF = RowsOf(FOOTAGE_ITEMS, FootageRequestItem.footage_request_id)
