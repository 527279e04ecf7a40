"""Every table, imported so that ``metadata`` knows them all (Alembic reads it)."""

from app.models.audit import AuditEvent
from app.models.auth import RefreshToken
from app.models.clients import Client
from app.models.idempotency import IdempotencyKey
from app.models.units import Neighbourhood, Province, ResidentialGroup, Ward
from app.models.users import User

__all__ = [
    "AuditEvent",
    "Client",
    "IdempotencyKey",
    "Neighbourhood",
    "Province",
    "RefreshToken",
    "ResidentialGroup",
    "User",
    "Ward",
]
