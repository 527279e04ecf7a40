"""Every table, imported so that ``metadata`` knows them all (Alembic reads it)."""

from app.models.units import Neighbourhood, Province, ResidentialGroup, Ward
from app.models.users import User

__all__ = ["Neighbourhood", "Province", "ResidentialGroup", "User", "Ward"]
