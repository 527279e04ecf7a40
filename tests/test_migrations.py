"""Migrations: head builds every table, base removes them, and the models match.

Runs against a scratch database of the same kind as the suite's: a temporary
SQLite file, or a scratch PostgreSQL database created and dropped beside the
test database.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from app import migrations
from app import models as _models  # noqa: F401  (every table on the metadata)
from app.db import metadata
from app.models.reports import STATISTICS_COLUMNS


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind, removed afterwards."""
    test_url = os.environ.get("WARDSAFE_TEST_DATABASE_URL")
    if not test_url or test_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    base = make_url(test_url)
    name = f"{base.database}_migrations_{uuid.uuid4().hex[:8]}"
    server = base.set(database="postgres").render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def current_revision(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                result = await connection.execute(text("SELECT version_num FROM alembic_version"))
                return {row[0] for row in result}
        finally:
            await engine.dispose()

    return asyncio.run(read())


class TestMigrations:
    def test_upgrade_downgrade_upgrade_round_trip(self, scratch_url: str) -> None:
        every_table = set(metadata.tables)
        assert {
            "provinces",
            "wards",
            "neighbourhoods",
            "residential_groups",
            "users",
        } <= every_table

        migrations.upgrade(scratch_url, "head")
        assert tables(scratch_url) == every_table | {"alembic_version"}
        assert current_revision(scratch_url) == set(migrations.head_revisions())

        migrations.downgrade(scratch_url, "base")
        assert tables(scratch_url) <= {"alembic_version"}

        migrations.upgrade(scratch_url, "head")
        assert tables(scratch_url) == every_table | {"alembic_version"}

    def test_models_and_migrations_agree(self, scratch_url: str) -> None:
        # What `alembic check` does in CI: autogenerate finds nothing to add.
        migrations.upgrade(scratch_url, "head")
        command.check(migrations.alembic_config(scratch_url))

    def test_each_revision_downgrades_one_step(self, scratch_url: str) -> None:
        script = ScriptDirectory.from_config(migrations.alembic_config())
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        assert revisions
        for revision in revisions:
            migrations.upgrade(scratch_url, revision)
            migrations.downgrade(scratch_url, "-1")
            migrations.upgrade(scratch_url, revision)
        assert current_revision(scratch_url) == set(migrations.head_revisions())

    def test_unit_indexes_cover_the_statistics(self, scratch_url: str) -> None:
        # `alembic check` compares index columns, not INCLUDE: this test does.
        migrations.upgrade(scratch_url, "head")

        async def read() -> dict[str, dict[str, Any]]:
            engine = create_async_engine(scratch_url)
            try:
                async with engine.connect() as connection:
                    found = await connection.run_sync(lambda c: inspect(c).get_indexes("reports"))
                    return {index["name"]: dict(index) for index in found if index["name"]}
            finally:
                await engine.dispose()

        indexes = asyncio.run(read())
        postgresql = not scratch_url.startswith("sqlite")
        for unit in ("province_code", "ward_code", "neighbourhood_id"):
            index = indexes[f"ix_reports_{unit}_created_at_id"]
            assert index["column_names"] == [unit, "created_at", "id"]
            include = index.get("dialect_options", {}).get("postgresql_include", [])
            assert include == (list(STATISTICS_COLUMNS) if postgresql else [])
            # The single-column index is the keyset's prefix: gone.
            assert f"ix_reports_{unit}" not in indexes
