"""Settings, read from the environment with the prefix ``WARDSAFE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-secret-change-me-in-production"  # noqa: S105


class Settings(BaseSettings):
    """Every knob wardsafe has; each has a safe default for a first local run."""

    model_config = SettingsConfigDict(env_prefix="WARDSAFE_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///var/wardsafe.db"
    secret_key: str = DEV_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    max_body_bytes: int = 1024 * 1024
    redis_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1)
    db_echo: bool = False
    # FastAPI's native OpenTelemetry (spans, metrics, logs to the providers an
    # OpenTelemetry SDK set up in the process). Off by default: wardsafe's own
    # observability is JSON logs and Prometheus metrics, and FastAPI looks up
    # the global providers on every request (about 4 % of a light read).
    otel: bool = False

    # Tokens. HS256 with the secret key unless a private key file is given:
    # an RSA key signs RS256, an EC P-256 key ES256, an Ed25519 key EdDSA.
    jwt_private_key_file: Path | None = None
    jwt_issuer: str = "wardsafe"
    jwt_audience: str = "wardsafe-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    # How often each process reads the token epochs that changed: an account
    # deactivated, deleted or changed has its access tokens refused everywhere
    # within this many seconds (app/revocations.py).
    token_revocation_seconds: float = Field(default=2.0, ge=0, le=60)

    # Sign-in throttling ("N per P" in the `limits` notation), counted on failures
    # (docs/access.md): per account at one address, per address (high: many
    # people share an address behind carrier-grade NAT), and a ceiling per
    # account that only many addresses together reach.
    login_failures_per_username_and_address: str = "5 per 15 minutes"
    login_failures_per_address: str = "100 per 15 minutes"
    login_failures_per_username: str = "100 per hour"

    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)

    # Anonymous reports: without a token, per client address (an IPv6 address
    # counts by its /64; the limiter keeps only a keyed digest of it, never the
    # report); signed in with "anonymous": true, per account. Only reports
    # actually filed count, and a replay is never refused (docs/reports.md).
    anonymous_reports_per_address: str = "30 per hour"
    anonymous_reports_per_account: str = "10 per hour"
    # Where the limiter's counters live in Redis: the prefix of every key, for
    # deployments that share one Redis.
    redis_key_prefix: str = "wardsafe"

    # How long report figures (GET /reports/statistics) are kept per unit and
    # period before they are computed again, in this process; 0: every time.
    statistics_cache_seconds: int = Field(default=60, ge=0, le=86_400)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # A comma-separated list is what people type in an env file.
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator(
        "login_failures_per_username_and_address",
        "login_failures_per_address",
        "login_failures_per_username",
        "anonymous_reports_per_address",
        "anonymous_reports_per_account",
    )
    @classmethod
    def _parse_rate(cls, value: str) -> str:
        # A limit that cannot be read fails at start, not at the first sign-in.
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a limit such as '5 per 15 minutes'") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _anchor_sqlite_path(cls, value: str) -> str:
        # A relative SQLite path is taken from the project root, so the CLI
        # finds the same database from any working directory.
        prefix = "sqlite+aiosqlite:///"
        if value.startswith(prefix):
            path = value[len(prefix) :]
            if path and path != ":memory:" and not path.startswith("/"):
                return prefix + str(BASE_DIR / path)
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            if self.secret_key == DEV_SECRET_KEY:
                raise ValueError(
                    "WARDSAFE_SECRET_KEY is the development secret; "
                    "production refuses to start with it"
                )
            if len(self.secret_key) < 32:
                raise ValueError("WARDSAFE_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.env == "development"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
