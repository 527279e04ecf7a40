"""Request and response bodies for user accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.schemas.common import InputModel, ReadModel, RecordRead, Text
from app.security import USER_ROLES, Role

Username = Annotated[
    str,
    Text(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$"),
    Field(description="Lowercase letters, digits, `.`, `_`, `-`.", examples=["officer.halong"]),
]
Password = Annotated[
    str,
    Text(min_length=8, max_length=128),
    Field(description="8 to 128 characters; stored only as an argon2 hash."),
]
Phone = Annotated[
    str,
    Text(pattern=r"^\+?[0-9]{8,15}$"),
    Field(examples=["0912345678"]),
]
FullName = Annotated[str, Text(min_length=1, max_length=200)]


def _person_role(role: Role) -> Role:
    # ward_system is what machine clients act as: an account for a person
    # with it would be a client that signs in with a password.
    if role not in USER_ROLES:
        raise ValueError(f"{role.value} is the role of machine clients, not of people")
    return role


UserRole = Annotated[
    Role,
    AfterValidator(_person_role),
    Field(
        description="One of " + ", ".join(f"`{r.value}`" for r in USER_ROLES) + ".",
        examples=["resident"],
    ),
]
UnitCode = Annotated[
    str,
    Text(min_length=2, max_length=36),
    Field(
        description="A province code, a ward code or a neighbourhood id, as the role needs.",
        examples=["06688"],
    ),
]


class UserCreate(InputModel):
    """A new account."""

    username: Username
    password: Password
    full_name: FullName = Field(examples=["Nguyễn Văn An"])
    phone: Phone | None = None
    role: UserRole
    unit_code: UnitCode | None = None


class UserUpdate(InputModel):
    """Changes to an account; send only what changes."""

    full_name: FullName | None = None
    phone: Phone | None = None
    role: UserRole | None = None
    unit_code: UnitCode | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserRead(RecordRead):
    """An account as its managers see it (never the password)."""

    username: str = Field(examples=["officer.halong"])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    phone: str | None = Field(examples=["0912345678"])
    role: Role
    unit_code: str | None = Field(examples=["06688"])
    province_code: str | None = Field(examples=["22"])
    ward_code: str | None = Field(examples=["06688"])
    is_active: bool


class MeRead(ReadModel):
    """Who the token belongs to."""

    id: uuid.UUID
    username: str = Field(examples=["officer.halong"])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    role: Role
    unit_code: str | None = Field(examples=["06688"])
    province_code: str | None = Field(examples=["22"])
    ward_code: str | None = Field(examples=["06688"])
    scopes: list[str] = Field(examples=[["reports:triage", "units:write"]])
    created_at: datetime
