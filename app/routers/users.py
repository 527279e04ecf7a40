"""User accounts: who am I, and account management for admins and ward officers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response

from app.deps import (
    CurrentPrincipal,
    CursorCodecDep,
    IdempotencyKeyDep,
    IfMatchDep,
    PageDep,
    ReadSessionDep,
    SessionDep,
    scoped,
)
from app.errors import problem_responses
from app.pagination import Page
from app.responses import created, with_etag
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.users import MeRead, UserCreate, UserRead, UserUpdate
from app.security import Principal, Role
from app.services import users as user_service

router = APIRouter(prefix="/api/v1/users", tags=["users"])

UsersReader = Annotated[Principal, scoped("users:read")]
UsersWriter = Annotated[Principal, scoped("users:write")]


@router.get("/me", response_model=MeRead, responses=problem_responses(401, 403, 404))
async def me(session: ReadSessionDep, principal: CurrentPrincipal) -> MeRead:
    """Who am I: the signed-in user's account and the scopes of this token."""
    user = await user_service.get_me(session, principal)
    return MeRead(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        unit_code=user.unit_code,
        province_code=user.province_code,
        ward_code=user.ward_code,
        scopes=sorted(principal.scopes),
        created_at=user.created_at,
    )


@router.get("", response_model=Page[UserRead], responses=problem_responses(401, 403, 422))
async def list_users(
    session: ReadSessionDep,
    principal: UsersReader,
    page: PageDep,
    codec: CursorCodecDep,
    role: Annotated[Role | None, Query(description="Only this role.")] = None,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
) -> dict[str, Any]:
    """List accounts in your scope, by username."""
    rows, next_cursor = await user_service.list_users(
        session, principal, page, codec, role=role, ward_code=ward_code
    )
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=UserRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_user(
    request: Request,
    session: SessionDep,
    principal: UsersWriter,
    body: UserCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Create an account (admins: any; ward officers: lower roles in their ward)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: user_service.create_user(session, principal, body),
        present=UserRead.model_validate,
        location=lambda user: f"/api/v1/users/{user.id}",
    )


@router.get("/{user_id}", response_model=UserRead, responses=problem_responses(401, 403, 404, 422))
async def get_user(
    session: ReadSessionDep, principal: UsersReader, response: Response, user_id: uuid.UUID
) -> UserRead:
    """Get one account in your scope; the ETag is its version."""
    user = await user_service.get_user(session, principal, user_id)
    with_etag(response, user)
    return UserRead.model_validate(user)


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_user(
    session: SessionDep,
    principal: UsersWriter,
    response: Response,
    user_id: uuid.UUID,
    body: UserUpdate,
    expected_version: IfMatchDep,
) -> UserRead:
    """Change an account; send `If-Match` with the ETag you read."""
    user = await user_service.update_user(session, principal, user_id, expected_version, body)
    with_etag(response, user)
    return UserRead.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_user(
    session: SessionDep, principal: UsersWriter, user_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete an account; its sign-ins are revoked. Send `If-Match`."""
    await user_service.delete_user(session, principal, user_id, expected_version)
    return Response(status_code=204)
