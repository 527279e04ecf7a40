"""Official administrative units: provinces and wards (public, read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from app.deps import CursorCodecDep, PageDep, ReadSessionDep
from app.errors import problem_responses
from app.pagination import Page
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.units import ProvinceRead, WardRead
from app.services import units as unit_service

router = APIRouter(prefix="/api/v1", tags=["administrative units"])

ProvinceCodePath = Annotated[str, Text(pattern=r"^\d{2}$"), Path(examples=["22"])]
WardCodePath = Annotated[str, Text(pattern=r"^\d{5}$"), Path(examples=["06688"])]
SearchQuery = Annotated[
    str | None,
    Text(min_length=1, max_length=100),
    Query(
        description="A word of the name starts with this; diacritics optional "
        "(`ha long` finds Hạ Long).",
        examples=["ha long"],
    ),
]


@router.get("/provinces", response_model=Page[ProvinceRead], responses=problem_responses(422))
async def list_provinces(
    session: ReadSessionDep, page: PageDep, codec: CursorCodecDep, q: SearchQuery = None
) -> dict[str, Any]:
    """List the 34 official provinces, with how many wards each has."""
    rows, next_cursor = await unit_service.list_provinces(session, page, codec, q=q)
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


@router.get("/provinces/{code}", response_model=ProvinceRead, responses=problem_responses(404, 422))
async def get_province(session: ReadSessionDep, code: ProvinceCodePath) -> Any:
    """Get one province by its official 2-digit code."""
    return (await unit_service.get_province(session, code))._asdict()


@router.get("/wards", response_model=Page[WardRead], responses=problem_responses(422))
async def list_wards(
    session: ReadSessionDep,
    page: PageDep,
    codec: CursorCodecDep,
    province_code: Annotated[
        str | None,
        Text(pattern=r"^\d{2}$"),
        Query(description="Official province code.", examples=["22"]),
    ] = None,
    q: SearchQuery = None,
) -> dict[str, Any]:
    """List official wards and communes, by province and by name without diacritics."""
    rows, next_cursor = await unit_service.list_wards(
        session, page, codec, province_code=province_code, q=q
    )
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


@router.get("/wards/{code}", response_model=WardRead, responses=problem_responses(404, 422))
async def get_ward(session: ReadSessionDep, code: WardCodePath) -> Any:
    """Get one ward by its official 5-digit code."""
    return (await unit_service.get_ward(session, code))._asdict()
