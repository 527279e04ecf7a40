"""Annotated dependency aliases that routers declare their needs with."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from starlette.requests import HTTPConnection

from app.db import ReadSession, WriteSession
from app.errors import Forbidden, PreconditionFailed, PreconditionRequired, Unauthorized
from app.pagination import CursorCodec, PageParams, page_params
from app.revocations import Revocations
from app.schemas.common import Text, Timestamp
from app.security import SCOPES, Principal
from app.sessions import get_read_session, get_session
from app.tokens import InvalidToken, TokenSigner

# scope="function": the commit runs when the route returns, before the
# response is sent, so a failed commit is the client's error response.
SessionDep = Annotated[WriteSession, Depends(get_session, scope="function")]
# Routes that only read (every GET): no transaction round trips, and no write (app/db.py).
ReadSessionDep = Annotated[ReadSession, Depends(get_read_session)]
PageDep = Annotated[PageParams, Depends(page_params)]


async def get_cursor_codec(request: Request) -> CursorCodec:
    """The app's cursor signer."""
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]


async def _verify(request: HTTPConnection, token: str | None) -> Principal | None:
    if not token:
        return None
    state = request.app.state
    signer: TokenSigner = state.token_signer
    try:
        principal = signer.verify(token)
    except InvalidToken:
        raise Unauthorized(
            "The access token is invalid or expired; get a new one from /api/v1/auth/token.",
            challenge='Bearer error="invalid_token"',
        ) from None
    revocations: Revocations = state.revocations
    if revocations.due():
        await revocations.refresh(state.sessionmaker)
    epoch = revocations.epochs.get(principal.subject)
    if epoch is not None and principal.token_epoch < epoch:
        raise Unauthorized(
            "The access token was issued before the account changed (deactivated, deleted, "
            "or a new role, unit or password); sign in again.",
            challenge='Bearer error="invalid_token"',
        )
    return principal


class _BearerPrincipal(OAuth2PasswordBearer):
    """The bearer token scheme (Swagger UI's Authorize button speaks the password
    grant to the token endpoint), resolved straight to the caller it names.

    One dependency instead of a principal dependency over the scheme's: FastAPI
    solves each level of dependencies anew on every request."""

    def __init__(self, *, required: bool) -> None:
        # One scheme in the OpenAPI document, whichever of the two a route uses.
        super().__init__(
            tokenUrl="/api/v1/auth/token",
            scopes=SCOPES,
            auto_error=False,
            scheme_name="OAuth2PasswordBearer",
        )
        self.required = required

    async def __call__(  # type: ignore[override]
        self, request: HTTPConnection, security_scopes: SecurityScopes
    ) -> Principal | None:
        principal = await _verify(request, await super().__call__(request))
        if not self.required:
            return principal
        if principal is None:
            raise Unauthorized("Sign in: send `Authorization: Bearer <access token>`.")
        missing = sorted(set(security_scopes.scopes) - principal.scopes)
        if missing:
            needed = " ".join(missing)
            raise Forbidden(
                f"This operation needs the scope {needed}, "
                f"which a {principal.role.value} token does not carry.",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'
                },
                required_scopes=missing,
            )
        return principal


# The caller named by a valid bearer token, holding every scope the route needs.
get_principal = _BearerPrincipal(required=True)
# The caller if a token was sent (a bad token is still a 401), else None.
get_optional_principal = _BearerPrincipal(required=False)

CurrentPrincipal = Annotated[Principal, Security(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def scoped(*scopes: str) -> Any:
    """``Annotated[Principal, scoped("units:write")]``: a caller holding these scopes."""
    return Security(get_principal, scopes=list(scopes))


_ETAG = re.compile(r'^\s*"(\d{1,18})"\s*$')


def if_match(value: str | None) -> int:
    """The version the client last read, from ``If-Match`` (428 without it)."""
    if value is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag of your last read, so that no one's change is lost."
        )
    # One strong ETag, compared strongly (RFC 9110 13.1.1): a weak tag, a list
    # or `*` cannot say which version the change was made against.
    match = _ETAG.match(value)
    if match is None:
        raise PreconditionFailed(
            'If-Match must carry exactly the one ETag of your last read, e.g. "3".'
        )
    return int(match.group(1))


async def _if_match_header(
    value: Annotated[
        str | None,
        Text(),
        Header(
            alias="If-Match",
            description='The ETag of your last read, e.g. `"3"`.',
            examples=['"1"'],
        ),
    ] = None,
) -> int:
    # async: FastAPI runs a plain `def` dependency in a worker thread.
    return if_match(value)


IfMatchDep = Annotated[int, Depends(_if_match_header)]

IdempotencyKeyDep = Annotated[
    str | None,
    Text(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"),
    Header(
        alias="Idempotency-Key",
        description="A unique string; a retry with the same key and body gets the first answer.",
        examples=["3f0c8e9e-5d7a-4c3b-9a51-0d9b3c2a1e77"],
    ),
]


UpdatedSince = Annotated[
    Timestamp | None,
    Query(
        description=(
            "Only records changed at or after this time (their `updated_at`; ISO 8601 with "
            "offset). A deleted record is in no list: the change feed (`GET /api/v1/changes`) "
            "also says which went."
        ),
        examples=["2026-12-01T00:00:00+07:00"],
    ),
]
