"""Settings: safe defaults, production's refusals, and values as people type them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import BASE_DIR, DEV_SECRET_KEY, Settings, describe_invalid

LONG_SECRET = "a-production-secret-of-plenty-length-0123456789"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No WARDSAFE_ variables and no .env file but those a test sets."""
    for name in list(os.environ):
        if name.startswith("WARDSAFE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch) -> None:
    """WARDSAFE_ENV=development, as `make run` asks for it."""
    monkeypatch.setenv("WARDSAFE_ENV", "development")


class TestProductionIsTheDefault:
    def test_no_environment_is_production_and_refuses_the_development_secret(self) -> None:
        with pytest.raises(ValidationError, match="development secret") as refused:
            Settings()
        message = describe_invalid(refused.value)
        assert "WARDSAFE_SECRET_KEY" in message
        assert "at least 32 characters" in message
        assert "WARDSAFE_ENV=development" in message
        assert DEV_SECRET_KEY not in message

    def test_a_real_secret_alone_runs_production(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WARDSAFE_SECRET_KEY", LONG_SECRET)
        settings = Settings()
        assert settings.env == "production"
        assert not settings.is_development

    def test_development_is_asked_for_and_runs_with_the_defaults(self, development: None) -> None:
        settings = Settings()
        assert settings.is_development
        assert settings.secret_key == DEV_SECRET_KEY
        assert settings.max_body_bytes == 1024 * 1024

    def test_the_message_names_the_variable_and_never_the_value(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("WARDSAFE_SECRET_KEY", "too-short-secret-value")
        monkeypatch.setenv("WARDSAFE_PORT", "70000")
        with pytest.raises(ValidationError) as refused:
            Settings()
        message = describe_invalid(refused.value)
        assert "WARDSAFE_PORT: Input should be less than or equal to 65535" in message
        assert "too-short-secret-value" not in message


class TestProductionSecret:
    def test_development_secret_is_refused_in_production(self) -> None:
        with pytest.raises(ValidationError, match="development secret"):
            Settings(env="production", secret_key=DEV_SECRET_KEY)

    def test_default_secret_is_refused_when_production_comes_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("WARDSAFE_ENV", "production")
        with pytest.raises(ValidationError, match="development secret"):
            Settings()

    def test_short_secret_is_refused_in_production(self) -> None:
        with pytest.raises(ValidationError, match="at least 32 characters"):
            Settings(env="production", secret_key="x" * 31)

    def test_long_custom_secret_is_accepted_in_production(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("WARDSAFE_ENV", "production")
        monkeypatch.setenv("WARDSAFE_SECRET_KEY", LONG_SECRET)
        settings = Settings()
        assert settings.env == "production"
        assert settings.secret_key == LONG_SECRET
        assert not settings.is_development

    def test_env_file_is_read(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text(
            f"WARDSAFE_ENV=production\nWARDSAFE_SECRET_KEY={LONG_SECRET}\n"
        )
        assert Settings().secret_key == LONG_SECRET


@pytest.mark.usefixtures("development")
class TestDatabaseUrl:
    def test_relative_sqlite_path_is_anchored_at_the_project_root(self) -> None:
        settings = Settings(database_url="sqlite+aiosqlite:///var/other.db")
        assert settings.database_url == f"sqlite+aiosqlite:///{BASE_DIR / 'var' / 'other.db'}"
        assert (BASE_DIR / "pyproject.toml").is_file()
        assert settings.is_sqlite

    def test_default_database_is_under_the_project_root(self) -> None:
        assert Settings().database_url == f"sqlite+aiosqlite:///{BASE_DIR / 'var' / 'wardsafe.db'}"

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite+aiosqlite:////srv/wardsafe/data.db",
            "sqlite+aiosqlite:///:memory:",
            "postgresql+asyncpg://wardsafe@db:5432/wardsafe",
        ],
    )
    def test_absolute_memory_and_server_urls_are_kept(self, url: str) -> None:
        assert Settings(database_url=url).database_url == url

    def test_postgresql_is_not_sqlite(self) -> None:
        assert not Settings(database_url="postgresql+asyncpg://db/wardsafe").is_sqlite


@pytest.mark.usefixtures("development")
class TestCorsOrigins:
    def test_comma_separated_env_value_is_a_list(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(
            "WARDSAFE_CORS_ORIGINS", "https://ward.example, https://app.ward.example ,,"
        )
        assert Settings().cors_origins == ["https://ward.example", "https://app.ward.example"]

    def test_single_origin(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WARDSAFE_CORS_ORIGINS", "https://ward.example")
        assert Settings().cors_origins == ["https://ward.example"]

    def test_unset_means_no_origins(self) -> None:
        assert Settings().cors_origins == []


@pytest.mark.usefixtures("development")
class TestOtherKnobs:
    def test_port_out_of_range_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WARDSAFE_PORT", "70000")
        with pytest.raises(ValidationError):
            Settings()

    def test_unknown_variables_are_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WARDSAFE_NO_SUCH_KNOB", "1")
        assert Settings().port == 8000


@pytest.mark.usefixtures("development")
class TestOperationsKnobs:
    def test_trusted_proxies_default_to_none(self) -> None:
        assert Settings().trusted_proxies == []

    def test_trusted_proxies_are_a_comma_separated_list_of_addresses_and_networks(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("WARDSAFE_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.1/8 ,::1,,")
        # A network written with host bits is normalised: uvicorn would not match it.
        assert Settings().trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]

    @pytest.mark.parametrize("proxies", ["*", "proxy.internal", "10.0.0.0/33"])
    def test_anything_but_addresses_is_refused(
        self, monkeypatch: pytest.MonkeyPatch, proxies: str
    ) -> None:
        monkeypatch.setenv("WARDSAFE_TRUSTED_PROXIES", proxies)
        with pytest.raises(ValidationError, match="not an IP address or network"):
            Settings()

    def test_metrics_token_shorter_than_16_characters_is_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("WARDSAFE_METRICS_TOKEN", "x" * 15)
        with pytest.raises(ValidationError, match="at least 16 characters"):
            Settings()

    def test_empty_metrics_token_is_no_token(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WARDSAFE_METRICS_TOKEN", "")
        assert Settings().metrics_token is None

    @pytest.mark.parametrize(
        ("env", "docs", "public"),
        [
            ("development", None, True),
            ("production", None, False),
            ("development", "false", False),
            ("production", "true", True),
        ],
    )
    def test_docs_are_public_by_default_only_in_development(
        self, monkeypatch: pytest.MonkeyPatch, env: str, docs: str | None, public: bool
    ) -> None:
        monkeypatch.setenv("WARDSAFE_ENV", env)
        monkeypatch.setenv("WARDSAFE_SECRET_KEY", LONG_SECRET)
        if docs is not None:
            monkeypatch.setenv("WARDSAFE_DOCS", docs)
        assert Settings().docs_public is public

    def test_hsts_is_off_and_the_drain_is_five_seconds_by_default(self) -> None:
        settings = Settings()
        assert settings.hsts_seconds == 0
        assert settings.shutdown_drain_seconds == 5.0
