"""The ``wardsafe`` command on a fresh SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings
from app.security import verify_password

runner = CliRunner()


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """WARDSAFE_DATABASE_URL points at a fresh file, in development (production is the
    default); the settings cache is restored after."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("WARDSAFE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("WARDSAFE_ENV", "development")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def run(*args: str, input: str | None = None) -> Result:
    return runner.invoke(cli, list(args), input=input)


def rows(path: Path, sql: str, values: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, values).fetchall()


@pytest.fixture
def migrated_db(db_path: Path) -> Path:
    result = run("migrate")
    assert result.exit_code == 0, result.output
    return db_path


@pytest.fixture
def imported_db(migrated_db: Path) -> Path:
    result = run("import-units")
    assert result.exit_code == 0, result.output
    return migrated_db


class TestMigrate:
    def test_creates_the_schema_in_a_fresh_file(self, db_path: Path) -> None:
        result = run("migrate")
        assert result.exit_code == 0, result.output
        assert "database migrated to head" in result.stdout
        tables = {name for (name,) in rows(db_path, "SELECT name FROM sqlite_master")}
        assert {"provinces", "wards", "neighbourhoods", "residential_groups", "users"} <= tables
        assert rows(db_path, "SELECT count(*) FROM alembic_version") == [(1,)]

    def test_rerun_is_harmless(self, migrated_db: Path) -> None:
        result = run("migrate")
        assert result.exit_code == 0, result.output


class TestImportUnits:
    def test_first_run_adds_all_and_second_adds_nothing(self, migrated_db: Path) -> None:
        first = run("import-units")
        second = run("import-units")
        assert first.exit_code == second.exit_code == 0
        assert first.stdout.strip() == (
            "provinces: 34 added, 0 updated; wards: 3321 added, 0 updated"
        )
        assert second.stdout.strip() == "provinces: 0 added, 0 updated; wards: 0 added, 0 updated"
        assert rows(migrated_db, "SELECT count(*) FROM provinces") == [(34,)]
        assert rows(migrated_db, "SELECT count(*) FROM wards") == [(3321,)]
        assert rows(migrated_db, "SELECT name FROM wards WHERE code = '06688'") == [
            ("Phường Hạ Long",)
        ]


