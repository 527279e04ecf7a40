"""Machine clients: ward systems that sync by official code (OAuth2 client credentials)."""

from __future__ import annotations

from sqlmodel import Field

from app.models.base import Record


class Client(Record, table=True):
    """A ward or province system; its secret is stored hashed and shown once."""

    __tablename__ = "clients"

    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=64)
    # SHA-256 of the Open311 api_key, shown once beside the secret (None for older clients).
    api_key_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    role: str = Field(default="ward_system", max_length=32)
    unit_code: str = Field(max_length=5)
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str | None = Field(default=None, foreign_key="wards.code", max_length=5, index=True)
    scopes: str = Field(max_length=2000)
    is_active: bool = Field(default=True)
