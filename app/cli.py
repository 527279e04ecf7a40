"""The ``wardsafe`` command: serve, migrate, import-units, seed-demo, create-admin."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings, describe_invalid, get_settings
from app.db import create_engine, create_sessionmaker
from app.errors import AppError

T = TypeVar("T")

cli = typer.Typer(
    name="wardsafe",
    help="wardsafe: grassroots security and public order, for Vietnamese wards.",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _settings() -> Settings:
    """The settings; invalid ones (production without a secret) end the command with what
    to set, not a traceback."""
    try:
        return get_settings()
    except ValidationError as error:
        raise _fail(describe_invalid(error)) from None


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on the configured database."""
    settings = _settings()

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AppError as error:
        raise _fail(error.detail or error.title) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [WARDSAFE_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [WARDSAFE_PORT].")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes [WARDSAFE_WORKERS].")
    ] = None,
) -> None:
    """Serve the API with uvicorn; SIGTERM drains first (docs/runbook.md)."""
    from app import serving

    settings = _settings()
    serving.serve(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads",
) -> None:
    """Migrate the database schema (to the latest revision by default)."""
    from app import migrations

    migrations.upgrade(_settings().database_url, revision)
    typer.echo(f"database migrated to {revision}")


@cli.command("import-units")
def import_units() -> None:
    """Import the official provinces and wards from vietnam-provinces (idempotent)."""
    from app.services import units as unit_service

    summary = _in_transaction(unit_service.import_official_units)
    typer.echo(
        f"provinces: {summary.provinces_added} added, {summary.provinces_updated} updated; "
        f"wards: {summary.wards_added} added, {summary.wards_updated} updated"
    )


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load the deterministic demo data (Hạ Long and Bãi Cháy); a rerun changes nothing."""
    from app import demo as demo_data
    from app.demo.places import SeedSummary
    from app.demo.users import DEMO_LOGINS, DEMO_PASSWORD

    if not _settings().is_development:
        # Its anonymous reports' tracking codes and its logins are public.
        raise _fail(
            "seed-demo is for development only: the demo's tracking codes and logins are "
            "public, and production refuses them (WARDSAFE_ENV=development for a demo)"
        )

    async def work(session: AsyncSession) -> SeedSummary:
        return await demo_data.seed_demo(session)

    summary = _in_transaction(work)
    typer.echo(
        f"demo data: {summary.neighbourhoods_added} neighbourhoods, "
        f"{summary.residential_groups_added} residential groups and "
        f"{summary.users_added} accounts added"
    )
    for kind, added in summary.added.items():
        typer.echo(f"  {kind}: {added} added")
    for note in summary.notes:
        typer.echo(note)
    typer.echo(f"\ndemo logins (password for all: {DEMO_PASSWORD}):")
    for login in DEMO_LOGINS:
        where = (
            "/".join(filter(None, (login.province_code, login.ward_code, login.neighbourhood_code)))
            or "everywhere"
        )
        typer.echo(f"  {login.username:<18} {login.role.value:<19} {where}")


@cli.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name of the new administrator.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Asked when left out."
        ),
    ],
    full_name: Annotated[str, typer.Option(help="Display name.")] = "Administrator",
) -> None:
    """Create an administrator account."""
    from app.services import users as user_service

    if len(password) < 8:
        raise _fail("the password needs at least 8 characters")

    async def work(session: AsyncSession) -> None:
        await user_service.create_admin(session, username, password, full_name)

    _in_transaction(work)
    typer.echo(f"administrator {username!r} created")


@cli.command("prune-changes")
def prune_changes(
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Changes removed per transaction.")
    ] = 5_000,
) -> None:
    """Remove the changes no sync needs any more (older than WARDSAFE_CHANGES_RETENTION_DAYS
    and a day; each record's latest upsert stays), a batch per transaction. Run it daily."""
    from app.services.changes import pruning

    before = pruning.cutoff(_settings().changes_retention_days)
    removed = 0
    while True:

        async def work(session: AsyncSession) -> int:
            return await pruning.prune_batch(session, before, batch)

        went = _in_transaction(work)
        removed += went
        if went < batch:
            break
    typer.echo(f"changes removed: {removed} (made before {before.isoformat()})")


def main() -> None:
    """Entry point of the ``wardsafe`` console script."""
    cli()
