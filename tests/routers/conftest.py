"""Fixtures for the router tests."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo as demo_data


@pytest.fixture
async def demo(session: AsyncSession) -> None:
    """The demo neighbourhoods and groups of Hạ Long and Bãi Cháy (rolled back after the test)."""
    await demo_data.seed_demo(session, with_logins=False, with_domains=False)
    await session.commit()