class TestSeedDemo:
    def test_first_run_adds_demo_data_and_second_adds_nothing(self, imported_db: Path) -> None:
        first = run("seed-demo")
        second = run("seed-demo")
        assert first.exit_code == second.exit_code == 0
        assert "32 neighbourhoods" in first.stdout
        assert "263 residential groups" in first.stdout
        assert "0 neighbourhoods" in second.stdout
        assert "0 residential groups" in second.stdout
        assert rows(imported_db, "SELECT count(*) FROM neighbourhoods") == [(32,)]
        assert rows(
            imported_db, "SELECT count(*) FROM residential_groups WHERE ward_code = '06688'"
        ) == [(233,)]

    def test_every_demo_record_gets_its_change_for_a_sync_from_zero(
        self, imported_db: Path
    ) -> None:
        assert run("seed-demo").exit_code == 0
        for table, record_type in (("neighbourhoods", "neighbourhood"), ("cameras", "camera")):
            [(live,)] = rows(imported_db, f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL")  # noqa: S608 (two fixed names)
            logged = rows(
                imported_db,
                "SELECT count(DISTINCT record_id) FROM changes WHERE record_type = ?",
                (record_type,),
            )
            assert isinstance(live, int)
            assert live > 0
            assert logged == [(live,)]
        before = rows(imported_db, "SELECT count(*) FROM changes")
        assert run("seed-demo").exit_code == 0
        assert rows(imported_db, "SELECT count(*) FROM changes") == before

    def test_production_refuses_demo_data_and_stores_nothing(
        self, imported_db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("WARDSAFE_ENV", "production")
        monkeypatch.setenv("WARDSAFE_SECRET_KEY", "a-production-secret-of-plenty-length-0123456789")
        get_settings.cache_clear()
        result = run("seed-demo")
        assert result.exit_code == 1
        assert "development only" in result.stderr
        assert "WARDSAFE_ENV=development" in result.stderr
        for table in ("neighbourhoods", "users", "reports"):
            assert rows(imported_db, f"SELECT count(*) FROM {table}") == [(0,)], table  # noqa: S608

    def test_before_import_units_it_fails_and_stores_nothing(self, migrated_db: Path) -> None:
        result = run("seed-demo")
        assert result.exit_code == 1
        assert "import-units" in result.stderr
        assert rows(migrated_db, "SELECT count(*) FROM neighbourhoods") == [(0,)]


class TestCreateAdmin:
    def test_creates_an_admin_with_an_argon2_hash(self, migrated_db: Path) -> None:
        result = run("create-admin", "--username", "root", "--password", "s3cret-pass")
        assert result.exit_code == 0, result.output
        assert "administrator 'root' created" in result.stdout
        [(role, full_name, password_hash, is_active)] = rows(
            migrated_db,
            "SELECT role, full_name, password_hash, is_active FROM users WHERE username = 'root'",
        )
        assert (role, full_name, is_active) == ("admin", "Administrator", 1)
        assert isinstance(password_hash, str)
        assert password_hash.startswith("$argon2id$")
        assert "s3cret-pass" not in password_hash
        assert verify_password("s3cret-pass", password_hash)
        assert not verify_password("s3cret-pasS", password_hash)

    def test_taken_username_exits_non_zero_with_a_message(self, migrated_db: Path) -> None:
        assert run("create-admin", "--username", "root", "--password", "s3cret-pass").exit_code == 0
        again = run("create-admin", "--username", "root", "--password", "other-pass-1")
        assert again.exit_code != 0
        assert "'root' is taken" in again.stderr
        assert rows(migrated_db, "SELECT count(*) FROM users") == [(1,)]

    def test_password_is_prompted_for_twice_when_left_out(self, migrated_db: Path) -> None:
        result = run("create-admin", "--username", "prompted", input="pw12345678\npw12345678\n")
        assert result.exit_code == 0, result.output
        assert "pw12345678" not in result.stdout  # hidden input is not echoed
        [(password_hash,)] = rows(
            migrated_db, "SELECT password_hash FROM users WHERE username = 'prompted'"
        )
        assert isinstance(password_hash, str)
        assert verify_password("pw12345678", password_hash)

    def test_mismatched_confirmation_creates_nobody(self, migrated_db: Path) -> None:
        result = run("create-admin", "--username", "typo", input="pw12345678\npw12345679\n")
        assert result.exit_code != 0
        assert rows(migrated_db, "SELECT count(*) FROM users") == [(0,)]

    def test_short_password_is_refused(self, migrated_db: Path) -> None:
        result = run("create-admin", "--username", "root", "--password", "short")
        assert result.exit_code == 1
        assert "at least 8 characters" in result.stderr
        assert rows(migrated_db, "SELECT count(*) FROM users") == [(0,)]


class TestPruneChanges:
    def test_removes_what_no_sync_needs_in_batches(self, migrated_db: Path) -> None:
        with sqlite3.connect(migrated_db) as connection:
            connection.executemany(
                "INSERT INTO changes (txid, record_type, record_id, op, changed_at) "
                "VALUES (0, 'camera', ?, ?, '2020-01-01 00:00:00.000000')",
                [("a", "upsert"), ("a", "upsert"), ("b", "delete"), ("c", "upsert")],
            )
        result = run("prune-changes", "--batch", "1")
        assert result.exit_code == 0, result.output
        assert "changes removed: 2" in result.stdout
        assert rows(migrated_db, "SELECT record_id, op FROM changes ORDER BY id") == [
            ("a", "upsert"),
            ("c", "upsert"),
        ]
