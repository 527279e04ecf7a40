"""Bodies of the operational endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthRead(BaseModel):
    """The service is up (and, for /readyz, ready)."""

    status: Literal["ok"] = "ok"


RedisState = Literal["ok", "unavailable", "not_configured"]


class ReadinessRead(HealthRead):
    """Ready: the database is reachable and migrated; and what state Redis is in, which
    readiness does not depend on (the rate limits count in each process meanwhile)."""

    database: Literal["ok"] = "ok"
    redis: RedisState = Field(
        description="`ok`; `unavailable`: the rate limits are counted in each process until "
        "it answers again; `not_configured`: no WARDSAFE_REDIS_URL.",
        examples=["ok"],
    )


class ProblemTypeRead(BaseModel):
    """What one problem ``type`` means."""

    type: str
    title: str
    status: int
