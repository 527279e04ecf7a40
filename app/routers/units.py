"""Administrative units: official provinces and wards, neighbourhoods, residential groups."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.deps import CursorCodecDep, PageDep, SessionDep
from app.errors import problem_responses
from app.pagination import Page
from app.schemas.units import NeighbourhoodRead, ProvinceRead, ResidentialGroupRead, WardRead
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
