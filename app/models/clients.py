"""Machine clients: ward systems that sync by official code (OAuth2 client credentials)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from app.db import UTCDateTime
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
    # Raised whenever the account's access tokens must stop working at once
    # (deactivated, deleted, its role, unit or password changed): a token
    # carries the epoch it was issued at (app/revocations.py).
    token_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    token_epoch_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
