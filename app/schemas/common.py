"""Pieces every domain's schemas share."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$"), Field(examples=["22"])]
WardCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$"), Field(examples=["06688"])]


class ReadModel(BaseModel):
    """A response body: built from ORM objects or selected rows."""

    model_config = ConfigDict(from_attributes=True)


class InputModel(BaseModel):
    """A request body: unknown fields are refused, so nothing can be mass-assigned."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordRead(ReadModel):
    """The fields every stored record carries."""

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int = Field(examples=[1])


# Fields of local units (neighbourhoods, residential groups).
UnitLocalCode = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
]
UnitName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
HeadCount = Annotated[int, Field(ge=0, le=10_000_000)]
