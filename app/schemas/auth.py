"""Bodies of the OAuth2 token and revocation endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TokenResponse(BaseModel):
    """RFC 6749 5.1: an access token, and a refresh token for people (not machines)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(examples=[900], description="Seconds the access token is valid.")
    refresh_token: str | None = Field(
        default=None, description="Works once: each refresh returns a new one."
    )
    scope: str = Field(examples=["reports:triage units:write"])


class OAuthErrorResponse(BaseModel):
    """RFC 6749 5.2: what went wrong, as a code a program branches on."""

    error: str = Field(
        examples=["invalid_grant"],
        description="invalid_request, invalid_client, invalid_grant, unsupported_grant_type, "
        "invalid_scope, or too_many_requests (with Retry-After).",
    )
    error_description: str = Field(examples=["The username or password is wrong."])
