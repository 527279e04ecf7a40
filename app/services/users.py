"""Accounts: creation and lookup."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict
from app.models.users import User
from app.security import hash_password


async def create_admin(session: AsyncSession, username: str, password: str, full_name: str) -> User:
    """Create an administrator account; a taken username is a conflict."""
    taken = await session.exec(
        select(User.id).where(col(User.username) == username, col(User.deleted_at).is_(None))
    )
    if taken.first() is not None:
        raise Conflict(f"The username {username!r} is taken.")
    user = User(
        username=username,
        full_name=full_name,
        role="admin",
        unit_code=None,
        password_hash=hash_password(password),
    )
    session.add(user)
    await session.flush()
    return user
