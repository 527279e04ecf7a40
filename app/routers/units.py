"""Administrative units: official provinces and wards, neighbourhoods, residential groups."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.deps import (
    CursorCodecDep,
    IdempotencyKeyDep,
    IfMatchDep,
    PageDep,
    SessionDep,
    scoped,
)
from app.errors import problem_responses
from app.pagination import Page
from app.responses import created, with_etag
from app.schemas.units import (
    NeighbourhoodCreate,
    NeighbourhoodRead,
    NeighbourhoodUpdate,
    ProvinceRead,
    ResidentialGroupCreate,
    ResidentialGroupRead,
    ResidentialGroupUpdate,
    WardRead,
)
from app.security import Principal
from app.services import units as unit_service

router = APIRouter(prefix="/api/v1", tags=["administrative units"])

ProvinceCodePath = Annotated[str, Path(pattern=r"^\d{2}$", examples=["22"])]
WardCodePath = Annotated[str, Path(pattern=r"^\d{5}$", examples=["06688"])]
WardCodeFilter = Annotated[
    str | None, Query(pattern=r"^\d{5}$", description="Official ward code.", examples=["06688"])
]
SearchQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Name contains this text; diacritics optional (`ha long` finds Hạ Long).",
        examples=["ha long"],
    ),
]


def _page(rows: Any, next_cursor: str | None) -> dict[str, Any]:
    return {"items": [row._mapping for row in rows], "next_cursor": next_cursor}


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.get("/provinces", response_model=Page[ProvinceRead], responses=problem_responses(422))
async def list_provinces(
    session: SessionDep, page: PageDep, codec: CursorCodecDep, q: SearchQuery = None
) -> dict[str, Any]:
    """List the 34 official provinces, with how many wards each has."""
    return _page(*await unit_service.list_provinces(session, page, codec, q=q))


@router.get("/provinces/{code}", response_model=ProvinceRead, responses=problem_responses(404, 422))
async def get_province(session: SessionDep, code: ProvinceCodePath) -> Any:
    """Get one province by its official 2-digit code."""
    return (await unit_service.get_province(session, code))._mapping


@router.get("/wards", response_model=Page[WardRead], responses=problem_responses(422))
async def list_wards(
    session: SessionDep,
    page: PageDep,
    codec: CursorCodecDep,
    province_code: Annotated[
        str | None,
        Query(pattern=r"^\d{2}$", description="Official province code.", examples=["22"]),
    ] = None,
    q: SearchQuery = None,
) -> dict[str, Any]:
    """List official wards and communes, by province and by name without diacritics."""
    rows, next_cursor = await unit_service.list_wards(
        session, page, codec, province_code=province_code, q=q
    )
    return _page(rows, next_cursor)


@router.get("/wards/{code}", response_model=WardRead, responses=problem_responses(404, 422))
async def get_ward(session: SessionDep, code: WardCodePath) -> Any:
    """Get one ward by its official 5-digit code."""
    return (await unit_service.get_ward(session, code))._mapping


@router.get(
    "/neighbourhoods", response_model=Page[NeighbourhoodRead], responses=problem_responses(422)
)
async def list_neighbourhoods(
    session: SessionDep, page: PageDep, codec: CursorCodecDep, ward_code: WardCodeFilter = None
) -> dict[str, Any]:
    """List neighbourhoods (khu phố), optionally of one ward, in code order."""
    rows, next_cursor = await unit_service.list_neighbourhoods(
        session, page, codec, ward_code=ward_code
    )
    return _page(rows, next_cursor)


@router.get(
    "/neighbourhoods/{neighbourhood_id}",
    response_model=NeighbourhoodRead,
    responses=problem_responses(404, 422),
)
async def get_neighbourhood(
    session: SessionDep, response: Response, neighbourhood_id: uuid.UUID
) -> Any:
    """Get one neighbourhood; the ETag is its version."""
    row = await unit_service.get_neighbourhood(session, neighbourhood_id)
    _etag(response, row.version)
    return row._mapping


@router.get(
    "/residential-groups",
    response_model=Page[ResidentialGroupRead],
    responses=problem_responses(422),
)
async def list_residential_groups(
    session: SessionDep,
    page: PageDep,
    codec: CursorCodecDep,
    neighbourhood_id: Annotated[
        uuid.UUID | None, Query(description="Only the groups of this neighbourhood.")
    ] = None,
    ward_code: WardCodeFilter = None,
) -> dict[str, Any]:
    """List residential groups (tổ dân phố), by neighbourhood or ward, in code order."""
    rows, next_cursor = await unit_service.list_residential_groups(
        session, page, codec, neighbourhood_id=neighbourhood_id, ward_code=ward_code
    )
    return _page(rows, next_cursor)


@router.get(
    "/residential-groups/{group_id}",
    response_model=ResidentialGroupRead,
    responses=problem_responses(404, 422),
)
async def get_residential_group(
    session: SessionDep, response: Response, group_id: uuid.UUID
) -> Any:
    """Get one residential group; the ETag is its version."""
    row = await unit_service.get_residential_group(session, group_id)
    _etag(response, row.version)
    return row._mapping


UnitsWriter = Annotated[Principal, scoped("units:write")]
_WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


@router.post(
    "/neighbourhoods",
    status_code=201,
    response_model=NeighbourhoodRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_neighbourhood(
    request: Request,
    session: SessionDep,
    principal: UnitsWriter,
    body: NeighbourhoodCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Add a neighbourhood to your ward (ward officers; admins anywhere)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: unit_service.create_neighbourhood(session, principal, body),
        present=NeighbourhoodRead.model_validate,
        location=lambda record: f"/api/v1/neighbourhoods/{record.id}",
    )


@router.patch(
    "/neighbourhoods/{neighbourhood_id}", response_model=NeighbourhoodRead, responses=_WRITE_ERRORS
)
async def update_neighbourhood(
    session: SessionDep,
    principal: UnitsWriter,
    response: Response,
    neighbourhood_id: uuid.UUID,
    body: NeighbourhoodUpdate,
    expected_version: IfMatchDep,
) -> NeighbourhoodRead:
    """Change a neighbourhood of your ward; send `If-Match` with the ETag you read."""
    record = await unit_service.update_neighbourhood(
        session, principal, neighbourhood_id, expected_version, body
    )
    with_etag(response, record)
    return NeighbourhoodRead.model_validate(record)


@router.delete(
    "/neighbourhoods/{neighbourhood_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
)
async def delete_neighbourhood(
    session: SessionDep,
    principal: UnitsWriter,
    neighbourhood_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Delete a neighbourhood with no residential groups left; send `If-Match`."""
    await unit_service.delete_neighbourhood(session, principal, neighbourhood_id, expected_version)
    return Response(status_code=204)


