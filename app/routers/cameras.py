"""The camera registry: CRUD, filters, and cameras near a point."""

from __future__ import annotations

import math
import re
import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from app.deps import (
    CursorCodecDep,
    IdempotencyKeyDep,
    IfMatchDep,
    PageDep,
    ReadSessionDep,
    SessionDep,
    UpdatedSince,
    scoped,
)
from app.errors import ValidationFailed, problem_responses
from app.models.cameras import CameraStatus, OwnerKind, Sharing
from app.pagination import Page
from app.responses import created, etag, plain_json, with_etag
from app.routing import APIRouter
from app.schemas.cameras import CameraCreate, CameraRead, CameraUpdate
from app.schemas.common import Text
from app.security import Principal
from app.services import cameras as camera_service
from app.services.cameras import geo as camera_geo

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

CamerasReader = Annotated[Principal, scoped("cameras:read")]
CamerasWriter = Annotated[Principal, scoped("cameras:write")]

_NEAR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


async def near_params(
    near: Annotated[
        str | None,
        Text(max_length=64),
        Query(
            description="`LAT,LON` in decimal degrees: cameras within `radius_m` of it, "
            "nearest first, each with `distance_m`.",
            examples=["20.9526,107.0812"],
        ),
    ] = None,
    radius_m: Annotated[
        int | None,
        Query(
            ge=1,
            le=camera_geo.MAX_RADIUS_M,
            description="Metres from `near` (1 to 5000; default 500).",
            examples=[300],
        ),
    ] = None,
) -> camera_geo.Near | None:
    """The `near` and `radius_m` query parameters, checked."""
    if near is None:
        if radius_m is not None:
            raise ValidationFailed.field(("query", "radius_m"), "radius_m needs near=LAT,LON.")
        return None
    match = _NEAR.match(near)
    if match is None:
        raise ValidationFailed.field(
            ("query", "near"), "near must be LAT,LON in decimal degrees, e.g. 20.9526,107.0812."
        )
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 180):
        raise ValidationFailed.field(
            ("query", "near"),
            "near needs a latitude in [-90, 90] and a longitude in [-180, 180].",
        )
    return camera_geo.Near(lat, lon, radius_m or camera_geo.DEFAULT_RADIUS_M)


NearDep = Annotated[camera_geo.Near | None, Depends(near_params)]


@router.get("", response_model=Page[CameraRead], responses=problem_responses(401, 403, 422))
async def list_cameras(
    session: ReadSessionDep,
    principal: CamerasReader,
    page: PageDep,
    codec: CursorCodecDep,
    near: NearDep,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
    neighbourhood_id: Annotated[uuid.UUID | None, Query()] = None,
    owner_kind: Annotated[OwnerKind | None, Query()] = None,
    sharing: Annotated[Sharing | None, Query()] = None,
    status: Annotated[CameraStatus | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """List the cameras you may see, oldest first, or with `near` nearest first."""
    filters = {
        "updated_since": updated_since,
        "ward_code": ward_code,
        "neighbourhood_id": neighbourhood_id,
        "owner_kind": owner_kind,
        "sharing": sharing,
        "status": status,
    }
    items, next_cursor = await camera_service.list_cameras(
        session, principal, page, codec, filters=filters, near=near
    )
    return plain_json({"items": items, "next_cursor": next_cursor})


@router.post(
    "",
    status_code=201,
    response_model=CameraRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_camera(
    request: Request,
    session: SessionDep,
    principal: CamerasWriter,
    body: CameraCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Register a camera: your own (camera owners), or any in your ward (ward officers)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: camera_service.create_camera(session, principal, body),
        present=CameraRead.model_validate,
        location=lambda camera: f"/api/v1/cameras/{camera.id}",
    )


@router.get(
    "/{camera_id}", response_model=CameraRead, responses=problem_responses(401, 403, 404, 422)
)
async def get_camera(
    session: ReadSessionDep,
    principal: CamerasReader,
    camera_id: uuid.UUID,
) -> Response:
    """Get one camera; owner details only for its owner, the ward's officers and admins."""
    camera = await camera_service.get_camera(session, principal, camera_id)
    return plain_json(camera, headers={"ETag": etag(camera["version"])})


@router.patch(
    "/{camera_id}",
    response_model=CameraRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_camera(
    session: SessionDep,
    principal: CamerasWriter,
    response: Response,
    camera_id: uuid.UUID,
    body: CameraUpdate,
    expected_version: IfMatchDep,
) -> CameraRead:
    """Change a camera you manage; send `If-Match` with the ETag you read."""
    camera = await camera_service.update_camera(
        session, principal, camera_id, expected_version, body
    )
    with_etag(response, camera)
    return CameraRead.model_validate(camera)


@router.delete(
    "/{camera_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def delete_camera(
    session: SessionDep,
    principal: CamerasWriter,
    camera_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Remove a camera from the registry (not while a request waits on it); send `If-Match`."""
    await camera_service.delete_camera(session, principal, camera_id, expected_version)
    return Response(status_code=204)
