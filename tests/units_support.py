"""Helpers the unit tests share: walking lists page by page, changing rows behind the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup

PROBLEM = "application/problem+json"
NEIGHBOURHOODS = "/api/v1/neighbourhoods"
GROUPS = "/api/v1/residential-groups"


async def walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``next_cursor`` to the end."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = dict(params, cursor=cursor) if cursor else dict(params)
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ran out"


def flatten(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/problems/{slug}")
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


async def change(
    session: AsyncSession,
    model: type[Neighbourhood | ResidentialGroup],
    id_: uuid.UUID,
    **values: Any,
) -> None:
    """Change a stored record behind the API's back, as another writer would."""
    record = await session.get(model, id_)
    assert record is not None
    for key, value in values.items():
        setattr(record, key, value)
    session.add(record)
    await session.commit()


def version(value: int) -> dict[str, str]:
    return {"If-Match": f'"{value}"'}


async def fresh(
    session: AsyncSession, model: type[Neighbourhood | ResidentialGroup], id_: uuid.UUID | str
) -> Neighbourhood | ResidentialGroup:
    """The stored record, read again."""
    session.expunge_all()
    record = await session.get(model, uuid.UUID(str(id_)))
    assert record is not None
    return record