@router.post(
    "/residential-groups",
    status_code=201,
    response_model=ResidentialGroupRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_residential_group(
    request: Request,
    session: SessionDep,
    principal: UnitsWriter,
    body: ResidentialGroupCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Add a residential group to a neighbourhood of your ward."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: unit_service.create_residential_group(session, principal, body),
        present=ResidentialGroupRead.model_validate,
        location=lambda record: f"/api/v1/residential-groups/{record.id}",
    )


@router.patch(
    "/residential-groups/{group_id}", response_model=ResidentialGroupRead, responses=_WRITE_ERRORS
)
async def update_residential_group(
    session: SessionDep,
    principal: UnitsWriter,
    response: Response,
    group_id: uuid.UUID,
    body: ResidentialGroupUpdate,
    expected_version: IfMatchDep,
) -> ResidentialGroupRead:
    """Change a residential group of your ward; send `If-Match` with the ETag you read."""
    record = await unit_service.update_residential_group(
        session, principal, group_id, expected_version, body
    )
    with_etag(response, record)
    return ResidentialGroupRead.model_validate(record)


@router.delete(
    "/residential-groups/{group_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
)
async def delete_residential_group(
    session: SessionDep, principal: UnitsWriter, group_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete a residential group; send `If-Match`."""
    await unit_service.delete_residential_group(session, principal, group_id, expected_version)
    return Response(status_code=204)
