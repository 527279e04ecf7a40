"""Settings, read from the environment with the prefix ``WARDSAFE_``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-secret-change-me-in-production"  # noqa: S105
ENV_PREFIX = "WARDSAFE_"
# What production's refusals tell the operator to do.
_FIX = (
    "set WARDSAFE_SECRET_KEY to a random string of at least 32 characters "
    "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
    "or WARDSAFE_ENV=development for a local run"
)


class Settings(BaseSettings):
    """Every knob wardsafe has; each default is safe, and production is the default:
    development (the public secret, demo logins) is something a person asks for."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "production"
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
    # How long a request waits on the database before it gets a 503 with
    # Retry-After (docs/runbook.md, "Database faults"). Each bound alone ends
    # well inside the 10 s a phone's HTTP client commonly waits for an answer
    # (OkHttp's default read timeout), so the phone gets a retryable answer
    # rather than its own timeout; wardsafe's statements take milliseconds.
    # A statement: PostgreSQL's statement_timeout (a lock wait included), and
    # 1 s more on the client's side for a server that does not answer at all;
    # SQLite's wait for the database's write lock.
    db_statement_timeout_seconds: float = Field(default=5, gt=0, le=3600)
    # A free connection: the request's turn for one and the pools' own waits.
    db_acquire_timeout_seconds: float = Field(default=3, gt=0, le=3600)
    # Opening a new connection to PostgreSQL (TCP, TLS, authentication).
    db_connect_timeout_seconds: float = Field(default=3, gt=0, le=3600)
    # A transaction idle between statements this long is ended by PostgreSQL
    # (idle_in_transaction_session_timeout): a stuck process cannot hold the
    # change feed back for longer (docs/sync.md). wardsafe's own transactions
    # are idle for microseconds between statements.
    db_idle_in_transaction_timeout_seconds: float = Field(default=10, gt=0, le=3600)
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

    # The change feed (GET /api/v1/changes, docs/sync.md): a cursor that has not
    # come back for this many days gets 410 (sync again from zero), and
    # `wardsafe prune-changes` removes the changes a live cursor no longer needs.
    changes_retention_days: int = Field(default=90, ge=1, le=3650)

    # Operations. The peers whose X-Forwarded-For and X-Forwarded-Proto are
    # believed (addresses or networks); none: the client is the socket's peer.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # GET /metrics wants `Authorization: Bearer <this>` when set; without it,
    # production does not serve /metrics at all (development serves it openly).
    metrics_token: str | None = None
    # /docs, /redoc and /openapi.json; unset: on in development, off in production.
    docs: bool | None = None
    # Strict-Transport-Security's max-age on every answer; 0: no HSTS header
    # (set it only when TLS is in front of every way to reach the service).
    hsts_seconds: int = Field(default=0, ge=0, le=2 * 365 * 86_400)
    # On SIGTERM, /readyz answers 503 for this long while everything else is
    # still served, then the server stops as uvicorn does.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0, le=600)

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
            raise ValueError("must be a limit such as '5 per 15 minutes'") from None
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        # uvicorn would also take "*" (every peer): then any client that reaches
        # the port directly picks its own address, so it is not offered here.
        # Written as uvicorn reads them: it takes a network with host bits set
        # (10.0.0.1/8) for a name that no peer matches, so it is normalised here.
        normalised = []
        for proxy in value:
            try:
                if "/" in proxy:
                    normalised.append(str(ipaddress.ip_network(proxy, strict=False)))
                else:
                    normalised.append(str(ipaddress.ip_address(proxy)))
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network (list the proxies' addresses, "
                    "comma-separated, e.g. 127.0.0.1,10.0.0.0/8)"
                ) from None
        return normalised

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_is_long(cls, value: str | None) -> str | None:
        if not value:
            return None  # an empty variable (compose passes one through) is no token
        if len(value) < 16:
            raise ValueError("must be at least 16 characters (a random string)")
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
                    "production (WARDSAFE_ENV's default) refuses to start with the development "
                    f"secret, and WARDSAFE_SECRET_KEY is unset or is that secret: {_FIX}"
                )
            if len(self.secret_key) < 32:
                raise ValueError(
                    f"WARDSAFE_SECRET_KEY must be at least 32 characters in production: {_FIX}"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def docs_public(self) -> bool:
        """Whether /docs, /redoc and /openapi.json are served."""
        return self.is_development if self.docs is None else self.docs

    @property
    def metrics_served(self) -> bool:
        """Whether /metrics is served: with a token, or openly in development."""
        return self.metrics_token is not None or self.is_development


def describe_invalid(error: ValidationError) -> str:
    """What is wrong with the settings, a line per problem, naming the variables (without
    the values pydantic saw: the secret is one of them)."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        message = str(problem["msg"]).removeprefix("Value error, ")
        fields = [str(part) for part in problem["loc"]]
        if fields:
            message = f"{ENV_PREFIX}{fields[0].upper()}: {message}"
        lines.append(message)
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
