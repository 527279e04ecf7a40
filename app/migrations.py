"""Alembic, driven from code: the CLI, readiness and the tests use it."""

from __future__ import annotations

from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from app.config import BASE_DIR


def alembic_config(database_url: str | None = None) -> Config:
    """The project's Alembic config, usable from any working directory."""
    config = Config(str(BASE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(BASE_DIR / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


@lru_cache
def head_revisions() -> frozenset[str]:
    """The revision(s) a fully migrated database is at."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the database up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)
