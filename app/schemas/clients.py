"""Request and response bodies for machine clients."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from app.schemas.common import InputModel, RecordRead, Text


class ClientCreate(InputModel):
    """A new machine client for a ward or province system."""

    name: Annotated[str, Text(min_length=1, max_length=200)] = Field(
        examples=["Hạ Long ward registry sync"]
    )
    unit_code: Annotated[str, Text(pattern=r"^(\d{2}|\d{5})$")] = Field(
        description="The ward (5 digits) or province (2 digits) it syncs.", examples=["06688"]
    )
    scopes: list[Annotated[str, Text()]] | None = Field(
        default=None,
        description="Defaults to the read and sync scopes of `ward_system`.",
        examples=[["groups:read", "sync:read"]],
    )


class ClientRead(RecordRead):
    """A machine client (the secret is never shown again)."""

    client_id: str = Field(examples=["wsc_3q2v0m5n8x1c4z7b"])
    name: str
    role: str = Field(examples=["ward_system"])
    unit_code: str = Field(examples=["06688"])
    province_code: str = Field(examples=["22"])
    ward_code: str | None = Field(examples=["06688"])
    scopes: list[str]
    is_active: bool

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # Stored space-separated, as OAuth writes scopes.
        return value.split() if isinstance(value, str) else value


class ClientCreated(ClientRead):
    """A new client, with its secret and Open311 api_key: shown this once."""

    client_secret: str = Field(description="Store it now: it is not shown again.")
    api_key: str = Field(
        description="The Open311 GeoReport v2 api_key (`/open311/v2`). Store it now: "
        "it is not shown again."
    )
