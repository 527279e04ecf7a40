"""Alembic environment: async, one metadata, the same URL setting as the app."""

from __future__ import annotations

import asyncio
import secrets
from logging.config import fileConfig

from sqlalchemy.engine import Connection

from alembic import context
from app import models  # noqa: F401  (registers every table on the metadata)
from app.config import Settings
from app.db import create_engine, metadata

config = context.config
if config.config_file_name is not None and not config.attributes.get("database_url"):
    # Called from the alembic CLI: let alembic.ini set up logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Migrating signs nothing, so production's demand for a real secret does not
# apply: a throwaway one stands in (the database settings are read as usual).
throwaway_secret = secrets.token_urlsafe(48)
settings = Settings(secret_key=throwaway_secret)
url = config.attributes.get("database_url") or settings.database_url
settings = settings.model_copy(
    update={"database_url": Settings(database_url=url, secret_key=throwaway_secret).database_url}
)


def _configure(connection: Connection | None = None) -> None:
    context.configure(
        connection=connection,
        url=None if connection is not None else settings.database_url,
        target_metadata=metadata,
        compare_type=True,
        compare_server_default=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=settings.is_sqlite,
        literal_binds=connection is None,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    # A schema change may run longer than a request's statement timeout.
    engine = create_engine(settings, bound_statements=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
