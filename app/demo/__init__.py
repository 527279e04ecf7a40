"""Deterministic demo data: Phường Hạ Long and Phường Bãi Cháy in Quảng Ninh.

``seed_demo`` is the entry (``wardsafe seed-demo`` calls it). Each domain's
seeder lives in its own module beside this one and imports only
``app.demo.places``, never this entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo import cameras, certifications, fire, groups, reports, units, users
from app.demo.places import SeedSummary

DomainSeeder = Callable[[AsyncSession, SeedSummary], Awaitable[None]]


def _domain_seeders() -> tuple[DomainSeeder, ...]:
    """Each domain's demo data, in dependency order; each adds only what is missing."""
    return (
        groups.seed_demo,
        cameras.seed_cameras,
        cameras.seed_footage_requests,
        certifications.seed_demo,
        reports.seed_demo,
        fire.seed_demo,
    )


async def seed_demo(
    session: AsyncSession, *, with_logins: bool = True, with_domains: bool = True
) -> SeedSummary:
    """Add the demo records that are missing; a rerun adds nothing.

    ``with_logins`` adds one account per role (password ``DEMO_PASSWORD``):
    for development only, never on a production database. ``with_domains``
    adds each domain's records (groups, cameras, ...) beside the units."""
    summary = SeedSummary()
    await units.seed_units(session, summary)
    await session.flush()
    if with_logins:
        await users.seed_logins(session, summary)
    for seeder in _domain_seeders() if with_domains else ():
        await seeder(session, summary)
        await session.flush()
    # The seeders write their rows directly: give each the change a sync from zero reads.
    import app.main  # noqa: F401  (every domain's unit of write declared)
    from app.data.changelog import record_existing

    await record_existing(session)
    return summary
