"""OAuth2: the token endpoint (password, refresh_token, client_credentials) and revocation."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from app.deps import SessionDep
from app.ratelimit import client_key
from app.routing import APIRouter, Route
from app.schemas.auth import OAuthErrorResponse, TokenResponse
from app.schemas.common import Text, refused_character
from app.services.auth import OAuthError, TokenPair, TokenService

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorResponse, "description": "RFC 6749 error"},
    401: {"model": OAuthErrorResponse, "description": "Client authentication failed"},
    429: {"model": OAuthErrorResponse, "description": "Too many failed sign-ins"},
}


def _oauth_error(error: OAuthError) -> JSONResponse:
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers={**_NO_STORE, **error.headers},
    )


class OAuthRoute(Route):
    """A route whose malformed form fields are RFC 6749's ``invalid_request``, not a problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as invalid:
                first = invalid.errors()[0]
                field = ".".join(str(part) for part in first["loc"][1:]) or "the form"
                return _oauth_error(OAuthError("invalid_request", f"{field}: {first['msg']}"))

        return guarded


router = APIRouter(prefix="/api/v1/auth", tags=["authentication"], route_class=OAuthRoute)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            "invalid_client", "Malformed Basic credentials.", 401, {"WWW-Authenticate": "Basic"}
        ) from None
    client_id, sep, secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-urlencoded before encoding.
    client_id, secret = unquote(client_id), unquote(secret)
    # What a form field would refuse (tests/test_input_types.py), refused here too.
    if not sep or refused_character(client_id) or refused_character(secret):
        raise OAuthError(
            "invalid_client", "Malformed Basic credentials.", 401, {"WWW-Authenticate": "Basic"}
        )
    return client_id, secret


def _client_address(request: Request) -> str:
    return client_key(request.client.host if request.client else None)


def _missing(*names: str) -> OAuthError:
    return OAuthError("invalid_request", f"Missing parameter: {', '.join(names)}.")


FormField = Annotated[str | None, Text(), Form()]


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=_OAUTH_ERRORS,
    openapi_extra={"security": []},
)
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[
        str | None,
        Text(),
        Form(
            description="`password`, `refresh_token` or `client_credentials`.",
            examples=["password"],
        ),
    ] = None,
    username: FormField = None,
    password: FormField = None,
    refresh_token: FormField = None,
    client_id: FormField = None,
    client_secret: FormField = None,
    scope: Annotated[
        str | None, Text(), Form(description="Space-separated subset of your scopes.")
    ] = None,
) -> Response:
    """Get an access token (OAuth2 form body; errors per RFC 6749)."""
    service: TokenService = request.app.state.token_service
    try:
        pair: TokenPair
        if grant_type == "password":
            if not username or not password:
                raise _missing("username", "password")
            pair = await service.password_grant(
                session, username, password, scope, _client_address(request)
            )
        elif grant_type == "refresh_token":
            if not refresh_token:
                raise _missing("refresh_token")
            pair = await service.refresh_grant(session, refresh_token, scope)
        elif grant_type == "client_credentials":
            basic = _basic_credentials(request)
            challenge = 'Basic realm="wardsafe"' if basic else None
            if basic:
                client_id, client_secret = basic
            if not client_id or not client_secret:
                raise OAuthError(
                    "invalid_client",
                    "Send client_id and client_secret, in the form or with HTTP Basic.",
                    401,
                    {"WWW-Authenticate": 'Basic realm="wardsafe"'},
                )
            pair = await service.client_credentials_grant(
                session, client_id, client_secret, scope, _client_address(request), challenge
            )
        elif grant_type is None:
            raise _missing("grant_type")
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "grant_type must be password, refresh_token or client_credentials.",
            )
    except OAuthError as error:
        # Answered, not raised: a reused refresh token's family revocation
        # must still commit.
        return _oauth_error(error)
    body = TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        scope=pair.scope,
    )
    return JSONResponse(body.model_dump(exclude_none=True), headers=_NO_STORE)


@router.post(
    "/revoke",
    response_class=Response,
    responses={
        200: {"description": "Revoked (or there was nothing to revoke)"},
        400: _OAUTH_ERRORS[400],
    },
)
async def revoke(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Text(), Form(description="The refresh token to revoke.")] = None,
    token_type_hint: FormField = None,
) -> Response:
    """Revoke a refresh token and its sign-in (RFC 7009: 200 whatever the token was)."""
    if not token:
        return _oauth_error(_missing("token"))
    service: TokenService = request.app.state.token_service
    await service.revoke(session, token)
    return Response(status_code=200, headers=_NO_STORE)
